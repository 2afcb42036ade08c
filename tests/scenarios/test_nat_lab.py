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
import yaml

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


def test_status_playbook_zeroes_the_counters_and_shows_every_real_server(nat, converged):
    nat.requests(2)
    assert nat.service_stats()["conns"] > 0
    proc = nat.converge(play="playbooks/status.yml", extra_vars={"status_zero": True})[0]
    assert proc.returncode == 0, proc.stdout[-5000:]
    out = proc.stdout
    assert "TCP 192.168.2.54:80 rr" in out
    for rip in ("192.168.4.52:80", "192.168.4.53:80"):
        assert re.search(r"%s +nat +1 " % re.escape(rip), out), out[-3000:]
    # zero afterwards, and counting again with traffic: one connection per request
    assert nat.service_stats() == {"conns": 0, "inpkts": 0, "outpkts": 0}
    nat.requests(4)
    stats = nat.service_stats()
    assert stats["conns"] == 4 and stats["inpkts"] > 0 and stats["outpkts"] > 0, stats


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


VIP_A, VIP_B = "192.168.4.201", "192.168.4.202"
VIP_UNIT = "/etc/systemd/system/lvs-cluster-director-vip.service"


def lan_addresses(nat):
    """The director's addresses on eth1 (lan), as ADDRESS/PREFIX."""
    return sorted(line.split()[3] for line in nat.out("director", "ip -o -4 addr show dev eth1").splitlines())


def vip_unit_state(nat):
    return nat.sh("director", "systemctl is-active lvs-cluster-director-vip.service").stdout.strip()


def test_vips_add_two_remove_one_then_empty_the_list_with_check_mode_predicting_each_step(nat, converged):
    two = [{"address": VIP_A, "interface": "eth1"}, {"address": VIP_B, "interface": "eth1"}]
    steps = [
        (two, ["192.168.4.201/32", "192.168.4.202/32", "192.168.4.54/24"], "Write the unit"),
        (two[:1], ["192.168.4.201/32", "192.168.4.54/24"], "Remove the addresses that are no longer wanted"),
        ([], ["192.168.4.54/24"], "Delete the unit"),
    ]
    for vips, expected, predicting_task in steps:
        before = lan_addresses(nat)
        check = nat.converge_ok(extra_vars={"director_vips": vips}, limit="directors", check=True)
        predicted = [name.split(" : ")[-1] for name in check["changed_tasks"].get("director", [])]
        assert predicting_task in predicted, (vips, check["changed_tasks"])
        assert lan_addresses(nat) == before
        nat.converge_ok(extra_vars={"director_vips": vips}, limit="directors")
        assert lan_addresses(nat) == expected
        again = nat.converge_ok(extra_vars={"director_vips": vips}, limit="directors", check=True)
        assert again["changed_tasks"].get("director", []) == []
    assert nat.sh("director", "test -e %s" % VIP_UNIT).returncode == 1
    assert vip_unit_state(nat) == "inactive"
    # the service still answers: the VIP unit's removal took only its own addresses
    assert sorted(set(nat.requests(4))) == ["rs1", "rs2"]


def director_fingerprint(nat):
    """What a failed run must leave as it was: the table, the addresses, and the files the role writes."""
    return nat.out("director", "ipvsadm -S -n; ip -o addr; ls -l --time-style=+%s /etc/systemd/system "
                               "/etc/modules-load.d /etc/sysctl.d /etc/ipvsadm.rules 2>&1; "
                               "md5sum /etc/ipvsadm.rules /etc/modules-load.d/* /etc/sysctl.d/* 2>&1")


def pool_inventory(tmp_path, hosts, extra_host_vars=None):
    """An inventory that puts hosts in the group pool (host variables beyond those of the seed's hosts.yml)."""
    path = tmp_path / ("pool-%s.yml" % "-".join(hosts or ["none"]))
    path.write_text(yaml.safe_dump({"all": {"children": {"pool": {"hosts": {
        h: (extra_host_vars or {}).get(h) for h in hosts}}}}}))
    return path


POOL_SERVICE = {"protocol": "tcp", "address": "192.168.2.54", "port": 80, "scheduler": "rr",
                "real_servers_from_group": "pool"}


