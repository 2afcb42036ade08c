"""Health checks in the seed's NAT lab: keepalived checks rs1 and rs2 and owns the service.

The lab inventory turns the notes' checker extension on (inventories/nat_lab: an http check of /).
The tests share the seed lab's NAT hosts, reset once, and run in file order: converge and idempotence,
the seed's checker scenario under load, an HTTP check against a server that answers 500, repair of
hand deletions, a reboot, quiesce, bad input, and last the hand-over of the service between ipvs_table
and keepalived under load.
"""

import json
import re
import threading
import time

import pytest

import phases
from lab_harness import checker

pytestmark = pytest.mark.lab

SERVICE = "-t 192.168.2.54:80"
RS1, RS2 = "192.168.4.52", "192.168.4.53"
CONF = "/etc/keepalived/keepalived.conf"


@pytest.fixture(scope="module")
def nat(seed_cluster):
    cluster = seed_cluster("nat")
    cluster.health_checks = True
    return cluster


@pytest.fixture(scope="module")
def converged(nat):
    return nat.converge_ok()


def pool(nat):
    """The service's real servers as the director lists them: {address: weight}, None without the service."""
    proc = nat.sh("director", "ipvsadm -Ln %s" % SERVICE)
    if proc.returncode != 0:
        return None
    return dict((f[1].split(":")[0], int(f[3])) for f in (line.split() for line in proc.stdout.splitlines())
                if f[:1] == ["->"] and f[1][0].isdigit())


def wait_pool(nat, what, test, seconds):
    """Poll the pool (each read is one ssh call, about a second) until test(pool) holds."""
    deadline = time.monotonic() + seconds
    while True:
        seen = pool(nat)
        if test(seen):
            return seen
        assert time.monotonic() < deadline, "%s: not within %d s (pool %s)" % (what, seconds, seen)


def test_converge_gives_the_service_to_keepalived_and_a_second_run_changes_nothing(nat, converged):
    changed = converged["changed_tasks"]["director"]
    assert any(t.endswith("Write keepalived's configuration") for t in changed), changed
    assert nat.out("director", "systemctl is-active keepalived; systemctl is-enabled keepalived").split() == ["active", "enabled"]
    assert nat.out("director", "stat -c '%a %U' " + CONF).strip() == "640 root"
    # the saved rules hold only ipvs_table's services: none here
    assert "192.168.2.54" not in nat.out("director", "cat /etc/ipvsadm.rules")
    assert pool(nat) == {RS1: 1, RS2: 1}
    again = nat.converge_ok()
    assert again["changed_tasks"] == {}, again["changed_tasks"]


def test_dead_real_server_leaves_within_3_s_and_returns_within_3_s(nat, converged):
    timeline = checker.run(nat, "systemctl kill apache2", "systemctl start apache2")
    print("\nNAT checker timeline:\n" + checker.report(timeline))
    checker.assert_detected(timeline, limit=3.0)
    phases.figure("health check NAT: dead real server out of the pool", timeline["down_seconds"])
    phases.figure("health check NAT: recovered real server back", timeline["up_seconds"])


# Answers 500 on port 80 for at most 60 s: the port stays open, so only an HTTP check sees the failure.
ERROR_500 = """import http.server, threading
class Broken(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(500); self.send_header("Content-Length", "0"); self.end_headers()
server = http.server.HTTPServer(("", 80), Broken)
threading.Timer(60, server.shutdown).start()
server.serve_forever()
"""


def test_http_check_takes_out_a_server_whose_port_is_open_but_answers_500(nat, converged):
    nat.out("rs1", "systemctl kill apache2; while ss -ltn | grep -q ':80 '; do sleep 0.1; done")
    nat.sh("rs1", "cat > /tmp/broken.py", stdin=ERROR_500)
    nat.out("rs1", "setsid nohup python3 /tmp/broken.py > /tmp/broken.out 2>&1 < /dev/null & "
                   "for i in $(seq 50); do ss -ltn | grep -q ':80 ' && break; sleep 0.1; done")
    try:
        assert nat.out("director", "curl -s -o /dev/null -w '%%{http_code}' http://%s/" % RS1).strip() == "500"
        assert wait_pool(nat, "rs1 out", lambda p: p is not None and RS1 not in p, 10) == {RS2: 1}
        assert set(nat.requests(4, timeout=2)) == {"rs2"}
    finally:
        nat.out("rs1", "pkill -f '^python3 /tmp/broken.py'; while ss -ltn | grep -q ':80 '; do sleep 0.1; done; systemctl start apache2")
    wait_pool(nat, "rs1 back", lambda p: p == {RS1: 1, RS2: 1}, 10)


