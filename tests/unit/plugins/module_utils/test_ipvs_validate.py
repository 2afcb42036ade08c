"""Validation: every rejected case names its parameter; accepted input is normalised.

Choices, the key's mutually exclusive options, required_by and required_if are the argument specs'
(test_ipvs_modules.yaml runs them through the modules); these are the checks the specs cannot express.
"""

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_validate import (
    build_dest, build_dests, build_selector, build_service, selector_matches)

SVC = dict(address='192.0.2.10', port=80)

SERVICE_REJECTS = [
    (dict(SVC, port=None), r'^port: is required'),
    (dict(SVC, port=0), r'^port: is required'),
    (dict(SVC, port=65536), r'^port: must be between 1 and 65535'),
    (dict(SVC, address='192.0.2.300'), r'^address: .* is not an IPv4 or IPv6 address'),
    (dict(SVC, address='[2001:db8::1'), r'^address'),
    (dict(fwmark=0), r'^fwmark: must be between 1 and 4294967295'),
    (dict(fwmark=4294967296), r'^fwmark'),
    (dict(SVC, family='ipv6'), r'^family: is ipv6 but address'),
    (dict(SVC, scheduler_flags=['sh-port']), r'^scheduler_flags: flag .sh-port. cannot be used with scheduler wlc'),
    (dict(SVC, scheduler='sh', scheduler_flags=['mh-port']), r'^scheduler_flags: flag .mh-port. cannot be used with scheduler sh'),
    (dict(SVC, scheduler='rr', scheduler_flags=['flag-1']), r'^scheduler_flags'),
    (dict(SVC, persistence_timeout=0), r'^persistence_timeout: must be between 1 and 2678400'),
    (dict(SVC, persistence_timeout=2678401), r'^persistence_timeout'),
    (dict(SVC, persistence_timeout=60, persistence_netmask='24'), r'persistence_netmask: .* dotted IPv4'),
    (dict(address='2001:db8::1', port=80, persistence_timeout=60, persistence_netmask='255.255.0.0'), r'persistence_netmask: .*prefix length'),
    (dict(address='2001:db8::1', port=80, persistence_timeout=60, persistence_netmask='129'), r'persistence_netmask'),
    (dict(SVC, one_packet=True), r'^one_packet: is only allowed for udp or fwmark'),
    (dict(SVC, protocol='sctp', one_packet=True), r'^one_packet'),
]


@pytest.mark.parametrize('params, message', SERVICE_REJECTS)
def test_service_rejects(params, message):
    with pytest.raises(IpvsError, match=message):
        build_service(params)


def test_where_prefix_names_the_list_item():
    with pytest.raises(IpvsError, match=r'^services\[3\]\.one_packet'):
        build_service(dict(SVC, one_packet=True), 'services[3]')
    with pytest.raises(IpvsError, match=r'^services\[3\]: persistence_netmask'):
        build_service(dict(SVC, persistence_timeout=5, persistence_netmask='x'), 'services[3]')


V4 = build_service(SVC)
V6 = build_service(dict(address='2001:db8::1', port=443, protocol='udp'))
FWM = build_service(dict(fwmark=5))

DEST_REJECTS = [
    (V4, dict(address='10.0.0.1', port=81), r'^rs\.port: 81 differs from the service port 80'),
    (V4, dict(address='10.0.0.1', port=81, forwarding='tun'), r'^rs\.port'),
    (V4, dict(address='10.0.0.1', port=0, forwarding='nat'), r'^rs\.port: must be between 1'),
    (V4, dict(address='10.0.0.1', tun_type='gre'), r'^rs\.tun_type: is a tunnel option and needs forwarding=tun'),
    (V4, dict(address='10.0.0.1', forwarding='nat', tun_port=5), r'^rs\.tun_port: is a tunnel option'),
    (V4, dict(address='10.0.0.1', tun_checksum='csum'), r'^rs\.tun_checksum: is a tunnel option'),
    (V4, dict(address='10.0.0.1', forwarding='tun', tun_type='gue', tun_port=0), r'^rs\.tun_port: must be between'),
    (V4, dict(address='10.0.0.1', forwarding='tun', tun_port=6080), r'^rs\.tun_port: is only allowed with tun_type=gue'),
    (V4, dict(address='10.0.0.1', forwarding='tun', tun_type='gre', tun_port=6080), r'^rs\.tun_port'),
    (V4, dict(address='10.0.0.1', forwarding='tun', tun_checksum='csum'), r'^rs\.tun_checksum: is only allowed with tun_type=gue or gre'),
    (V4, dict(address='10.0.0.1', forwarding='tun', tun_type='gre', tun_checksum='remcsum'), r'^rs\.tun_checksum: remcsum'),
    (V4, dict(address='10.0.0.1', weight=-1), r'^rs\.weight: must be between 0 and 65535'),
    (V4, dict(address='10.0.0.1', weight=65536), r'^rs\.weight'),
    (V4, dict(address='10.0.0.1', upper_threshold=2147483648), r'^rs\.upper_threshold'),
    (V4, dict(address='10.0.0.1', lower_threshold=-1), r'^rs\.lower_threshold: must be between'),
    (V4, dict(address='10.0.0.1', upper_threshold=5, lower_threshold=6), r'^rs\.lower_threshold: 6 must not be above upper_threshold 5'),
    (V4, dict(address='10.0.0.1', lower_threshold=1), r'^rs\.lower_threshold: 1 must not be above upper_threshold 0'),
    (V4, dict(address='2001:db8::5'), r'^rs\.address: is ipv6 but the service is ipv4: mixed address families need forwarding=tun'),
    (V6, dict(address='10.0.0.1', forwarding='nat'), r'^rs\.address'),
    (V4, dict(address='10.0.0.256'), r'^rs\.address: .* is not an IPv4 or IPv6 address'),
    (V4, dict(address=None), r'^rs\.address: is required'),
    (FWM, dict(address='10.0.0.1', port=65536), r'^rs\.port: must be between 0 and 65535'),
]


