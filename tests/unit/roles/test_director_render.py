"""The director role's variables and templates, rendered by Ansible itself for each OS family.

No RHEL guest can be built here (the image is Debian), so the RedHat paths are checked by rendering.
"""

import json
import sys

import pytest
import yaml

from lab_harness import playbook

ROLE = playbook.REPO / "roles" / "director"
BOOT = playbook.REPO / "roles" / "boot_state"
# template file -> its source; the shared unit and modules file are boot_state's, fed the director's values
TEMPLATES = {
    "modules-load.conf.j2": BOOT / "templates" / "modules-load.conf.j2",
    "vip.service.j2": BOOT / "templates" / "unit.service.j2",
    "ipvsadm.default.j2": ROLE / "templates" / "ipvsadm.default.j2",
}
# what tasks/kernel.yml and tasks/vips.yml pass to boot_state, and the preflight's expansion and split
PLAY_VARS = {
    "__director_pool": "{{ director_services | lvs.cluster.ipvs_services(groups, hostvars, name='director_services') }}",
    "__director_owners": "{{ __director_pool | lvs.cluster.service_owners(name='director_services') }}",
    "boot_state_modules": "{{ __director_modules }}",
    "boot_state_unit": "lvs-cluster-director-vip.service",
    "boot_state_addresses": "{{ director_vips }}",
}
SERVICES = [
    {"protocol": "tcp", "address": "192.0.2.10", "port": 80, "scheduler": "wrr",
     "real_servers": [{"address": "10.0.0.11", "forwarding": "nat", "weight": 2}]},
    {"fwmark": 7, "scheduler": "sh", "real_servers": [{"address": "10.0.0.12"}]},
]


def render(tmp_path, family, extra, inventory=None):
    out = tmp_path / "out"
    out.mkdir()
    play = [{
        "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars_files": [str(BOOT / "defaults/main.yml"), str(BOOT / "vars/main.yml"), str(ROLE / "defaults/main.yml"),
                       str(ROLE / "vars/main.yml"), str(ROLE / ("vars/%s.yml" % family))],
        "tasks": [
            {"ansible.builtin.template": {"src": str(src), "dest": str(out / name), "mode": "0644"}}
            for name, src in TEMPLATES.items()
        ] + [{"ansible.builtin.copy": {
            "dest": str(out / "facts.json"), "mode": "0644",
            "content": "{{ {'rules_file': __director_rules_file, 'defaults_file': __director_defaults_file,"
                       " 'service': __director_service, 'forwarding_on': __director_forwarding_on | bool,"
                       " 'sysctls': __director_sysctls} | to_json }}"}}],
    }]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    # extra vars: above boot_state's defaults, as the include_role vars are
    extra = dict(PLAY_VARS, **extra, ansible_python_interpreter=sys.executable)
    inventories = ["localhost,"] + ([inventory] if inventory else [])
    proc = playbook.run_playbook(inventories, tmp_path / "play.yml", extra_vars=extra, stats=False)
    assert proc[0].returncode == 0, proc[0].stdout + proc[0].stderr
    files = {p.name: p.read_text() for p in out.iterdir()}
    return files, json.loads(files["facts.json"])


@pytest.mark.parametrize("family,rules_file,defaults_file", [
    ("Debian", "/etc/ipvsadm.rules", "/etc/default/ipvsadm"),
    ("RedHat", "/etc/sysconfig/ipvsadm", ""),
])
def test_os_family_paths(tmp_path, family, rules_file, defaults_file):
    facts = render(tmp_path, family, {"director_services": SERVICES})[1]
    assert facts["rules_file"] == rules_file
    assert facts["defaults_file"] == defaults_file
    assert facts["service"] == "ipvsadm"


def test_modules_cover_ip_vs_and_each_scheduler_once(tmp_path):
    files = render(tmp_path, "Debian", {"director_services": SERVICES + SERVICES[:1],
                                        "director_extra_modules": ["ip_vs_ftp"]})[0]
    lines = [l for l in files["modules-load.conf.j2"].splitlines() if l and not l.startswith("#")]
    assert lines == ["ip_vs", "ip_vs_wrr", "ip_vs_sh", "ip_vs_ftp"]


def test_modules_take_the_module_default_scheduler_and_the_persistence_engine(tmp_path):
    services = [{"protocol": "udp", "address": "192.0.2.10", "port": 5060, "persistence_timeout": 60,
                 "persistence_engine": "sip"}]
    files = render(tmp_path, "Debian", {"director_services": services})[0]
    lines = [l for l in files["modules-load.conf.j2"].splitlines() if l and not l.startswith("#")]
    assert lines == ["ip_vs", "ip_vs_wlc", "ip_vs_pe_sip"]


