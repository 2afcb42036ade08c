"""Planner: desired + current gives the exact ipvsadm lines, one per changed object, edits in place."""

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError, service_key
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_parse import parse_save
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_plan import (
    apply_ops, intent, op_holds, plan, restore_intents)
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


def want(state='present', real_servers=None, purge=False, **params):
    svc = build_service(params)
    dests = build_dests(svc, real_servers)
    return intent(service_key(svc), state, None if state == 'absent' else svc, dests, purge_dests=purge)


CASES = [
    ('no change', [want(address='192.0.2.10', port=80, real_servers=[
        dict(address='10.0.0.11'), dict(address='10.0.0.12', port=8080, forwarding='nat', weight=2)])], False, []),
    ('new service', [want(address='192.0.2.11', port=443, scheduler='sh', scheduler_flags=['flag-1'],
                          persistence_timeout=60, persistence_netmask='255.255.0.0',
                          real_servers=[dict(address='10.0.0.1', weight=0, upper_threshold=9, lower_threshold=3)])], False,
     ['-A -t 192.0.2.11:443 -s sh -p 60 -M 255.255.0.0 -b sh-fallback',
      '-a -t 192.0.2.11:443 -r 10.0.0.1:443 -g -w 0 -x 9 -y 3']),
    ('edit service is a full record, real servers untouched', [want(address='192.0.2.10', port=80, scheduler='rr', persistence_timeout=360)],
     False, ['-E -t 192.0.2.10:80 -s rr -p 360']),
    ('one weight is one -e with the full record', [want(address='192.0.2.10', port=80, real_servers=[
        dict(address='10.0.0.12', port=8080, forwarding='nat', weight=3)])], False,
     ['-e -t 192.0.2.10:80 -r 10.0.0.12:8080 -m -w 3']),
    ('forwarding change edits in place', [want(address='192.0.2.10', port=80, real_servers=[
        dict(address='10.0.0.11', forwarding='tun', tun_type='gue', tun_port=6080, tun_checksum='csum')])], False,
     ['-e -t 192.0.2.10:80 -r 10.0.0.11:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum']),
    ('purge real servers', [want(address='192.0.2.10', port=80, purge=True, real_servers=[dict(address='10.0.0.13')])], False,
     ['-d -t 192.0.2.10:80 -r 10.0.0.11:80', '-d -t 192.0.2.10:80 -r 10.0.0.12:8080',
      '-a -t 192.0.2.10:80 -r 10.0.0.13:80 -g -w 1']),
    ('ipv6 real server port and fwmark absent', [
        want(protocol='udp', address='2001:db8::53', port=53, scheduler='rr', one_packet=True,
             real_servers=[dict(address='2001:db8::a', forwarding='nat', port=5353)]),
        want(fwmark=7, state='absent')], False,
     ['-D -f 7', '-a -u [2001:db8::53]:53 -r [2001:db8::a]:5353 -m -w 1']),
    ('absent service that does not exist', [want(fwmark=8, family='ipv6', state='absent')], False, []),
    ('purge undeclared, keep ignored', [want(address='192.0.2.10', port=80)], True,
     ['-D -f 7', '-D -u [2001:db8::53]:53']),
]


@pytest.mark.parametrize('name, intents, purge, lines', CASES, ids=[c[0] for c in CASES])
def test_plan(name, intents, purge, lines):
    current = parse_save(CURRENT)
    ops, expected, touched = plan(current, intents, purge=purge, keep=lambda s: s['address'] == '192.0.2.200')
    assert [op.line for op in ops] == lines
    assert expected == apply_ops(current, ops)
    assert all(op_holds(op, expected) for op in ops)
    # planning again from the expected table is a no-op: idempotence of the planner itself
    assert plan(expected, intents, purge=purge, keep=lambda s: s['address'] == '192.0.2.200')[0] == []
    assert touched == set(service_key(op.svc) for op in ops)


def test_realserver_intent_without_settings_needs_the_service():
    current = parse_save(CURRENT)
    svc = current[('tcp', '192.0.2.10', 80)]
    ops = plan(current, [intent(('tcp', '192.0.2.10', 80), dests=build_dests(svc, [dict(address='10.0.0.11', weight=0)]))])[0]
    assert [op.line for op in ops] == ['-e -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 0']
    ops = plan(current, [intent(('tcp', '192.0.2.10', 80), absent_dests=[('10.0.0.12', 8080), ('10.9.9.9', 80)])])[0]
    assert [op.line for op in ops] == ['-d -t 192.0.2.10:80 -r 10.0.0.12:8080']
    with pytest.raises(IpvsError, match='does not exist'):
        plan(current, [intent(('tcp', '192.0.2.99', 80))])
    with pytest.raises(IpvsError, match='declared twice'):
        plan(current, [intent(('fwmark', 'ipv4', 7), 'absent')] * 2)


def test_restore_plan_brings_back_the_snapshot_exactly():
    snapshot = parse_save(CURRENT)
    snapshot[('tcp', '192.0.2.10', 80)]['real_servers'][('10.0.0.11', 80)]['upper_threshold'] = 40
    broken = parse_save(CURRENT.replace('-s wlc', '-s rr').replace('-w 2', '-w 7').replace('-A -f 7 -s wrr -p 300\n', '')
                        + '-A -t 192.0.2.99:80 -s rr\n')
    keys = set(snapshot) | set(broken)
    ops = plan(broken, restore_intents(snapshot, keys))[0]
    assert [op.line for op in ops] == [
        '-D -t 192.0.2.99:80',
        '-A -f 7 -s wrr -p 300',
        '-E -t 192.0.2.10:80 -s wlc',
        '-e -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 1 -x 40',
        '-e -t 192.0.2.10:80 -r 10.0.0.12:8080 -m -w 2',
    ]
    assert apply_ops(broken, ops) == snapshot


def test_op_holds_detects_the_failed_line():
    current = parse_save(CURRENT)
    ops = plan(current, [want(address='192.0.2.10', port=81, scheduler='twos', real_servers=[dict(address='10.0.0.1')])])[0]
    assert [op_holds(op, current) for op in ops] == [False, False]
