"""Health-checked services as keepalived configuration: records, defaults, rejects and rendering.

Every expected block is written out here, not computed by the code under test. The NAT lab's is the
file the director role rendered on the lab guest, which keepalived 2.2.7 accepted (--config-test).
"""

from pathlib import Path

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError
from ansible_collections.lvs.cluster.plugins.module_utils._keepalived import (
    DEFAULTS, build_checked_service, build_health_check, detection_seconds, render_config, render_virtual_server,
    split_services)

FIXTURES = Path(__file__).resolve().parents[2] / 'fixtures' / 'keepalived'
HEADER = '# Managed by lvs.cluster (director role): health-checked virtual services.'
NAT_LAB = {'protocol': 'tcp', 'address': '192.168.2.54', 'port': 80, 'scheduler': 'rr',
           'health_check': {'type': 'http', 'path': '/'},
           'real_servers': [{'address': '192.168.4.52', 'forwarding': 'nat'},
                            {'address': '192.168.4.53', 'forwarding': 'nat'}]}
SVC = {'protocol': 'tcp', 'address': '192.0.2.10', 'port': 80,
       'real_servers': [{'address': '10.0.0.1', 'forwarding': 'nat'}]}


def checked(params):
    table, records, ignore = split_services([params], 'director_services')
    assert table == [] and len(records) == 1
    return records[0]


def block(params):
    return '\n'.join(render_virtual_server(checked(params))) + '\n'


def with_check(**hc):
    return dict(SVC, health_check=hc)


# ---- the lab ----

def test_nat_lab_renders_the_file_keepalived_accepted_byte_for_byte():
    text = render_config([checked(NAT_LAB)], script_user='keepalived_script', header=HEADER)
    assert text == (FIXTURES / 'nat_keepalived.conf').read_text()


def test_nat_lab_record_is_canonical_with_defaults_filled():
    record = build_checked_service(NAT_LAB, 'director_services[0]')
    assert record['health_check'] == {
        'type': 'http', 'port': None, 'path': '/', 'status_codes': None, 'digest': None, 'regex': None,
        'virtualhost': None, 'script': None, 'interval': 1.0, 'timeout': 0.6, 'retries': 1,
        'delay_before_retry': 0.3, 'alpha': False, 'on_failure': 'remove', 'expire_connections': True,
        'sorry_server': None, 'quorum': None, 'hysteresis': None, 'quorum_up': None, 'quorum_down': None}
    assert record['real_servers'] == [
        {'address': '192.168.4.52', 'port': 80, 'forwarding': 'nat', 'weight': 1, 'upper_threshold': 0,
         'lower_threshold': 0, 'tun_type': None, 'tun_port': None, 'tun_checksum': None,
         'notify_up': None, 'notify_down': None},
        {'address': '192.168.4.53', 'port': 80, 'forwarding': 'nat', 'weight': 1, 'upper_threshold': 0,
         'lower_threshold': 0, 'tun_type': None, 'tun_port': None, 'tun_checksum': None,
         'notify_up': None, 'notify_down': None}]
    assert (record['protocol'], record['address'], record['port'], record['fwmark'], record['family'],
            record['scheduler']) == ('tcp', '192.168.2.54', 80, None, 'ipv4', 'rr')


def test_render_config_without_header_and_services_sorted_by_key():
    first = checked(dict(SVC, port=443, health_check={'type': 'tcp'}))
    second = checked(dict(SVC, health_check={'type': 'tcp'}))
    text = render_config([first, second], script_user='ka', extra_global=['router_id director'])
    assert text.startswith('global_defs {\n    enable_script_security\n    script_user ka\n'
                           '    router_id director\n}\n\nvirtual_server 192.0.2.10 80 {\n')
    assert text.index('virtual_server 192.0.2.10 80 {') < text.index('virtual_server 192.0.2.10 443 {')
    assert render_config([]) == 'global_defs {\n    enable_script_security\n    script_user keepalived_script\n}\n'


# ---- literal blocks ----