@pytest.mark.parametrize("case", ["no group", "empty group", "host without lvs_rip", "given twice", "no such interface"])
def test_bad_pool_or_vip_input_names_the_parameter_and_changes_nothing(nat, converged, tmp_path, case):
    extra = {"director_services": [dict(POOL_SERVICE)]}
    inventory = pool_inventory(tmp_path, ["rs1", "rs2"])
    if case == "no group":
        extra["director_services"][0]["real_servers_from_group"] = "webfarm"
        expected = "director_services[0].real_servers_from_group: inventory group 'webfarm' does not exist"
    elif case == "empty group":
        inventory = pool_inventory(tmp_path, [])
        expected = "director_services[0].real_servers_from_group: inventory group 'pool' is empty"
    elif case == "host without lvs_rip":
        inventory = pool_inventory(tmp_path, ["rs1", "client"])
        expected = "director_services[0].real_servers_from_group: host 'client' of group 'pool' has no lvs_rip"
    elif case == "given twice":
        extra["director_services"][0]["real_servers"] = [{"address": "192.168.4.53", "forwarding": "nat"}]
        expected = "director_services[0]: real server 192.168.4.53:80 is given twice"
    else:
        extra["director_vips"] = [{"address": VIP_A, "interface": "eth9"}]
        expected = "director_vips[0]: 192.168.4.201 on interface eth9: this director has no interface eth9"
    before = director_fingerprint(nat)
    proc = nat.converge(extra_vars=extra, limit="directors", inventory=inventory)[0]
    assert proc.returncode != 0
    assert expected in " ".join(proc.stdout.split()), proc.stdout[-3000:]
    assert director_fingerprint(nat) == before


BIG = "/var/www/html/big"
ONLY_RS1 = ["-A -t 192.168.2.54:80 -s rr", "-a -t 192.168.2.54:80 -r 192.168.4.52:80 -m -w 1"]
# rs2's weight as the director sees it, every 0.5 s (400 reads at most): "TIME WEIGHT1 WEIGHT0" (counts of lines)
POLL = """for i in $(seq 400); do
  table=$(ipvsadm -S -n)
  echo "$(date +%s.%N) $(echo "$table" | grep -c -- '-r 192.168.4.53:80 -m -w 1') $(echo "$table" | grep -c -- '-r 192.168.4.53:80 -m -w 0')"
  sleep 0.5
done > /tmp/poll
"""
# two slow downloads (rr puts one on each real server): curl's exit code and the time it ended
DOWNLOADS = """for n in 1 2; do
  (curl -s --max-time 240 --limit-rate 10k -o /tmp/big$n http://192.168.2.54/big; echo "$? $(date +%s.%N)" > /tmp/big$n.done) &
  sleep 0.3
done
wait
"""
# a request every 0.5 s through the whole change, until /tmp/stop appears (300 at most); NONE for each that failed
LOOP = """rm -f /tmp/stop; sleep 1
for i in $(seq 300); do
  [ -e /tmp/stop ] && break
  curl -s --max-time 3 http://192.168.2.54/ || echo NONE
  sleep 0.5
done > /tmp/loop
echo end >> /tmp/loop
"""


def background(nat, host, name, script):
    """Start a bounded shell script in a guest as /tmp/NAME.sh, detached from the ssh session."""
    name = "/tmp/%s.sh" % name
    proc = nat.sh(host, "cat > %s" % name, stdin=script)
    assert proc.returncode == 0, proc.stderr
    nat.out(host, "setsid nohup sh %s >/dev/null 2>&1 < /dev/null &" % name)


