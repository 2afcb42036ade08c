"""The time budget of `make test`: seconds per phase, printed as a table before pytest's summary line.

Phases outside pytest (set-up, static gates) are timed by `python tests/phases.py NAME -- CMD...`, which
appends "NAME<TAB>SECONDS" to the file named by LVSLAB_PHASES. Inside pytest the plugin below adds:
one phase per test directory (unit, integration) and per scenario module, with each lab boot and
reset counted as a phase of its own and taken out of the phase it happened in.

Under pytest-xdist the lab tests run on two workers at once, so the phases add up to more than the
time the run took: the table gives each worker's share and, last, the wall-clock total (phases
outside pytest plus pytest's own wall clock), which is the number CI's limit applies to.
Boots and resets happen in the workers; they append "NAME<TAB>SECONDS<TAB>PHASE<TAB>WORKER" to a file
the controller names in LVSLAB_PHASES_INSIDE before the workers start, and the controller reads it.
"""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


PHASES_ENV = "LVSLAB_PHASES"
INSIDE_ENV = "LVSLAB_PHASES_INSIDE"
_current = ["(collection)"]
_tests = {}      # phase -> seconds of setup + call + teardown, summed over workers
_lanes = {}      # worker id ("gw0", "gw1", or "main" without xdist) -> seconds of tests it ran
_started = [None]
SUITE = ["full"]   # the suite make test ran (tests/conftest.py SUITES)
DEADLINE_ENV = "LVSLAB_DEADLINE"   # epoch seconds: interrupt pytest then, so it still prints its report
SLOW = 30.0        # a test that takes longer is named as it ends, with its seconds
_config = [None]   # the controller's pytest config (set on the controller only): its terminal reporter


def phase_of(nodeid):
    path = nodeid.split("::")[0]
    parts = Path(path).parts
    if len(parts) >= 2 and parts[1] in ("unit", "integration"):
        return parts[1]
    return Path(path).stem.replace("test_", "")


def _worker():
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


