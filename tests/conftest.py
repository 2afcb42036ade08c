"""Shared pytest set-up: the collection import path and the lab fixtures."""

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from lab_harness import playbook, topology, vm  # noqa: E402

sys.path.insert(0, str(playbook.ensure_collection_link()))


def _lab(topology_name, env_var):
    """Boot a topology for the session, or reuse the run named by env_var (LVSLAB_KEEP=1 keeps it up)."""
    run_id = os.environ.get(env_var)
    if run_id:
        state = vm.find_run(run_id)
        yield Path(state["dir"]) / "inventory.yml"
        return
    state = vm.up(topology.resolve(topology_name))
    try:
        yield Path(state["dir"]) / "inventory.yml"
    finally:
        if os.environ.get("LVSLAB_KEEP") != "1":
            vm.down(state["run_id"])


@pytest.fixture(scope="session")
def smoke_lab():
    """Inventory path of a one-guest lab (host 'smoke', group lab_guests)."""
    yield from _lab("smoke", "LVSLAB_SMOKE_RUN")
