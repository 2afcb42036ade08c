"""The time budget table (tests/phases.py): boots and resets from any worker, worker shares, wall total;
and how tests/conftest.py groups, orders and schedules the lab tests on make test's two workers."""

import types

import pytest

import phases


def test_table_takes_boots_out_of_their_phase_and_totals_the_wall_clock(tmp_path, monkeypatch):
    outside = tmp_path / "outside.tsv"
    outside.write_text("set-up\t50.0\ngate: sanity\t40.0\n")
    inside = tmp_path / "inside.tsv"
    # two seed labs, one per worker: "seed lab" (NAT) on gw0 and "seed lab b" (DR) on gw1, each booted once
    inside.write_text("boot seed\t100.0\tnat_lab\tgw0\nreset\t30.0\tnat_lab\tgw0\nreset\t20.0\tdr_lab\tgw1\n"
                      "boot smoke\t60.0\tintegration\tgw1\nboot seed b\t150.0\tdr_lab\tgw1\n")
    monkeypatch.setenv(phases.PHASES_ENV, str(outside))
    monkeypatch.setenv(phases.INSIDE_ENV, str(inside))
    monkeypatch.setattr(phases, "_tests", {"nat_lab": 400.0, "dr_lab": 300.0, "integration": 500.0})
    monkeypatch.setattr(phases, "_lanes", {"gw0": 520.0, "gw1": 500.0})
    rows = phases.table(pytest_wall=600.0)
    assert rows == [("set-up", 50.0), ("gate: sanity", 40.0),
                    ("nat_lab", 270.0), ("dr_lab", 130.0), ("integration", 440.0),
                    ("boot seed", 100.0), ("boot seed b", 150.0), ("boot smoke", 60.0), ("reset", 50.0),
                    ("pytest worker gw0 (tests it ran)", 520.0), ("pytest worker gw1 (tests it ran)", 500.0),
                    ("pytest wall clock", 600.0), ("total (wall clock)", 690.0)]


def test_timed_appends_name_seconds_phase_and_worker(tmp_path, monkeypatch):
    inside = tmp_path / "inside.tsv"
    monkeypatch.setenv(phases.INSIDE_ENV, str(inside))
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setattr(phases, "_current", ["tun_lab"])
    with phases.timed("reset"):
        pass
    name, seconds, within, worker = inside.read_text().strip().split("\t")
    assert (name, within, worker) == ("reset", "tun_lab", "gw1")
    assert 0.0 <= float(seconds) < 5.0


def test_the_tests_of_one_booted_lab_share_a_scheduling_group():
    import conftest  # pylint: disable=import-outside-toplevel  # tests/conftest.py: LAB_GROUPS, the scheduler scope
    groups = {name: conftest.lab_group("tests/scenarios/%s::test_x[a]" % name)
              for name in ("test_nat_lab.py", "test_seed_reset.py", "test_dr_lab.py", "test_tun_lab.py")}
    assert groups == {"test_nat_lab.py": "seed lab", "test_seed_reset.py": "seed lab",
                      "test_dr_lab.py": "seed lab b", "test_tun_lab.py": "seed lab b"}
    assert conftest.lab_group("tests/integration/test_targets.py::test_target[role_director]") == "smoke lab"
    assert conftest.lab_group("tests/unit/harness/test_phases.py::test_x") == "tests/unit/harness/test_phases.py"


# pytest's collection order of make test (a few tests of each file)
COLLECTED = ["tests/unit/harness/test_phases.py::test_a", "tests/unit/test_x.py::test_b",
             "tests/integration/test_targets.py::test_target[a]", "tests/integration/test_targets.py::test_target[b]",
             "tests/integration/test_targets.py::test_target[c]", "tests/scenarios/test_dr_lab.py::test_a", "tests/scenarios/test_dr_lab.py::test_b",
             "tests/scenarios/test_harness_lifecycle.py::test_a", "tests/scenarios/test_molecule.py::test_a",
             "tests/scenarios/test_nat_lab.py::test_a", "tests/scenarios/test_nat_lab.py::test_b",
             "tests/scenarios/test_seed_reset.py::test_a",
             "tests/scenarios/test_tun_lab.py::test_a", "tests/scenarios/test_tun_lab.py::test_b"]
ORDERED = ["tests/scenarios/test_nat_lab.py::test_a", "tests/scenarios/test_nat_lab.py::test_b",
           "tests/scenarios/test_seed_reset.py::test_a",
           "tests/integration/test_targets.py::test_target[a]", "tests/integration/test_targets.py::test_target[b]",
           "tests/integration/test_targets.py::test_target[c]", "tests/scenarios/test_dr_lab.py::test_a", "tests/scenarios/test_dr_lab.py::test_b",
           "tests/scenarios/test_tun_lab.py::test_a", "tests/scenarios/test_tun_lab.py::test_b",
           "tests/scenarios/test_molecule.py::test_a", "tests/scenarios/test_harness_lifecycle.py::test_a",
           "tests/unit/harness/test_phases.py::test_a", "tests/unit/test_x.py::test_b"]


