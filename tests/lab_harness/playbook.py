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


def environment(extra=None):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(ensure_collection_link()),
        "ANSIBLE_ROLES_PATH": "%s:%s" % (REPO / "roles", REPO / "tests" / "integration" / "targets"),
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=120s",
        "ANSIBLE_FORKS": "8",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_LOCALHOST_WARNING": "False",
    })
    if extra:
        env.update(extra)
    return env


def _bin(name):
    return str(Path(sys.executable).parent / name)


def run_playbook(inventory, playbook, extra_vars=None, check=False, diff=False, limit=None, env=None,
                 stats=True):
    """Run a playbook against one inventory or a list of them (later ones win); returns (proc, stats or None).

    With stats=True the PLAY RECAP is parsed into per-host counts for idempotence checks.
    """
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


def changed_counts(result):
    """host -> number of changed tasks, from the json callback's stats."""
    return {host: s.get("changed", 0) for host, s in (result or {}).get("stats", {}).items()}


def failed_counts(result):
    return {host: s.get("failures", 0) + s.get("unreachable", 0) for host, s in (result or {}).get("stats", {}).items()}
