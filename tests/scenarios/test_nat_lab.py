"""The seed's LVS-NAT lab on four guests: check mode, converge, idempotence, traffic, reboot, bad input.

Tests in this module share the seed lab (booted once for NAT, DR and TUN, reset before each) and run
in file order (pytest keeps it): the fresh-host check comes first, the reboot and the bad-input cases
last. The first converge runs plain Ansible (AnsiballZ over pipelined SSH), what most users run; the
rest run under the lab default, Mitogen.
"""

import collections
import re
from pathlib import Path

import pytest

from lab_harness import playbook, topology

pytestmark = [pytest.mark.lab, pytest.mark.xdist_group("seed-lab")]


@pytest.fixture(scope="module")
def nat(seed_cluster):
    return seed_cluster("nat")


@pytest.fixture(scope="module")
def converged(nat, fresh_converges):
    result = nat.converge_ok(strategy="linear")
    fresh_converges.setdefault("nat", result["changed_tasks"])
    return result


def test_every_host_answers_on_its_segments(nat):
    topo = topology.resolve("seed")
    failures = []
    for host in topo.hosts:
        mine = {n.network for n in host.nics}
        for peer in topo.hosts:
            for nic in peer.nics:
                if peer is not host and nic.network in mine:
                    if nat.sh(host.name, "ping -c1 -W3 %s" % nic.addresses[0].ip).returncode != 0:
                        failures.append("%s -> %s" % (host.name, nic.addresses[0].ip))
    assert failures == []
    # Segments are separate L2 networks: before the roles route anything, rs1 has no way to the client.
    res = nat.sh("rs1", "ip route get 192.168.2.50")
    assert res.returncode != 0 and "unreachable" in res.stderr.lower()
    segments = {(s["group"], s["port"]) for s in nat.state["segments"].values()}
    assert len(segments) == 3


def test_check_mode_on_fresh_hosts_predicts_changes_and_makes_none(nat):
    result = nat.converge_ok(check=True)
    changed = playbook.changed_counts(result)
    assert changed["director"] > 0 and changed["rs1"] > 0 and changed["rs2"] > 0
    assert nat.out("director", "ipvsadm -S -n 2>/dev/null || true").strip() == ""
    assert nat.out("rs1", "ip route show default").strip() == ""
    assert nat.out("director", "cat /proc/sys/net/ipv4/ip_forward").strip() == "0"


def test_converge_then_second_run_changes_nothing(nat, converged):
    assert playbook.failed_counts(converged) == {"director": 0, "rs1": 0, "rs2": 0}
    result = nat.converge_ok()
    assert playbook.changed_counts(result) == {"director": 0, "rs1": 0, "rs2": 0}


def test_director_has_the_seed_service_and_forwards(nat, converged):
    assert nat.out("director", "ipvsadm -S -n").splitlines() == [
        "-A -t 192.168.2.54:80 -s rr",
        "-a -t 192.168.2.54:80 -r 192.168.4.52:80 -m -w 1",
        "-a -t 192.168.2.54:80 -r 192.168.4.53:80 -m -w 1",
    ]
    assert nat.host("director").sysctl("net.ipv4.ip_forward") == 1


def test_real_servers_route_via_the_dip(nat, converged):
    for rs in ("rs1", "rs2"):
        assert nat.out(rs, "ip route show default").split()[:3] == ["default", "via", "192.168.4.54"]


def test_round_robin_alternates_the_two_pages(nat, converged):
    answers = nat.requests(10)
    assert sorted(set(answers)) == ["rs1", "rs2"], answers
    assert all(a != b for a, b in zip(answers, answers[1:])), answers


def test_wrr_weights_1_to_2_split_30_requests_10_to_20(nat, converged):
    services = [{"protocol": "tcp", "address": "192.168.2.54", "port": 80, "scheduler": "wrr",
                 "real_servers": [{"address": "192.168.4.52", "forwarding": "nat", "weight": 1},
                                  {"address": "192.168.4.53", "forwarding": "nat", "weight": 2}]}]
    nat.converge_ok(extra_vars={"director_services": services}, limit="directors")
    try:
        counts = collections.Counter(nat.requests(30))
        assert counts == {"rs1": 10, "rs2": 20}
    finally:
        nat.converge_ok(limit="directors")