@pytest.mark.parametrize('svc, params, message', DEST_REJECTS)
def test_dest_rejects(svc, params, message):
    with pytest.raises(IpvsError, match=message):
        build_dest(svc, params, 'rs')


def test_duplicates_after_normalisation():
    with pytest.raises(IpvsError, match=r'^real_servers\[1\]: duplicate real server 10.0.0.1 port 80'):
        build_dests(V4, [dict(address='10.0.0.1'), dict(address='10.0.0.1', port=80, forwarding='tun')])
    with pytest.raises(IpvsError, match=r'^services\[0\]\.real_servers\[1\]: duplicate real server 2001:db8::1'):
        build_dests(V6, [dict(address='2001:DB8::1'), dict(address='2001:db8:0::1')], 'services[0]')


@pytest.mark.parametrize('svc, params, expected', [
    (V4, dict(address='10.0.0.1'), dict(port=80, forwarding='dr', weight=1, tun_type=None)),
    (V4, dict(address='10.0.0.1', port=80, forwarding='dr'), dict(port=80)),
    (V4, dict(address='10.0.0.1', port=8080, forwarding='nat'), dict(port=8080)),
    (V4, dict(address='2001:db8::9', forwarding='tun'), dict(port=80, tun_type='ipip', tun_checksum=None)),
    (V4, dict(address='10.0.0.1', forwarding='tun', tun_type='gue', tun_port=6080),
     dict(tun_port=6080, tun_checksum='nocsum')),
    (V6, dict(address='2001:DB8:0::0:9', forwarding='tun', tun_type='gue', tun_port=1, tun_checksum='remcsum'),
     dict(address='2001:db8::9', tun_checksum='remcsum')),
    (FWM, dict(address='10.0.0.1'), dict(port=0)),
    (FWM, dict(address='10.0.0.1', port=8080, forwarding='dr'), dict(port=8080)),
    (V4, dict(address='10.0.0.1', weight=0, upper_threshold=5, lower_threshold=5), dict(weight=0, lower_threshold=5)),
])
def test_dest_accepts_and_normalises(svc, params, expected):
    dest = build_dest(svc, params, 'rs')
    assert dict((k, dest[k]) for k in expected) == expected


@pytest.mark.parametrize('params, expected', [
    (dict(SVC), dict(protocol='tcp', scheduler='wlc', persistence_timeout=None, persistence_netmask=None, one_packet=False)),
    (dict(SVC, port=0, persistence_timeout=60), dict(port=0, persistence_netmask='255.255.255.255')),
    (dict(SVC, scheduler='sh', scheduler_flags=['flag-2', 'flag-1', 'sh-port']), dict(scheduler_flags=['sh-fallback', 'sh-port'])),
    (dict(SVC, scheduler='mh', scheduler_flags=['flag-2', 'flag-1']), dict(scheduler_flags=['mh-fallback', 'mh-port'])),
    (dict(address='2001:0db8::0001', port=1, protocol='udp', one_packet=True, persistence_timeout=9, persistence_netmask='/64'),
     dict(address='2001:db8::1', family='ipv6', persistence_netmask='64', one_packet=True)),
    (dict(fwmark=7, one_packet=True), dict(protocol=None, address=None, port=None, family='ipv4', fwmark=7)),
    (dict(fwmark=7, family='ipv6', persistence_timeout=1), dict(persistence_netmask='128')),
    (dict(SVC, persistence_timeout=2678400, persistence_engine='sip'), dict(persistence_engine='sip')),
])
def test_service_accepts_and_normalises(params, expected):
    svc = build_service(params)
    assert dict((k, svc[k]) for k in expected) == expected


def test_selectors():
    sel = build_selector(dict(address='2001:DB8::1', port=None))
    assert sel == {'address': '2001:db8::1'}
    assert selector_matches(sel, V6)
    assert not selector_matches(sel, V4)
    assert selector_matches(build_selector(dict(fwmark=5)), FWM)
    assert not selector_matches(build_selector(dict(protocol='tcp')), FWM)
    with pytest.raises(IpvsError, match='ignore'):
        build_selector({})
