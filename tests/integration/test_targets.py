"""Run every integration target (tests/integration/targets/NAME/tasks/main.yml) in a lab guest, then
converge the same guest from the collection as a user installs it (built artefact, empty collections path).

Targets are roles in the ansible-test layout; each is applied to the smoke guest by a
generated playbook, so a target fails this test exactly when one of its asserts fails. The play
recap must name the guest: a play that matched no host would exit 0 without running anything.
"""

import json
from pathlib import Path

import pytest

from lab_harness import artefact, playbook

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


# The collection as a user installs it, on the same guest (the module's smoke lab: no boot of its own).
# The playbook lives outside the checkout and names only FQCNs; Ansible finds collections in the empty
# install path only, and no roles path, so nothing can come from the checkout.
INSTALLED_PLAY = """\
- name: Converge the guest from the installed lvs.cluster
  hosts: lab_guests
  gather_facts: false
  roles:
    - role: lvs.cluster.director
      vars:
        director_persist: false
        director_services:
          - {address: 192.0.2.150, port: 8080, scheduler: sh, real_servers: [{address: 192.0.2.151, weight: 3, forwarding: nat}]}
  tasks:
    - name: Read the table with the installed ipvs_info
      lvs.cluster.ipvs_info:
      register: installed_info
    - name: Read the kernel table with ipvsadm
      ansible.builtin.command: ipvsadm -S -n
      register: installed_saved
      changed_when: false
    - name: Remove the service again
      lvs.cluster.ipvs_service:
        protocol: tcp
        address: 192.0.2.150
        port: 8080
        state: absent
    - name: Keep what was read, and where the collections came from, for the test
      ansible.builtin.copy:
        dest: "{{ result_file }}"
        content: "{{ {'info': installed_info, 'saved': installed_saved.stdout_lines,
                      'paths': lookup('ansible.builtin.config', 'COLLECTIONS_PATHS'),
                      'roles_path': lookup('ansible.builtin.env', 'ANSIBLE_ROLES_PATH')} | to_json }}"
        mode: "0600"
      delegate_to: localhost
"""


@pytest.mark.lab
def test_installed_artefact_converges_the_guest(smoke_lab, tmp_path):
    collections = tmp_path / "collections"
    root = artefact.install(artefact.build(tmp_path / "dist"), collections)
    empty_roles = tmp_path / "roles"
    empty_roles.mkdir()
    play = tmp_path / "user" / "converge.yml"
    play.parent.mkdir()
    play.write_text(INSTALLED_PLAY)
    assert playbook.REPO not in play.parents
    result_file = tmp_path / "result.json"
    env = {"ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
           "ANSIBLE_ROLES_PATH": str(empty_roles)}
    assert playbook.environment(env)["ANSIBLE_COLLECTIONS_PATH"] == str(collections)
    assert not any(p for p in collections.rglob("*") if p.is_symlink()), "the install holds a link"
    proc, result = playbook.run_playbook(smoke_lab, play, extra_vars={"result_file": str(result_file)}, env=env)
    output = "%s\n%s" % (proc.stdout[-20000:], proc.stderr[-4000:])
    assert proc.returncode == 0, output
    assert result["stats"][GUEST]["failures"] == 0 and result["stats"][GUEST]["changed"] > 0, output
    assert "lvs.cluster.director : " in proc.stdout, output
    seen = json.loads(result_file.read_text())
    assert seen["paths"] == [str(collections)] and seen["roles_path"] == str(empty_roles)
    # The kernel table the converge produced, as ipvsadm saves it and as the installed ipvs_info reads it.
    assert "-A -t 192.0.2.150:8080 -s sh" in seen["saved"], seen["saved"]
    assert "-a -t 192.0.2.150:8080 -r 192.0.2.151:8080 -m -w 3" in seen["saved"], seen["saved"]
    [service] = [s for s in seen["info"]["services"] if s.get("address") == "192.0.2.150" and s.get("port") == 8080]
    assert service["scheduler"] == "sh"
    assert [(r["address"], r["forwarding"], r["weight"]) for r in service["real_servers"]] == [("192.0.2.151", "nat", 3)]
    assert root.is_dir() and (root / "plugins" / "modules" / "ipvs_info.py").is_file()
