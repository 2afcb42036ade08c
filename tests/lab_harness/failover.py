"""Director HA under bounded load: power the master off, time the gap, keep a download going through it.

The client sends one request every `gap` seconds (1 s timeout each) and, after each, reads which MAC
its neighbour table holds for the VIP: the director it sent that request to. Meanwhile it downloads a
file slowly over one TCP connection opened before the failure (a small receive buffer and paced reads,
so the real server cannot finish early). The harness powers the master off (its qemu ends: no shutdown
in the guest). All times are on the client's clock; the cut is placed on it from an ssh round trip.
"""

import json
import subprocess
import threading
import time

from . import vm

# The file both real servers serve for the long-lived connection: the same bytes on each.
BIG_PATH = "/var/www/html/big.bin"
BIG_SIZE = 1200000
MAKE_BIG = "python3 -c \"open('%s', 'wb').write(bytes(i %% 251 for i in range(%d)))\"" % (BIG_PATH, BIG_SIZE)

CLIENT = r'''
import hashlib, json, os, socket, sys, threading, time, urllib.request
vip, count, gap, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
chunk, pause, download_at, wait = int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8])
FAST = "/tmp/lvslab-download.fast"      # once it exists, the download reads the rest at full speed
if os.path.exists(FAST):
    os.unlink(FAST)

def mac():
    with open("/proc/net/arp") as handle:
        for line in handle.read().splitlines()[1:]:
            fields = line.split()
            if fields[0] == vip and fields[2] != "0x0":
                return fields[3]
    return None

download = {}

def slow_download():
    digest, size, head, err = hashlib.sha256(), 0, b"", None
    start = time.time()
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        sock.settimeout(20)
        sock.connect((vip, 80))
        sock.sendall(b"GET /big.bin HTTP/1.0\r\nHost: lab\r\n\r\n")
        body = False
        while True:
            data = sock.recv(chunk)
            if not data:
                break
            if not body:
                head += data
                if b"\r\n\r\n" not in head:
                    continue
                head, data = head.split(b"\r\n\r\n", 1)
                body = True
            digest.update(data)
            if size < 65536 <= size + len(data):
                # the harness cuts the power only once the download runs: the client's clock, for the timeline
                print("READY %.6f" % time.time(), flush=True)
            size += len(data)
            if not os.path.exists(FAST):
                time.sleep(pause)
    except Exception as e:
        err = "%s: %s" % (type(e).__name__, e)
    download.update(start=start, end=time.time(), bytes=size, sha256=digest.hexdigest(), error=err,
                    status=head.split(b"\r\n", 1)[0].decode(errors="replace"))

out, start = [], time.time()
thread = threading.Thread(target=slow_download)
for index in range(count):
    if thread.ident is None and time.time() >= start + download_at:
        thread.start()
    delay = start + index * gap - time.time()
    if delay > 0:
        time.sleep(delay)
    sent, to = time.time(), mac()
    try:
        who = urllib.request.urlopen("http://%s/" % vip, timeout=timeout).read().decode().strip()
    except Exception as e:
        who = "FAILED (%s)" % type(e).__name__
    out.append([sent, time.time(), who, to or mac()])
if thread.ident is None:
    thread.start()
thread.join(wait)
print("RESULT " + json.dumps({"requests": out, "download": download}))
'''

MAX_REQUESTS = 200
FAST = "/tmp/lvslab-download.fast"
# the directors' interface on the client's side of the VIP, by scenario
CLIENT_SIDE = {"ha_dr": "eth1", "ha_nat": "eth2"}


def client_args(vip, count, gap, chunk, pause, download_at, wait):
    """The command that runs CLIENT: count requests gap s apart, a download of chunk bytes every pause s
    opened download_at s in, waited for at most wait s after the requests (or until FAST exists)."""
    return "python3 - %s %d %s 1 %d %s %s %s" % (vip, count, gap, chunk, pause, download_at, wait)


def expected_sha256():
    import hashlib  # pylint: disable=import-outside-toplevel
    return hashlib.sha256(bytes(i % 251 for i in range(BIG_SIZE))).hexdigest()


