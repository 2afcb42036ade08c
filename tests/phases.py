"""The time budget of `make test`: seconds per phase, printed as a table before pytest's summary line.

Phases outside pytest (set-up, static gates) are timed by `python tests/phases.py NAME -- CMD...`, which
appends "NAME<TAB>SECONDS" to the file named by LVSLAB_PHASES. Inside pytest the plugin below adds:
one phase per test directory (unit, integration) and per scenario module, with each lab boot and
reset counted as a phase of its own and taken out of the phase it happened in.
"""

import os
import subprocess
import sys
import time
from pathlib import Path


PHASES_ENV = "LVSLAB_PHASES"
_extra = []      # (phase, seconds) measured inside pytest: boots, resets
_current = ["(collection)"]
_tests = {}      # phase -> seconds of setup + call + teardown


def phase_of(nodeid):
    path = nodeid.split("::")[0]
    parts = Path(path).parts
    if len(parts) >= 2 and parts[1] in ("unit", "integration"):
        return parts[1]
    return Path(path).stem.replace("test_", "")


class timed:
    """with timed("boot seed"): ... records a phase measured inside the pytest run."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc):
        seconds = time.monotonic() - self.started
        _extra.append((self.name, seconds, _current[0]))
        return False


def pytest_runtest_logstart(nodeid, location):
    _current[0] = phase_of(nodeid)


def pytest_runtest_logreport(report):
    _tests[phase_of(report.nodeid)] = _tests.get(phase_of(report.nodeid), 0.0) + report.duration


def _outside():
    path = os.environ.get(PHASES_ENV)
    rows = []
    if path and Path(path).exists():
        for line in Path(path).read_text().splitlines():
            name, seconds = line.partition("\t")[::2]
            rows.append((name, float(seconds)))
    return rows


def table():
    rows = list(_outside())
    inside = dict(_tests)
    for name, seconds, within in _extra:
        if within in inside:
            inside[within] = max(0.0, inside[within] - seconds)
    for name, seconds in inside.items():
        rows.append((name, seconds))
    merged = {}
    for name, seconds, dummy in _extra:
        merged[name] = merged.get(name, 0.0) + seconds
    rows += sorted(merged.items())
    return rows


def pytest_terminal_summary(terminalreporter):
    rows = table()
    if not rows:
        return
    width = max(len(row[0]) for row in rows)
    terminalreporter.section("time budget (seconds per phase)")
    for name, seconds in rows + [("total", sum(row[1] for row in rows))]:
        terminalreporter.write_line("%s %8.0f" % (name.ljust(width), seconds))


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
