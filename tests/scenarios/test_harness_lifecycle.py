"""The harness boots, isolates and tears down guests without leaving anything behind."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab_harness import paths, topology, vm

HARNESS = [sys.executable, "-m", "lab_harness"]
TESTS_DIR = Path(__file__).resolve().parents[1]


def _guest_pids(run_id):
    marker = ("lvslab-%s-" % run_id).encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def _ssh(state, host, command):
    return subprocess.run(vm.ssh_argv(state, host, [command]), capture_output=True, text=True,
                          check=False, timeout=60)


@pytest.mark.lab
def test_interrupted_boot_leaves_nothing_behind():
    run_id = "interrupt-%s" % os.urandom(2).hex()
    proc = subprocess.Popen(HARNESS + ["up", "smoke", "--run", run_id], cwd=TESTS_DIR,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state_file = paths.runs_root() / run_id / "state.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if state_file.exists() and json.loads(state_file.read_text()).get("hosts"):
            break
        time.sleep(0.2)
    assert _guest_pids(run_id), "the guest never started"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert _guest_pids(run_id) == []
    assert not (paths.runs_root() / run_id).exists()


@pytest.mark.lab
def test_nat_lab_hosts_answer_on_every_shared_segment(nat_lab):
    state = vm.find_run(nat_lab.run_id)
    topo = topology.resolve("nat")
    assert set(state["hosts"]) == {"client", "director", "rs1", "rs2"}
    failures = []
    for host in topo.hosts:
        for peer in topo.hosts:
            if peer is host:
                continue
            for nic in peer.nics:
                if nic.network not in {n.network for n in host.nics}:
                    continue
                addr = nic.addresses[0].ip
                res = _ssh(state, host.name, "ping -c1 -W3 %s" % addr)
                if res.returncode != 0:
                    failures.append("%s -> %s (%s)" % (host.name, peer.name, addr))
    assert failures == []


@pytest.mark.lab
def test_lab_segments_do_not_leak_between_networks(nat_lab):
    state = vm.find_run(nat_lab.run_id)
    # rs1 sits only on the private segment: the client's public address must be unreachable
    # from it until a role adds routing through the director.
    res = _ssh(state, "rs1", "ip route get 192.168.2.50")
    assert res.returncode != 0 and "unreachable" in res.stderr.lower()
    segments = {(s["group"], s["port"]) for s in state["segments"].values()}
    assert len(segments) == 2


@pytest.mark.lab
def test_down_stops_every_guest_and_removes_the_run():
    run_id = "updown-%s" % os.urandom(2).hex()
    state = vm.up(topology.resolve("smoke"), run_id=run_id)
    try:
        assert _ssh(state, "smoke", "cat /proc/sys/kernel/hostname").stdout.strip() == "smoke"
        assert len(_guest_pids(run_id)) == 1
    finally:
        stopped = vm.down(run_id)
    assert stopped == 1
    assert _guest_pids(run_id) == []
    assert not (paths.runs_root() / run_id).exists()
    assert vm.down(run_id) == 0  # idempotent
