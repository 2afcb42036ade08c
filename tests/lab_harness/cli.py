"""Command line: python -m lab_harness {image,up,attach,down,status,ssh,inventory,validate,power-on,failover}."""

import argparse
import json
import os
import sys

from . import failover, image, topology, vm
from .cluster import Cluster, TOPOLOGIES
from .progress import say


def _cmd_image(args):
    img = image.ensure(args.release)
    print(img.directory)


def _cmd_validate(args):
    topo = topology.resolve(args.topology)
    print("%s: %d host(s), %d network(s): ok" % (topo.name, len(topo.hosts), len(topo.networks)))


def _cmd_up(args):
    topo = topology.resolve(args.topology)
    state = vm.up(topo, release=args.release, run_id=args.run, inventory_path=args.inventory)
    if args.molecule_config:
        vm.write_molecule_config(state, args.molecule_config)
    print(state["run_id"])
    if not args.quiet:
        run_dir = state["dir"]
        say("log in:    python -m lab_harness ssh --run %s HOST   (or ssh -F %s/ssh_config HOST)" % (state["run_id"], run_dir))
        say("tear down: python -m lab_harness down --run %s" % state["run_id"])


def _cmd_attach(args):
    """A run booted by someone else (its guests must all run): write molecule's instance config for it.
    Its owner tears it down, not molecule's destroy."""
    state = vm.find_run(args.run)
    stopped = sorted(name for name, alive in vm.status_alive(state).items() if not alive)
    if stopped:
        raise vm.LabError("run %s: %s not running" % (args.run, ", ".join(stopped)))
    vm.write_molecule_config(state, args.molecule_config)
    print(state["run_id"])


def _cmd_power_on(args):
    vm.power_on(vm.find_run(args.run), args.host)


def _cmd_failover(args):
    """Power the VRRP master of a converged HA lab off under bounded load; print the timeline, and write it
    as JSON (with the measured gap) for a verifier to check. Exits 0 once the drill ran, whatever it found."""
    cluster = Cluster(args.scenario, argparse.Namespace(run_id=vm.find_run(args.run)["run_id"]))
    timeline = failover.drill(cluster)
    print(timeline["report"])
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(timeline, handle, indent=1)


def _cmd_down(args):
    if args.all:
        runs = [r["run_id"] for r in vm.list_runs()]
    elif args.run:
        runs = [args.run]  # down is idempotent: a run that is gone already is fine
    else:
        try:
            runs = [vm.find_run(args.run)["run_id"]]
        except vm.LabError as exc:
            if args.run is None and "no lab is running" in str(exc):
                say("no lab is running")
                return
            raise
    for run_id in runs:
        vm.down(run_id)


def _cmd_status(args):
    runs = vm.status()
    if args.json:
        print(json.dumps(runs, indent=1))
        return
    if not runs:
        print("no lab is running")
    for run in runs:
        print("%s  topology=%s  boot=%ss  dir=%s" % (run["run_id"], run["topology"], run["boot_seconds"], run["dir"]))
        for name, host in run["hosts"].items():
            alive = "running" if host["alive"] else "STOPPED"
            print("  %-10s ssh 127.0.0.1:%-5d pid %-7d %s" % (name, host["ssh_port"], host["pid"], alive))


def _cmd_ssh(args):
    state = vm.find_run(args.run)
    argv = vm.ssh_argv(state, args.host, args.command)
    os.execvp(argv[0], argv)


def _cmd_inventory(args):
    state = vm.find_run(args.run)
    print(os.path.join(state["dir"], "inventory.yml"))


def parser():
    p = argparse.ArgumentParser(prog="python -m lab_harness", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("image", help="build (or find cached) the guest image")
    s.add_argument("--release", default=image.DEFAULT_RELEASE, choices=image.RELEASES)
    s.set_defaults(func=_cmd_image)
    s = sub.add_parser("validate", help="check a topology file")
    s.add_argument("topology")
    s.set_defaults(func=_cmd_validate)
    s = sub.add_parser("up", help="boot a topology and print its run id")
    s.add_argument("topology", help="shipped name (smoke, nat, dr, ha) or a YAML file")
    s.add_argument("--release", default=image.DEFAULT_RELEASE, choices=image.RELEASES)
    s.add_argument("--run", help="run id (default: TOPOLOGY-random)")
    s.add_argument("--inventory", help="also write the inventory to this path")
    s.add_argument("--molecule-config", help="also write molecule's instance config (YAML list) to this path")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=_cmd_up)
    s = sub.add_parser("attach", help="write molecule's instance config for a run booted elsewhere")
    s.add_argument("--run", required=True)
    s.add_argument("--molecule-config", required=True)
    s.set_defaults(func=_cmd_attach)
    s = sub.add_parser("power-on", help="start a powered-off guest again and wait for SSH")
    s.add_argument("--run")
    s.add_argument("host")
    s.set_defaults(func=_cmd_power_on)
    s = sub.add_parser("failover", help="power the VRRP master off under bounded load and print the timeline")
    s.add_argument("--run")
    s.add_argument("--scenario", default="ha_dr", choices=sorted(TOPOLOGIES))
    s.add_argument("--json", help="also write the timeline and the measured gap to this file")
    s.set_defaults(func=_cmd_failover)
    s = sub.add_parser("down", help="stop a run's guests and remove its files")
    s.add_argument("--run")
    s.add_argument("--all", action="store_true", help="every run of this cache")
    s.set_defaults(func=_cmd_down)
    s = sub.add_parser("status", help="list runs and their guests")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_cmd_status)
    s = sub.add_parser("ssh", help="log in to a guest, or run a command there")
    s.add_argument("--run")
    s.add_argument("host")
    s.add_argument("command", nargs=argparse.REMAINDER)
    s.set_defaults(func=_cmd_ssh)
    s = sub.add_parser("inventory", help="print the path of a run's inventory")
    s.add_argument("--run")
    s.set_defaults(func=_cmd_inventory)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except (topology.TopologyError, vm.LabError, image.ImageError) as exc:
        sys.stderr.write("lab: error: %s\n" % exc)
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("lab: interrupted\n")
        return 130
    return 0
