"""The lab runner: which strategy a run uses, and which tasks a run changed (the reset's proof reads it)."""

import pytest

from lab_harness import playbook

OUT = """PLAY [Real servers] ************************************************************

TASK [lvs.cluster.nat_realserver : Write the unit that sets the default route via the director] ***
changed: [rs1]
ok: [rs2]

TASK [Serve the page] **********************************************************
changed: [rs1] => (item=x)
changed: [rs2 -> localhost]

RUNNING HANDLER [lvs.cluster.nat_realserver : Restart the gateway unit] ********
changed: [rs2]

PLAY RECAP *********************************************************************
"""


def test_changed_tasks_per_host_include_handlers_loops_and_delegation():
    assert playbook.changed_tasks(OUT) == {
        "rs1": ["Serve the page",
                "lvs.cluster.nat_realserver : Write the unit that sets the default route via the director"],
        "rs2": ["Serve the page", "lvs.cluster.nat_realserver : Restart the gateway unit"],
    }


def test_mitogen_is_the_default_and_linear_switches_it_off(monkeypatch):
    monkeypatch.delenv("LVSLAB_STRATEGY", raising=False)
    env = playbook.environment()
    assert env["ANSIBLE_STRATEGY"] == "mitogen_linear"
    assert env["ANSIBLE_STRATEGY_PLUGINS"].endswith("ansible_mitogen/plugins/strategy")
    monkeypatch.setenv("LVSLAB_STRATEGY", "linear")
    env = playbook.environment()
    assert env["ANSIBLE_STRATEGY"] == "linear" and "ANSIBLE_STRATEGY_PLUGINS" not in env
    # A per-run override wins over the environment.
    assert playbook.environment({"LVSLAB_STRATEGY": "mitogen_linear"})["ANSIBLE_STRATEGY"] == "mitogen_linear"


def test_an_unknown_strategy_is_refused(monkeypatch):
    monkeypatch.setenv("LVSLAB_STRATEGY", "free")
    with pytest.raises(ValueError, match="LVSLAB_STRATEGY"):
        playbook.environment()
