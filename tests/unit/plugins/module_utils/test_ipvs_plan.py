"""Planner: desired + current gives the exact ipvsadm lines, one per changed object, edits in place,
and the table expected afterwards. Every expectation is a literal: the lines, the table afterwards
(as ipvsadm -R lines with thresholds) and the services touched."""

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError, service_key, table_rules
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_parse import parse_save
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_plan import intent, op_holds, plan, restore_intents
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_validate import build_dests, build_service

CURRENT = """\
-A -t 192.0.2.10:80 -s wlc
-a -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 1
-a -t 192.0.2.10:80 -r 10.0.0.12:8080 -m -w 2
-A -u [2001:db8::53]:53 -s rr -o
-a -u [2001:db8::53]:53 -r 10.0.0.31:53 -i -w 1 --tun-type ipip
-A -t 192.0.2.200:80 -s rr
-A -f 7 -s wrr -p 300
"""
WEB = ('tcp', '192.0.2.10', 80)
DNS = ('udp', '2001:db8::53', 53)
MARK7 = ('fwmark', 'ipv4', 7)

# CURRENT in table_rules order (service keys, then real-server keys, sorted)
UNCHANGED = [
    '-A -f 7 -s wrr -p 300',
    '-A -t 192.0.2.10:80 -s wlc',
    '-a -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 1',
    '-a -t 192.0.2.10:80 -r 10.0.0.12:8080 -m -w 2',
    '-A -t 192.0.2.200:80 -s rr',
    '-A -u [2001:db8::53]:53 -s rr -o',
    '-a -u [2001:db8::53]:53 -r 10.0.0.31:53 -i -w 1 --tun-type ipip',
]


def want(state='present', real_servers=None, purge=False, **params):
    svc = build_service(params)
    dests = build_dests(svc, real_servers)
    return intent(service_key(svc), state, None if state == 'absent' else svc, dests, purge_dests=purge)


