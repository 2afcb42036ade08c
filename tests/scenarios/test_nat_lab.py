"""The seed's LVS-NAT lab on four guests: check mode, converge, idempotence, traffic, reboot, bad input.

Tests in this module share the seed lab (booted once for NAT, DR and TUN, reset before each) and run
in file order (pytest keeps it): the fresh-host check comes first, the reboot and the bad-input cases
last. The two drain tests come before any test sends traffic through the VIP: a drain waits until the
real server has no connections, closed ones included, and IPVS keeps a connection closed with FIN for
2 minutes (TIME_WAIT), so after traffic each drain would wait out its timeout. The first converge
runs plain Ansible (AnsiballZ over pipelined SSH), what most users run; the rest run under the lab
default, Mitogen.
"""

import collections
import re
import threading
import time
from pathlib import Path

import pytest
import yaml

from lab_harness import playbook, topology

pytestmark = pytest.mark.lab


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


def pool_inventory(tmp_path, hosts, extra_host_vars=None):
    """An inventory that puts hosts in the group pool (host variables beyond those of the seed's hosts.yml)."""
    path = tmp_path / ("pool-%s.yml" % "-".join(hosts or ["none"]))
    path.write_text(yaml.safe_dump({"all": {"children": {"pool": {"hosts": {
        h: (extra_host_vars or {}).get(h) for h in hosts}}}}}))
    return path


POOL_SERVICE = {"protocol": "tcp", "address": "192.168.2.54", "port": 80, "scheduler": "rr",
                "real_servers_from_group": "pool"}


BIG = "/var/www/html/big"
ONLY_RS1 = ["-A -t 192.168.2.54:80 -s rr", "-a -t 192.168.2.54:80 -r 192.168.4.52:80 -m -w 1"]
# Two downloads through the VIP (rr puts one on each real server), read slowly so they stay open until
# /tmp/stop-held appears (240 s at most); then each is closed with a reset (SO_LINGER 0), so IPVS counts it
# for 10 s (CLOSE) instead of 120 s (TIME_WAIT). Prints "open" once both are connected, "reset" at the end.
HELD = """import os, socket, struct, sys, time
socks = []
for _ in range(2):
    s = socket.create_connection(("192.168.2.54", 80), timeout=5)
    s.sendall(b"GET /big HTTP/1.0\\r\\nHost: lab\\r\\n\\r\\n")
    socks.append(s)
    time.sleep(0.3)
print("open", flush=True)
deadline = time.time() + 240
while time.time() < deadline and not os.path.exists("/tmp/stop-held"):
    for s in socks:
        s.settimeout(0.05)
        try:
            s.recv(1000)
        except socket.timeout:
            pass
    time.sleep(0.5)
for s in socks:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
print("reset", flush=True)
"""
# A request every 0.5 s through the whole change, until /tmp/stop appears (400 at most): who answered, NONE
# for each that failed, one a line in /tmp/loop; "end" last. Each connection is closed with a reset once the
# page is read, so IPVS counts it for 10 s (CLOSE), not 120 s (TIME_WAIT): the leaving real server's drain
# then waits for the held downloads, not for 2 minutes of this loop's closed connections.
LOOP = """import os, socket, struct, time
try:
    os.unlink("/tmp/stop")
except FileNotFoundError:
    pass
time.sleep(1)
with open("/tmp/loop", "w") as out:
    for _ in range(400):
        if os.path.exists("/tmp/stop"):
            break
        try:
            s = socket.create_connection(("192.168.2.54", 80), timeout=3)
            s.sendall(b"GET / HTTP/1.0\\r\\nHost: lab\\r\\n\\r\\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            head, _, body = data.partition(b"\\r\\n\\r\\n")
            out.write((body.decode().strip() if head.split(b" ")[1:2] == [b"200"] else "") or "NONE")
        except OSError:
            out.write("NONE")
        out.write("\\n")
        out.flush()
        time.sleep(0.5)
    out.write("end\\n")
"""


def background(nat, host, name, script, interpreter="sh"):
    """Start a bounded script in a guest as /tmp/NAME, detached from the ssh session; output to /tmp/NAME.out."""
    path = "/tmp/%s" % name
    proc = nat.sh(host, "cat > %s" % path, stdin=script)
    assert proc.returncode == 0, proc.stderr
    nat.out(host, "rm -f %s.out; setsid nohup %s %s > %s.out 2>&1 < /dev/null &" % (path, interpreter, path, path))


