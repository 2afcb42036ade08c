"""The seed's LVS-DR lab on four guests: replies bypass the director, ARP for the VIP is the director's."""

import json

import pytest

from lab_harness import playbook

pytestmark = pytest.mark.lab
VIP = "192.168.4.253"


@pytest.fixture(scope="module")
def dr(seed_cluster):
    return seed_cluster("dr")


@pytest.fixture(scope="module")
def converged(dr):
    return dr.converge_ok()


def test_check_mode_on_fresh_hosts_predicts_changes_and_makes_none(dr):
    result = dr.converge_ok(check=True)
    changed = playbook.changed_counts(result)
    assert changed["director"] > 0 and changed["rs1"] > 0
    assert VIP not in dr.out("rs1", "ip -br addr show dev lo")
    assert VIP not in dr.out("director", "ip -br addr show dev eth1")
    assert dr.out("rs1", "sysctl -n net.ipv4.conf.all.arp_ignore").strip() == "0"


def test_real_server_without_a_vip_fails_in_preflight_and_changes_nothing(dr):
    # No VIP given and none to derive: the role's preflight stops before any task changes the host.
    probe = "ip -br addr; sysctl -a --pattern 'arp_(ignore|announce)'; ls /etc/sysctl.d /etc/systemd/system"
    before = dr.out("rs2", probe)
    proc, result = dr.converge(extra_vars={"dr_realserver_vips": [], "dr_realserver_director_group": ""}, limit="rs2")
    assert proc.returncode != 0
    assert "No VIPs" in proc.stdout, proc.stdout[-5000:]
    assert playbook.changed_counts(result) == {"rs2": 0}
    assert dr.out("rs2", probe) == before


def test_director_without_the_vip_fails_in_preflight_and_changes_nothing(dr):
    probe = "ip -br addr; ipvsadm -S -n; ls /etc/modules-load.d /etc/sysctl.d"
    before = dr.out("director", probe)
    proc, result = dr.converge(extra_vars={"director_vips": []}, limit="directors")
    assert proc.returncode != 0
    assert "VIP must be on this director" in proc.stdout, proc.stdout[-5000:]
    assert playbook.changed_counts(result) == {"director": 0}
    assert dr.out("director", probe) == before


def test_second_converge_changes_nothing(dr, converged):
    assert playbook.failed_counts(converged) == {"director": 0, "rs1": 0, "rs2": 0}
    result = dr.converge_ok()
    assert playbook.changed_counts(result) == {"director": 0, "rs1": 0, "rs2": 0}


def test_vip_is_a_host_route_on_lo_of_each_real_server(dr, converged):
    for rs in ("rs1", "rs2"):
        addrs = json.loads(dr.out(rs, "ip -j addr show dev lo"))[0]["addr_info"]
        assert {"local": VIP, "prefixlen": 32} in [{"local": a["local"], "prefixlen": a["prefixlen"]} for a in addrs]


def test_arp_sysctls_are_effective(dr, converged):
    for rs in ("rs1", "rs2"):
        host = dr.host(rs)
        assert host.sysctl("net.ipv4.conf.all.arp_ignore") == 1
        assert host.sysctl("net.ipv4.conf.all.arp_announce") == 2
        # max(all, eth1) is what the kernel uses on the NIC the ARP requests arrive on
        assert max(host.sysctl("net.ipv4.conf.eth1.arp_ignore"), 1) == 1


def test_round_robin_and_replies_bypass_the_director(dr, converged):
    dr.out("director", "ipvsadm -Z")
    answers = dr.requests(10)
    assert sorted(set(answers)) == ["rs1", "rs2"], answers
    assert all(a != b for a, b in zip(answers, answers[1:])), answers
    stats = dr.service_stats()
    assert stats["conns"] == 10 and stats["inpkts"] > 0
    assert stats["outpkts"] == 0, stats


def test_client_resolves_the_vip_to_the_directors_mac(dr, converged):
    client_sees, director_mac = dr.vip_neighbours()
    assert client_sees == [director_mac]