CASES = [
    ('no change', [want(address='192.0.2.10', port=80, real_servers=[
        dict(address='10.0.0.11'), dict(address='10.0.0.12', port=8080, forwarding='nat', weight=2)])], False,
     [], UNCHANGED, set()),
    ('new service', [want(address='192.0.2.11', port=443, scheduler='sh', scheduler_flags=['flag-1'],
                          persistence_timeout=60, persistence_netmask='255.255.0.0',
                          real_servers=[dict(address='10.0.0.1', weight=0, upper_threshold=9, lower_threshold=3)])], False,
     ['-A -t 192.0.2.11:443 -s sh -p 60 -M 255.255.0.0 -b sh-fallback',
      '-a -t 192.0.2.11:443 -r 10.0.0.1:443 -g -w 0 -x 9 -y 3'],
     ['-A -f 7 -s wrr -p 300',
      '-A -t 192.0.2.10:80 -s wlc',
      '-a -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 1',
      '-a -t 192.0.2.10:80 -r 10.0.0.12:8080 -m -w 2',
      '-A -t 192.0.2.11:443 -s sh -p 60 -M 255.255.0.0 -b sh-fallback',
      '-a -t 192.0.2.11:443 -r 10.0.0.1:443 -g -w 0 -x 9 -y 3',
      '-A -t 192.0.2.200:80 -s rr',
      '-A -u [2001:db8::53]:53 -s rr -o',
      '-a -u [2001:db8::53]:53 -r 10.0.0.31:53 -i -w 1 --tun-type ipip'],
     {('tcp', '192.0.2.11', 443)}),
    ('edit service is a full record, real servers untouched',
     [want(address='192.0.2.10', port=80, scheduler='rr', persistence_timeout=360)], False,
     ['-E -t 192.0.2.10:80 -s rr -p 360'],
     ['-A -f 7 -s wrr -p 300',
      '-A -t 192.0.2.10:80 -s rr -p 360',
      '-a -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 1',
      '-a -t 192.0.2.10:80 -r 10.0.0.12:8080 -m -w 2',
      '-A -t 192.0.2.200:80 -s rr',
      '-A -u [2001:db8::53]:53 -s rr -o',
      '-a -u [2001:db8::53]:53 -r 10.0.0.31:53 -i -w 1 --tun-type ipip'],
     {WEB}),
    ('one weight is one -e with the full record', [want(address='192.0.2.10', port=80, real_servers=[
        dict(address='10.0.0.12', port=8080, forwarding='nat', weight=3)])], False,
     ['-e -t 192.0.2.10:80 -r 10.0.0.12:8080 -m -w 3'],
     ['-A -f 7 -s wrr -p 300',
      '-A -t 192.0.2.10:80 -s wlc',
      '-a -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 1',
      '-a -t 192.0.2.10:80 -r 10.0.0.12:8080 -m -w 3',
      '-A -t 192.0.2.200:80 -s rr',
      '-A -u [2001:db8::53]:53 -s rr -o',
      '-a -u [2001:db8::53]:53 -r 10.0.0.31:53 -i -w 1 --tun-type ipip'],
     {WEB}),
    ('forwarding change edits in place', [want(address='192.0.2.10', port=80, real_servers=[
        dict(address='10.0.0.11', forwarding='tun', tun_type='gue', tun_port=6080, tun_checksum='csum')])], False,
     ['-e -t 192.0.2.10:80 -r 10.0.0.11:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum'],
     ['-A -f 7 -s wrr -p 300',
      '-A -t 192.0.2.10:80 -s wlc',
      '-a -t 192.0.2.10:80 -r 10.0.0.11:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
      '-a -t 192.0.2.10:80 -r 10.0.0.12:8080 -m -w 2',
      '-A -t 192.0.2.200:80 -s rr',
      '-A -u [2001:db8::53]:53 -s rr -o',
      '-a -u [2001:db8::53]:53 -r 10.0.0.31:53 -i -w 1 --tun-type ipip'],
     {WEB}),
    ('purge real servers', [want(address='192.0.2.10', port=80, purge=True, real_servers=[dict(address='10.0.0.13')])], False,
     ['-d -t 192.0.2.10:80 -r 10.0.0.11:80', '-d -t 192.0.2.10:80 -r 10.0.0.12:8080',
      '-a -t 192.0.2.10:80 -r 10.0.0.13:80 -g -w 1'],
     ['-A -f 7 -s wrr -p 300',
      '-A -t 192.0.2.10:80 -s wlc',
      '-a -t 192.0.2.10:80 -r 10.0.0.13:80 -g -w 1',
      '-A -t 192.0.2.200:80 -s rr',
      '-A -u [2001:db8::53]:53 -s rr -o',
      '-a -u [2001:db8::53]:53 -r 10.0.0.31:53 -i -w 1 --tun-type ipip'],
     {WEB}),
    ('ipv6 real server port and fwmark absent', [
        want(protocol='udp', address='2001:db8::53', port=53, scheduler='rr', one_packet=True,
             real_servers=[dict(address='2001:db8::a', forwarding='nat', port=5353)]),
        want(fwmark=7, state='absent')], False,
     ['-D -f 7', '-a -u [2001:db8::53]:53 -r [2001:db8::a]:5353 -m -w 1'],
     ['-A -t 192.0.2.10:80 -s wlc',
      '-a -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 1',
      '-a -t 192.0.2.10:80 -r 10.0.0.12:8080 -m -w 2',
      '-A -t 192.0.2.200:80 -s rr',
      '-A -u [2001:db8::53]:53 -s rr -o',
      '-a -u [2001:db8::53]:53 -r 10.0.0.31:53 -i -w 1 --tun-type ipip',
      '-a -u [2001:db8::53]:53 -r [2001:db8::a]:5353 -m -w 1'],
     {DNS, MARK7}),
    ('absent service that does not exist', [want(fwmark=8, family='ipv6', state='absent')], False,
     [], UNCHANGED, set()),
    ('purge undeclared, keep ignored', [want(address='192.0.2.10', port=80)], True,
     ['-D -f 7', '-D -u [2001:db8::53]:53'],
     ['-A -t 192.0.2.10:80 -s wlc',
      '-a -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 1',
      '-a -t 192.0.2.10:80 -r 10.0.0.12:8080 -m -w 2',
      '-A -t 192.0.2.200:80 -s rr'],
     {DNS, MARK7}),
]


def keep(svc):
    return svc['address'] == '192.0.2.200'