def test_tcp_check_quiesce_alpha_and_custom_port():
    assert block(with_check(type='tcp', on_failure='quiesce', alpha=True, port=8080)) == """\
virtual_server 192.0.2.10 80 {
    protocol TCP
    delay_loop 1
    lvs_sched wlc
    alpha
    inhibit_on_failure
    real_server 10.0.0.1 80 {
        weight 1
        lvs_method NAT
        TCP_CHECK {
            connect_port 8080
            connect_timeout 0.6
            retry 1
            delay_before_retry 0.3
        }
    }
}
"""


def test_http_status_codes_digest_regex_and_timers():
    params = with_check(type='http', path='/health', status_codes=[204, 200, 204],
                        digest='0123456789ABCDEF0123456789abcdef', regex='ok.*', interval=5, timeout=2.5,
                        retries=3, delay_before_retry=1.25)
    assert block(params) == """\
virtual_server 192.0.2.10 80 {
    protocol TCP
    delay_loop 5
    lvs_sched wlc
    real_server 10.0.0.1 80 {
        weight 1
        lvs_method NAT
        HTTP_GET {
            url {
                path /health
                status_code 200 204
                digest 0123456789abcdef0123456789abcdef
                regex "ok.*"
            }
            connect_port 80
            connect_timeout 2.5
            retry 3
            delay_before_retry 1.25
            fast_recovery
        }
    }
}
"""


def test_https_with_virtualhost_is_ssl_get_and_checks_the_real_server_port():
    params = dict(SVC, port=443, health_check={'type': 'https', 'path': '/', 'virtualhost': 'www.example.com'},
                  real_servers=[{'address': '10.0.0.1', 'port': 8443, 'forwarding': 'nat', 'weight': 2}])
    assert block(params) == """\
virtual_server 192.0.2.10 443 {
    protocol TCP
    delay_loop 1
    lvs_sched wlc
    real_server 10.0.0.1 8443 {
        weight 2
        lvs_method NAT
        SSL_GET {
            url {
                path /
            }
            connect_port 8443
            connect_timeout 0.6
            retry 1
            delay_before_retry 0.3
            virtualhost www.example.com
            fast_recovery
        }
    }
}
"""


@pytest.mark.parametrize('timeout, interval, misc_timeout', [
    (0.7, 1, 1), (1, 2, 1), (1.5, 3, 2), (2.0005, 3, 3), (0.001, 1, 1)])
def test_misc_check_quotes_its_path_and_rounds_the_timeout_up(timeout, interval, misc_timeout):
    params = dict(SVC, protocol='udp', port=53, real_servers=[{'address': '10.0.0.5'}],
                  health_check={'type': 'misc', 'script': '/usr/local/bin/check_dns 10.0.0.5',
                                'timeout': timeout, 'interval': interval})
    assert block(params) == """\
virtual_server 192.0.2.10 53 {
    protocol UDP
    delay_loop %d
    lvs_sched wlc
    real_server 10.0.0.5 53 {
        weight 1
        lvs_method DR
        MISC_CHECK {
            misc_path "/usr/local/bin/check_dns 10.0.0.5"
            misc_timeout %d
            retry 1
            delay_before_retry 0.3
        }
    }
}
""" % (interval, misc_timeout)


def test_fwmark_ipv6_sh_flags_persistence_dr_thresholds_and_notify():
    params = {'fwmark': 7, 'family': 'ipv6', 'scheduler': 'sh', 'scheduler_flags': ['sh-port', 'sh-fallback'],
              'persistence_timeout': 300, 'persistence_netmask': '64',
              'health_check': {'type': 'tcp', 'port': 443},
              'real_servers': [{'address': '2001:DB8::11', 'forwarding': 'dr', 'weight': 3, 'upper_threshold': 100,
                                'lower_threshold': 10, 'notify_up': '/usr/local/bin/up rs1',
                                'notify_down': '/usr/local/bin/down rs1'}]}
    assert block(params) == """\
virtual_server fwmark 7 {
    ip_family inet6
    delay_loop 1
    lvs_sched sh
    sh-fallback
    sh-port
    persistence_timeout 300
    persistence_granularity 64
    real_server 2001:db8::11 0 {
        weight 3
        lvs_method DR
        uthreshold 100
        lthreshold 10
        notify_up "/usr/local/bin/up rs1"
        notify_down "/usr/local/bin/down rs1"
        TCP_CHECK {
            connect_port 443
            connect_timeout 0.6
            retry 1
            delay_before_retry 0.3
        }
    }
}
"""


