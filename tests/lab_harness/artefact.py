"""The collection as a user gets it: built with ansible-galaxy, installed into an empty collections path.

The tests of the artefact (tests/unit/test_artefact.py, and the converge from the installed copy in
tests/integration/test_targets.py) run Ansible with isolated() as its environment, which names only
the install path: neither the checkout (.build/collections) nor ~/.ansible/collections nor Python's
sys.path can supply lvs.cluster by accident.
"""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from lab_harness.playbook import REPO

NAMESPACE, NAME = "lvs", "cluster"


def _bin(name):
    return str(Path(sys.executable).parent / name)


def galaxy_version():
    """The version galaxy.yml declares (the artefact is lvs-cluster-<version>.tar.gz)."""
    import yaml  # pylint: disable=import-outside-toplevel

    return yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]


def isolated(collections_path, base=None):
    """An environment in which Ansible finds collections in collections_path only."""
    env = dict(os.environ if base is None else base)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
        "ANSIBLE_NOCOLOR": "1",
    })
    # The checkout's roles (Makefile, lab runs) must not stand in for the installed ones either.
    env.pop("ANSIBLE_ROLES_PATH", None)
    return env


def run(argv, env, cwd):
    proc = subprocess.run(argv, env=env, cwd=str(cwd), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError("%s failed (rc %s):\n%s\n%s" % (
            " ".join(argv), proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
    return proc


def build(dest):
    """ansible-galaxy collection build of the checkout into dest; returns the tarball's path."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    argv = [_bin("ansible-galaxy"), "collection", "build", "--force", "--output-path", str(dest), str(REPO)]
    run(argv, isolated(dest), dest)
    tarball = dest / ("%s-%s-%s.tar.gz" % (NAMESPACE, NAME, galaxy_version()))
    assert tarball.is_file(), "ansible-galaxy built no %s" % tarball.name
    return tarball


def members(tarball):
    """The regular files of the artefact, as paths relative to the collection root."""
    with tarfile.open(tarball) as tar:
        return sorted(m.name for m in tar.getmembers() if m.isfile())


def install(tarball, collections_path):
    """ansible-galaxy collection install of tarball into collections_path (empty or new), offline.

    Returns the installed collection's root, .../ansible_collections/lvs/cluster.
    """
    collections_path = Path(collections_path)
    collections_path.mkdir(parents=True, exist_ok=True)
    assert not any(collections_path.iterdir()), "%s is not empty" % collections_path
    argv = [_bin("ansible-galaxy"), "collection", "install", "--offline", "-p", str(collections_path), str(tarball)]
    run(argv, isolated(collections_path), collections_path)
    root = collections_path / "ansible_collections" / NAMESPACE / NAME
    manifest = json.loads((root / "MANIFEST.json").read_text())
    assert manifest["collection_info"]["namespace"] == NAMESPACE and manifest["collection_info"]["name"] == NAME
    return root


def ansible_doc(collections_path, names, plugin_type="module"):
    """ansible-doc --json of names from collections_path only: {name: doc}."""
    proc = run([_bin("ansible-doc"), "-t", plugin_type, "--json"] + list(names),
               isolated(collections_path), collections_path)
    return json.loads(proc.stdout)
