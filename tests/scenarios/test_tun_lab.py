"""LVS-TUN on four guests: the director reaches the real servers only over the site network, IP in IP.

Requests enter the director on the lan, leave it encapsulated towards the real servers' site
addresses, are decapsulated on tunl0 (which carries the VIP) and answered straight to the client.
Check mode on fresh hosts is covered by the role_tun_realserver target and the NAT and DR scenarios.
"""

import json

import pytest

from lab_harness import playbook

pytestmark = pytest.mark.lab
VIP = "192.168.4.253"
RIPS = {"rs1": "192.168.6.52", "rs2": "192.168.6.53"}


@pytest.fixture(scope="module")
def tun(seed_cluster):
    return seed_cluster("tun")


@pytest.fixture(scope="module")
def converged(tun):
    return tun.converge_ok()


def tunl0_rx_packets(tun, host):
    link = json.loads(tun.out(host, "ip -j -s link show dev tunl0"))[0]
    return link["stats64"]["rx"]["packets"]


def test_real_server_without_a_vip_fails_in_preflight_and_changes_nothing(tun):
    before = tun.out("rs2", "ip -br addr; lsmod; ls /etc/sysctl.d /etc/systemd/system")
    proc, result = tun.converge(extra_vars={"tun_realserver_vips": []}, limit="rs2")
    assert proc.returncode != 0
    assert "No VIPs" in proc.stdout, proc.stdout[-5000:]
    assert playbook.changed_counts(result) == {"rs2": 0}
    assert tun.out("rs2", "ip -br addr; lsmod; ls /etc/sysctl.d /etc/systemd/system") == before


def test_second_converge_changes_nothing(tun, converged):
    assert playbook.failed_counts(converged) == {"director": 0, "rs1": 0, "rs2": 0}
    result = tun.converge_ok()
    assert playbook.changed_counts(result) == {"director": 0, "rs1": 0, "rs2": 0}


def test_director_tunnels_to_the_site_addresses(tun, converged):
    saved = tun.out("director", "ipvsadm -S -n").splitlines()
    for rip in RIPS.values():
        assert "-a -t %s:80 -r %s:80 -i -w 1 --tun-type ipip" % (VIP, rip) in saved, saved
    # The RIPs are reachable only over the site network (eth2), not on the VIP's lan.
    for rip in RIPS.values():
        assert " dev eth2 " in tun.out("director", "ip route get %s" % rip)


def test_vip_is_on_tunl0_which_is_up_and_not_on_lo(tun, converged):
    for rs in RIPS:
        link = json.loads(tun.out(rs, "ip -j addr show dev tunl0"))[0]
        assert "UP" in link["flags"]
        assert {"local": VIP, "prefixlen": 32} in [{"local": a["local"], "prefixlen": a["prefixlen"]}
                                                   for a in link["addr_info"]]
        assert VIP not in tun.out(rs, "ip -br addr show dev lo")


def test_rp_filter_lets_decapsulated_requests_in(tun, converged):
    for rs in RIPS:
        host = tun.host(rs)
        # The kernel applies max(all, interface); strict (1) would drop requests from the client,
        # whose route back is on the lan rather than tunl0.
        assert max(host.sysctl("net.ipv4.conf.all.rp_filter"), host.sysctl("net.ipv4.conf.tunl0.rp_filter")) in (0, 2)
        assert host.sysctl("net.ipv4.conf.all.arp_ignore") == 1
        assert host.sysctl("net.ipv4.conf.all.arp_announce") == 2


def test_round_robin_through_the_tunnel_and_replies_bypass_the_director(tun, converged):
    tun.out("director", "ipvsadm -Z")
    rx_before = {rs: tunl0_rx_packets(tun, rs) for rs in RIPS}
    answers = tun.requests(10)
    assert sorted(set(answers)) == ["rs1", "rs2"], answers
    assert all(a != b for a, b in zip(answers, answers[1:])), answers
    for rs in RIPS:
        # Each HTTP exchange brings at least SYN, ACK+request and FIN through the tunnel.
        assert tunl0_rx_packets(tun, rs) - rx_before[rs] >= 5 * 3, rs
    stats = tun.service_stats()
    assert stats["conns"] == 10 and stats["inpkts"] > 0
    assert stats["outpkts"] == 0, stats


def test_client_resolves_the_vip_to_the_directors_mac(tun, converged):
    client_sees, director_mac = tun.vip_neighbours()
    assert client_sees == [director_mac]
