"""Shared pytest set-up: the collection import path and the lab fixtures."""

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from lab_harness import playbook, topology, vm  # noqa: E402
from lab_harness.cluster import Cluster  # noqa: E402
import phases  # noqa: E402
from phases import timed  # noqa: E402
sys.path.insert(0, str(playbook.ensure_collection_link()))


def pytest_configure(config):
    """The time budget table of make test (tests/phases.py)."""
    config.pluginmanager.register(phases, "lvslab-phases")


SEED_GROUP = "seed-lab"
# The seed lab's modules: NAT first, on the hosts as they booted; the reset proof after the three labs.
SEED_ORDER = ("test_nat_lab.py", "test_dr_lab.py", "test_tun_lab.py", "test_seed_reset.py")


def _seed_rank(item):
    """Position of a seed-lab test's module (SEED_ORDER; other modules before the reset proof), or None
    for a test outside the seed lab."""
    marker = item.get_closest_marker("xdist_group")
    if marker is None or marker.args[:1] != (SEED_GROUP,):
        return None
    name = item.path.name
    return SEED_ORDER.index(name) if name in SEED_ORDER else len(SEED_ORDER) - 1.5


def pytest_collection_modifyitems(items):
    """The seed lab's tests first, in SEED_ORDER, then the rest in collection order.

    make test runs two pytest-xdist workers with --dist loadgroup: a worker keeps a group until it
    is nearly done, so the longest group (the seed lab, about half of the lab time) must start
    first, on one worker, while the other takes unit, integration and molecule in turn.
    """
    def key(item):
        rank = _seed_rank(item)
        return (0, rank) if rank is not None else (1, 0)

    items.sort(key=key)  # stable: file order within a module is kept


class Lab:
    """A booted lab as the tests see it: its run id and inventory path."""

    def __init__(self, run_id, inventory, booted=False):
        self.run_id = run_id
        self.inventory = inventory
        self.untouched = booted   # booted by this session and not used by any test yet


def _boot(topology_name, env_var):
    run_id = os.environ.get(env_var)
    if run_id:
        state = vm.find_run(run_id)
        yield Lab(state["run_id"], Path(state["dir"]) / "inventory.yml")
        return
    with timed("boot %s" % topology_name):
        state = vm.up(topology.resolve(topology_name))
    try:
        yield Lab(state["run_id"], Path(state["dir"]) / "inventory.yml", booted=True)
    finally:
        if os.environ.get("LVSLAB_KEEP") != "1":
            vm.down(state["run_id"])


@pytest.fixture(scope="session")
def seed_lab():
    """One set of hosts (client, director, rs1, rs2) for the NAT, DR and TUN scenarios, booted once.

    Every host is recorded as it booted; each scenario resets the hosts to that record first
    (seed_cluster), so it starts from fresh hosts without a boot of its own.
    """
    for lab in _boot("seed", "LVSLAB_SEED_RUN"):
        with timed("reset"):
            Cluster("nat", lab).snapshot()
        yield lab


@pytest.fixture(scope="session")
def fresh_converges():
    """scenario -> the tasks each host changed in that lab's first converge on fresh or reset hosts."""
    return {}


@pytest.fixture(scope="module")
def seed_cluster(seed_lab):
    """seed_cluster("nat"|"dr"|"tun"): reset the seed lab's hosts to how they booted, and a Cluster on them."""
    def make(scenario):
        cluster = Cluster(scenario, seed_lab)
        if seed_lab.untouched:
            # Booted and snapshotted this session, used by nobody yet: already as it booted.
            seed_lab.untouched = False
            return cluster
        with timed("reset"):
            cluster.reset()
        return cluster
    return make


@pytest.fixture(scope="module")
def smoke_lab():
    """Inventory path of a one-guest lab (host 'smoke', group lab_guests)."""
    for lab in _boot("smoke", "LVSLAB_SMOKE_RUN"):
        yield lab.inventory
