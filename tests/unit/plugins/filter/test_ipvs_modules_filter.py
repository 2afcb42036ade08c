"""lvs.cluster.ipvs_modules: the kernel modules of a service list, from the model's one definition."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.cluster.plugins.filter.ipvs_modules import FilterModule, ipvs_modules
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import DEFAULT_SCHEDULER


def test_ip_vs_then_each_scheduler_and_engine_once_with_the_modules_default():
    services = [
        {"protocol": "tcp", "address": "192.0.2.10", "port": 80, "scheduler": "rr"},
        {"fwmark": 7},
        {"protocol": "udp", "address": "192.0.2.10", "port": 5060, "scheduler": "rr", "persistence_engine": "sip"},
        {"protocol": "tcp", "address": "192.0.2.11", "port": 80, "scheduler": None},
    ]
    assert DEFAULT_SCHEDULER == "wlc"
    assert ipvs_modules(services) == ["ip_vs", "ip_vs_rr", "ip_vs_wlc", "ip_vs_pe_sip"]
    assert ipvs_modules([]) == ["ip_vs"]


@pytest.mark.parametrize("value", [None, {"scheduler": "rr"}, ["rr"]])
def test_anything_but_a_list_of_dicts_is_refused(value):
    with pytest.raises(AnsibleFilterError, match="expects a list of services"):
        ipvs_modules(value)


def test_registered_under_its_documented_name():
    assert FilterModule().filters() == {"ipvs_modules": ipvs_modules}
