"""Run ansible-playbook and ansible against a lab inventory with the collection on its path."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".build" / "collections"


def ensure_collection_link():
    """ANSIBLE_COLLECTIONS_PATH needs .../ansible_collections/lvs/cluster: link it to the checkout."""
    link = COLLECTIONS / "ansible_collections" / "lvs" / "cluster"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        link.symlink_to(REPO)
    return COLLECTIONS


STRATEGIES = ("mitogen_linear", "linear")


def strategy(env=None):
    """The Ansible strategy for lab runs: LVSLAB_STRATEGY, default mitogen_linear.

    Under emulation most of a task's cost is starting Python and unpacking the module on the guest;
    Mitogen keeps one interpreter per host (3.4-6x faster here, README). LVSLAB_STRATEGY=linear
    switches back to plain Ansible (AnsiballZ over pipelined SSH).
    """
    name = (env or os.environ).get("LVSLAB_STRATEGY") or "mitogen_linear"
    if name not in STRATEGIES:
        raise ValueError("LVSLAB_STRATEGY must be one of %s, not %r" % (", ".join(STRATEGIES), name))
    return name


def mitogen_strategy_path():
    """ansible_mitogen's strategy plugins, from the installed package (pinned in requirements/lock.txt)."""
    import ansible_mitogen  # pylint: disable=import-outside-toplevel

    return str(Path(ansible_mitogen.__file__).parent / "plugins" / "strategy")


def environment(extra=None):
    """The environment of a lab run; extra may set LVSLAB_STRATEGY for this run only."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(ensure_collection_link()),
        "ANSIBLE_ROLES_PATH": "%s:%s" % (REPO / "roles", REPO / "tests" / "integration" / "targets"),
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=120s",
        "ANSIBLE_FORKS": "8",
        # Connecting includes starting Python on an emulated guest (Mitogen bootstraps its interpreter
        # within this timeout): the default 10 s timed out on a loaded 2-core machine.
        "ANSIBLE_TIMEOUT": "60",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_LOCALHOST_WARNING": "False",
    })
    env.update(extra or {})
    env["ANSIBLE_STRATEGY"] = env["LVSLAB_STRATEGY"] = strategy(env)
    if env["ANSIBLE_STRATEGY"] == "mitogen_linear":
        env["ANSIBLE_STRATEGY_PLUGINS"] = mitogen_strategy_path()
    else:
        env.pop("ANSIBLE_STRATEGY_PLUGINS", None)
    return env


def _bin(name):
    return str(Path(sys.executable).parent / name)


def run_playbook(inventory, playbook, extra_vars=None, check=False, diff=False, limit=None, env=None,
                 stats=True, strategy_name=None):
    """Run a playbook against one inventory or a list of them (later ones win); returns (proc, stats or None).

    With stats=True the PLAY RECAP is parsed into per-host counts for idempotence checks.
    strategy_name ("linear" or "mitogen_linear") overrides LVSLAB_STRATEGY for this run.
    """
    if strategy_name:
        env = dict(env or {}, LVSLAB_STRATEGY=strategy_name)
    inventories = inventory if isinstance(inventory, (list, tuple)) else [inventory]
    argv = [_bin("ansible-playbook")]
    for item in inventories:
        argv += ["-i", str(item)]
    argv.append(str(playbook))
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    if limit:
        argv += ["--limit", limit]
    proc = subprocess.run(argv, env=environment(env), capture_output=True, text=True, check=False)
    return proc, (recap(proc.stdout) if stats else None)


_RECAP_LINE = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def recap(stdout):
    """{'stats': {host: {ok, changed, unreachable, failures}}} from the default callback's PLAY RECAP."""
    stats = {}
    tail = stdout[stdout.rfind("PLAY RECAP"):] if "PLAY RECAP" in stdout else ""
    for host, ok, changed, unreachable, failed in _RECAP_LINE.findall(tail):
        stats[host] = {"ok": int(ok), "changed": int(changed), "unreachable": int(unreachable), "failures": int(failed)}
    return {"stats": stats}


_TASK_LINE = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(.+?)\] \*+$")
_CHANGED_LINE = re.compile(r"^changed: \[([^\]\s]+)(?: -> [^\]]+)?\]")


def changed_tasks(stdout):
    """host -> sorted names of the tasks (and handlers) that reported changed, from the default callback."""
    task, changed = None, {}
    for line in stdout.splitlines():
        heading = _TASK_LINE.match(line)
        if heading:
            task = heading.group(1)
            continue
        hit = _CHANGED_LINE.match(line)
        if hit and task:
            changed.setdefault(hit.group(1), set()).add(task)
    return {host: sorted(names) for host, names in changed.items()}


def changed_counts(result):
    """host -> number of changed tasks, from the json callback's stats."""
    return {host: s.get("changed", 0) for host, s in (result or {}).get("stats", {}).items()}


def failed_counts(result):
    return {host: s.get("failures", 0) + s.get("unreachable", 0) for host, s in (result or {}).get("stats", {}).items()}
