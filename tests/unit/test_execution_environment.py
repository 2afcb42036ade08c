"""execution-environment.yml: `ansible-builder create` writes a build context that installs the artefact.

No container engine here, so the image is never built; the context is checked instead, and its own
galaxy step (ansible-galaxy collection install -r requirements.yml from _build) and introspection
script (what the image build runs to collect each collection's requirements) run on this machine.
"""

import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from lab_harness import artefact
from lab_harness.playbook import REPO

EE_FILE = REPO / "execution-environment.yml"


def requirement_lines(path):
    """The requirement lines of a pip or bindep file, without comments."""
    lines = (line.split("#", 1)[0].strip() for line in Path(path).read_text().splitlines())
    return [line for line in lines if line]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The EE definition and what it names, copied beside a freshly built artefact, then ansible-builder create."""
    work = tmp_path_factory.mktemp("ee")
    definition = yaml.safe_load(EE_FILE.read_text())
    shutil.copy(EE_FILE, work / EE_FILE.name)
    for key in ("python", "system"):
        (work / definition["dependencies"][key]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / definition["dependencies"][key], work / definition["dependencies"][key])
    tarball = artefact.build(tmp_path_factory.mktemp("dist"))
    for item in definition["additional_build_files"]:
        src = work / item["src"]
        src.parent.mkdir(parents=True, exist_ok=True)
        assert src.name == tarball.name, "the EE copies %s, the build makes %s (galaxy.yml's version)" % (
            src.name, tarball.name)
        shutil.copy(tarball, src)
    ctx = work / "context"
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-builder"), "create", "-f", str(work / EE_FILE.name),
                           "-c", str(ctx), "--output-filename", "Containerfile"],
                          cwd=str(work), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"dir": ctx, "definition": definition, "tarball": tarball, "work": work}


def test_definition_is_schema_3_with_the_tested_ansible_core(context):
    definition = context["definition"]
    assert definition["version"] == 3
    tested = [line for line in requirement_lines(REPO / "requirements" / "dev.txt") if line.startswith("ansible-core==")]
    assert tested and definition["dependencies"]["ansible_core"]["package_pip"] == tested[0]
    containerfile = (context["dir"] / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="%s"' % definition["images"]["base_image"]["name"] in containerfile
    assert tested[0] in re.search(r'^ARG ANSIBLE_INSTALL_REFS="(.*)"$', containerfile, re.M).group(1)


def test_context_carries_the_artefact_as_built(context):
    build = context["dir"] / "_build"
    requirements = yaml.safe_load((build / "requirements.yml").read_text())
    [entry] = requirements["collections"]
    assert entry["type"] == "file"
    copied = build / entry["name"]   # the galaxy stage runs in /build, a copy of _build
    assert copied.is_file(), "%s names %s, not in the context" % (build / "requirements.yml", entry["name"])
    assert artefact.members(copied) == artefact.members(context["tarball"])
    with tarfile.open(copied) as tar:
        manifest = tar.extractfile("MANIFEST.json").read().decode()
    assert '"name": "cluster"' in manifest and '"namespace": "lvs"' in manifest


def test_context_carries_the_collection_requirements(context):
    build = context["dir"] / "_build"
    dependencies = context["definition"]["dependencies"]
    assert requirement_lines(build / "bindep.txt") == requirement_lines(REPO / dependencies["system"])
    assert requirement_lines(build / "requirements.txt") == requirement_lines(REPO / dependencies["python"])
    assert requirement_lines(REPO / dependencies["system"]), "no system package declared"


def test_image_build_steps_find_the_collection_and_its_requirements(context, tmp_path):
    """The galaxy stage's install and the builder stage's introspection, run from the context here."""
    build = context["dir"] / "_build"
    collections = tmp_path / "collections"
    collections.mkdir()
    env = artefact.isolated(collections)
    galaxy = subprocess.run([str(Path(sys.executable).parent / "ansible-galaxy"), "collection", "install", "--offline",
                             "-r", "requirements.yml", "-p", str(collections)],
                            cwd=str(build), env=env, capture_output=True, text=True, check=False)
    assert galaxy.returncode == 0, galaxy.stdout + galaxy.stderr
    meta = collections / "ansible_collections" / "lvs" / "cluster" / "meta" / "execution-environment.yml"
    assert yaml.safe_load(meta.read_text())["dependencies"] == {
        key: context["definition"]["dependencies"][key] for key in ("python", "system")}
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(build / "scripts" / "introspect.py"), "introspect",
                           "--write-bindep", str(out / "bindep.txt"), "--write-pip", str(out / "requirements.txt"),
                           str(collections)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = yaml.safe_load(proc.stdout)
    system = requirement_lines(meta.parent / "ee-bindep.txt")
    assert sorted(found["system"]) == sorted("%s  # from collection lvs.cluster" % line for line in system)
    assert sorted(found["python"]) == sorted("%s  # from collection lvs.cluster" % line
                                             for line in requirement_lines(meta.parent / "ee-requirements.txt"))
    assert sorted(requirement_lines(out / "bindep.txt")) == sorted(system)
