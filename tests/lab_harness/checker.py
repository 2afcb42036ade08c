"""The seed's checker scenario under bounded load: fail a real server, see it leave the pool, bring it back.

The client sends one request every `gap` seconds (each with a 1 s timeout) and records who answered; the
director records every change of the service's pool from /proc/net/ip_vs (every 10 ms); the real server is
failed and recovered by commands run on it. Each guest timestamps its own events and the director measures
its clock offset to the client and the real server with ICMP timestamp requests (1 ms resolution), so the
timeline is on the director's clock: an ssh call from the host costs over a second, too coarse to time.
"""

import json
import threading
import time

import yaml

from . import playbook

# On the director: offsets of the peers' clocks (ICMP timestamps), then the pool's changes.
WATCH = r'''
import json, os, socket, struct, sys, time
peers, vip, port, seconds = sys.argv[1].split(","), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
with_fwmarks = sys.argv[5:] == ["fwmarks"]   # count the real servers of fwmark services too (a hand-over bridge)

def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    return ~(total + (total >> 16)) & 0xffff

def offset(addr):
    """remote clock - local clock in seconds, from the ICMP timestamp reply with the shortest round trip."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.settimeout(1)
    best = None
    for seq in range(7):
        sent = time.time()
        body = struct.pack("!BBHHHIII", 13, 0, 0, 0x4c56, seq, int(sent % 86400 * 1000), 0, 0)
        body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
        sock.sendto(body, (addr, 0))
        while True:
            try:
                data = sock.recv(200)
            except socket.timeout:
                break
            icmp = data[(data[0] & 15) * 4:]
            kind, code, csum, ident, rseq, orig, recv, xmit = struct.unpack("!BBHHHIII", icmp[:20])
            if kind == 14 and ident == 0x4c56 and rseq == seq:
                back = time.time()
                diff = recv / 1000.0 - ((sent + back) / 2) % 86400
                diff -= 86400 * round(diff / 86400)
                if best is None or back - sent < best[0]:
                    best = (back - sent, diff)
                break
    return None if best is None else round(best[1], 4)

def pool():
    key = "%08X:%04X" % (struct.unpack("!I", socket.inet_aton(vip))[0], port)
    found, out = False, {}
    with open("/proc/net/ip_vs") as handle:
        for line in handle:
            fields = line.split()
            if fields[:1] in (["TCP"], ["UDP"], ["SCTP"]):
                found = fields[1] == key
            elif fields[:1] == ["FWM"]:
                found = with_fwmarks
            elif found and fields[:1] == ["->"]:
                addr, rport = fields[1].split(":")
                out[socket.inet_ntoa(struct.pack("!I", int(addr, 16)))] = int(fields[3])
    return out

STOP = "/tmp/lvslab-watch.stop"     # created by whoever wants the watch to end before `seconds`
if os.path.exists(STOP):
    os.unlink(STOP)
result = {"offsets": dict((p, offset(p)) for p in peers), "changes": []}
end, last = time.time() + seconds, None
while time.time() < end and not os.path.exists(STOP):
    now = pool()
    if now != last:
        result["changes"].append([time.time(), now])
        last = now
    time.sleep(0.01)
print(json.dumps(result))
'''

# On the client: one request every gap seconds, each with its own timeout; who answered or why not.
LOAD = r'''
import json, sys, time, urllib.request
url, count, gap, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
out, start = [], time.time()
for index in range(count):
    delay = start + index * gap - time.time()
    if delay > 0:
        time.sleep(delay)
    sent = time.time()
    try:
        who = urllib.request.urlopen(url, timeout=timeout).read().decode().strip()
    except Exception as e:
        who = "FAILED (%s)" % type(e).__name__
    out.append([sent, time.time(), who])
print(json.dumps(out))
'''

# On the real server: run a command, then timestamp the moment the web server answers on 127.0.0.1
# again: a recovery counts from when the server serves, not from when its port opens.
SERVING = r'''
import subprocess, sys, time, urllib.request
command = sys.argv[1]
# polled while the command runs: systemctl start can return well after the server answers
proc = subprocess.Popen(command, shell=True)
deadline = time.time() + 60
while time.time() < deadline:
    try:
        urllib.request.urlopen("http://127.0.0.1/", timeout=0.5).read()
        break
    except Exception:
        time.sleep(0.01)
else:
    raise SystemExit("the web server did not answer within 60 s of: %s" % command)
edge = time.time()
assert proc.wait() == 0, command
print(edge)
'''

MAX_REQUESTS = 200


def seed_addresses(scenario):
    """The client's and the real servers' addresses as the lab's seed inventory declares them."""
    inventory = yaml.safe_load((playbook.REPO / "inventories" / ("%s_lab" % scenario) / "hosts.yml").read_text())
    hosts = {}
    for group in inventory["all"]["children"].values():
        for name, hvars in (group.get("hosts") or {}).items():
            hosts[name] = hvars.get("lvs_rip") or hvars["ansible_host"]
    return hosts


def _python(cluster, host, script, args, timeout):
    argv_cmd = "python3 - %s" % " ".join(args)
    proc = cluster.sh(host, argv_cmd, timeout=timeout, stdin=script)
    assert proc.returncode == 0, "%s: %s" % (host, proc.stderr[-2000:])
    return json.loads(proc.stdout)


