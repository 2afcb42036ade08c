"""The time budget table (tests/phases.py): boots and resets from any worker, worker shares, wall total."""

import phases


def test_table_takes_boots_out_of_their_phase_and_totals_the_wall_clock(tmp_path, monkeypatch):
    outside = tmp_path / "outside.tsv"
    outside.write_text("set-up\t50.0\ngate: sanity\t40.0\n")
    inside = tmp_path / "inside.tsv"
    inside.write_text("boot seed\t100.0\tnat_lab\tgw0\nreset\t30.0\tnat_lab\tgw0\nreset\t20.0\tdr_lab\tgw0\n"
                      "boot smoke\t60.0\tintegration\tgw1\n")
    monkeypatch.setenv(phases.PHASES_ENV, str(outside))
    monkeypatch.setenv(phases.INSIDE_ENV, str(inside))
    monkeypatch.setattr(phases, "_tests", {"nat_lab": 400.0, "dr_lab": 120.0, "integration": 500.0})
    monkeypatch.setattr(phases, "_lanes", {"gw0": 520.0, "gw1": 500.0})
    rows = phases.table(pytest_wall=600.0)
    assert rows == [("set-up", 50.0), ("gate: sanity", 40.0),
                    ("nat_lab", 270.0), ("dr_lab", 100.0), ("integration", 440.0),
                    ("boot seed", 100.0), ("boot smoke", 60.0), ("reset", 50.0),
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
    seed = {conftest.lab_group("tests/scenarios/%s::test_x[a]" % name) for name in conftest.SEED_ORDER}
    assert seed == {"seed lab"}
    assert conftest.lab_group("tests/integration/test_targets.py::test_target[role_director]") == "smoke lab"
    assert conftest.lab_group("tests/unit/harness/test_phases.py::test_x") == "tests/unit/harness/test_phases.py"
