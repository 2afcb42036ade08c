"""Shared pytest set-up: the collection import path and the lab fixtures."""

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from lab_harness import playbook, topology, vm  # noqa: E402

sys.path.insert(0, str(playbook.ensure_collection_link()))


class Lab:
    """A booted lab as the tests see it: its run id and inventory path."""

    def __init__(self, run_id, inventory):
        self.run_id = run_id
        self.inventory = inventory


def _boot(topology_name, env_var):
    run_id = os.environ.get(env_var)
    if run_id:
        state = vm.find_run(run_id)
        yield Lab(state["run_id"], Path(state["dir"]) / "inventory.yml")
        return
    state = vm.up(topology.resolve(topology_name))
    try:
        yield Lab(state["run_id"], Path(state["dir"]) / "inventory.yml")
    finally:
        if os.environ.get("LVSLAB_KEEP") != "1":
            vm.down(state["run_id"])


@pytest.fixture(scope="module")
def nat_lab():
    """The seed's NAT topology (client, director, rs1, rs2), booted for one test module."""
    yield from _boot("nat", "LVSLAB_NAT_RUN")


@pytest.fixture(scope="module")
def dr_lab():
    """The seed's DR topology (client, director, rs1, rs2), booted for one test module."""
    yield from _boot("dr", "LVSLAB_DR_RUN")


@pytest.fixture(scope="module")
def tun_lab():
    """The TUN topology (client, director, rs1, rs2; requests tunnelled over a site network)."""
    yield from _boot("tun", "LVSLAB_TUN_RUN")


@pytest.fixture(scope="module")
def smoke_lab():
    """Inventory path of a one-guest lab (host 'smoke', group lab_guests)."""
    for lab in _boot("smoke", "LVSLAB_SMOKE_RUN"):
        yield lab.inventory