def _stamp(cluster, host, command, serving):
    """Run command on host; the host's clock just before it starts, or with serving, the moment the web
    server answers again after it."""
    if not serving:
        proc = cluster.sh(host, "date +%%s.%%N && %s" % command, timeout=60)
    else:
        proc = cluster.sh(host, "python3 - '%s'" % command, timeout=90, stdin=SERVING)
    assert proc.returncode == 0, "%s: %s failed: %s" % (host, command, proc.stderr)
    return float(proc.stdout.split()[0])


def run(cluster, fail, recover, server="rs1", gap=0.2, seconds=24.0, fail_at=3.0, recover_after=4.0):
    """Fail `server` with the shell command `fail` fail_at seconds into the load and recover it with
    `recover` recover_after seconds after the failing command returned; returns the timeline dict (see report()). The failure
    counts from the moment its command starts, the recovery from the moment the server answers again."""
    count = int(seconds / gap)
    assert 1 <= count <= MAX_REQUESTS and seconds <= 60
    hosts = seed_addresses(cluster.scenario)
    port = 80
    url = "http://%s:%d/" % (cluster.vip, port)
    results = {}

    def watch():
        peers = ",".join([hosts["client"], hosts[server]])
        results["watch"] = _python(cluster, "director", WATCH, [peers, cluster.vip, str(port), str(seconds + 12)],
                                   timeout=seconds + 60)

    def load():
        results["load"] = _python(cluster, "client", LOAD, [url, str(count), str(gap), "1"], timeout=seconds + 60)

    threads = [threading.Thread(target=watch), threading.Thread(target=load)]
    threads[0].start()
    time.sleep(3)            # the watcher measures clock offsets first (7 round trips per peer)
    threads[1].start()
    time.sleep(fail_at)
    failed = _stamp(cluster, server, fail, serving=False)
    time.sleep(recover_after)
    recovered = _stamp(cluster, server, recover, serving=True)
    for thread in threads:
        thread.join()
    offsets = results["watch"]["offsets"]
    assert offsets[hosts[server]] is not None and offsets[hosts["client"]] is not None, offsets
    # everything on the director's clock
    failed -= offsets[hosts[server]]
    recovered -= offsets[hosts[server]]
    requests = [[sent - offsets[hosts["client"]], done - offsets[hosts["client"]], who]
                for sent, done, who in results["load"]]
    address = hosts[server]
    changes = results["watch"]["changes"]
    left = next((t for t, pool in changes if t > failed and pool.get(address, 0) == 0), None)
    # the first return after it left (keepalived may add it back before the recovery stamp arrives)
    back = None if left is None else next((t for t, pool in changes if t > left and pool.get(address, 0) > 0), None)
    return {"server": server, "address": address, "failed": failed, "recovered": recovered, "left": left,
            "back": back, "requests": requests, "changes": changes, "offsets": offsets,
            "down_seconds": None if left is None else round(left - failed, 2),
            "up_seconds": None if back is None else round(back - recovered, 2)}


def report(timeline):
    """The timeline as text: each request (time, who answered or the failure) with the events between."""
    t0 = timeline["requests"][0][0]
    server = timeline["server"]
    events = [(timeline["failed"], "--- %s: failure starts" % server),
              (timeline["recovered"], "--- %s: recovered" % server)]
    if timeline["left"] is not None:
        events.append((timeline["left"], "--- %s left the pool, %.2f s after the failure" % (server, timeline["down_seconds"])))
    if timeline["back"] is not None:
        events.append((timeline["back"], "--- %s back in the pool, %.2f s after the recovery" % (server, timeline["up_seconds"])))
    rows = [(sent, "%3d  %s (%.0f ms)" % (index + 1, who, (done - sent) * 1000))
            for index, (sent, done, who) in enumerate(timeline["requests"])]
    lines = ["  %6.2f s  %s" % (t - t0, text) for t, text in sorted(events + rows)]
    failures = [r for r in timeline["requests"] if r[2].startswith("FAILED")]
    lines.append("  %d requests, %d failed; %s left %s s after the failure and returned %s s after the recovery"
                 % (len(timeline["requests"]), len(failures), server, timeline["down_seconds"], timeline["up_seconds"]))
    return "\n".join(lines)


def assert_detected(timeline, limit=3.0):
    """The seed's checker scenario held: the server left and returned within limit seconds each, no request
    failed after it left, and it answered again after it returned."""
    assert timeline["down_seconds"] is not None and timeline["down_seconds"] <= limit, report(timeline)
    assert timeline["up_seconds"] is not None and timeline["up_seconds"] <= limit, report(timeline)
    assert failures_after(timeline, timeline["left"]) == []
    assert answered_by(timeline, timeline["server"], timeline["back"])


def failures_after(timeline, moment):
    """The requests sent after moment (director clock) that failed."""
    return [r for r in timeline["requests"] if r[0] > moment and r[2].startswith("FAILED")]


def answered_by(timeline, who, after):
    return [r for r in timeline["requests"] if r[0] > after and r[2] == who]