def test_what_was_deleted_by_hand_comes_back_on_the_next_run_as_check_mode_predicts(nat, converged):
    restore = "lvs.cluster.director : Restore what keepalived believes is in the kernel but is not"
    for damage in ("ipvsadm -D %s" % SERVICE,
                   "ipvsadm -d %s -r %s:80 && ipvsadm -e %s -r %s:80 -m -w 7" % (SERVICE, RS1, SERVICE, RS2)):
        nat.out("director", damage)
        check = nat.converge_ok(check=True, limit="directors")
        assert check["changed_tasks"] == {"director": [restore]}, (damage, check["changed_tasks"])
        assert pool(nat) != {RS1: 1, RS2: 1}
        fixed = nat.converge_ok(limit="directors")
        assert fixed["changed_tasks"] == {"director": [restore]}, (damage, fixed["changed_tasks"])
        assert pool(nat) == {RS1: 1, RS2: 1}, damage


def test_a_director_reboot_brings_back_checking_and_the_table(nat, converged):
    nat.reboot("director")
    # keepalived starts after network-online.target, which can take a while on a loaded machine
    try:
        wait_pool(nat, "the table after the reboot", lambda p: p == {RS1: 1, RS2: 1}, 180)
    except AssertionError:
        print(nat.sh("director", "systemctl status keepalived --no-pager; journalctl -b -u keepalived --no-pager | tail -20; "
                                 "systemd-analyze critical-chain keepalived.service").stdout)
        raise
    assert nat.out("director", "systemctl is-active keepalived").strip() == "active"
    nat.out("rs1", "systemctl kill apache2")
    try:
        wait_pool(nat, "rs1 out after the reboot", lambda p: p == {RS2: 1}, 10)
    finally:
        nat.out("rs1", "systemctl start apache2")
    wait_pool(nat, "rs1 back after the reboot", lambda p: p == {RS1: 1, RS2: 1}, 10)


# Opens keep-alive connections to the VIP until one lands on rs1, then sends a request on it every
# 0.5 s for 10 s; prints who answered each (or the error). Bounded: 40 connection attempts, 20 requests.
HELD_KEEPALIVE = """import http.client, json, time
conn = None
for attempt in range(40):
    c = http.client.HTTPConnection("192.168.2.54", 80, timeout=2)
    c.request("GET", "/"); body = c.getresponse().read().decode().strip()
    if body == "rs1":
        conn = c; break
    c.close()
print("open" if conn else "no rs1", flush=True)
answers = []
for i in range(20):
    time.sleep(0.5)
    try:
        conn.request("GET", "/"); answers.append(conn.getresponse().read().decode().strip())
    except Exception as e:
        answers.append("FAILED %s" % type(e).__name__)
print(json.dumps(answers), flush=True)
"""


def test_quiesce_sets_weight_0_and_an_open_connection_keeps_working(nat, converged):
    quiesce = {"lab_health_check": {"type": "http", "path": "/health.html", "on_failure": "quiesce"}}
    for host in ("rs1", "rs2"):
        nat.out(host, "echo ok > /var/www/html/health.html")
    nat.converge_ok(extra_vars=quiesce, limit="directors")
    assert "inhibit_on_failure" in nat.out("director", "cat " + CONF)
    try:
        nat.sh("client", "cat > /tmp/held.py", stdin=HELD_KEEPALIVE)
        nat.out("client", "setsid nohup python3 /tmp/held.py > /tmp/held.out 2>&1 < /dev/null &")
        opened = wait_output(nat, "client", "/tmp/held.out", lambda text: text.splitlines()[:1], 20)
        assert opened == ["open"]
        nat.out("rs1", "rm /var/www/html/health.html")
        assert wait_pool(nat, "rs1 quiesced", lambda p: p == {RS1: 0, RS2: 1}, 8) == {RS1: 0, RS2: 1}
        assert set(nat.requests(4, timeout=2)) == {"rs2"}
        lines = wait_output(nat, "client", "/tmp/held.out", lambda text: text.splitlines()[1:], 20)
        assert json.loads(lines[0]) == ["rs1"] * 20
    finally:
        nat.out("rs1", "echo ok > /var/www/html/health.html")
    wait_pool(nat, "rs1 back from quiesce", lambda p: p == {RS1: 1, RS2: 1}, 8)
    nat.converge_ok(limit="directors")
    assert "inhibit_on_failure" not in nat.out("director", "cat " + CONF)


