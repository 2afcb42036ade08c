"""Director HA, NAT, with keepalived's health checks on: the VIP on the public side and the real servers'
gateway, a floating DIP on the lan, both follow the active director; the master is powered off under bounded
load and a download keeps going; a dead real server still leaves the pool; the old master comes back as backup
without breaking a download; the backup reboots and comes back as backup."""

import json
import time

import pytest

import phases
from lab_harness import failover, playbook

pytestmark = pytest.mark.lab
VIP = "192.168.2.253"
DIP = "192.168.4.254"
DIRECTORS = ("director1", "director2")
HOSTS = ("client", "director1", "director2", "rs1", "rs2")


@pytest.fixture(scope="module")
def ha(ha_cluster):
    return ha_cluster("ha_nat", health_checks=True)


@pytest.fixture(scope="module")
def converged(ha):
    return failover.converge(ha)


def test_a_real_server_whose_gateway_is_not_the_floating_dip_fails_in_preflight(ha):
    probe = "ip -br addr; ip route; ls /etc/systemd/system"
    before = ha.out("rs1", probe)
    proc, result = ha.converge(extra_vars={"nat_realserver_gateway": "192.168.4.54"}, limit="rs1")
    assert proc.returncode != 0
    assert "nat_realserver_gateway 192.168.4.54 is not a floating DIP of the directors" in proc.stdout, proc.stdout[-5000:]
    assert playbook.changed_counts(result) == {"rs1": 0}
    assert ha.out("rs1", probe) == before


def test_check_mode_on_fresh_hosts_predicts_changes_and_makes_none(ha):
    result = ha.converge_ok(check=True)
    changed = playbook.changed_counts(result)
    assert changed["director1"] > 0 and changed["director2"] > 0 and changed["rs1"] > 0
    for director in DIRECTORS:
        assert VIP not in ha.out(director, "ip -br addr")
        assert ha.sh(director, "systemctl is-active keepalived").stdout.strip() != "active"
    assert DIP not in ha.out("rs1", "ip route")


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
    phases.figure("director HA NAT: failover gap", found["gap"])
    assert found["new_director"] == other, text
    assert found["gap"] is not None and found["gap"] <= 4.0, text
    assert found["failed_after_first_new"] == [], text
    dl = timeline["download"]
    assert dl["error"] is None and dl["status"] == "HTTP/1.1 200 OK", text
    assert dl["bytes"] == failover.BIG_SIZE and dl["sha256"] == failover.expected_sha256(), text
    assert dl["start"] < timeline["cut"] < dl["end"], text
    assert DIP in ha.out(other, "ip -br addr show dev eth1")


def test_health_checks_still_remove_a_dead_real_server_after_the_failover(ha, converged):
    holder = failover.master(ha)
    assert len(holder) == 1
    try:
        ha.out("rs1", "systemctl kill apache2")
        failover.wait_for("rs1 out of %s's pool" % holder[0],
                          lambda: "192.168.4.52:80" not in ha.out(holder[0], "ipvsadm -Ln -t %s:80" % VIP), 20)
        assert set(ha.requests(6)) == {"rs2"}
    finally:
        ha.out("rs1", "systemctl start apache2")
    failover.wait_for("rs1 back in %s's pool" % holder[0],
                      lambda: "192.168.4.52:80" in ha.out(holder[0], "ipvsadm -Ln -t %s:80" % VIP), 20)


def test_the_old_master_boots_again_and_stays_backup(ha, converged):
    holder = failover.master(ha)
    assert len(holder) == 1

    def checks(back):
        time.sleep(3)     # several advert intervals: a preempting director would have taken the VIP by now
        assert failover.master(ha) == holder
        assert DIP not in ha.out(back, "ip -br addr show dev eth1")
        assert "backup sync daemon (mcast=eth1, syncid=51," in ha.out(back, "ipvsadm -L --daemon")
        # keepalived on the old master adds the real servers once its own checks pass
        failover.wait_for("the same table on both directors",
                          lambda: ha.out(back, "ipvsadm -S -n") == ha.out(holder[0], "ipvsadm -S -n"), 20)

    _back, download = failover.boot_old_master(ha, checks)
    assert failover.intact(download), download
    assert ha.requests(4).count("NONE") == 0


def test_reboot_of_the_backup_leaves_the_vip_and_the_dip_and_comes_back_as_backup(ha, converged):
    holder, backup = failover.reboot_backup(ha)
    assert DIP not in ha.out(backup, "ip -br addr show dev eth1")
    assert "master sync daemon (mcast=eth1, syncid=51," in ha.out(backup, "ipvsadm -L --daemon")
    failover.wait_for("the same table on both directors",
                      lambda: ha.out(backup, "ipvsadm -S -n") == ha.out(holder, "ipvsadm -S -n"), 20)
    assert ha.requests(4).count("NONE") == 0
