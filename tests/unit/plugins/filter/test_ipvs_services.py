"""lvs.cluster.ipvs_services: the one expansion of real_servers_from_group (director role, later keepalived)."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.cluster.plugins.filter.ipvs_services import FilterModule, ipvs_services

GROUPS = {"web": ["rs1", "rs2"], "empty": [], "noaddr": ["rs1", "rs3"], "badaddr": ["rs4"], "v6": ["rs5"]}
HOSTVARS = {
    "rs1": {"lvs_rip": "192.168.4.52", "lvs_forwarding": "nat"},
    "rs2": {"lvs_rip": "192.168.4.53", "lvs_forwarding": "nat", "lvs_weight": 3},
    "rs3": {"ansible_host": "192.168.4.60"},
    "rs4": {"lvs_rip": "web-4"},
    "rs5": {"lvs_rip": "2001:DB8:0::10"},
}
SERVICE = {"protocol": "tcp", "address": "192.168.2.54", "port": 80, "scheduler": "rr"}


def expand(services):
    return ipvs_services(services, GROUPS, HOSTVARS, name="director_services")


def test_group_becomes_one_real_server_per_host_in_inventory_order():
    out = expand([dict(SERVICE, real_servers_from_group="web")])
    assert out == [dict(SERVICE, real_servers=[
        {"address": "192.168.4.52", "forwarding": "nat"},
        {"address": "192.168.4.53", "forwarding": "nat", "weight": 3},
    ])]


def test_explicit_real_servers_come_first_and_the_input_is_not_modified():
    service = dict(SERVICE, real_servers_from_group="web",
                   real_servers=[{"address": "192.168.4.99", "forwarding": "nat", "weight": 0}])
    out = expand([service])
    assert [rs["address"] for rs in out[0]["real_servers"]] == ["192.168.4.99", "192.168.4.52", "192.168.4.53"]
    assert service["real_servers_from_group"] == "web"
    assert len(service["real_servers"]) == 1


def test_services_without_a_group_pass_unchanged():
    services = [dict(SERVICE, real_servers=[{"address": "10.0.0.1"}]), {"fwmark": 7}]
    assert expand(services) == services


def test_ipv6_lvs_rip_is_written_in_the_compressed_form_ip_prints():
    out = expand([dict(SERVICE, address="2001:db8::1", real_servers_from_group="v6")])
    assert out[0]["real_servers"] == [{"address": "2001:db8::10"}]


def test_empty_group_with_explicit_real_servers_is_allowed():
    out = expand([dict(SERVICE, real_servers_from_group="empty", real_servers=[{"address": "10.0.0.1"}])])
    assert out[0]["real_servers"] == [{"address": "10.0.0.1"}]


@pytest.mark.parametrize("service,message", [
    (dict(SERVICE, real_servers_from_group="nosuch"),
     "director_services[0].real_servers_from_group: inventory group 'nosuch' does not exist"),
    (dict(SERVICE, real_servers_from_group="empty"),
     "director_services[0].real_servers_from_group: inventory group 'empty' is empty and the service lists no real_servers"),
    (dict(SERVICE, real_servers_from_group="noaddr"),
     "director_services[0].real_servers_from_group: host 'rs3' of group 'noaddr' has no lvs_rip"),
    (dict(SERVICE, real_servers_from_group="badaddr"),
     "director_services[0].real_servers_from_group: lvs_rip of host 'rs4' is not an IP address: web-4"),
    (dict(SERVICE, real_servers_from_group="web", real_servers=[{"address": "192.168.4.53", "port": 80}]),
     "director_services[0]: real server 192.168.4.53:80 is given twice (real_servers and real_servers_from_group 'web')"),
    (dict(SERVICE, real_servers_from_group=""),
     "director_services[0].real_servers_from_group must be the name of an inventory group"),
])
def test_bad_input_names_the_parameter(service, message):
    with pytest.raises(AnsibleFilterError) as err:
        expand([{"fwmark": 1}, service][1:])
    assert message in str(err.value)


def test_the_index_in_the_message_is_the_service_s():
    with pytest.raises(AnsibleFilterError, match=r"director_services\[1\]\.real_servers_from_group"):
        expand([dict(SERVICE), dict(SERVICE, port=443, real_servers_from_group="nosuch")])


def test_registered_under_its_name():
    assert FilterModule().filters() == {"ipvs_services": ipvs_services}