def wait_output(nat, host, path, parse, seconds):
    deadline = time.monotonic() + seconds
    while True:
        value = parse(nat.out(host, "cat %s 2>/dev/null || true" % path))
        if value:
            return value
        assert time.monotonic() < deadline, "%s: %s gave nothing within %d s" % (host, path, seconds)


def http_service(**check):
    return {"protocol": "tcp", "address": "192.168.2.54", "port": 80, "scheduler": "rr",
            "real_servers": [{"address": RS1, "forwarding": "nat"}, {"address": RS2, "forwarding": "nat"}],
            "health_check": dict({"type": "http", "path": "/"}, **check)}


BAD_CASES = [
    ("unknown type", dict(http_service(), health_check={"type": "ping"}), "ping"),
    ("http without path", dict(http_service(), health_check={"type": "http"}),
     "director_services[0].health_check.path: is required for a http check"),
    ("misc without script", dict(http_service(), health_check={"type": "misc"}),
     "director_services[0].health_check.script: is required for a misc check"),
    ("timeout not below interval", http_service(interval=1, timeout=1),
     "director_services[0].health_check.timeout: 1 must be below interval 1"),
    ("status code 600", http_service(status_codes=[200, 600]),
     "director_services[0].health_check.status_codes: 600 is not an HTTP status code between 100 and 599"),
    ("sorry server of the other family", http_service(sorry_server={"address": "2001:db8::1", "port": 80}),
     "director_services[0].health_check.sorry_server.address: 2001:db8::1 is ipv6 but the service is ipv4"),
    ("quiesce with a remove option", http_service(on_failure="quiesce", expire_connections=True),
     "director_services[0].health_check.expire_connections: is a remove option"),
    # passes the role's own checks, but keepalived's parser refuses the brace
    ("keepalived rejects the path", http_service(path="/x}"), "failed to validate"),
]


def test_bad_health_checks_name_the_parameter_and_change_nothing(nat, converged):
    fingerprint = ("ipvsadm -S -n; md5sum %s; systemctl is-active keepalived; systemctl show -p MainPID keepalived"
                   % CONF)
    before = nat.out("director", fingerprint)
    cases = [{"name": name, "service": service} for name, service, dummy in BAD_CASES]
    proc = nat.converge(play="tests/scenarios/files/health_bad_input.yml", limit="directors",
                        extra_vars={"health_bad_cases": cases})[0]
    assert proc.returncode == 0, proc.stdout[-5000:]
    results = json.loads(re.search(r"HEALTH_BAD_RESULTS (\[.*\])", proc.stdout.replace('\\"', '"')).group(1))
    by_name = dict((r["name"], r) for r in results)
    for name, dummy, expected in BAD_CASES:
        outcome = by_name[name]
        assert outcome["failed"], name
        text = " ".join(outcome["msg"].split()) + " " + outcome["task"]
        assert expected in text, (name, outcome)
        if name == "unknown type":
            assert "health_check" in text and "type" in text, outcome
    # keepalived's own check refused the last candidate: the role failed at writing the file
    assert by_name["keepalived rejects the path"]["task"] == "Write keepalived's configuration"
    assert nat.out("director", fingerprint) == before
    assert set(nat.requests(4, timeout=2)) == {"rs1", "rs2"}