def test_ipv4_fwmark_has_no_ip_family_and_a_real_server_port_is_the_check_port():
    params = {'fwmark': 9, 'health_check': {'type': 'tcp'},
              'real_servers': [{'address': '10.0.0.1', 'port': 8080}]}
    lines = block(params).splitlines()
    assert lines[:2] == ['virtual_server fwmark 9 {', '    delay_loop 1']
    assert '    real_server 10.0.0.1 8080 {' in lines
    assert '            connect_port 8080' in lines


def test_persistence_netmask_and_engine_tun_gue_and_ops():
    params = {'protocol': 'udp', 'address': '192.0.2.10', 'port': 5060, 'scheduler': 'rr',
              'persistence_timeout': 60, 'persistence_netmask': '255.255.255.0', 'persistence_engine': 'sip',
              'one_packet': True, 'health_check': {'type': 'misc', 'script': '/usr/local/bin/sip_ping'},
              'real_servers': [{'address': '10.0.0.5', 'forwarding': 'tun', 'tun_type': 'gue', 'tun_port': 6080,
                                'tun_checksum': 'csum'},
                               {'address': '10.0.0.6', 'forwarding': 'tun'}]}
    assert block(params) == """\
virtual_server 192.0.2.10 5060 {
    protocol UDP
    delay_loop 1
    lvs_sched rr
    persistence_timeout 60
    persistence_granularity 255.255.255.0
    persistence_engine sip
    ops
    real_server 10.0.0.5 5060 {
        weight 1
        lvs_method TUN type gue port 6080 csum
        MISC_CHECK {
            misc_path "/usr/local/bin/sip_ping"
            misc_timeout 1
            retry 1
            delay_before_retry 0.3
        }
    }
    real_server 10.0.0.6 5060 {
        weight 1
        lvs_method TUN
        MISC_CHECK {
            misc_path "/usr/local/bin/sip_ping"
            misc_timeout 1
            retry 1
            delay_before_retry 0.3
        }
    }
}
"""


def test_persistence_with_the_host_netmask_writes_no_granularity():
    lines = block(dict(SVC, persistence_timeout=120, health_check={'type': 'tcp'})).splitlines()
    assert '    persistence_timeout 120' in lines
    assert not [line for line in lines if 'granularity' in line]


def test_sorry_server_quorum_hysteresis_and_quorum_scripts():
    params = with_check(type='tcp', sorry_server={'address': '192.0.2.99'}, quorum=2, hysteresis=0,
                        quorum_up='/usr/local/bin/quorum up', quorum_down='/usr/local/bin/quorum down')
    assert block(params) == """\
virtual_server 192.0.2.10 80 {
    protocol TCP
    delay_loop 1
    lvs_sched wlc
    quorum 2
    hysteresis 0
    quorum_up "/usr/local/bin/quorum up"
    quorum_down "/usr/local/bin/quorum down"
    sorry_server 192.0.2.99 80
    real_server 10.0.0.1 80 {
        weight 1
        lvs_method NAT
        TCP_CHECK {
            connect_port 80
            connect_timeout 0.6
            retry 1
            delay_before_retry 0.3
        }
    }
}
"""


def test_sorry_server_port_of_its_own():
    lines = block(with_check(type='tcp', sorry_server={'address': '192.0.2.99', 'port': 8080})).splitlines()
    assert '    sorry_server 192.0.2.99 8080' in lines


# ---- defaults and detection ----

def test_defaults_detect_within_three_seconds_down_and_two_up():
    hc = build_health_check({'type': 'tcp'}, 'ipv4', 'health_check')
    assert (hc['interval'], hc['timeout'], hc['retries'], hc['delay_before_retry']) == (1.0, 0.6, 1, 0.3)
    assert detection_seconds(hc) == (2.5, 1.6)


