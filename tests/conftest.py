"""Shared pytest set-up: the collection import path and the lab fixtures."""

import contextlib
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


# make test's suites (SUITE=, exported as LVSLAB_SUITE): "full" runs every file; "core" leaves out the
# health-check and director-HA scenarios, which is the suite issue #8 budgeted (35 minutes), for a
# quicker run while working on anything else.
SUITES = {
    "full": (),
    "core": ("tests/scenarios/test_health_nat.py", "tests/scenarios/test_health_dr.py",
             "tests/scenarios/test_molecule_ha.py", "tests/scenarios/test_ha_dr.py",
             "tests/scenarios/test_ha_nat.py"),
}
SUITE_ENV = "LVSLAB_SUITE"


def suite():
    """The suite this run asked for; an unknown name is an error, not a silent full or empty run."""
    name = os.environ.get(SUITE_ENV) or "full"
    if name not in SUITES:
        raise pytest.UsageError("%s=%s: known suites are %s" % (SUITE_ENV, name, ", ".join(sorted(SUITES))))
    return name


def pytest_configure(config):
    """The time budget table of make test (tests/phases.py), and the suite's name in its header."""
    config.pluginmanager.register(phases, "lvslab-phases")
    phases.SUITE[0] = suite()


def pytest_ignore_collect(collection_path, config):
    """Leave out the files the suite does not run (SUITES)."""
    try:
        rel = collection_path.resolve().relative_to(TESTS.parent).as_posix()
    except ValueError:
        return None
    return True if rel in SUITES[suite()] else None


# Test files whose tests share one booted lab, by the lab they share. make test's two pytest-xdist
# workers keep each lab's tests on one worker (LabScheduling below); other files spread file by file.
# DR and TUN share a second seed lab, booted by the other worker, so the two seed labs run at once.
# Within a group the files run in this order: NAT first, on the hosts as they booted; the reset proof
# after NAT on the same worker (it compares with NAT's first converge, fresh_converges["nat"]). In one
# process (no xdist) all four share one lab and run in this order, the reset proof after all three.
LAB_GROUPS = {
    "tests/scenarios/test_nat_lab.py": "seed lab",
    "tests/scenarios/test_health_nat.py": "seed lab",
    "tests/scenarios/test_dr_lab.py": "seed lab b",
    "tests/scenarios/test_tun_lab.py": "seed lab b",
    "tests/scenarios/test_health_dr.py": "seed lab b",
    "tests/scenarios/test_seed_reset.py": "seed lab",
    "tests/scenarios/test_molecule_ha.py": "ha lab",
    "tests/scenarios/test_ha_dr.py": "ha lab",
    "tests/scenarios/test_ha_nat.py": "ha lab",
    "tests/integration/test_targets.py": "smoke lab",
    "tests/scenarios/test_molecule.py": "molecule",
    "tests/scenarios/test_harness_lifecycle.py": "lifecycle",
}
# The order the groups start in, longest first, measured on make test (seconds, boots included):
# seed lab ~1,900, smoke lab 1,150 (before the install-from-artefact converge, about 100 more),
# seed lab b ~650, molecule 500, lifecycle 70; every other file (the unit tests, about a minute
# together) after them. With two workers, loadscope hands the
# first two to the two workers and each later one to whichever worker runs out first, so the seed
# lab runs on one worker while the other runs the smoke lab and then seed lab b, and molecule goes
# to whichever of the two frees up first (longest-processing-time-first).
GROUP_ORDER = ("seed lab", "smoke lab", "ha lab", "seed lab b", "molecule", "lifecycle")
SEED_GROUPS = ("seed lab", "seed lab b")


def lab_group(nodeid):
    """The lab a test shares with others (LAB_GROUPS), or its file."""
    path = nodeid.split("::")[0]
    return LAB_GROUPS.get(path, path)


