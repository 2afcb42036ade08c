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
    try:
        assert _guest_pids(run_id), "the guest never started"
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=60)[1]
        assert proc.returncode == 130, err
        assert _guest_pids(run_id) == []
        assert not (paths.runs_root() / run_id).exists()
    finally:
        vm.down(run_id)  # never leave a guest behind, even when an assert above failed


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
