"""keepalived's checker dump (SIGUSR1, /tmp/keepalived_check.data) as lvs.cluster reads it.

nat_both_up.txt and nat_rs1_down.txt are real dumps of keepalived 2.2.7 on the NAT lab's director
(tests/unit/fixtures/keepalived/README.md); the fwmark/IPv6 one below is synthetic.
"""

import os
from pathlib import Path

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import _keepalived_state
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError
from ansible_collections.lvs.cluster.plugins.module_utils._keepalived_state import (
    kernel_dests, parse_check_dump, rs_state)

FIXTURES = Path(__file__).resolve().parents[2] / 'fixtures' / 'keepalived'
VS = ('tcp', '192.168.2.54', 80)
RS1, RS2 = ('192.168.4.52', 80), ('192.168.4.53', 80)


def real_server(address, alive, rs_set, weight=1, port=80, effective=None):
    return {'address': address, 'port': port, 'weight': weight,
            'effective_weight': weight if effective is None else effective,
            'alive': alive, 'set': rs_set, 'inhibit': False}


def nat_lab(rs1_alive, rs1_set):
    return {VS: {'address': '192.168.2.54', 'port': 80, 'fwmark': None, 'protocol': 'tcp', 'family': 'ipv4',
                 'alive': True, 'quorum_up': True, 'inhibit': False,
                 'real_servers': {RS1: real_server('192.168.4.52', rs1_alive, rs1_set),
                                  RS2: real_server('192.168.4.53', True, True)}}}


def load(name):
    return parse_check_dump((FIXTURES / name).read_text())


def test_both_up():
    dump = load('nat_both_up.txt')
    assert dump == nat_lab(True, True)
    vs = dump[VS]
    assert [rs_state(vs['real_servers'][k]) for k in (RS1, RS2)] == ['up', 'up']
    assert kernel_dests(vs) == {RS1: 1, RS2: 1}


def test_rs1_down_is_out_of_keepalived_s_kernel_view():
    dump = load('nat_rs1_down.txt')
    assert dump == nat_lab(False, False)
    vs = dump[VS]
    assert [rs_state(vs['real_servers'][k]) for k in (RS1, RS2)] == ['down', 'up']
    assert kernel_dests(vs) == {RS2: 1}


def test_the_health_checkers_section_adds_nothing():
    """Its '[192.168.2.54]:tcp:80 -> ...' entries and 'Up = no' lines belong to no virtual server."""
    text = (FIXTURES / 'nat_rs1_down.txt').read_text()
    head = text[:text.index('------< Health checkers >------')]
    assert parse_check_dump(head) == parse_check_dump(text)


def test_empty_and_global_only_dumps_have_no_services():
    assert parse_check_dump('') == {}
    text = (FIXTURES / 'nat_both_up.txt').read_text()
    assert parse_check_dump(text[:text.index(' ------< Virtual server >------')]) == {}


# Synthetic, not captured on a guest: the real lines of nat_both_up.txt with values changed, plus the
# lines keepalived's dump_vs writes for a fwmark service (' VS FWMARK = %u', 'protocol = none'), the sh
# scheduler (sh-port/sh-fallback instead of flag-N) and persistence. A fwmark IPv6 service with
# inhibit_on_failure: the failed 2001:db8::11 is kept in the kernel at weight 0 (alive = 0, RS set = 1);
# 2001:db8::13 is up but keepalived has not added it yet (RS set = 0). A UDP service below its quorum
# follows, shortened. The health checkers section is left out (the real fixtures cover it).
SYNTHETIC = """------< LVS Topology >------
 System is compiled with LVS v1.2.1
 ------< Virtual server >------
 VS FWMARK = 7
   Address family = inet6
   connection timeout = 5.000000
   delay_loop = 1.000000
   lvs_sched = sh
   Hashed = disabled
   sh-port = enabled
   sh-fallback = enabled
   One packet scheduling = disabled
   persistence timeout = 300
   persistence granularity = 64
   protocol = none
   alpha is OFF
   omega is OFF
   Inhibit on failure is ON
   quorum = 1, hysteresis = 0
   Using smtp notification = no
   forwarding method =  0x7
   alive = 1
   quorum_state_up = 1
   reloaded = 1
   ------< Real server >------
   RIP = 2001:db8::11, RPORT = 0, WEIGHT = 3 EFF WEIGHT = 3
   forwarding method = DR
   Alpha is OFF
   connection timeout = 5.000000
   connection limit range = 0 -> 0
   Delay loop = 1.000000
   Inhibit on failure is ON
   Using smtp notification = yes
   initial weight = 3
   effective weight = 3
   previous effective_weight = 3
   alive = 0
   num failed checkers = 1
   RS set = 1
   reloaded = 1
   ------< Real server >------
   RIP = 2001:db8::12, RPORT = 0, WEIGHT = 2 EFF WEIGHT = 2
   forwarding method = DR
   Alpha is OFF
   connection timeout = 5.000000
   connection limit range = 0 -> 0
   Delay loop = 1.000000
   Inhibit on failure is ON
   Using smtp notification = yes
   initial weight = 2
   effective weight = 2
   previous effective_weight = 2
   alive = 1
   num failed checkers = 0
   RS set = 1
   reloaded = 1
   ------< Real server >------
   RIP = 2001:db8::13, RPORT = 0, WEIGHT = 1 EFF WEIGHT = 1
   forwarding method = DR
   Alpha is OFF
   connection timeout = 5.000000
   connection limit range = 0 -> 0
   Delay loop = 1.000000
   Inhibit on failure is ON
   Using smtp notification = yes
   initial weight = 1
   effective weight = 1
   previous effective_weight = 1
   alive = 1
   num failed checkers = 0
   RS set = 0
   reloaded = 1
 ------< Virtual server >------
 VS VIP = 192.168.2.54, VPORT = 53
   Address family = inet
   connection timeout = 5.000000
   delay_loop = 1.000000
   lvs_sched = rr
   protocol = UDP
   alpha is ON
   Inhibit on failure is OFF
   quorum = 2, hysteresis = 0
   alive = 0
   quorum_state_up = 0
   reloaded = 1
   ------< Real server >------
   RIP = 192.168.4.52, RPORT = 53, WEIGHT = 1 EFF WEIGHT = 1
   forwarding method = NAT
   alive = 0
   RS set = 0
"""
MARK = ('fwmark', 'ipv6', 7)
UDP = ('udp', '192.168.2.54', 53)


