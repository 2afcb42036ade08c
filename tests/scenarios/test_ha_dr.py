"""Director HA, DR: two directors share the VIP by VRRP and sync connections; the master is powered off
under bounded load, a download opened before keeps going, and the old master comes back as backup."""

import json
import threading
import time

import pytest

from lab_harness import failover, playbook, vm

pytestmark = pytest.mark.lab
VIP = "192.168.4.253"
DIRECTORS = ("director1", "director2")
HOSTS = ("client", "director1", "director2", "rs1", "rs2")


@pytest.fixture(scope="module")
def ha(ha_cluster):
    return ha_cluster("ha_dr")


@pytest.fixture(scope="module")
def converged(ha):
    result = ha.converge_ok()
    for rs in ("rs1", "rs2"):
        ha.out(rs, failover.MAKE_BIG)
    return result


def test_check_mode_on_fresh_hosts_predicts_changes_and_makes_none(ha):
    result = ha.converge_ok(check=True)
    changed = playbook.changed_counts(result)
    assert changed["director1"] > 0 and changed["director2"] > 0
    for director in DIRECTORS:
        assert VIP not in ha.out(director, "ip -br addr")
        assert ha.sh(director, "systemctl is-active keepalived").stdout.strip() != "active"


def test_vip_is_on_exactly_one_director_and_the_client_sends_to_its_mac(ha, converged):
    holders = failover.wait_for("one director holds the VIP", lambda: failover.master(ha) or None, 30)
    assert len(holders) == 1, holders
    macs = failover.macs(ha, "eth1")
    assert ha.requests(1) in (["rs1"], ["rs2"])
    neigh = json.loads(ha.out("client", "ip -j neigh show %s" % VIP))
    assert [n.get("lladdr") for n in neigh] == [macs[holders[0]]]
    # the VIP unit stepped aside: keepalived is the only owner
    for director in DIRECTORS:
        assert ha.sh(director, "systemctl cat lvs-cluster-director-vip.service").returncode != 0


def test_both_directors_hold_the_same_table_and_both_sync_daemons(ha, converged):
    tables = [ha.out(d, "ipvsadm -S -n") for d in DIRECTORS]
    assert tables[0] == tables[1]
    assert "-A -t %s:80 -s rr" % VIP in tables[0]
    for director in DIRECTORS:
        daemons = ha.out(director, "ipvsadm -L --daemon")
        assert "master sync daemon (mcast=eth1, syncid=51," in daemons
        assert "backup sync daemon (mcast=eth1, syncid=51," in daemons


def test_second_converge_changes_nothing(ha, converged):
    assert playbook.failed_counts(converged) == dict.fromkeys(HOSTS[1:], 0)
    result = ha.converge_ok()
    assert playbook.changed_counts(result) == dict.fromkeys(HOSTS[1:], 0)


def test_power_off_the_master_under_load(ha, converged):
    old = failover.wait_for("one director holds the VIP", lambda: failover.master(ha) or None, 30)
    assert len(old) == 1
    other = [d for d in DIRECTORS if d != old[0]][0]
    timeline = failover.run(ha, old[0], "eth1")
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
    assert failover.master(ha, (other,)) == [other]


def test_the_old_master_boots_again_and_stays_backup(ha, converged):
    off = [name for name, alive in vm.status_alive(ha.state).items() if not alive]
    assert len(off) == 1, off
    holder = failover.master(ha, [d for d in DIRECTORS if d not in off])
    assert len(holder) == 1
    result = {}

    def download():
        # one connection, opened before the old master boots, read slowly (2.5 KB/s) until the checks below
        # are done, then at full speed; at most 420 s
        proc = ha.sh("client", failover.client_args(VIP, 1, 0.2, 512, 0.2, 0, 420), timeout=480, stdin=failover.CLIENT)
        result.update(json.loads(proc.stdout.split("RESULT ", 1)[1]))

    thread = threading.Thread(target=download)
    thread.start()
    time.sleep(3)
    vm.power_on(ha.state, off[0])
    assert failover.wait_for("keepalived on %s in BACKUP" % off[0], lambda: failover.vrrp_state(ha, off[0]), 180) == "BACKUP"
    time.sleep(3)     # several advert intervals: a preempting director would have taken the VIP by now
    assert failover.master(ha) == holder
    assert "backup sync daemon (mcast=eth1, syncid=51," in ha.out(off[0], "ipvsadm -L --daemon")
    assert thread.is_alive()      # the download is still going: it was open across the whole boot
    ha.out("client", "touch %s" % failover.FAST)
    thread.join()
    dl = result["download"]
    assert dl["error"] is None and dl["bytes"] == failover.BIG_SIZE and dl["sha256"] == failover.expected_sha256(), dl
    assert ha.requests(4).count("NONE") == 0