@pytest.mark.parametrize('name, intents, purge, lines, after, touched', CASES, ids=[c[0] for c in CASES])
def test_plan(name, intents, purge, lines, after, touched):
    current = parse_save(CURRENT)
    ops, expected, got_touched = plan(current, intents, purge=purge, keep=keep)
    assert [op.line for op in ops] == lines
    assert table_rules(expected) == after
    assert expected == parse_save('\n'.join(after))      # record by record, fields -R lines leave implicit too
    assert got_touched == touched
    assert all(op_holds(op, expected) for op in ops)
    # planning again from the expected table is a no-op: idempotence of the planner itself
    assert plan(expected, intents, purge=purge, keep=keep)[0] == []


def test_new_service_record():
    """The expected table holds canonical records: the literal record, field by field."""
    intents = CASES[1][1]
    expected = plan(parse_save(CURRENT), intents)[1]
    assert expected[('tcp', '192.0.2.11', 443)] == {
        'protocol': 'tcp', 'address': '192.0.2.11', 'port': 443, 'fwmark': None, 'family': 'ipv4',
        'scheduler': 'sh', 'scheduler_flags': ['sh-fallback'], 'persistence_timeout': 60,
        'persistence_netmask': '255.255.0.0', 'persistence_engine': None, 'one_packet': False,
        'real_servers': {('10.0.0.1', 443): {
            'address': '10.0.0.1', 'port': 443, 'forwarding': 'dr', 'weight': 0, 'upper_threshold': 9,
            'lower_threshold': 3, 'tun_type': None, 'tun_port': None, 'tun_checksum': None}}}


def test_realserver_intent_without_settings_needs_the_service():
    current = parse_save(CURRENT)
    svc = current[WEB]
    ops = plan(current, [intent(WEB, dests=build_dests(svc, [dict(address='10.0.0.11', weight=0)]))])[0]
    assert [op.line for op in ops] == ['-e -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 0']
    ops = plan(current, [intent(WEB, absent_dests=[('10.0.0.12', 8080), ('10.9.9.9', 80)])])[0]
    assert [op.line for op in ops] == ['-d -t 192.0.2.10:80 -r 10.0.0.12:8080']
    with pytest.raises(IpvsError, match='does not exist'):
        plan(current, [intent(('tcp', '192.0.2.99', 80))])
    with pytest.raises(IpvsError, match='declared twice'):
        plan(current, [intent(MARK7, 'absent')] * 2)


def test_restore_plan_brings_back_the_snapshot_exactly():
    snapshot = parse_save(CURRENT)
    snapshot[WEB]['real_servers'][('10.0.0.11', 80)]['upper_threshold'] = 40
    broken = parse_save(CURRENT.replace('-s wlc', '-s rr').replace('-w 2', '-w 7').replace('-A -f 7 -s wrr -p 300\n', '')
                        + '-A -t 192.0.2.99:80 -s rr\n')
    keys = set(snapshot) | set(broken)
    ops, expected = plan(broken, restore_intents(snapshot, keys))[:2]
    assert [op.line for op in ops] == [
        '-D -t 192.0.2.99:80',
        '-A -f 7 -s wrr -p 300',
        '-E -t 192.0.2.10:80 -s wlc',
        '-e -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 1 -x 40',
        '-e -t 192.0.2.10:80 -r 10.0.0.12:8080 -m -w 2',
    ]
    assert table_rules(expected) == [
        '-A -f 7 -s wrr -p 300',
        '-A -t 192.0.2.10:80 -s wlc',
        '-a -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 1 -x 40',
        '-a -t 192.0.2.10:80 -r 10.0.0.12:8080 -m -w 2',
        '-A -t 192.0.2.200:80 -s rr',
        '-A -u [2001:db8::53]:53 -s rr -o',
        '-a -u [2001:db8::53]:53 -r 10.0.0.31:53 -i -w 1 --tun-type ipip',
    ]


def test_op_holds_detects_the_failed_line():
    current = parse_save(CURRENT)
    ops = plan(current, [want(address='192.0.2.10', port=81, scheduler='twos', real_servers=[dict(address='10.0.0.1')])])[0]
    assert [op_holds(op, current) for op in ops] == [False, False]
