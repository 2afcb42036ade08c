"""Every molecule scenario under extensions/molecule runs its full test sequence on lab guests."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab_harness import image, playbook

SCENARIOS = sorted(p.parent.name for p in (playbook.REPO / "extensions" / "molecule").glob("*/molecule.yml"))

# Debian 13 here; Debian 12 is the release every other lab test boots. `make lab-smoke` runs
# bookworm, and LVSLAB_MOLECULE_RELEASES="bookworm trixie" runs both.
RELEASES = tuple(os.environ.get("LVSLAB_MOLECULE_RELEASES", "trixie").split())


def test_releases_and_scenarios_are_given():
    """An empty parameter list would turn test_molecule_scenario into a skip that nobody reads."""
    assert RELEASES, "LVSLAB_MOLECULE_RELEASES is empty: name one release or more (%s)" % ", ".join(image.RELEASES)
    unknown = sorted(set(RELEASES) - set(image.RELEASES))
    assert not unknown, "LVSLAB_MOLECULE_RELEASES names unknown releases %s" % ", ".join(unknown)
    assert SCENARIOS, "no molecule scenario under extensions/molecule"


@pytest.mark.lab
@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario, release):
    env = playbook.environment({"MOLECULE_RUN_SUFFIX": os.urandom(3).hex(), "NO_COLOR": "1", "LVSLAB_RELEASE": release,
                                "PATH": "%s:%s" % (Path(sys.executable).parent, os.environ.get("PATH", ""))})
    proc = subprocess.run([str(Path(sys.executable).parent / "molecule"), "test", "-s", scenario],
                          cwd=playbook.REPO, env=env, capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-20000:]
    assert "verify: Executed: Successful" in out