# One request every GAP s through the VIP with a 1 s timeout, a line per answer as it comes (bounded: COUNT).
STREAM_LOAD = """import sys, time, urllib.request
count, gap = int(sys.argv[1]), float(sys.argv[2])
start = time.time()
for index in range(count):
    delay = start + index * gap - time.time()
    if delay > 0:
        time.sleep(delay)
    try:
        who = urllib.request.urlopen("http://192.168.2.54/", timeout=1).read().decode().strip()
    except Exception as e:
        who = "FAILED-%s" % type(e).__name__
    print("%.2f %s" % (time.time() - start, who), flush=True)
"""


def under_load(nat, action, count=2000, gap=0.2, fwmarks=False):
    """Run action() while the client requests the VIP and the director records every change of the pool
    (10 ms polls; with fwmarks, the real servers of fwmark services count too); returns (the answers
    [(seconds, who)], the pool changes [(time, {address: weight})]).
    Bounded: the load stops after action() or count requests, the watch after action() or 600 s."""
    nat.sh("client", "cat > /tmp/stream.py", stdin=STREAM_LOAD)
    nat.out("client", "rm -f /tmp/stream.out; setsid nohup python3 /tmp/stream.py %d %s > /tmp/stream.out 2>&1 "
                      "< /dev/null & echo $! > /tmp/stream.pid" % (count, gap))
    watched = {}

    def watch():
        watched["w"] = checker._python(nat, "director", checker.WATCH,
                                       ["127.0.0.1", "192.168.2.54", "80", "600"] + (["fwmarks"] if fwmarks else []),
                                       timeout=700)
    thread = threading.Thread(target=watch)
    thread.start()
    try:
        time.sleep(3)       # the watcher's first poll
        action()
    finally:
        nat.out("director", "touch /tmp/lvslab-watch.stop")
        out = nat.out("client", "kill $(cat /tmp/stream.pid) 2>/dev/null; cat /tmp/stream.out")
        thread.join()
    answers = [line.split(None, 1) for line in out.splitlines() if line.strip()]
    assert len(answers) >= 20, out
    return answers, watched["w"]["changes"]


def test_the_service_moves_from_ipvs_table_to_keepalived_without_a_failed_request(nat, converged):
    """And back. To keepalived: keepalived finds the service in the kernel and keeps it, so the pool never
    changes. Back to ipvs_table: keepalived's reload deletes the service and ipvs_table adds it again later
    in the run; a bridge (fwmark service and nftables mark rule) serves meanwhile, so the real servers
    serving the VIP never change (fwmark services counted) and no request fails, at 20 requests a second."""
    both = {RS1: 1, RS2: 1}
    bridge = "lvs.cluster.director : Bridge the services keepalived hands back to ipvs_table"
    unbridge = "lvs.cluster.director : Take down the hand-over bridges now that ipvs_table holds their services"
    nat.health_checks = False
    runs = []
    try:
        back_answers, back_changes = under_load(nat, lambda: runs.append(nat.converge_ok(limit="directors")),
                                                count=6000, gap=0.05, fwmarks=True)
    finally:
        nat.health_checks = True
    changed = runs[0]["changed_tasks"]["director"]
    assert bridge in changed and unbridge in changed, changed
    assert "virtual_server" not in nat.out("director", "cat " + CONF)
    assert "192.168.2.54" in nat.out("director", "cat /etc/ipvsadm.rules")
    assert pool(nat) == both
    # the bridge is gone: no fwmark service, no nftables table
    assert "FWM" not in nat.out("director", "cat /proc/net/ip_vs")
    assert nat.sh("director", "nft list table inet lvs_cluster_handover").returncode != 0
    assert [pool_state for dummy, pool_state in back_changes] == [both], back_changes
    assert [a for a in back_answers if a[1].startswith("FAILED")] == []
    assert len(back_answers) >= 100, len(back_answers)

    answers, changes = under_load(nat, lambda: nat.converge_ok(limit="directors"))
    assert "virtual_server 192.168.2.54 80" in nat.out("director", "cat " + CONF)
    assert "192.168.2.54" not in nat.out("director", "cat /etc/ipvsadm.rules")
    assert [pool_state for dummy, pool_state in changes] == [both]
    assert [a for a in answers if a[1].startswith("FAILED")] == []
