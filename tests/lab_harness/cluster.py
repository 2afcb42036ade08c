"""Helpers for cluster scenarios: converge a seed lab, run commands in guests, send bounded traffic."""

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import testinfra

from . import playbook, vm

RESET_SCRIPT = Path(__file__).with_name("guest_reset.py")

LABS = {
    # scenario: (seed inventory, playbook, VIP)
    "nat": ("inventories/nat_lab", "playbooks/nat_lab.yml", "192.168.2.54"),
    "dr": ("inventories/dr_lab", "playbooks/dr_lab.yml", "192.168.4.253"),
    "tun": ("inventories/tun_lab", "playbooks/tun_lab.yml", "192.168.4.253"),
    # the ha topology's two directors (director1, director2), DR or NAT
    "ha_dr": ("inventories/ha_lab", "playbooks/ha_lab.yml", "192.168.4.253"),
    "ha_nat": ("inventories/ha_lab", "playbooks/ha_lab.yml", "192.168.2.253"),
}
# extra variables a scenario always converges with
LAB_VARS = {"ha_nat": {"lab_forwarding": "nat"}}
# the topology each scenario boots: the seed's own labs have one each (the seed topology holds them
# all), the HA scenarios share the ha topology
TOPOLOGIES = {"ha_dr": "ha", "ha_nat": "ha"}
SEED_SCENARIOS = tuple(sorted(set(LABS) - set(TOPOLOGIES)))


class Cluster:
    """One booted seed lab: converge it, reach its guests, send traffic through its VIP."""

    def __init__(self, scenario, lab, health_checks=False):
        """health_checks: converge with the lab inventory's keepalived checks (lab_health_check); off, the
        service stays with ipvs_table, which most scenarios test."""
        self.scenario = scenario
        self.health_checks = health_checks
        self.run_id = lab.run_id
        self.state = vm.find_run(lab.run_id)
        self.inventory, self.playbook, self.vip = LABS[scenario]

    def converge(self, extra_vars=None, check=False, limit=None, play=None, strategy=None, inventory=None):
        """Run the lab playbook (seed inventory first, harness inventory last so its connection wins).

        strategy ("linear" or "mitogen_linear") overrides LVSLAB_STRATEGY for this run. inventory, a path,
        adds an inventory between the two (groups or host variables of one test).
        """
        inventories = [playbook.REPO / self.inventory] + ([inventory] if inventory else [])
        inventories.append("%s/inventory.yml" % self.state["dir"])
        extra_vars = dict(LAB_VARS.get(self.scenario, {}), **(extra_vars or {}))
        if not self.health_checks:
            extra_vars = dict({"lab_health_check": None}, **extra_vars)
        return playbook.run_playbook(inventories, playbook.REPO / (play or self.playbook), extra_vars=extra_vars,
                                     check=check, limit=limit, strategy_name=strategy)

    def converge_ok(self, **kwargs):
        """converge() that must succeed; returns the recap plus "changed_tasks" (host -> task names).

        The failure shows the end of the output.
        """
        proc, result = self.converge(**kwargs)
        assert proc.returncode == 0, proc.stdout[-20000:] + proc.stderr[-5000:]
        result["changed_tasks"] = playbook.changed_tasks(proc.stdout)
        return result

    def sh(self, host, command, timeout=120, stdin=None):
        """Run a shell command in a guest; returns the CompletedProcess."""
        return subprocess.run(vm.ssh_argv(self.state, host, [command]), capture_output=True, text=True,
                              check=False, timeout=timeout, input=stdin)

    def guest_reset(self, action):
        """Run guest_reset.py's action on every host at once; host -> stdout. Fails on any error."""
        script = RESET_SCRIPT.read_text()

        def one(host):
            proc = self.sh(host, "python3 - %s" % action, timeout=300, stdin=script)
            assert proc.returncode == 0, "%s: guest_reset %s failed: %s%s" % (host, action, proc.stdout, proc.stderr)
            return host, proc.stdout

        with ThreadPoolExecutor(max_workers=len(self.state["hosts"])) as pool:
            return dict(pool.map(one, sorted(self.state["hosts"])))

    def snapshot(self):
        """Record every host as it booted (once per boot of the lab; later calls keep the first)."""
        self.guest_reset("snapshot")

    def reset(self):
        """Return every host to its snapshot; fails naming whatever the reset could not put back."""
        left = {host: json.loads(out) for host, out in self.guest_reset("reset").items()}
        assert left == {host: [] for host in left}, "reset left differences: %s" % json.dumps(left, indent=1)

    def out(self, host, command):
        proc = self.sh(host, command)
        assert proc.returncode == 0, "%s: %s failed: %s" % (host, command, proc.stderr)
        return proc.stdout

    def host(self, name):
        """A testinfra host over the run's ssh_config."""
        return testinfra.get_host("ssh://%s" % name, ssh_config="%s/ssh_config" % self.state["dir"])

    def requests(self, count, timeout=3):
        """Who answered each of count requests from the client to the VIP (bounded in count and time)."""
        assert 1 <= count <= 200
        script = "for i in $(seq %d); do curl -s --max-time %d http://%s/ || echo NONE; done" % (count, timeout, self.vip)
        proc = self.sh("client", script, timeout=30 + count * (timeout + 1))
        return [line.strip() for line in proc.stdout.splitlines() if line.strip()]

    def service_stats(self, port=80):
        """The director's exact counters for the TCP service VIP:port: {conns, inpkts, outpkts}."""
        # The kernel folds its per-CPU counters into these totals every 2 s (the rate estimator),
        # so a read right after traffic lags; read until two reads 2.5 s apart agree.
        previous = None
        for _attempt in range(6):
            lines = self.out("director", "ipvsadm -Ln --stats --exact -t %s:%d" % (self.vip, port)).splitlines()
            fields = [line.split() for line in lines if line.startswith("TCP")][0]
            stats = {"conns": int(fields[2]), "inpkts": int(fields[3]), "outpkts": int(fields[4])}
            if stats == previous:
                return stats
            previous = stats
            time.sleep(2.5)
        return stats

    def vip_neighbours(self):
        """(client's link-layer addresses for the VIP, the director's MAC on its VIP interface) after one request."""
        self.requests(1)
        neigh = json.loads(self.out("client", "ip -j neigh show %s" % self.vip))
        return [n.get("lladdr") for n in neigh], self.out("director", "cat /sys/class/net/eth1/address").strip()

    def reboot(self, *hosts):
        """Reboot guests and wait until SSH answers again (qemu keeps the kernel command line)."""
        old = {name: vm.boot_id(self.state, name) for name in hosts}
        for name in hosts:
            # ssh itself can fail on a loaded machine (rc 255): retry, or the wait below never ends
            for _attempt in range(3):
                try:
                    if self.sh(name, "systemctl reboot", timeout=30).returncode != 255:
                        break
                except subprocess.TimeoutExpired:
                    pass
                if vm.boot_id(self.state, name) != old[name]:
                    break
        for name in hosts:
            vm.wait_for_ssh_again(self.state, name, old[name])
