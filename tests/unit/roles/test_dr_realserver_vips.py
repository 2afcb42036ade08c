"""dr_realserver derives its VIPs from the director's services with the same expansion the director uses."""

import json
import sys

import yaml

from lab_harness import playbook

ROLE = playbook.REPO / "roles" / "dr_realserver"
SERVICES = [
    {"protocol": "tcp", "address": "192.0.2.10", "port": 80, "real_servers_from_group": "web"},
    {"protocol": "tcp", "address": "192.0.2.20", "port": 80, "real_servers": [{"address": "10.0.0.12"}]},
    {"fwmark": 7, "real_servers_from_group": "web"},
]


def derived(tmp_path, host, without_rip=False):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        "directors": {"hosts": {"lb1": {"director_services": SERVICES}}},
        "web": {"hosts": dict({"web1": {"lvs_rip": "10.0.0.11"}, "web2": {"lvs_rip": "10.0.0.12"}},
                              **({"other": {}} if without_rip else {}))},
    }}}))
    out = tmp_path / ("%s.json" % host)
    play = [{"hosts": host, "connection": "local", "gather_facts": False,
             "vars_files": [str(ROLE / "defaults/main.yml"), str(ROLE / "vars/main.yml")],
             "tasks": [{"ansible.builtin.copy": {"dest": str(out), "mode": "0644",
                                                 "content": "{{ __dr_realserver_vips | to_json }}"}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    proc = playbook.run_playbook(inventory, tmp_path / "play.yml", stats=False,
                                 extra_vars={"ansible_python_interpreter": sys.executable,
                                             "dr_realserver_director_group": "directors"})[0]
    return proc, (json.loads(out.read_text()) if out.exists() else None)


def test_a_host_takes_the_vips_of_the_services_whose_pool_holds_its_lvs_rip(tmp_path):
    assert derived(tmp_path, "web1")[1] == ["192.0.2.10"]
    assert derived(tmp_path, "web2")[1] == ["192.0.2.10", "192.0.2.20"]


def test_a_group_host_without_lvs_rip_fails_naming_the_parameter(tmp_path):
    proc, vips = derived(tmp_path, "web1", without_rip=True)
    assert vips is None
    assert "director_services[0].real_servers_from_group: host 'other' of group 'web' has no lvs_rip" in proc.stdout
