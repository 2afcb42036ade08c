"""Every molecule scenario under extensions/molecule runs its full test sequence on lab guests.

A scenario whose topology a lab group of make test boots already runs there, attached to that group's lab
(ATTACHED): the ha scenario in test_molecule_ha.py, on the ha lab.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab_harness import image, playbook

ALL_SCENARIOS = sorted(p.parent.name for p in (playbook.REPO / "extensions" / "molecule").glob("*/molecule.yml"))
# scenario -> the test that runs it on a lab booted for other tests too
ATTACHED = {"ha": "tests/scenarios/test_molecule_ha.py"}
SCENARIOS = [s for s in ALL_SCENARIOS if s not in ATTACHED]

# Debian 13 here; Debian 12 is the release every other lab test boots. `make lab-smoke` runs
# bookworm, and LVSLAB_MOLECULE_RELEASES="bookworm trixie" runs both.
RELEASES = tuple(os.environ.get("LVSLAB_MOLECULE_RELEASES", "trixie").split())


def test_releases_and_scenarios_are_given():
    """An empty parameter list would turn test_molecule_scenario into a skip that nobody reads."""
    assert RELEASES, "LVSLAB_MOLECULE_RELEASES is empty: name one release or more (%s)" % ", ".join(image.RELEASES)
    unknown = sorted(set(RELEASES) - set(image.RELEASES))
    assert not unknown, "LVSLAB_MOLECULE_RELEASES names unknown releases %s" % ", ".join(unknown)
    assert SCENARIOS, "no molecule scenario under extensions/molecule"
    assert set(ATTACHED) <= set(ALL_SCENARIOS), "ATTACHED names a scenario that is gone"
    assert all((playbook.REPO / test).is_file() for test in ATTACHED.values())


@pytest.mark.lab
@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario, release):
    molecule_test(scenario, {"LVSLAB_RELEASE": release})


def molecule_test(scenario, extra_env):
    """`molecule test -s scenario`, which must pass through verify; returns its output."""
    env = playbook.environment(dict({"MOLECULE_RUN_SUFFIX": os.urandom(3).hex(), "NO_COLOR": "1",
                                     "PATH": "%s:%s" % (Path(sys.executable).parent, os.environ.get("PATH", ""))},
                                    **extra_env))
    proc = subprocess.run([str(Path(sys.executable).parent / "molecule"), "test", "-s", scenario],
                          cwd=playbook.REPO, env=env, capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-20000:]
    assert "verify: Executed: Successful" in out
    return out
