"""Director HA, DR: two directors share the VIP by VRRP and sync connections; the old master comes back as
backup without breaking a download, the backup reboots, health checks go on after a failover, and bad input
fails in the preflight. The power-off under load is the molecule scenario's (test_molecule_ha.py)."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

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
    return failover.converge(ha)


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


def test_switchover_moves_the_vip_to_the_backup_and_keeps_serving(ha, converged):
    old = failover.wait_for("one director holds the VIP", lambda: failover.master(ha) or None, 30)
    assert len(old) == 1
    other = [d for d in DIRECTORS if d != old[0]]
    result = ha.converge_ok(play="playbooks/switchover.yml", limit="directors")
    assert playbook.changed_counts(result) == {old[0]: 2, other[0]: 0}
    assert failover.master(ha) == other
    assert failover.vrrp_state(ha, old[0]) == "BACKUP"
    assert ha.requests(4).count("NONE") == 0
    # status.yml names the new MASTER
    proc, _result = ha.converge(play="playbooks/status.yml", limit="directors")
    assert proc.returncode == 0, proc.stdout[-5000:]
    for director, line in ((other[0], "VRRP MASTER: holds %s" % VIP), (old[0], "VRRP BACKUP: holds no VIP")):
        assert 'ok: [%s] => {\n    "msg": "%s"\n}' % (director, line) in proc.stdout, proc.stdout[-5000:]


def test_ha_off_then_on_again_leaves_no_stale_vip(ha, converged):
    holder = failover.master(ha)
    assert len(holder) == 1
    backup = [d for d in DIRECTORS if d != holder[0]][0]
    # HA off on the backup alone: the VIP unit takes the address, keepalived holds none
    ha.converge_ok(extra_vars={"director_ha": None}, limit=backup)
    assert ha.out(backup, "ip -br addr show dev eth1").count(VIP + "/") == 1
    assert ha.sh(backup, "systemctl is-active lvs-cluster-director-vip.service").stdout.strip() == "active"
    # HA on again: the unit steps aside and removes its address; the backup holds no VIP
    result = ha.converge_ok(limit=backup)
    assert playbook.changed_counts(result)[backup] > 0
    assert VIP not in ha.out(backup, "ip -br addr")
    assert ha.sh(backup, "systemctl cat lvs-cluster-director-vip.service").returncode != 0
    assert failover.wait_for("keepalived on %s in BACKUP" % backup, lambda: failover.vrrp_state(ha, backup), 30) == "BACKUP"
    assert failover.master(ha) == holder


def test_the_old_master_boots_again_and_stays_backup(ha, converged):
    # the power-off under load, timed, is the molecule scenario's (test_molecule_ha.py); here the master
    # is only cut off so that it can come back
    old = failover.wait_for("one director holds the VIP", lambda: failover.master(ha) or None, 30)
    assert len(old) == 1
    holder = [d for d in DIRECTORS if d != old[0]]
    vm.power_off(ha.state, old[0])
    assert failover.wait_for("the VIP on %s" % holder[0], lambda: failover.master(ha, holder), 20) == holder

    def checks(back):
        time.sleep(3)     # several advert intervals: a preempting director would have taken the VIP by now
        assert failover.master(ha) == holder
        assert "backup sync daemon (mcast=eth1, syncid=51," in ha.out(back, "ipvsadm -L --daemon")

    back, download = failover.boot_old_master(ha, checks)
    assert back == old[0]
    assert failover.intact(download), download
    assert ha.requests(4).count("NONE") == 0


def test_reboot_of_the_backup_leaves_the_vip_and_comes_back_as_backup(ha, converged):
    holder, backup = failover.reboot_backup(ha)
    assert ha.out(backup, "ipvsadm -S -n") == ha.out(holder, "ipvsadm -S -n")
    assert "master sync daemon (mcast=eth1, syncid=51," in ha.out(backup, "ipvsadm -L --daemon")


# name, extra vars, --limit, an inventory added (or None), the message the preflight must print
BAD_INPUT = [
    ("router id", {"director_ha": {"interface": "eth1", "virtual_router_id": 256}}, "directors", None,
     "director_ha.virtual_router_id: must be an integer from 1 to 255, got 256"),
    ("equal priorities", {"director_ha": {"interface": "eth1", "virtual_router_id": 51, "preempt": True},
                          "director_ha_priority": 150}, "directors", None,
     "both have priority 150 while director_ha.preempt is true"),
    ("VIP off the network", {"director_vips": [{"address": "192.168.9.253", "interface": "eth1"}]}, "directors", None,
     "director_vips[0]: 192.168.9.253 is not on the network of eth1 (192.168.4.0/24)"),
    ("not in the group", {"director_ha": {"interface": "eth1", "virtual_router_id": 51, "group": "clients"}},
     "directors", None, "director_ha.group: director1 is not in the group 'clients'"),
    ("single host", {"director_ha": {"interface": "eth1", "virtual_router_id": 51, "group": "solo"}}, "director1",
     "all:\n  children:\n    solo:\n      hosts:\n        director1:\n",
     "director_ha: director1 is the only host of the group 'solo'"),
]


def test_bad_ha_input_fails_in_preflight_and_changes_nothing(ha, converged, tmp_path):
    """Every case at once (each fails before any change, so they cannot disturb each other)."""
    probe = "ip -br addr; ipvsadm -S -n; ipvsadm -L --daemon; md5sum /etc/keepalived/keepalived.conf"
    before = {d: ha.out(d, probe) for d in DIRECTORS}

    def attempt(case):
        name, extra_vars, limit, inventory, message = case
        path = None
        if inventory:
            path = tmp_path / ("%s.yml" % name.replace(" ", "_"))
            path.write_text(inventory)
        proc, result = ha.converge(extra_vars=extra_vars, limit=limit, inventory=path)
        hosts = ["director1"] if limit == "director1" else list(DIRECTORS)
        wrong = []
        if proc.returncode == 0:
            wrong.append("succeeded")
        if message not in proc.stdout:
            wrong.append("no message %r:\n%s" % (message, proc.stdout[-3000:]))
        if playbook.changed_counts(result) != dict.fromkeys(hosts, 0):
            wrong.append("changed %s" % playbook.changed_counts(result))
        return name, wrong

    with ThreadPoolExecutor(max_workers=len(BAD_INPUT)) as pool:
        found = dict(pool.map(attempt, BAD_INPUT))
    assert found == {case[0]: [] for case in BAD_INPUT}
    assert {d: ha.out(d, probe) for d in DIRECTORS} == before


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