def test_detection_of_a_custom_check():
    hc = build_health_check({'type': 'tcp', 'interval': 6, 'timeout': 2, 'retries': 2, 'delay_before_retry': 1},
                            'ipv4', 'health_check')
    # down: 6 + 2 + 2 * (1 + 2); up: 6 + 2
    assert detection_seconds(hc) == (14.0, 8.0)
    hc = build_health_check({'type': 'tcp', 'retries': 0}, 'ipv4', 'health_check')
    assert detection_seconds(hc) == (1.6, 1.6)


def test_defaults_are_not_modified_by_a_check():
    before = dict(DEFAULTS)
    build_health_check({'type': 'tcp', 'interval': 9, 'on_failure': 'quiesce'}, 'ipv4', 'hc')
    assert DEFAULTS == before


# ---- rejects: each names its parameter ----

HC = 'director_services[0].health_check'
REJECTS = [
    ('unknown type', with_check(type='smtp'), HC + '.type: must be one of tcp, http, https, misc'),
    ('no type', with_check(), HC + '.type: must be one of'),
    ('http without path', with_check(type='http'), HC + '.path: is required for a http check'),
    ('https without path', with_check(type='https'), HC + '.path: is required for a https check'),
    ('misc without script', with_check(type='misc'), HC + '.script: is required for a misc check'),
    ('timeout equal to interval', with_check(type='tcp', timeout=1), HC + '.timeout: 1 must be below interval 1'),
    ('timeout above interval', with_check(type='tcp', interval=2, timeout=3), HC + '.timeout: 3 must be below interval 2'),
    ('status 99', with_check(type='http', path='/', status_codes=[200, 99]), HC + '.status_codes: 99 is not'),
    ('status 600', with_check(type='http', path='/', status_codes=[600]), HC + '.status_codes: 600 is not'),
    ('status text', with_check(type='http', path='/', status_codes=['200']), HC + ".status_codes: '200' is not"),
    ('status bool', with_check(type='http', path='/', status_codes=[True]), HC + '.status_codes: True is not'),
    ('status empty', with_check(type='http', path='/', status_codes=[]), HC + '.status_codes: must be a non-empty list'),
    ('status not a list', with_check(type='http', path='/', status_codes=200), HC + '.status_codes: must be a non-empty list'),
    ('sorry server ipv6 for ipv4', with_check(type='tcp', sorry_server={'address': '2001:db8::1'}),
     HC + '.sorry_server.address: 2001:db8::1 is ipv6 but the service is ipv4'),
    ('sorry server ipv4 for ipv6', dict(SVC, address='2001:db8::10', real_servers=[{'address': '2001:db8::11'}],
                                        health_check={'type': 'tcp', 'sorry_server': {'address': '192.0.2.99'}}),
     HC + '.sorry_server.address: 192.0.2.99 is ipv4 but the service is ipv6'),
    ('sorry server bad address', with_check(type='tcp', sorry_server={'address': 'sorry.example'}),
     HC + ".sorry_server.address: 'sorry.example' is not an IPv4 or IPv6 address"),
    ('sorry server without address', with_check(type='tcp', sorry_server={'port': 80}),
     HC + '.sorry_server: must be a dict with address'),
    ('quiesce with expire_connections', with_check(type='tcp', on_failure='quiesce', expire_connections=True),
     HC + '.expire_connections: is a remove option'),
    ('path without slash', with_check(type='http', path='health'), HC + ".path: must start with /, got 'health'"),
    ('digest short', with_check(type='http', path='/', digest='abc'), HC + '.digest: must be the MD5'),
    ('digest not hex', with_check(type='http', path='/', digest='g' * 32), HC + '.digest: must be the MD5'),
    ('unknown health_check option', with_check(type='tcp', bogus=1), HC + ': unknown option(s) bogus (known: type,'),
    ('unknown real-server option', dict(SVC, health_check={'type': 'tcp'},
                                        real_servers=[{'address': '10.0.0.1', 'bogus': 1}]),
     'director_services[0].real_servers[0]: unknown option(s) bogus'),
    ('unknown service option', dict(with_check(type='tcp'), bogus=1), 'director_services[0]: unknown option(s) bogus'),
    ('purge_real_servers false', dict(with_check(type='tcp'), purge_real_servers=False),
     'director_services[0].purge_real_servers: cannot be false on a health-checked service'),
    ('no real servers', dict(with_check(type='tcp'), real_servers=[]),
     'director_services[0].real_servers: a health-checked service needs at least one real server'),
    ('real servers null', dict(with_check(type='tcp'), real_servers=None),
     'director_services[0].real_servers: a health-checked service needs at least one real server'),
    ('double quote in script', with_check(type='misc', script='/bin/check "x"'),
     HC + '.script: must be a non-empty string without double quotes or newlines'),
    ('newline in script', with_check(type='misc', script='/bin/check\nreboot'), HC + '.script: must be a non-empty string'),
    ('blank script', with_check(type='misc', script='  '), HC + '.script: must be a non-empty string'),
    ('double quote in notify_up', dict(SVC, health_check={'type': 'tcp'},
                                       real_servers=[{'address': '10.0.0.1', 'notify_up': '/bin/up "x"'}]),
     'director_services[0].real_servers[0].notify_up: must be a non-empty string without double quotes'),
    ('double quote in quorum_down', with_check(type='tcp', quorum_down='/bin/q "x"'), HC + '.quorum_down: must be'),
    ('double quote in regex', with_check(type='http', path='/', regex='a"b'), HC + '.regex: must be'),
    ('path on tcp', with_check(type='tcp', path='/'), HC + '.path: only applies to http and https checks (type is tcp)'),
    ('digest on misc', with_check(type='misc', script='/x', digest='0' * 32), HC + '.digest: only applies to http'),
    ('script on http', with_check(type='http', path='/', script='/x'), HC + '.script: only applies to misc checks'),
    ('port on misc', with_check(type='misc', script='/x', port=80), HC + '.port: does not apply to misc checks'),
    ('port too high', with_check(type='tcp', port=65536), HC + '.port: must be between 1 and 65535'),
    ('port zero', with_check(type='tcp', port=0), HC + '.port: must be an integer >= 1'),
    ('unknown on_failure', with_check(type='tcp', on_failure='drop'), HC + ".on_failure: must be one of remove, quiesce"),
    ('alpha text', with_check(type='tcp', alpha='yes'), HC + ".alpha: must be true or false, got 'yes'"),
    ('quorum zero', with_check(type='tcp', quorum=0), HC + '.quorum: must be an integer >= 1'),
    ('hysteresis negative', with_check(type='tcp', hysteresis=-1), HC + '.hysteresis: must be an integer >= 0'),
    ('retries fraction', with_check(type='tcp', retries=1.5), HC + '.retries: must be an integer'),
    ('interval text', with_check(type='tcp', interval='soon'), HC + ".interval: must be a number, got 'soon'"),
    ('interval zero', with_check(type='tcp', interval=0), HC + '.interval: must be a number >= 0.001'),
    ('interval bool', with_check(type='tcp', interval=True), HC + '.interval: must be a number'),
    ('health_check not a dict', dict(SVC, health_check='tcp'), HC + ': must be a dict, got str'),
    ('fwmark tcp check without a port', {'fwmark': 7, 'health_check': {'type': 'tcp'},
                                         'real_servers': [{'address': '10.0.0.1'}]},
     HC + '.port: is required for a tcp check of a fwmark service whose real servers have no port'),
    ('bad service address', dict(with_check(type='tcp'), address='192.0.2.300'),
     "director_services[0].address: '192.0.2.300' is not an IPv4 or IPv6 address"),
    ('bad real server port', dict(SVC, health_check={'type': 'tcp'},
                                  real_servers=[{'address': '10.0.0.1', 'port': 81}]),
     'director_services[0].real_servers[0].port: 81 differs from the service port 80'),
]