def test_pool_from_group_grows_and_a_leaving_host_drains_before_it_leaves(nat, converged, tmp_path):
    services = {"director_services": [POOL_SERVICE]}
    nat.converge_ok(extra_vars=services, limit="directors", inventory=pool_inventory(tmp_path, ["rs1"]))
    assert nat.out("director", "ipvsadm -S -n").splitlines() == ONLY_RS1
    assert set(nat.requests(4)) == {"rs1"}

    # rs2 joins the group: the next run adds it and it takes its share
    both = pool_inventory(tmp_path, ["rs1", "rs2"])
    nat.converge_ok(extra_vars=services, limit="directors", inventory=both)
    assert collections.Counter(nat.requests(6)) == {"rs1": 3, "rs2": 3}

    # rs2 leaves while a slow download from it is open (1.8 MB at 10 KB/s, about 180 s: longer than a loaded
    # 2-core machine takes to bring the converge to ipvs_table, measured up to about 120 s)
    for rs in ("rs1", "rs2"):
        nat.out(rs, "(echo %s; head -c 1800000 /dev/zero) > %s" % (rs, BIG))
    try:
        background(nat, "director", "poll", POLL)
        background(nat, "client", "downloads", DOWNLOADS)
        background(nat, "client", "loop", LOOP)
        nat.converge_ok(extra_vars=dict(services, director_drain_timeout=200), limit="directors",
                        inventory=pool_inventory(tmp_path, ["rs1"]))
        nat.out("client", "touch /tmp/stop")
        # bounded: the downloads end within 240 s of their start, the loop at its next request
        nat.out("client", "for i in $(seq 250); do [ -e /tmp/big1.done ] && [ -e /tmp/big2.done ] "
                          "&& tail -1 /tmp/loop | grep -qx end && exit 0; sleep 1; done; exit 1")
        downloads = {}
        for n in (1, 2):
            rc, end = nat.out("client", "cat /tmp/big%d.done" % n).split()
            head = nat.out("client", "head -n 1 /tmp/big%d; stat -c %%s /tmp/big%d" % (n, n)).split()
            downloads[head[0]] = (int(rc), int(head[1]), float(end))
        assert sorted(downloads) == ["rs1", "rs2"]
        assert downloads["rs2"][:2] == (0, 1800004)
        loop = nat.out("client", "cat /tmp/loop").split()
        assert loop[-1] == "end" and len(loop) > 20 and set(loop[:-1]) <= {"rs1", "rs2"}, loop
        polls = [line.split() for line in nat.out("director", "cat /tmp/poll").splitlines()]
        drained = [float(t) for t, w1, w0 in polls if w1 == "0" and w0 == "1"]
        gone = [float(t) for t, w1, w0 in polls if w1 == "0" and w0 == "0"]
        assert drained and gone, polls
        # at weight 0 before the download ended, and out of the table only after it ended
        assert min(drained) < downloads["rs2"][2] <= min(gone) + 0.5, (drained[:3], gone[:3], downloads)
        assert nat.out("director", "ipvsadm -S -n").splitlines() == ONLY_RS1
    finally:
        for rs in ("rs1", "rs2"):
            nat.sh(rs, "rm -f %s" % BIG)
        nat.converge_ok(limit="directors")


THRESHOLDS = "ipvsadm -Ln --thresholds -t 192.168.2.54:80"
FOREIGN = "-A -t 10.99.0.1:8080 -s rr"


def test_rules_thresholds_and_vips_survive_a_reboot_and_a_foreign_service_does_not(nat, converged):
    # -x/-y are not in ipvsadm's save format: only the rules file the role writes carries them.
    services = [{"protocol": "tcp", "address": "192.168.2.54", "port": 80, "scheduler": "rr",
                 "real_servers": [{"address": "192.168.4.52", "forwarding": "nat",
                                   "upper_threshold": 120, "lower_threshold": 30},
                                  {"address": "192.168.4.53", "forwarding": "nat"}]}]
    # a service another tool added: the role leaves it alone, and does not own it at boot either
    nat.out("director", "ipvsadm %s" % FOREIGN)
    nat.converge_ok(extra_vars={"director_services": services, "director_vips": [{"address": VIP_A, "interface": "eth1"}]},
                    limit="directors")
    live = nat.out("director", "ipvsadm -S -n").splitlines()
    assert FOREIGN in live
    rules = nat.out("director", "cat /etc/ipvsadm.rules").splitlines()
    assert "-A -t 192.168.2.54:80 -s rr" in rules and not any("10.99.0.1" in line for line in rules), rules
    thresholds = [line.split()[:4] for line in nat.out("director", THRESHOLDS).splitlines() if "->" in line]
    assert thresholds[1:] == [["->", "192.168.4.52:80", "120", "30"], ["->", "192.168.4.53:80", "0", "0"]]
    assert lan_addresses(nat) == ["192.168.4.201/32", "192.168.4.54/24"]
    nat.reboot("director", "rs1")
    assert nat.out("director", "ipvsadm -S -n").splitlines() == [line for line in live if line != FOREIGN]
    assert lan_addresses(nat) == ["192.168.4.201/32", "192.168.4.54/24"]
    assert vip_unit_state(nat) == "active"
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