def test_auto_ip_forward_follows_nat_and_vs_sysctls_get_their_prefix(tmp_path):
    """The role hands __director_sysctls to arp_tuning, whose engine renders the drop-in."""
    from ansible_collections.lvs.cluster.plugins.module_utils._sysctl import check_sysctls
    from ansible_collections.lvs.cluster.plugins.modules.arp_tuning import render_dropin

    facts = render(tmp_path, "Debian", {"director_services": SERVICES,
                                        "director_vs_sysctls": {"conntrack": 1, "expire_nodest_conn": 1}})[1]
    assert facts["forwarding_on"] is True
    assert facts["sysctls"] == {"net.ipv4.ip_forward": 1, "net.ipv4.vs.conntrack": 1, "net.ipv4.vs.expire_nodest_conn": 1}
    lines = [l for l in render_dropin([], {}, check_sysctls(facts["sysctls"])).splitlines() if not l.startswith("#")]
    assert lines == ["net.ipv4.ip_forward = 1", "net.ipv4.vs.conntrack = 1", "net.ipv4.vs.expire_nodest_conn = 1"]


def test_auto_ip_forward_leaves_dr_only_directors_alone(tmp_path):
    facts = render(tmp_path, "Debian", {"director_services": SERVICES[1:]})[1]
    assert facts["forwarding_on"] is False
    assert facts["sysctls"] == {}


def test_explicit_ip_forward_false_is_written(tmp_path):
    facts = render(tmp_path, "Debian", {"director_services": SERVICES[1:], "director_ip_forward": False})[1]
    assert facts["sysctls"] == {"net.ipv4.ip_forward": 0}


def test_vip_unit_adds_and_removes_host_routes(tmp_path):
    vips = [{"address": "192.0.2.10", "interface": "eth1"}, {"address": "2001:db8::10", "interface": "eth1"},
            {"address": "198.51.100.7", "interface": "eth2", "prefix": 24}]
    files = render(tmp_path, "Debian", {"director_vips": vips})[0]
    unit = files["vip.service.j2"]
    assert "ExecStart=ip addr replace 192.0.2.10/32 dev eth1" in unit
    assert "ExecStart=ip addr replace 2001:db8::10/128 dev eth1" in unit
    assert "ExecStart=ip addr replace 198.51.100.7/24 dev eth2" in unit
    assert "ExecStop=-ip addr del 192.0.2.10/32 dev eth1" in unit
    # a reload puts back a missing address without removing the others first
    assert "ExecReload=ip addr replace 198.51.100.7/24 dev eth2" in unit
    assert "ExecReload=-" not in unit and "ExecStop=-ip addr del 2001:db8::10/128 dev eth1" in unit


def test_nat_detection_sees_real_servers_from_groups(tmp_path):
    services = [{"protocol": "tcp", "address": "192.0.2.10", "port": 80, "real_servers_from_group": "pool"}]
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"pool": {"hosts": {
        "web1": {"lvs_rip": "10.0.0.11", "lvs_forwarding": "nat"}}}}}}))
    facts = render(tmp_path, "Debian", {"director_services": services}, inventory=inventory)[1]
    assert facts["forwarding_on"] is True
    assert facts["sysctls"] == {"net.ipv4.ip_forward": 1}


def test_debian_defaults_turn_auto_load_on(tmp_path):
    files = render(tmp_path, "Debian", {})[0]
    assert 'AUTO="true"' in files["ipvsadm.default.j2"].splitlines()


def test_argument_spec_choices_are_the_modules_own():
    """The role's typed director_services repeats ipvs_table's choices for early errors: they must not drift."""
    from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_spec import service_spec

    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    role = spec["argument_specs"]["main"]["options"]["director_services"]["options"]
    module = service_spec(purge_default=True)
    for name, option in module.items():
        assert name in role, name
        assert role[name].get("choices") == option.get("choices"), name
        assert role[name]["type"] == option["type"], name
    rs_role = role["real_servers"]["options"]
    for name, option in module["real_servers"]["options"].items():
        assert rs_role[name].get("choices") == option.get("choices"), name
        assert rs_role[name]["type"] == option["type"], name
    assert set(role) - set(module) == {"real_servers_from_group", "health_check"}
    # health_check and the real servers' hooks are keepalived's: their names and choices are _keepalived's
    from ansible_collections.lvs.cluster.plugins.module_utils import _keepalived
    assert set(rs_role) - set(module["real_servers"]["options"]) == set(_keepalived.REAL_SERVER_HOOKS)
    hc_role = role["health_check"]["options"]
    assert sorted(hc_role) == sorted(_keepalived.HEALTH_CHECK_KEYS)
    assert hc_role["type"]["choices"] == list(_keepalived.CHECK_TYPES)
    assert hc_role["on_failure"]["choices"] == list(_keepalived.ON_FAILURE)
    from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import DEFAULT_SCHEDULER
    assert "C(%s) when omitted" % DEFAULT_SCHEDULER in role["scheduler"]["description"]