@pytest.mark.parametrize('params, message', [r[1:] for r in REJECTS], ids=[r[0] for r in REJECTS])
def test_rejects_name_the_parameter(params, message):
    with pytest.raises(IpvsError) as err:
        split_services([dict(SVC, health_check=None), params], 'director_services')
    # the checked service is the second entry: the index in the message is the list's
    assert str(err.value).startswith(message.replace('director_services[0]', 'director_services[1]')), str(err.value)


def test_the_same_checked_service_twice_is_rejected():
    services = [with_check(type='tcp'), dict(with_check(type='http', path='/'), address='192.0.2.10')]
    with pytest.raises(IpvsError, match=r'^director_services\[1\]: the same virtual service as director_services\[0\]$'):
        split_services(services, 'director_services')
    fwmarks = [{'fwmark': 7, 'health_check': {'type': 'misc', 'script': '/x'}, 'real_servers': [{'address': '10.0.0.1'}]},
               {'fwmark': 7, 'family': 'ipv4', 'health_check': {'type': 'misc', 'script': '/y'},
                'real_servers': [{'address': '10.0.0.2'}]}]
    with pytest.raises(IpvsError, match=r'^services\[1\]: the same virtual service as services\[0\]$'):
        split_services(fwmarks)


def test_the_same_key_in_both_owners_is_left_to_ipvs_table():
    """split_services does not compare the table's services with the checked ones: ipvs_table refuses a
    declared service that matches an ignore selector ('... matches ignore[N], so it cannot be managed')."""
    table, records, ignore = split_services([SVC, with_check(type='tcp')])
    assert table == [SVC] and ignore == [{'protocol': 'tcp', 'address': '192.0.2.10', 'port': 80}]