def test_synthetic_fwmark_ipv6_inhibited():
    dump = parse_check_dump(SYNTHETIC)
    assert sorted(dump, key=str) == sorted([MARK, UDP], key=str)
    quiesced = real_server('2001:db8::11', False, True, weight=3, port=0)
    quiesced['inhibit'] = True
    up = real_server('2001:db8::12', True, True, weight=2, port=0)
    up['inhibit'] = True
    pending = real_server('2001:db8::13', True, False, port=0)
    pending['inhibit'] = True
    assert dump[MARK] == {'address': None, 'port': None, 'fwmark': 7, 'protocol': None, 'family': 'ipv6',
                          'alive': True, 'quorum_up': True, 'inhibit': True,
                          'real_servers': {('2001:db8::11', 0): quiesced, ('2001:db8::12', 0): up,
                                           ('2001:db8::13', 0): pending}}
    vs = dump[MARK]
    assert [rs_state(vs['real_servers'][('2001:db8::1%d' % n, 0)]) for n in (1, 2, 3)] == ['quiesced', 'up', 'up']
    # the quiesced one at weight 0; the one keepalived has not added is not in its view of the kernel
    assert kernel_dests(vs) == {('2001:db8::11', 0): 0, ('2001:db8::12', 0): 2}


def test_synthetic_service_below_quorum():
    vs = parse_check_dump(SYNTHETIC)[UDP]
    assert (vs['protocol'], vs['family'], vs['alive'], vs['quorum_up'], vs['inhibit']) == ('udp', 'ipv4', False, False, False)
    assert vs['real_servers'] == {('192.168.4.52', 53): real_server('192.168.4.52', False, False, port=53)}
    assert rs_state(vs['real_servers'][('192.168.4.52', 53)]) == 'down'
    assert kernel_dests(vs) == {}


def test_ipv6_vip_address_is_canonical():
    text = SYNTHETIC.replace(' VS FWMARK = 7', ' VS VIP = 2001:DB8:0::10, VPORT = 443').replace('protocol = none', 'protocol = TCP')
    assert ('tcp', '2001:db8::10', 443) in parse_check_dump(text)


def test_a_virtual_server_group_is_refused():
    text = (FIXTURES / 'nat_both_up.txt').read_text().replace(' VS VIP = 192.168.2.54, VPORT = 80', ' VS GROUP = web')
    with pytest.raises(IpvsError, match=r"^keepalived runs a virtual_server_group \(web\), which lvs.cluster does not manage$"):
        parse_check_dump(text)


@pytest.mark.parametrize('rs, state', [
    ({'alive': True, 'set': True}, 'up'),
    ({'alive': True, 'set': False}, 'up'),
    ({'alive': False, 'set': True}, 'quiesced'),
    ({'alive': False, 'set': False}, 'down'),
])
def test_rs_state(rs, state):
    assert rs_state(rs) == state


# keepalived with VRRP alone (director HA, no virtual_server) runs no checker process: no dump ever comes.
def test_checker_pid_is_the_child_named_by_its_pid_file(tmp_path, monkeypatch):
    pid_file = tmp_path / "checkers.pid"
    pid_file.write_text("%d\n" % os.getpid())
    monkeypatch.setattr(_keepalived_state, "CHECKER_PID_FILES", (str(tmp_path / "missing.pid"), str(pid_file)))
    assert _keepalived_state.parent_pid(os.getpid()) == os.getppid()
    assert _keepalived_state.checker_pid(os.getppid()) == os.getpid()
    # a stale file naming a process of another parent (a pid reused after keepalived restarted)
    assert _keepalived_state.checker_pid(os.getpid()) is None


def test_no_checker_process_means_an_empty_dump_without_a_signal(tmp_path, monkeypatch):
    monkeypatch.setattr(_keepalived_state, "CHECKER_PID_FILES", (str(tmp_path / "checkers.pid"),))

    def kill(pid, sig):
        raise AssertionError("signalled %d" % pid)

    monkeypatch.setattr(_keepalived_state.os, "kill", kill)
    assert _keepalived_state.read_dump(os.getpid()) == ""
    assert _keepalived_state.parse_check_dump("") == {}