def master(cluster, directors=None):
    """The directors that hold the VIP now (read from the kernel); by default of those that run."""
    if directors is None:
        alive = vm.status_alive(cluster.state)
        directors = [d for d in ("director1", "director2") if alive.get(d)]
    return [d for d in directors if cluster.vip in cluster.out(d, "ip -br addr show")]


def macs(cluster, interface, directors=("director1", "director2")):
    """director -> MAC of its interface on the client's side of the VIP."""
    return {d: cluster.out(d, "cat /sys/class/net/%s/address" % interface).strip() for d in directors}


def run(cluster, victim, interface, seconds=24.0, gap=0.2, cut_after=3.0, download_at=1.0, chunk=4096, pause=0.04):
    """Bounded load from the client; `victim` (the master) is powered off cut_after seconds after the client
    says its download runs (an ssh start takes seconds on a loaded machine, so a fixed delay is no good)."""
    count = int(seconds / gap)
    assert 1 <= count <= MAX_REQUESTS and seconds <= 60
    names = {mac: d for d, mac in macs(cluster, interface).items()}
    argv = vm.ssh_argv(cluster.state, "client", [client_args(cluster.vip, count, gap, chunk, pause, download_at, 120)])
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
    proc.stdin.write(CLIENT)
    proc.stdin.close()
    proc.stdin = None       # communicate() below must not flush it
    ready = proc.stdout.readline()
    if not ready.startswith("READY "):
        proc.kill()
        raise AssertionError("the load client did not start its download: %r %s" % (ready, proc.stderr.read()[-2000:]))
    # client clock - host clock, to within the ssh stream's latency
    offset = float(ready.split()[1]) - time.time()
    time.sleep(cut_after)
    cut = vm.power_off(cluster.state, victim) + offset
    out, err = proc.communicate(timeout=seconds + 180)
    assert proc.returncode == 0, err[-2000:]
    results = json.loads(out.split("RESULT ", 1)[1])
    requests = [[sent, done, who, names.get(mac, mac)] for sent, done, who, mac in results["requests"]]
    return {"victim": victim, "cut": cut, "cut_error": 0.2, "requests": requests,
            "download": results["download"], "names": names}


def measure(timeline):
    """Last answer through the old master, first answer through another after it, the gap between them."""
    victim = timeline["victim"]
    before = [r for r in timeline["requests"] if r[1] <= timeline["cut"] + timeline["cut_error"]
              and not r[2].startswith("FAILED") and r[3] == victim]
    after = [r for r in timeline["requests"] if r[0] >= timeline["cut"] - timeline["cut_error"]
             and not r[2].startswith("FAILED") and r[3] not in (victim, None)]
    last = before[-1][1] if before else None
    first = after[0][1] if after else None
    gap = None if last is None or first is None else round(first - last, 2)
    return {"last_old": last, "first_new": first, "gap": gap, "new_director": after[0][3] if after else None,
            "failed_after_first_new": [r for r in timeline["requests"] if first is not None and r[0] > first
                                       and r[2].startswith("FAILED")]}


def report(timeline, interval=1.0):
    """The timeline as text: per interval, requests sent, answered, by which director and real server."""
    t0 = timeline["requests"][0][0]
    found = measure(timeline)
    lines = ["  interval   sent  ok  failed  director(s)            real server(s)"]
    end = timeline["requests"][-1][0]
    moment = t0
    while moment <= end:
        rows = [r for r in timeline["requests"] if moment <= r[0] < moment + interval]
        ok = [r for r in rows if not r[2].startswith("FAILED")]
        directors = sorted(set(r[3] or "?" for r in rows))
        servers = sorted(set(r[2] for r in ok))
        mark = "   <-- %s powered off" % timeline["victim"] if moment <= timeline["cut"] < moment + interval else ""
        values = (moment - t0, len(rows), len(ok), len(rows) - len(ok), ",".join(directors), ",".join(servers), mark)
        lines.append("  %5.1f s  %5d %3d %7d  %-22s %s%s" % values)
        moment += interval
    dl = timeline["download"]
    lines.append("  power cut at %.2f s (+-%.2f s); last answer through %s at %s s, first through %s at %s s: gap %s s"
                 % (timeline["cut"] - t0, timeline["cut_error"], timeline["victim"],
                    None if found["last_old"] is None else round(found["last_old"] - t0, 2), found["new_director"],
                    None if found["first_new"] is None else round(found["first_new"] - t0, 2), found["gap"]))
    if dl:
        lines.append("  long-lived download: opened at %.2f s, ended at %.2f s, %d bytes, %s, error %s"
                     % (dl["start"] - t0, dl["end"] - t0, dl["bytes"], dl.get("status"), dl["error"]))
    return "\n".join(lines)