def rs2_entry(nat):
    """rs2's line of the pool as the director lists it: [weight, active, inactive], or None once it left."""
    for line in nat.out("director", "ipvsadm -Ln -t 192.168.2.54:80").splitlines():
        fields = line.split()
        if fields[:2] == ["->", "192.168.4.53:80"]:
            return [int(v) for v in fields[3:6]]
    return None


def wait_for(what, probe, seconds):
    """Poll probe() once a second until it returns something true; fail naming what after seconds."""
    for dummy in range(seconds):
        value = probe()
        if value:
            return value
        time.sleep(1)
    raise AssertionError("%s: not within %d s" % (what, seconds))


def test_pool_from_group_grows_and_a_leaving_host_drains_before_it_leaves(nat, converged, tmp_path):
    # The lab's own director_services already take their real servers from a group (realservers: rs1
    # and rs2), so the converged director is where a pool of both stands: rs2 leaves from there, and
    # joins again, which leaves the director as converged (no run to put it back unless this fails).
    services = {"director_services": [POOL_SERVICE]}
    converged_table = ONLY_RS1 + ["-a -t 192.168.2.54:80 -r 192.168.4.53:80 -m -w 1"]
    if nat.out("director", "ipvsadm -S -n").splitlines() != converged_table:   # an earlier test left it changed
        nat.converge_ok(limit="directors")
    assert nat.out("director", "ipvsadm -S -n").splitlines() == converged_table

    # rs2 leaves the group while a download from it is open: the run sets its weight to 0 and waits;
    # only when the test resets that connection does the run go on and remove rs2.
    for rs in ("rs1", "rs2"):
        nat.out(rs, "(echo %s; head -c 2000000 /dev/zero) > %s" % (rs, BIG))
    leaving = {}
    passed = False
    try:
        nat.out("client", "rm -f /tmp/stop-held")
        background(nat, "client", "held.py", HELD, interpreter="python3")
        wait_for("both downloads open", lambda: nat.out("client", "cat /tmp/held.py.out").split()[:1] == ["open"], 30)
        assert rs2_entry(nat)[1] >= 1, "the download to rs2 is not an active connection: %s" % rs2_entry(nat)
        background(nat, "client", "loop.py", LOOP, interpreter="python3")
        runner = threading.Thread(target=lambda: leaving.update(result=nat.converge(
            extra_vars=dict(services, director_drain_timeout=300), limit="directors",
            inventory=pool_inventory(tmp_path, ["rs1"]))))
        runner.start()

        def at_weight_zero():
            entry = rs2_entry(nat)        # one read of the director's table per poll
            return entry if entry and entry[0] == 0 else None

        # bounded by the run's own pace on a loaded machine: it reaches ipvs_table within minutes
        draining = wait_for("rs2 at weight 0", at_weight_zero, 300)
        assert draining[1] >= 1, draining               # still holding the download
        time.sleep(3)
        assert runner.is_alive() and rs2_entry(nat)[:2] == [0, draining[1]], "the run did not wait for rs2"
        nat.out("client", "touch /tmp/stop-held")
        runner.join(300)
        assert not runner.is_alive(), "the run did not end within 300 s of the reset"
        proc = leaving["result"][0]
        assert proc.returncode == 0, proc.stdout[-20000:]
        assert nat.out("director", "ipvsadm -S -n").splitlines() == ONLY_RS1
        nat.out("client", "touch /tmp/stop")
        wait_for("the request loop ended", lambda: nat.out("client", "tail -n 1 /tmp/loop").strip() == "end", 10)
        assert nat.out("client", "cat /tmp/held.py.out").split() == ["open", "reset"]
        loop = nat.out("client", "cat /tmp/loop").split()
        assert len(loop) > 10 and set(loop[:-1]) <= {"rs1", "rs2"}, loop     # no request failed
        assert set(nat.requests(4)) == {"rs1"}

        # rs2 joins the group: the next run adds it and it takes its share
        nat.converge_ok(extra_vars=services, limit="directors", inventory=pool_inventory(tmp_path, ["rs1", "rs2"]))
        assert collections.Counter(nat.requests(6)) == {"rs1": 3, "rs2": 3}
        assert nat.out("director", "ipvsadm -S -n").splitlines() == converged_table
        passed = True
    finally:
        nat.sh("client", "touch /tmp/stop-held /tmp/stop")
        for rs in ("rs1", "rs2"):
            nat.sh(rs, "rm -f %s" % BIG)
        if not passed:
            nat.converge_ok(limit="directors")


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