def run_order(nodeid, one_process=False):
    """Sort key: the groups in GROUP_ORDER, then the other files; within a group, LAB_GROUPS order.

    one_process (no xdist): both seed groups run as one, on the one seed lab of the process.
    """
    path = nodeid.split("::")[0]
    group = lab_group(nodeid)
    if one_process and group in SEED_GROUPS:
        group = SEED_GROUPS[0]
    files = list(LAB_GROUPS)
    return (GROUP_ORDER.index(group) if group in GROUP_ORDER else len(GROUP_ORDER),
            files.index(path) if path in files else 0)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Keep the tests of one booted lab on one worker, and start the groups in GROUP_ORDER.

    pytest-xdist's own --dist loadgroup (xdist_group markers) renames node ids, which pytest 9 ignores,
    so its groups split across workers and each worker booted a seed lab of its own. This scheduler
    is loadscope with the scope taken from LAB_GROUPS. loadscope would sort the scopes by their number
    of tests (--loadscope-reorder, its default), which says nothing about their time: it is switched
    off here, so the scopes go out in collection order (pytest_collection_modifyitems below). A worker
    asks for more only when almost done with what it has.
    """
    from xdist.scheduler import LoadScopeScheduling  # pylint: disable=import-outside-toplevel

    class LabScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return lab_group(nodeid)

    config.option.loadscopereorder = False
    return LabScheduling(config, log)


def pytest_collection_modifyitems(items):
    """The lab groups first, longest first (GROUP_ORDER), each group's files in LAB_GROUPS order;
    then the rest in collection order. Under xdist the workers collect, each with PYTEST_XDIST_WORKER."""
    one_process = "PYTEST_XDIST_WORKER" not in os.environ
    items.sort(key=lambda item: run_order(item.nodeid, one_process))  # stable: order within a module is kept


class Lab:
    """A booted lab as the tests see it: its run id and inventory path."""

    def __init__(self, run_id, inventory, booted=False):
        self.run_id = run_id
        self.inventory = inventory
        self.untouched = booted   # booted by this session and not used by any test yet


def _boot(topology_name, env_var, label=None):
    """Yield the lab of run $env_var if set, else boot one (timed as label) and take it down after."""
    run_id = os.environ.get(env_var) if env_var else None
    if run_id:
        state = vm.find_run(run_id)
        yield Lab(state["run_id"], Path(state["dir"]) / "inventory.yml")
        return
    with timed(label or "boot %s" % topology_name):
        state = vm.up(topology.resolve(topology_name))
    try:
        yield Lab(state["run_id"], Path(state["dir"]) / "inventory.yml", booted=True)
    finally:
        if os.environ.get("LVSLAB_KEEP") != "1":
            vm.down(state["run_id"])


# seed lab group -> (the variable naming an already booted run it may use, its boot's phase name)
SEED_RUN_ENV = {"seed lab": ("LVSLAB_SEED_RUN", "boot seed"), "seed lab b": ("LVSLAB_SEED_B_RUN", "boot seed b")}


def seed_run_env(group, under_xdist):
    """The variable that names a booted run the group may use instead of booting one.

    Under xdist, "seed lab b" runs on the other worker at the same time as "seed lab": it uses only
    LVSLAB_SEED_B_RUN, never LVSLAB_SEED_RUN, so two workers never converge one run's guests at once.
    In one process the groups run one after the other, so "seed lab b" falls back to LVSLAB_SEED_RUN.
    """
    env_var = SEED_RUN_ENV[group][0]
    if group != "seed lab" and not under_xdist and not os.environ.get(env_var):
        return SEED_RUN_ENV["seed lab"][0]
    return env_var


class SeedLabs:
    """The one seed lab of this process (pytest, or one xdist worker), acquired on first use."""

    def __init__(self, stack):
        self.stack = stack
        self.lab = None

    def get(self, group):
        if self.lab is None:
            # Each group's tests stay on one worker (LabScheduling), so a lab this process holds is
            # used by no other process: a later group on this worker reuses it (after a reset).
            env_var = seed_run_env(group, "PYTEST_XDIST_WORKER" in os.environ)
            lab = self.stack.enter_context(contextlib.contextmanager(_boot)("seed", env_var, SEED_RUN_ENV[group][1]))
            with timed("reset"):
                Cluster("nat", lab).snapshot()
            self.lab = lab
        return self.lab


@pytest.fixture(scope="session")
def seed_labs():
    """One set of hosts (client, director, rs1, rs2) per process for the NAT, DR and TUN scenarios.

    make test's two workers run the groups of LAB_GROUPS: "seed lab" (NAT, then the reset proof) on
    one and "seed lab b" (DR, TUN) on the other, so each worker that runs one boots its own seed lab
    ("boot seed" / "boot seed b" in the time table), the first time one of its tests needs it; a
    worker that runs neither boots none. A process that runs both (no xdist, or one worker got both)
    boots one and resets it between scenarios.

    Already booted runs (`make lab`, `lab_harness up seed --run NAME`): LVSLAB_SEED_RUN=NAME is used
    by "seed lab"; under xdist "seed lab b" ignores it and uses LVSLAB_SEED_B_RUN (another run) or
    boots, so two workers never share one run's guests at the same time. Without xdist both groups
    use LVSLAB_SEED_RUN (one after the other).

    Every host is recorded as it booted; each scenario resets the hosts to that record first
    (seed_cluster), so it starts from fresh hosts without a boot of its own.
    """
    with contextlib.ExitStack() as stack:
        yield SeedLabs(stack)


@pytest.fixture(scope="session")
def fresh_converges():
    """scenario -> the tasks each host changed in that lab's first converge on fresh or reset hosts."""
    return {}


@pytest.fixture(scope="module")
def seed_cluster(seed_labs, request):
    """seed_cluster("nat"|"dr"|"tun"): reset the seed lab's hosts to how they booted, and a Cluster on them.

    The lab is this process's (seed_labs), for the module's group in LAB_GROUPS.
    """
    group = lab_group(request.node.nodeid)
    if group not in SEED_RUN_ENV:
        group = "seed lab"

    def make(scenario):
        seed_lab = seed_labs.get(group)
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


@pytest.fixture(scope="session")
def ha_lab():
    """The ha topology (client, director1, director2, rs1, rs2), booted once per process for the director HA
    scenarios (LAB_GROUPS "ha lab"); LVSLAB_HA_RUN=NAME uses an already booted run instead."""
    yield from _boot("ha", "LVSLAB_HA_RUN", "boot ha")


@pytest.fixture(scope="module")
def ha_cluster(ha_lab):
    """ha_cluster("ha_dr"|"ha_nat", health_checks=False): the ha lab's hosts as they booted, and a Cluster on them.

    A guest a test powered off (failover) is started again first, so the reset finds every host.
    """
    def make(scenario, health_checks=False):
        cluster = Cluster(scenario, ha_lab, health_checks=health_checks)
        for name, alive in vm.status_alive(cluster.state).items():
            if not alive:
                vm.power_on(cluster.state, name)
        if ha_lab.untouched:
            ha_lab.untouched = False
            with timed("reset"):
                cluster.snapshot()
            return cluster
        with timed("reset"):
            cluster.snapshot()
            cluster.reset()
        return cluster
    return make
