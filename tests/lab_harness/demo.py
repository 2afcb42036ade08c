"""`make lab`: boot the seed's NAT (or DR, or the TUN) lab, converge it with the collection, show traffic via the VIP.

On NAT and DR (whose inventories turn keepalived's health checks on), the checker scenario follows: under
bounded load (120 requests, one every 0.2 s) the web server on rs1 is killed and started again, and the timeline
shows who answered each request, when rs1 left the pool and when it came back.

`make lab SCENARIO=ha` (ha_dr; ha_nat for NAT) boots two directors that share the VIP by VRRP, then powers the
master off under bounded load and prints the timeline: requests per second, which director served, the gap, and a
download opened before the failure that completes after it.

python tests/lab_harness/demo.py nat|dr|tun|ha|ha_dr|ha_nat [--requests N] [--release bookworm|trixie]
The lab stays up at the end so it can be explored; the last lines say how to log in and tear down.
"""

import argparse
import collections
import json
import subprocess
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab_harness import checker, failover, image, playbook, topology, vm  # noqa: E402
from lab_harness.cluster import LAB_VARS, LABS, TOPOLOGIES, Cluster  # noqa: E402
from lab_harness.progress import Timer, say  # noqa: E402

MAX_REQUESTS = 500
# The checker scenario: scenarios whose lab inventories turn health checks on, and how rs1 fails and recovers.
CHECKED = ("nat", "dr")
FAIL_CMD = "systemctl kill apache2"
RECOVER_CMD = "systemctl start apache2"


def running_lab(run_id):
    for state in vm.list_runs():
        if state["run_id"] == run_id and all(vm.status_alive(state).values()):
            return state
    return None


def converge(state, scenario):
    seed_inventory, play = LABS[scenario][:2]
    # The seed inventory brings the lab's variables; the harness inventory, read last, brings the
    # connection details (127.0.0.1 and the forwarded SSH port) over the seed's addresses.
    argv = [str(Path(sys.executable).parent / "ansible-playbook"),
            "-i", str(playbook.REPO / seed_inventory), "-i", str(Path(state["dir"]) / "inventory.yml"),
            str(playbook.REPO / play), "-e", json.dumps(LAB_VARS.get(scenario, {}))]
    with Timer("converging with %s" % play):
        proc = subprocess.run(argv, env=playbook.environment(), check=False)
    if proc.returncode != 0:
        raise SystemExit("lab: %s failed (rc=%d)" % (play, proc.returncode))


def traffic(state, vip, requests):
    """Send a bounded number of requests from the client through the VIP; returns who answered each."""
    script = ("for i in $(seq %d); do curl -s --max-time 3 http://%s/ || echo '(no answer)'; done"
              % (requests, vip))
    proc = subprocess.run(vm.ssh_argv(state, "client", [script]), capture_output=True, text=True,
                          check=False, timeout=30 + 4 * requests)
    return [line.strip() for line in proc.stdout.splitlines() if line.strip()]


def show(answers, vip):
    print("\nRequests from client to http://%s/ :" % vip)
    for index, who in enumerate(answers, start=1):
        print("  %3d  %s" % (index, who))
    counts = collections.Counter(answers)
    width = max(counts.values()) if counts else 1
    print("\nAnswers per real server:")
    for who, count in sorted(counts.items()):
        print("  %-12s %3d  %s" % (who, count, "#" * int(round(40.0 * count / width))))


def health_check_demo(run_id, scenario):
    """Kill rs1's web server under load and start it again; prints the timeline. True if rs1 left and returned."""
    print("\nHealth checks (keepalived): rs1 fails under load (%s) and recovers (%s)" % (FAIL_CMD, RECOVER_CMD))
    cluster = Cluster(scenario, types.SimpleNamespace(run_id=run_id), health_checks=True)
    with Timer("checker scenario"):
        timeline = checker.run(cluster, FAIL_CMD, RECOVER_CMD)
    print(checker.report(timeline))
    failed_after = len(checker.failures_after(timeline, timeline["left"])) if timeline["left"] is not None else None
    print("Detection: rs1 left the pool %s after the failure, returned %s after it served again%s"
          % (_seconds(timeline["down_seconds"]), _seconds(timeline["up_seconds"]),
             "" if failed_after is None else "; %d failed requests after it left" % failed_after))
    return timeline["left"] is not None and timeline["back"] is not None


def ha_demo(run_id, scenario):
    """Power the VRRP master off under load; prints the timeline. True if the gap was at most 4 s and the
    download opened before the failure completed intact."""
    cluster = Cluster(scenario, types.SimpleNamespace(run_id=run_id), health_checks=True)
    print("\nDirector HA: powering the director that holds the VIP %s off under load" % cluster.vip)
    with Timer("failover scenario"):
        timeline = failover.drill(cluster)
    print(timeline["report"])
    found, dl, master = timeline["measured"], timeline["download"], [timeline["victim"]]
    intact = failover.intact(dl)
    print("Failover: gap %s s; the download opened before the failure %s" % (
        found["gap"], "completed intact" if intact else "broke: %s" % dl.get("error")))
    print("Power %s on again: PYTHONPATH=tests .venv/bin/python -m lab_harness power-on --run %s %s"
          % (master[0], run_id, master[0]))
    return found["gap"] is not None and found["gap"] <= 4.0 and intact


def _seconds(value):
    return "never (not seen)" if value is None else "%.2f s" % value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario", choices=sorted(LABS) + ["ha"])
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--release", default=image.DEFAULT_RELEASE, choices=image.RELEASES)
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= MAX_REQUESTS:
        parser.error("--requests must be from 1 to %d" % MAX_REQUESTS)
    if args.scenario == "ha":
        args.scenario = "ha_dr"
    topo_name, vip = TOPOLOGIES.get(args.scenario, args.scenario), LABS[args.scenario][2]
    started = time.monotonic()
    run_id = "lab-%s" % args.scenario
    state = running_lab(run_id)
    if state:
        say("reusing the running lab %s" % run_id)
    else:
        vm.down(run_id)
        state = vm.up(topology.resolve(topo_name), release=args.release, run_id=run_id)
    converge(state, args.scenario)
    answers = traffic(state, vip, args.requests)
    show(answers, vip)
    # The kernel folds per-CPU counters into the totals every 2 s; wait for the last requests.
    time.sleep(2.5)
    for director in [h for h in state["hosts"] if h.startswith("director")]:
        stats = subprocess.run(vm.ssh_argv(state, director, ["ipvsadm -Ln --stats"]), capture_output=True,
                               text=True, check=False, timeout=60)
        print("\nOn %s, ipvsadm -Ln --stats:\n%s" % (director, stats.stdout))
    if args.scenario in TOPOLOGIES:
        checked = ha_demo(run_id, args.scenario)
    else:
        checked = health_check_demo(run_id, args.scenario) if args.scenario in CHECKED else True
    say("make lab (%s) finished in %.0f s" % (args.scenario, time.monotonic() - started))
    hosts = sorted(state["hosts"])
    print("Log in:    PYTHONPATH=tests .venv/bin/python -m lab_harness ssh --run %s %s   (or %s)"
          % (run_id, hosts[1], ", ".join(hosts[:1] + hosts[2:])))
    print("Tear down: make lab-down")
    if not checked:
        print("lab: rs1 did not leave the pool or did not return (see the timeline)")
    return 0 if checked and len(set(answers) - {"(no answer)"}) >= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
