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


# Test files whose tests share one booted lab, by the lab they share. make test's two pytest-xdist
# workers keep each lab's tests on one worker (LabScheduling below); other files spread file by file.
SEED_ORDER = ("test_nat_lab.py", "test_health_nat.py", "test_dr_lab.py", "test_tun_lab.py", "test_seed_reset.py")
LAB_GROUPS = dict([("tests/scenarios/%s" % name, "seed lab") for name in SEED_ORDER] + [
    ("tests/integration/test_targets.py", "smoke lab"),
    ("tests/scenarios/test_molecule.py", "molecule"),
    ("tests/scenarios/test_harness_lifecycle.py", "lifecycle"),
])


def lab_group(nodeid):
    """The lab a test shares with others (LAB_GROUPS), or its file."""
    path = nodeid.split("::")[0]
    return LAB_GROUPS.get(path, path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Keep the tests of one booted lab on one worker.

    pytest-xdist's own --dist loadgroup (xdist_group markers) renames node ids, which pytest 9 ignores,
    so its groups split across workers and each worker booted a seed lab of its own. This scheduler
    is loadscope with the scope taken from LAB_GROUPS. A worker asks for more only when almost done
    with what it has, so the longest group, the seed lab, is collected first (below) and starts first.
    """
    from xdist.scheduler import LoadScopeScheduling  # pylint: disable=import-outside-toplevel

    class LabScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return lab_group(nodeid)

    return LabScheduling(config, log)


def pytest_collection_modifyitems(items):
    """The seed lab's tests first, NAT on the hosts as they booted, the reset proof after the three
    labs; then the rest in collection order."""
    def key(item):
        name = item.path.name
        if lab_group(item.nodeid) == "seed lab":
            return (0, SEED_ORDER.index(name) if name in SEED_ORDER else len(SEED_ORDER) - 1.5)
        return (1, 0)

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
