"""Run every integration target (tests/integration/targets/NAME/tasks/main.yml) in a lab guest.

Targets are roles in the ansible-test layout; each is applied to the smoke guest by a
generated playbook, so a target fails this test exactly when one of its asserts fails. The play
recap must name the guest: a play that matched no host would exit 0 without running anything.
"""

from pathlib import Path

import pytest

from lab_harness import playbook

GUEST = "smoke"   # the one host of the smoke topology (tests/lab_harness/topologies/smoke.yml)

TARGETS = sorted(p.parent.parent.name for p in
                 (Path(__file__).parent / "targets").glob("*/tasks/main.yml"))


@pytest.mark.lab
@pytest.mark.parametrize("target", TARGETS)
def test_target(target, smoke_lab, tmp_path):
    play = tmp_path / "play.yml"
    play.write_text("- hosts: lab_guests\n  gather_facts: false\n  roles:\n    - %s\n" % target)
    proc, result = playbook.run_playbook(smoke_lab, play)
    output = "%s\n%s" % (proc.stdout[-20000:], proc.stderr[-4000:])
    assert proc.returncode == 0, "target %s failed:\n%s" % (target, output)
    stats = result["stats"]
    assert list(stats) == [GUEST], "target %s: the play recap names %s, not only %s:\n%s" % (
        target, sorted(stats), GUEST, output)
    assert stats[GUEST]["failures"] == 0 and stats[GUEST]["unreachable"] == 0, "target %s: %s\n%s" % (
        target, stats[GUEST], output)
    assert stats[GUEST]["ok"] > 0, "target %s ran no task on %s:\n%s" % (target, GUEST, output)