def converge(cluster):
    """Converge the HA lab (it must succeed) and put the download file on the real servers; the recap."""
    result = cluster.converge_ok()
    for rs in ("rs1", "rs2"):
        cluster.out(rs, MAKE_BIG)
    return result


def drill(cluster):
    """The whole failover drill on a converged HA lab: the download file on the real servers, the master
    found, powered off under load. Returns the timeline with "measured" (measure()) and "report" (text)."""
    for rs in ("rs1", "rs2"):
        cluster.out(rs, MAKE_BIG)
    holders = wait_for("one director holds the VIP", lambda: master(cluster) or None, 60)
    assert len(holders) == 1, "the VIP is on %s" % holders
    timeline = run(cluster, holders[0], CLIENT_SIDE[cluster.scenario])
    timeline["scenario"] = cluster.scenario
    timeline["names_by_director"] = {d: mac for mac, d in timeline["names"].items()}
    timeline["measured"] = measure(timeline)
    timeline["report"] = report(timeline)
    return timeline


def boot_old_master(cluster, checks):
    """Power the old master (the one director that is off) on while one download, opened before, runs slowly
    (2.5 KB/s, at most 420 s) through the VIP; checks(old master) runs once keepalived there is BACKUP, before
    the download may finish. Returns (old master, the download's record)."""
    off = [name for name, alive in vm.status_alive(cluster.state).items() if not alive]
    assert len(off) == 1, "not one director off: %s" % off
    result = {}

    def download():
        proc = cluster.sh("client", client_args(cluster.vip, 1, 0.2, 512, 0.2, 0, 420), timeout=480, stdin=CLIENT)
        result.update(json.loads(proc.stdout.split("RESULT ", 1)[1]))

    thread = threading.Thread(target=download)
    thread.start()
    try:
        time.sleep(3)
        vm.power_on(cluster.state, off[0])
        state = wait_for("keepalived on %s in BACKUP" % off[0], lambda: vrrp_state(cluster, off[0]), 180)
        assert state == "BACKUP", state
        checks(off[0])
        assert thread.is_alive(), "the download ended before the old master was back: %s" % result
    finally:
        cluster.out("client", "touch %s" % FAST)
        thread.join()
    return off[0], result["download"]


def reboot_backup(cluster):
    """Reboot the director that does not hold the VIP and wait until keepalived there is BACKUP again; the
    holder must still hold the VIP. Returns (holder, backup)."""
    holder = master(cluster)
    assert len(holder) == 1, holder
    backup = [d for d in ("director1", "director2") if d != holder[0]][0]
    cluster.reboot(backup)
    state = wait_for("keepalived on %s in BACKUP" % backup, lambda: vrrp_state(cluster, backup), 180)
    assert state == "BACKUP", state
    assert master(cluster) == holder
    return holder[0], backup


def intact(download):
    """The long-lived download completed with every byte right."""
    return (download.get("error") is None and download.get("status") == "HTTP/1.1 200 OK"
            and download.get("bytes") == BIG_SIZE and download.get("sha256") == expected_sha256())


def wait_for(what, probe, seconds):
    """probe() until it returns something true, at most `seconds`; that value (or fail naming `what`)."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, "%s: not within %d s" % (what, seconds)
        time.sleep(0.5)


def vrrp_state(cluster, director):
    """keepalived's last VRRP state on this boot, from its journal (MASTER, BACKUP, FAULT or None)."""
    log = cluster.sh(director, "journalctl -b -u keepalived --no-pager -o cat | grep -o 'Entering [A-Z]* STATE' | tail -1")
    return log.stdout.split()[1] if log.stdout.strip() else None
