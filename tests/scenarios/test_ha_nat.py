"""Director HA, NAT: the VIP on the public side and the real servers' gateway, a floating DIP on the lan, both
follow the active director; the master is powered off under bounded load and a download keeps going."""

import json

import pytest

from lab_harness import failover, playbook

pytestmark = pytest.mark.lab
VIP = "192.168.2.253"
DIP = "192.168.4.254"
DIRECTORS = ("director1", "director2")
HOSTS = ("client", "director1", "director2", "rs1", "rs2")


@pytest.fixture(scope="module")
def ha(ha_cluster):
    return ha_cluster("ha_nat")


@pytest.fixture(scope="module")
def converged(ha):
    result = ha.converge_ok()
    for rs in ("rs1", "rs2"):
        ha.out(rs, failover.MAKE_BIG)
    return result


def test_a_real_server_whose_gateway_is_not_the_floating_dip_fails_in_preflight(ha):
    probe = "ip -br addr; ip route; ls /etc/systemd/system"
    before = ha.out("rs1", probe)
    proc, result = ha.converge(extra_vars={"nat_realserver_gateway": "192.168.4.54"}, limit="rs1")
    assert proc.returncode != 0
    assert "nat_realserver_gateway 192.168.4.54 is not a floating DIP of the directors" in proc.stdout, proc.stdout[-5000:]
    assert playbook.changed_counts(result) == {"rs1": 0}
    assert ha.out("rs1", probe) == before


def test_vip_and_floating_dip_are_on_exactly_one_director(ha, converged):
    holders = failover.wait_for("one director holds the VIP", lambda: failover.master(ha) or None, 30)
    assert len(holders) == 1, holders
    assert [d for d in DIRECTORS if DIP in ha.out(d, "ip -br addr show dev eth1")] == holders
    macs = failover.macs(ha, "eth2")
    assert ha.requests(1) in (["rs1"], ["rs2"])
    neigh = json.loads(ha.out("client", "ip -j neigh show %s" % VIP))
    assert [n.get("lladdr") for n in neigh] == [macs[holders[0]]]
    for rs in ("rs1", "rs2"):
        route = json.loads(ha.out(rs, "ip -j route show default"))
        assert [r.get("gateway") for r in route] == [DIP]


def test_second_converge_changes_nothing(ha, converged):
    assert playbook.failed_counts(converged) == dict.fromkeys(HOSTS[1:], 0)
    result = ha.converge_ok()
    assert playbook.changed_counts(result) == dict.fromkeys(HOSTS[1:], 0)


def test_power_off_the_master_under_load(ha, converged):
    old = failover.wait_for("one director holds the VIP", lambda: failover.master(ha) or None, 30)
    assert len(old) == 1
    other = [d for d in DIRECTORS if d != old[0]][0]
    timeline = failover.run(ha, old[0], "eth2")
    text = failover.report(timeline)
    print("\n" + text)
    found = failover.measure(timeline)
    assert found["new_director"] == other, text
    assert found["gap"] is not None and found["gap"] <= 4.0, text
    assert found["failed_after_first_new"] == [], text
    dl = timeline["download"]
    assert dl["error"] is None and dl["status"] == "HTTP/1.1 200 OK", text
    assert dl["bytes"] == failover.BIG_SIZE and dl["sha256"] == failover.expected_sha256(), text
    assert dl["start"] < timeline["cut"] < dl["end"], text
    assert DIP in ha.out(other, "ip -br addr show dev eth1")