class timed:
    """with timed("boot seed"): ... records a phase measured inside the pytest run (any worker)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc):
        path = os.environ.get(INSIDE_ENV)
        if path:
            with open(path, "a") as handle:
                handle.write("%s\t%.1f\t%s\t%s\n" % (self.name, time.monotonic() - self.started, _current[0], _worker()))
        return False


def figure(name, value, unit="s"):
    """Record a figure a scenario measured (a detection time, a failover gap) to print after the table."""
    path = os.environ.get(INSIDE_ENV)
    if path:
        with open(path + ".figures", "a") as handle:
            handle.write("%s\t%s %s\n" % (name, value, unit))


def pytest_configure(config):
    # On the controller (or a run without xdist): name the file before any worker starts, so every
    # worker inherits it. Workers see PYTEST_XDIST_WORKER set and keep what they inherited.
    if "PYTEST_XDIST_WORKER" not in os.environ:
        handle, path = tempfile.mkstemp(prefix="lvslab-phases-", suffix=".tsv")
        os.close(handle)
        os.environ[INSIDE_ENV] = path
        _started[0] = time.monotonic()
        _config[0] = config
        _arm_deadline()


def _arm_deadline():
    """CI kills a run that overruns its limit, and a killed pytest prints nothing: no failures, no
    table. At LVSLAB_DEADLINE pytest is interrupted instead (as by Ctrl-C), so it still reports what
    failed and where the time went before the limit."""
    deadline = os.environ.get(DEADLINE_ENV)
    if not deadline:
        return
    timer = threading.Timer(max(0.0, float(deadline) - time.time()), os.kill, (os.getpid(), signal.SIGINT))
    timer.daemon = True
    timer.start()


def pytest_runtest_logstart(nodeid, location):
    _current[0] = phase_of(nodeid)


def pytest_runtest_logreport(report):
    phase = phase_of(report.nodeid)
    _tests[phase] = _tests.get(phase, 0.0) + report.duration
    node = getattr(report, "node", None)   # set by xdist on the controller
    lane = node.gateway.id if node is not None else "main"
    _lanes[lane] = _lanes.get(lane, 0.0) + report.duration
    _report_now(report, lane)


def _report_now(report, lane):
    """On the controller: a failure's report as it happens and each slow test as it ends, so a run cut
    short (CI's limit) still shows them; pytest's own report comes only at the end."""
    if _config[0] is None:
        return
    reporter = _config[0].pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    since = time.monotonic() - _started[0]
    if report.failed:
        reporter.write_line("")
        reporter.write_sep("-", "%s %s FAILED (%s, at %.0f s)" % (report.nodeid, report.when, lane, since))
        reporter.write_line(str(report.longrepr))
    elif report.duration >= SLOW:
        reporter.write_line("")
        reporter.write_line("[%s at %.0f s] %s (%s): %.0f s" % (lane, since, report.nodeid, report.when, report.duration))


def _outside():
    path = os.environ.get(PHASES_ENV)
    rows = []
    if path and Path(path).exists():
        for line in Path(path).read_text().splitlines():
            name, seconds = line.partition("\t")[::2]
            rows.append((name, float(seconds)))
    return rows


def _inside():
    """(name, seconds, phase it happened in) of every boot and reset, from all workers."""
    path = os.environ.get(INSIDE_ENV)
    rows = []
    if path and Path(path).exists():
        for line in Path(path).read_text().splitlines():
            name, seconds, within = line.split("\t")[:3]
            rows.append((name, float(seconds), within))
    return rows


def table(pytest_wall=None):
    """[(name, seconds)]: outside phases, test phases, boots and resets, per-worker shares, total."""
    outside = _outside()
    rows = list(outside)
    inside = dict(_tests)
    extra = _inside()
    for name, seconds, within in extra:
        if within in inside:
            inside[within] = max(0.0, inside[within] - seconds)
    rows += list(inside.items())
    merged = {}
    for name, seconds, dummy in extra:
        merged[name] = merged.get(name, 0.0) + seconds
    rows += sorted(merged.items())
    if len(_lanes) > 1:
        rows += [("pytest worker %s (tests it ran)" % lane, seconds) for lane, seconds in sorted(_lanes.items())]
    if pytest_wall is None:
        return rows + [("total", sum(row[1] for row in rows))]
    rows.append(("pytest wall clock", pytest_wall))
    return rows + [("total (wall clock)", sum(row[1] for row in outside) + pytest_wall)]


def pytest_terminal_summary(terminalreporter):
    if "PYTEST_XDIST_WORKER" in os.environ:
        return
    wall = time.monotonic() - _started[0] if _started[0] is not None else None
    rows = table(wall)
    if len(rows) <= 2:
        return
    width = max(len(row[0]) for row in rows)
    terminalreporter.section("time budget (seconds per phase), suite %s" % SUITE[0])
    for name, seconds in rows:
        terminalreporter.write_line("%s %8.0f" % (name.ljust(width), seconds))
    path = os.environ.get(INSIDE_ENV)
    if path:
        Path(path).unlink(missing_ok=True)
        figures = Path(path + ".figures")
        if figures.exists():
            terminalreporter.section("measured figures")
            for line in figures.read_text().splitlines():
                name, value = line.split("\t")
                terminalreporter.write_line("%s  %s" % (name, value))
            figures.unlink()


def main(argv):
    """python tests/phases.py NAME -- CMD...: run CMD, append its seconds to $LVSLAB_PHASES, keep its rc."""
    name, rest = argv[0], argv[argv.index("--") + 1:]
    started = time.monotonic()
    rc = subprocess.call(rest)
    path = os.environ.get(PHASES_ENV)
    if path:
        with open(path, "a") as handle:
            handle.write("%s\t%.1f\n" % (name, time.monotonic() - started))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