def test_status_playbook_shows_every_real_server(nat, converged):
    proc = nat.converge(play="playbooks/status.yml")[0]
    assert proc.returncode == 0, proc.stdout[-5000:]
    out = proc.stdout
    assert "TCP 192.168.2.54:80 rr" in out
    for rip in ("192.168.4.52:80", "192.168.4.53:80"):
        assert re.search(r"%s +nat +1 " % re.escape(rip), out), out[-3000:]


def test_drain_playbook_takes_one_real_server_out_at_a_time(nat, converged):
    table_before = nat.out("director", "ipvsadm -S -n")
    proc = nat.converge(play="playbooks/drain.yml",
                        extra_vars={"drain_task_file": str(Path(__file__).parent / "files" / "drain_maintenance.yml"),
                                    "drain_timeout": 20})[0]
    assert proc.returncode == 0, proc.stdout[-20000:]
    seen = {rs: nat.out(rs, "cat /tmp/drain-seen") for rs in ("rs1", "rs2")}
    assert "-r 192.168.4.52:80 -m -w 0" in seen["rs1"] and "-r 192.168.4.53:80 -m -w 1" in seen["rs1"]
    assert "-r 192.168.4.53:80 -m -w 0" in seen["rs2"] and "-r 192.168.4.52:80 -m -w 1" in seen["rs2"]
    assert nat.out("director", "ipvsadm -S -n") == table_before


THRESHOLDS = "ipvsadm -Ln --thresholds -t 192.168.2.54:80"


def test_rules_and_thresholds_survive_a_reboot_of_director_and_real_server(nat, converged):
    # -x/-y are not in ipvsadm's save format: only the rules file the role writes carries them.
    services = [{"protocol": "tcp", "address": "192.168.2.54", "port": 80, "scheduler": "rr",
                 "real_servers": [{"address": "192.168.4.52", "forwarding": "nat",
                                   "upper_threshold": 120, "lower_threshold": 30},
                                  {"address": "192.168.4.53", "forwarding": "nat"}]}]
    nat.converge_ok(extra_vars={"director_services": services}, limit="directors")
    before = nat.out("director", "ipvsadm -S -n")
    thresholds = [line.split()[:4] for line in nat.out("director", THRESHOLDS).splitlines() if "->" in line]
    assert thresholds[1:] == [["->", "192.168.4.52:80", "120", "30"], ["->", "192.168.4.53:80", "0", "0"]]
    nat.reboot("director", "rs1")
    assert nat.out("director", "ipvsadm -S -n") == before
    assert [line.split()[:4] for line in nat.out("director", THRESHOLDS).splitlines() if "->" in line] == thresholds
    assert nat.out("rs1", "ip route show default").split()[:3] == ["default", "via", "192.168.4.54"]
    assert nat.out("rs1", "systemctl is-active lvs-cluster-nat-gateway.service").strip() == "active"
    assert sorted(set(nat.requests(6))) == ["rs1", "rs2"]


def test_gateway_off_the_network_fails_in_preflight_and_changes_nothing(nat, converged):
    route_before = nat.out("rs1", "ip route show")
    proc = nat.converge(extra_vars={"nat_realserver_gateway": "198.51.100.1"}, limit="rs1")[0]
    assert proc.returncode != 0
    assert "198.51.100.1" in proc.stdout
    assert nat.out("rs1", "ip route show") == route_before


def test_unknown_scheduler_fails_in_preflight_and_changes_nothing(nat, converged):
    table_before = nat.out("director", "ipvsadm -S -n")
    services = [{"protocol": "tcp", "address": "192.168.2.54", "port": 80, "scheduler": "fastest",
                 "real_servers": [{"address": "192.168.4.52", "forwarding": "nat"}]}]
    proc = nat.converge(extra_vars={"director_services": services}, limit="directors")[0]
    assert proc.returncode != 0
    assert "fastest" in proc.stdout and "scheduler" in proc.stdout
    assert nat.out("director", "ipvsadm -S -n") == table_before