class Item:
    def __init__(self, nodeid):
        self.nodeid = nodeid


def test_collection_order_in_an_xdist_worker_puts_the_longest_lab_groups_first(monkeypatch):
    import conftest  # pylint: disable=import-outside-toplevel
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    items = [Item(nodeid) for nodeid in COLLECTED]
    conftest.pytest_collection_modifyitems(items)
    assert [item.nodeid for item in items] == ORDERED


def test_collection_order_in_one_process_runs_the_reset_proof_after_nat_dr_and_tun(monkeypatch):
    import conftest  # pylint: disable=import-outside-toplevel
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    items = [Item(nodeid) for nodeid in COLLECTED]
    conftest.pytest_collection_modifyitems(items)
    assert [item.nodeid for item in items][:9] == [
        "tests/scenarios/test_nat_lab.py::test_a", "tests/scenarios/test_nat_lab.py::test_b",
        "tests/scenarios/test_dr_lab.py::test_a", "tests/scenarios/test_dr_lab.py::test_b",
        "tests/scenarios/test_tun_lab.py::test_a", "tests/scenarios/test_tun_lab.py::test_b",
        "tests/scenarios/test_seed_reset.py::test_a",
        "tests/integration/test_targets.py::test_target[a]", "tests/integration/test_targets.py::test_target[b]"]


class FakeWorker:
    def __init__(self, name, collection):
        self.gateway = types.SimpleNamespace(id=name)
        self.collection, self.got, self.shutting_down = collection, [], False

    def send_runtest_some(self, indices):
        self.got += [self.collection[i] for i in indices]

    def shutdown(self):
        self.shutting_down = True


def test_scheduler_gives_each_lab_group_whole_to_one_worker_in_collection_order():
    import conftest  # pylint: disable=import-outside-toplevel
    option = types.SimpleNamespace(loadscopereorder=True)   # xdist's default: by number of tests
    config = types.SimpleNamespace(option=option, getvalue=lambda name: ["2*popen"])
    scheduler = conftest.pytest_xdist_make_scheduler(config, None)
    workers = [FakeWorker("gw0", ORDERED), FakeWorker("gw1", ORDERED)]
    for worker in workers:
        scheduler.add_node(worker)
        scheduler.add_node_collection(worker, ORDERED)
    scheduler.schedule()
    # the two longest groups start at once, one per worker
    assert workers[0].got == ORDERED[:3] and workers[1].got == ORDERED[3:6]
    # while gw0 runs the seed lab, gw1 finishes the smoke lab and takes each following group whole
    done = 0
    while done < len(workers[1].got):
        scheduler.mark_test_complete(workers[1], ORDERED.index(workers[1].got[done]))
        done += 1
    assert [conftest.lab_group(nodeid) for nodeid in workers[1].got] == (
        ["smoke lab"] * 3 + ["seed lab b"] * 4 + ["molecule", "lifecycle",
                                                  "tests/unit/harness/test_phases.py", "tests/unit/test_x.py"])
    assert workers[0].got == ORDERED[:3]
    assert option.loadscopereorder is False


def test_the_core_suite_leaves_out_health_checks_and_ha_and_an_unknown_suite_is_an_error(monkeypatch, tmp_path):
    import conftest  # pylint: disable=import-outside-toplevel  # tests/conftest.py: SUITES
    repo = conftest.TESTS.parent
    monkeypatch.setenv("LVSLAB_SUITE", "core")
    scenarios = sorted((repo / "tests/scenarios").glob("test_*.py"))
    left_out = [p for p in scenarios if conftest.pytest_ignore_collect(p, None)]
    names = [p.name for p in left_out]
    assert names == ["test_ha_dr.py", "test_ha_nat.py", "test_health_dr.py", "test_health_nat.py", "test_molecule_ha.py"]
    assert conftest.pytest_ignore_collect(repo / "tests/scenarios/test_nat_lab.py", None) is None
    assert conftest.pytest_ignore_collect(tmp_path / "test_x.py", None) is None
    monkeypatch.setenv("LVSLAB_SUITE", "full")
    assert conftest.pytest_ignore_collect(repo / "tests/scenarios/test_ha_dr.py", None) is None
    monkeypatch.setenv("LVSLAB_SUITE", "quick")
    with pytest.raises(pytest.UsageError, match="LVSLAB_SUITE=quick"):
        conftest.suite()
