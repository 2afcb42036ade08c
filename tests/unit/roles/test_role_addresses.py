"""The roles check addresses with the one lvs.cluster.ip_address test, rendered by Ansible itself."""

import json
import sys

import yaml

from lab_harness import playbook

ROLES = playbook.REPO / "roles"
VIPS = ["192.0.2.10", "2001:db8::10", "192.0.2.11/32", "999.0.0.1", "web-1"]


def bad_vips(tmp_path, role, extra):
    out = tmp_path / "out.json"
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars_files": [str(ROLES / role / "defaults/main.yml"), str(ROLES / role / "vars/main.yml")],
             "tasks": [{"ansible.builtin.copy": {"dest": str(out), "mode": "0644",
                                                 "content": "{{ __%s_bad_vips | to_json }}" % role}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    proc = playbook.run_playbook(["localhost,"], tmp_path / "play.yml", stats=False,
                                 extra_vars=dict(extra, ansible_python_interpreter=sys.executable))[0]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


def test_dr_realserver_refuses_prefixes_names_and_bad_octets(tmp_path):
    assert bad_vips(tmp_path, "dr_realserver", {"dr_realserver_vips": VIPS}) == VIPS[2:]


def test_tun_realserver_also_refuses_ipv6(tmp_path):
    assert bad_vips(tmp_path, "tun_realserver", {"tun_realserver_vips": VIPS}) == VIPS[1:]


def test_no_role_keeps_an_address_regex_of_its_own():
    for path in ROLES.rglob("*.yml"):
        text = path.read_text()
        assert "_re:" not in text and "match('^[0-9" not in text, path
