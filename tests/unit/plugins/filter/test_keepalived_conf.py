"""lvs.cluster.keepalived_conf: keepalived.conf from service_owners' keepalived list."""

from pathlib import Path

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.cluster.plugins.filter.keepalived_conf import FilterModule, keepalived_conf
from ansible_collections.lvs.cluster.plugins.filter.service_owners import service_owners

FIXTURES = Path(__file__).resolve().parents[2] / 'fixtures' / 'keepalived'
HEADER = '# Managed by lvs.cluster (director role): health-checked virtual services.'
NAT_LAB = [{'protocol': 'tcp', 'address': '192.168.2.54', 'port': 80, 'scheduler': 'rr',
            'health_check': {'type': 'http', 'path': '/'},
            'real_servers': [{'address': '192.168.4.52', 'forwarding': 'nat'},
                             {'address': '192.168.4.53', 'forwarding': 'nat'}]}]


def test_the_role_s_pipeline_renders_the_nat_lab_file():
    """director_services | service_owners | keepalived_conf, as the director role chains them."""
    records = service_owners(NAT_LAB, name='director_services')['keepalived']
    assert keepalived_conf(records, header=HEADER) == (FIXTURES / 'nat_keepalived.conf').read_text()


def test_script_user_and_no_header():
    assert keepalived_conf([], script_user='lvs') == (
        'global_defs {\n    enable_script_security\n    script_user lvs\n}\n')


@pytest.mark.parametrize('value', [None, {'address': '192.0.2.1'}, 'text'])
def test_not_a_list(value):
    with pytest.raises(AnsibleFilterError, match='^keepalived_conf takes the keepalived list of lvs.cluster.service_owners$'):
        keepalived_conf(value)


@pytest.mark.parametrize('records', [
    NAT_LAB,                                                        # the input of service_owners, not its output
    [{'protocol': 'tcp', 'address': '192.0.2.1', 'port': 80}],
    [None],
])
def test_not_a_record(records):
    with pytest.raises(AnsibleFilterError, match='^keepalived_conf: not a record of lvs.cluster.service_owners: '):
        keepalived_conf(records)


def test_filter_module_maps_the_name():
    assert FilterModule().filters() == {'keepalived_conf': keepalived_conf}
