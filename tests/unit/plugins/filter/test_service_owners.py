"""lvs.cluster.service_owners: one writer per service (ipvs_table or keepalived), errors as filter errors."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.cluster.plugins.filter.service_owners import FilterModule, service_owners

TABLE = {'protocol': 'udp', 'address': '192.168.2.54', 'port': 53, 'real_servers': [{'address': '192.168.4.52'}]}
CHECKED = {'protocol': 'tcp', 'address': '192.168.2.54', 'port': 80, 'scheduler': 'rr',
           'health_check': {'type': 'http', 'path': '/'},
           'real_servers': [{'address': '192.168.4.52', 'forwarding': 'nat'},
                            {'address': '192.168.4.53', 'forwarding': 'nat'}]}


def test_owners_and_detection():
    out = service_owners([TABLE, CHECKED, dict(TABLE, port=123, health_check=None)], name='director_services')
    assert sorted(out) == ['ignore', 'keepalived', 'table']
    assert out['table'] == [TABLE, dict(TABLE, port=123)]
    assert out['ignore'] == [{'protocol': 'tcp', 'address': '192.168.2.54', 'port': 80}]
    [record] = out['keepalived']
    assert record['detection'] == {'down': 2.5, 'up': 1.6}
    assert record['health_check']['type'] == 'http' and record['health_check']['interval'] == 1.0
    assert [(rs['address'], rs['port'], rs['weight']) for rs in record['real_servers']] == [
        ('192.168.4.52', 80, 1), ('192.168.4.53', 80, 1)]


def test_detection_follows_the_check_s_timers():
    checked = dict(CHECKED, health_check={'type': 'tcp', 'interval': 3, 'timeout': 1, 'retries': 2,
                                          'delay_before_retry': 0.5})
    # down: 3 + 1 + 2 * (0.5 + 1); up: 3 + 1
    assert service_owners([checked])['keepalived'][0]['detection'] == {'down': 7.0, 'up': 4.0}


def test_nothing_checked():
    assert service_owners([TABLE]) == {'table': [TABLE], 'keepalived': [], 'ignore': []}
    assert service_owners([]) == {'table': [], 'keepalived': [], 'ignore': []}


@pytest.mark.parametrize('services, name, message', [
    ([TABLE, dict(CHECKED, health_check={'type': 'http'})], 'director_services',
     'director_services[1].health_check.path: is required for a http check'),
    ([dict(CHECKED, health_check={'type': 'tcp', 'timeout': 2})], 'services',
     'services[0].health_check.timeout: 2 must be below interval 1'),
    ([CHECKED, CHECKED], 'director_services', 'director_services[1]: the same virtual service as director_services[0]'),
    ([dict(CHECKED, real_servers=[{'address': '192.168.4.52', 'weigth': 2}])], 'director_services',
     'director_services[0].real_servers[0]: unknown option(s) weigth'),
])
def test_errors_name_the_parameter(services, name, message):
    with pytest.raises(AnsibleFilterError) as err:
        service_owners(services, name=name)
    assert str(err.value).startswith(message), str(err.value)


@pytest.mark.parametrize('value', [None, {'address': '192.0.2.1'}, 'web'])
def test_not_a_list(value):
    with pytest.raises(AnsibleFilterError, match=r'^director_services must be a list of services, got '):
        service_owners(value, name='director_services')


def test_filter_module_maps_the_name():
    assert FilterModule().filters() == {'service_owners': service_owners}