def test_reboot_of_the_backup_leaves_the_vip_and_comes_back_as_backup(ha, converged):
    holder = failover.master(ha)
    assert len(holder) == 1
    backup = [d for d in DIRECTORS if d != holder[0]][0]
    ha.reboot(backup)
    assert failover.wait_for("keepalived on %s in BACKUP" % backup, lambda: failover.vrrp_state(ha, backup), 180) == "BACKUP"
    assert failover.master(ha) == holder
    assert ha.out(backup, "ipvsadm -S -n") == ha.out(holder[0], "ipvsadm -S -n")
    assert "master sync daemon (mcast=eth1, syncid=51," in ha.out(backup, "ipvsadm -L --daemon")


@pytest.mark.parametrize("extra_vars, limit, message", [
    ({"director_ha": {"interface": "eth1", "virtual_router_id": 256}}, "directors",
     "director_ha.virtual_router_id: must be an integer from 1 to 255, got 256"),
    ({"director_ha": {"interface": "eth1", "virtual_router_id": 51, "preempt": True}, "director_ha_priority": 150},
     "directors", "both have priority 150 while director_ha.preempt is true"),
    ({"director_vips": [{"address": "192.168.9.253", "interface": "eth1"}]}, "directors",
     "director_vips[0]: 192.168.9.253 is not on the network of eth1 (192.168.4.0/24)"),
    ({"director_ha": {"interface": "eth1", "virtual_router_id": 51, "group": "clients"}}, "directors",
     "director_ha.group: director1 is not in the group 'clients'"),
])
def test_bad_ha_input_fails_in_preflight_and_changes_nothing(ha, converged, extra_vars, limit, message):
    probe = "ip -br addr; ipvsadm -S -n; ipvsadm -L --daemon; md5sum /etc/keepalived/keepalived.conf"
    before = {d: ha.out(d, probe) for d in DIRECTORS}
    proc, result = ha.converge(extra_vars=extra_vars, limit=limit)
    assert proc.returncode != 0
    assert message in proc.stdout, proc.stdout[-5000:]
    assert playbook.changed_counts(result) == {"director1": 0, "director2": 0}
    assert {d: ha.out(d, probe) for d in DIRECTORS} == before


def test_director_ha_on_a_single_host_fails_in_preflight(ha, converged, tmp_path):
    inventory = tmp_path / "solo.yml"
    inventory.write_text("all:\n  children:\n    solo:\n      hosts:\n        director1:\n")
    extra = {"director_ha": {"interface": "eth1", "virtual_router_id": 51, "group": "solo"}}
    proc, result = ha.converge(extra_vars=extra, limit="director1", inventory=inventory)
    assert proc.returncode != 0
    assert "director_ha: director1 is the only host of the group 'solo'" in proc.stdout, proc.stdout[-5000:]
    assert playbook.changed_counts(result) == {"director1": 0}


def test_health_checks_still_remove_a_dead_real_server_after_a_failover(ha, converged):
    holder = failover.master(ha)
    assert len(holder) == 1
    ha.health_checks = True
    try:
        ha.converge_ok(limit="directors")
        ha.out("rs1", "systemctl kill apache2")
        for director in DIRECTORS:
            failover.wait_for("rs1 out of %s's pool" % director,
                              lambda d=director: "192.168.4.52:80" not in ha.out(d, "ipvsadm -Ln -t %s:80" % VIP), 20)
        assert set(ha.requests(6)) == {"rs2"}
    finally:
        ha.out("rs1", "systemctl start apache2")
        ha.health_checks = False