def test_notify_hooks_on_a_table_service_pass_through_to_ipvs_table():
    """notify_* are keepalived's; on a service without health_check nothing here rejects them: the entry
    goes to ipvs_table unchanged and its argument spec refuses the unknown real-server option."""
    service = dict(SVC, real_servers=[{'address': '10.0.0.1', 'notify_up': '/bin/up'}])
    assert split_services([service]) == ([service], [], [])


# ---- split_services ----

def test_split_services_by_owner():
    plain = {'protocol': 'udp', 'address': '192.0.2.10', 'port': 53, 'real_servers': [{'address': '10.0.0.1'}]}
    switched_off = dict(SVC, port=8080, health_check=None)
    v6 = {'address': '2001:DB8::10', 'port': 443, 'health_check': {'type': 'tcp'},
          'real_servers': [{'address': '2001:db8::11'}]}
    mark = {'fwmark': 7, 'family': 'ipv6', 'health_check': {'type': 'misc', 'script': '/x'},
            'real_servers': [{'address': '2001:db8::12'}]}
    services = [plain, with_check(type='tcp'), switched_off, v6, mark, {'fwmark': 9}]
    table, records, ignore = split_services(services, 'director_services')
    assert table == [plain, dict(SVC, port=8080), {'fwmark': 9}]
    assert 'health_check' in switched_off       # the input is not modified
    assert ignore == [{'protocol': 'tcp', 'address': '192.0.2.10', 'port': 80},
                      {'protocol': 'tcp', 'address': '2001:db8::10', 'port': 443},
                      {'fwmark': 7, 'family': 'ipv6'}]
    assert [(r['protocol'], r['address'], r['port'], r['fwmark'], r['family']) for r in records] == [
        ('tcp', '192.0.2.10', 80, None, 'ipv4'), ('tcp', '2001:db8::10', 443, None, 'ipv6'),
        (None, None, None, 7, 'ipv6')]
    assert [r['health_check']['type'] for r in records] == ['tcp', 'tcp', 'misc']


def test_split_services_of_nothing():
    assert split_services(None) == ([], [], [])
    assert split_services([]) == ([], [], [])


def test_a_non_dict_entry_is_left_for_ipvs_table_to_reject():
    assert split_services(['web']) == (['web'], [], [])


def test_expire_connections_is_on_for_removing_checks_and_off_for_quiescing_ones_unless_given():
    def resolved(**hc):
        service = dict(NAT_LAB, health_check=dict(NAT_LAB['health_check'], **hc))
        return build_checked_service(service, 'director_services[0]')['health_check']['expire_connections']
    assert [resolved(), resolved(on_failure='quiesce'), resolved(expire_connections=False)] == [True, False, False]
