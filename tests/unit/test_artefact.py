"""The built artefact (ansible-galaxy collection build) and its installed copy, without a guest.

What it must hold is derived from the checkout (git's file list, plugins/modules, roles/*/meta), and
ansible-doc reads every module and role from the installed copy only (lab_harness.artefact.isolated).
"""

import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from lab_harness import artefact
from lab_harness.playbook import REPO

# Development files that must not ship: the test configuration, the build entry points, the pinned
# tool chain, the EE definition (it installs the artefact; the artefact does not carry it).
DEV_FILES = {"pytest.ini", "Makefile", "execution-environment.yml"}
DEV_DIRS = {"tests", "extensions", "requirements", "molecule", "docs"}
MODULES = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
ROLES = sorted(p.parent.parent.name for p in (REPO / "roles").glob("*/meta/argument_specs.yml"))
HEADER_LICENCE = re.compile(r"^# GNU General Public License v3\.0\+ \(see (\S+) or https://", re.M)


class Built:
    """The tarball, its regular files, the collections path it was installed into and the installed root."""

    def __init__(self, tarball, collections):
        self.tarball = tarball
        self.files = artefact.members(tarball)
        self.collections = collections
        self.root = artefact.install(tarball, collections)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return Built(artefact.build(tmp_path_factory.mktemp("dist")), tmp_path_factory.mktemp("collections"))


def tracked(prefix):
    out = subprocess.run(["git", "ls-files", "--", prefix], cwd=str(REPO), capture_output=True, text=True,
                         check=True).stdout
    return [line for line in out.splitlines() if line]


def test_the_checkout_has_modules_and_roles_to_check():
    assert "ipvs_table" in MODULES and "director" in ROLES


def test_artefact_carries_no_development_file(built):
    files = built.files
    dotted = [f for f in files if any(part.startswith(".") for part in PurePosixPath(f).parts)]
    assert not dotted, "development dotfiles in the artefact: %s" % dotted
    assert not DEV_FILES & set(files), sorted(DEV_FILES & set(files))
    dev = [f for f in files if set(PurePosixPath(f).parts[:-1]) & DEV_DIRS]
    assert not dev, "tests, lab harness, molecule or requirements in the artefact: %s" % dev[:20]
    assert not [f for f in files if f.endswith((".pyc", ".tar.gz"))]


def test_artefact_carries_the_licence_every_header_cites(built):
    tarball, files, root = built.tarball, built.files, built.root
    assert "LICENSE" in files
    text = (root / "LICENSE").read_text()
    assert text == (REPO / "LICENSE").read_text()
    assert text.lstrip().startswith("GNU GENERAL PUBLIC LICENSE") and "Version 3, 29 June 2007" in text
    cited = set()
    for name in files:
        if name.endswith(".py"):
            cited.update(HEADER_LICENCE.findall((root / name).read_text()))
    assert cited, "no licence header in any shipped Python file"
    assert cited <= set(files), "headers cite %s, missing from %s" % (sorted(cited - set(files)), tarball.name)
    for path in cited:
        assert (root / path).read_text() == text
    manifest = (root / "MANIFEST.json").read_text()
    assert '"GPL-3.0-or-later"' in manifest


def test_artefact_carries_every_plugin_role_playbook_and_inventory(built):
    files = set(built.files)
    want = [f for d in ("plugins", "roles", "playbooks", "inventories", "meta")
            for f in tracked(d) if "/molecule/" not in f]
    assert len(want) > 50
    missing = sorted(set(want) - files)
    assert not missing, "missing from the artefact: %s" % missing
    for module in MODULES:
        assert "plugins/modules/%s.py" % module in files


def test_ansible_doc_reads_every_module_from_the_installed_copy(built):
    root, collections = built.root, built.collections
    names = ["lvs.cluster.%s" % m for m in MODULES]
    docs = artefact.ansible_doc(collections, names)
    assert sorted(docs) == names
    for name, module in zip(names, MODULES):
        doc = docs[name]["doc"]
        assert doc["module"] == module and doc["collection"] == "lvs.cluster"
        assert doc["short_description"].strip() and doc.get("options")
        assert Path(doc["filename"]) == root / "plugins" / "modules" / ("%s.py" % module), doc["filename"]
        assert docs[name]["examples"].strip() and docs[name]["return"]


def test_ansible_doc_reads_every_role_from_the_installed_copy(built):
    root, collections = built.root, built.collections
    names = ["lvs.cluster.%s" % r for r in ROLES]
    docs = artefact.ansible_doc(collections, names, plugin_type="role")
    assert sorted(docs) == names
    for name in names:
        assert Path(docs[name]["path"]) == root
        main = docs[name]["entry_points"]["main"]
        assert main["short_description"].strip()


def test_isolated_environment_names_only_the_install_path(tmp_path, monkeypatch):
    monkeypatch.setenv("ANSIBLE_ROLES_PATH", str(REPO / "roles"))
    env = artefact.isolated(tmp_path)
    assert env["ANSIBLE_COLLECTIONS_PATH"] == str(tmp_path)
    assert env["ANSIBLE_COLLECTIONS_SCAN_SYS_PATH"] == "False" and "ANSIBLE_ROLES_PATH" not in env


def test_shipped_playbooks_parse_by_their_fqcn_from_the_installed_copy(built):
    playbooks = sorted(p.stem for p in (REPO / "playbooks").glob("*.yml"))
    assert "site" in playbooks
    inventory = built.root / "inventories" / "nat_lab"
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "--syntax-check", "-i", str(inventory)]
    proc = artefact.run(argv + ["lvs.cluster.%s" % name for name in playbooks],
                        artefact.isolated(built.collections), built.collections)
    parsed = re.findall(r"^playbook: (\S+)$", proc.stdout, re.M)
    assert parsed == [str(built.root / "playbooks" / ("%s.yml" % name)) for name in playbooks], proc.stdout
