"""keepalived_state's main(): keepalived's dump (the lab's real ones) against the fake kernel.

keepalived itself is replaced by its pid and its dump: keepalived_pid() and read_dump() of the module
are patched; ipvsadm is the fake kernel of the other module tests (fake_ipvsadm, its own grammar).
"""

from pathlib import Path

import pytest

from ansible_collections.lvs.cluster.plugins.modules import keepalived_state

from fake_ipvsadm import FakeKernel
from test_ipvs_modules import run_module

FIXTURES = Path(__file__).resolve().parents[2] / 'fixtures' / 'keepalived'
BOTH_UP = (FIXTURES / 'nat_both_up.txt').read_text()
RS1_DOWN = (FIXTURES / 'nat_rs1_down.txt').read_text()
SERVICE = {'protocol': 'tcp', 'address': '192.168.2.54', 'port': 80, 'scheduler': 'rr',
           'health_check': {'type': 'http', 'path': '/'},
           'real_servers': [{'address': '192.168.4.52', 'forwarding': 'nat'},
                            {'address': '192.168.4.53', 'forwarding': 'nat'}]}
ARGS = {'services': [SERVICE]}
VS = '-A -t 192.168.2.54:80 -s rr'
RS1 = '-a -t 192.168.2.54:80 -r 192.168.4.52:80 -m -w 1'
RS2 = '-a -t 192.168.2.54:80 -r 192.168.4.53:80 -m -w 1'
OTHER = ['-A -u 192.168.2.54:53 -s wlc', '-a -u 192.168.2.54:53 -r 192.168.4.60:53 -g -w 1']


class Keepalived(object):
    """The module's view of keepalived: a pid and the dumps it writes, one per SIGUSR1 (the last repeats)."""

    def __init__(self, *dumps, pid=4242):
        self.dumps, self.pid, self.reads = list(dumps), pid, 0

    def read_dump(self, pid, timeout=5.0):
        assert pid == self.pid
        self.reads += 1
        return self.dumps.pop(0) if len(self.dumps) > 1 else self.dumps[0]


class Clock(object):
    def __init__(self):
        self.now, self.sleeps = 1000.0, 0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps += 1
        self.now += seconds


def run(tmp_path, monkeypatch, capsys, rules, keepalived, args=None, check=False, diff=False):
    kernel = FakeKernel(tmp_path, '\n'.join(rules) + '\n' if rules else '')
    monkeypatch.setattr(keepalived_state, 'keepalived_pid', lambda: keepalived.pid)
    monkeypatch.setattr(keepalived_state, 'read_dump', keepalived.read_dump)
    clock = Clock()
    monkeypatch.setattr(keepalived_state.time, 'time', clock.time)
    monkeypatch.setattr(keepalived_state.time, 'sleep', clock.sleep)
    before = kernel.rules()
    result = run_module('keepalived_state', args or ARGS, kernel, tmp_path, monkeypatch, capsys, check=check, diff=diff)
    return result, kernel, before


def report(rs1_state, rs1_weight, rs2_state='up', rs2_weight=1, in_kernel=True):
    return [{'service': 'tcp 192.168.2.54:80', 'in_kernel': in_kernel, 'real_servers': [
        {'address': '192.168.4.52', 'port': 80, 'declared_weight': 1, 'state': rs1_state, 'kernel_weight': rs1_weight},
        {'address': '192.168.4.53', 'port': 80, 'declared_weight': 1, 'state': rs2_state, 'kernel_weight': rs2_weight}]}]


def test_nothing_to_restore(tmp_path, monkeypatch, capsys):
    result, kernel, before = run(tmp_path, monkeypatch, capsys, [VS, RS1, RS2] + OTHER, Keepalived(BOTH_UP))
    assert not result.get('failed'), result
    assert (result['changed'], result['commands']) == (False, [])
    assert result['services'] == report('up', 1)
    assert kernel.restores == [] and kernel.rules() == before


def test_a_missing_real_server_keepalived_holds_comes_back(tmp_path, monkeypatch, capsys):
    result, kernel, before = run(tmp_path, monkeypatch, capsys, [VS, RS2] + OTHER, Keepalived(BOTH_UP))
    assert result['changed'] and result['commands'] == [RS1]
    assert [r.splitlines() for r in kernel.restores] == [[RS1]]
    assert kernel.rules() == [VS, RS1, RS2] + OTHER
    assert result['services'] == report('up', 1)


def test_a_down_real_server_stays_out(tmp_path, monkeypatch, capsys):
    result, kernel, before = run(tmp_path, monkeypatch, capsys, [VS, RS2], Keepalived(RS1_DOWN))
    assert (result['changed'], result['commands']) == (False, [])
    assert result['services'] == report('down', None)
    assert kernel.restores == [] and kernel.rules() == before


def test_a_down_real_server_is_not_removed_either(tmp_path, monkeypatch, capsys):
    """keepalived removes it itself; a server in the kernel that keepalived believes out is left alone."""
    result, kernel, before = run(tmp_path, monkeypatch, capsys, [VS, RS1, RS2], Keepalived(RS1_DOWN))
    assert (result['changed'], result['commands']) == (False, [])
    assert result['services'] == report('down', 1)
    assert kernel.rules() == before


def test_a_deleted_service_comes_back_with_what_keepalived_holds(tmp_path, monkeypatch, capsys):
    result, kernel, before = run(tmp_path, monkeypatch, capsys, OTHER, Keepalived(RS1_DOWN), diff=True)
    assert result['commands'] == [VS, RS2]
    assert kernel.rules() == [VS, RS2] + OTHER
    assert result['services'] == report('down', None)
    assert result['diff']['before'] == {'services': {}}
    assert list(result['diff']['after']['services']) == ['tcp 192.168.2.54:80']


def test_a_weight_edited_by_hand_returns_to_keepalived_s(tmp_path, monkeypatch, capsys):
    edited = RS1.replace('-w 1', '-w 5')
    result, kernel, before = run(tmp_path, monkeypatch, capsys, [VS, edited, RS2], Keepalived(BOTH_UP))
    assert result['commands'] == ['-e -t 192.168.2.54:80 -r 192.168.4.52:80 -m -w 1']
    assert kernel.rules() == [VS, RS1, RS2]


def test_a_real_server_added_by_hand_is_left_alone(tmp_path, monkeypatch, capsys):
    extra = '-a -t 192.168.2.54:80 -r 192.168.4.99:80 -m -w 1'
    result, kernel, before = run(tmp_path, monkeypatch, capsys, [VS, RS2, extra], Keepalived(BOTH_UP))
    assert result['commands'] == [RS1]
    assert kernel.rules() == [VS, RS1, RS2, extra]


def test_check_mode_reports_and_changes_nothing(tmp_path, monkeypatch, capsys):
    result, kernel, before = run(tmp_path, monkeypatch, capsys, [VS, RS2], Keepalived(BOTH_UP), check=True)
    assert result['changed'] and result['commands'] == [RS1]
    assert kernel.restores == [] and kernel.rules() == before
    assert not (tmp_path / 'ipvs.lock').exists()
    assert result['services'] == report('up', 1)        # as it would be after the repair


def test_repair_false_only_reports(tmp_path, monkeypatch, capsys):
    result, kernel, before = run(tmp_path, monkeypatch, capsys, [VS, RS2], Keepalived(BOTH_UP),
                                 args=dict(ARGS, repair=False))
    assert (result['changed'], result['commands']) == (False, [])
    assert result['services'] == report('up', None)
    assert kernel.restores == [] and kernel.rules() == before


def test_a_checker_changing_state_between_the_two_reads_is_read_again(tmp_path, monkeypatch, capsys):
    """rs1 fails while the table is read: the first pair differs, so the module reads again and does
    not put back a server keepalived has just taken out."""
    keepalived = Keepalived(BOTH_UP, RS1_DOWN, RS1_DOWN)
    result, kernel, before = run(tmp_path, monkeypatch, capsys, [VS, RS2], keepalived)
    assert (result['changed'], result['commands']) == (False, [])
    assert result['services'] == report('down', None)
    assert keepalived.reads == 4


def test_keepalived_not_running(tmp_path, monkeypatch, capsys):
    result, kernel, before = run(tmp_path, monkeypatch, capsys, [VS, RS2], Keepalived(BOTH_UP, pid=None))
    assert result['failed'] and result['msg'].startswith('keepalived is not running (no live pid in /run/keepalived.pid')
    assert kernel.rules() == before


def test_a_service_keepalived_does_not_run_fails_after_the_timeout(tmp_path, monkeypatch, capsys):
    other = dict(SERVICE, port=8080)
    result, kernel, before = run(tmp_path, monkeypatch, capsys, [VS, RS2], Keepalived(BOTH_UP),
                                 args={'services': [SERVICE, other], 'timeout': 2})
    assert result['failed']
    assert result['msg'] == ('keepalived runs tcp 192.168.2.54:80 instead of the declared tcp 192.168.2.54:80, '
                             'tcp 192.168.2.54:8080: is its configuration applied and reloaded?')
    assert kernel.rules() == before and kernel.restores == []


def test_a_service_keepalived_still_runs_but_is_not_declared_fails_after_the_timeout(tmp_path, monkeypatch, capsys):
    # what keepalived shows until it has processed a reload that removed a service
    result, kernel, before = run(tmp_path, monkeypatch, capsys, [VS, RS2], Keepalived(BOTH_UP),
                                 args={'services': [dict(SERVICE, port=8080)], 'timeout': 1})
    assert result['failed']
    assert result['msg'] == ('keepalived runs tcp 192.168.2.54:80 instead of the declared tcp 192.168.2.54:8080: '
                             'is its configuration applied and reloaded?')
    assert kernel.rules() == before and kernel.restores == []


@pytest.mark.parametrize('service, message', [
    (dict(SERVICE, health_check={'type': 'http'}), 'services[0].health_check.path: is required for a http check'),
    (dict(SERVICE, purge_real_servers=False), 'services[0].purge_real_servers: cannot be false'),
])
def test_bad_services_fail_naming_the_parameter(tmp_path, monkeypatch, capsys, service, message):
    keepalived = Keepalived(BOTH_UP)
    result, kernel, before = run(tmp_path, monkeypatch, capsys, [VS, RS2], keepalived, args={'services': [service]})
    assert result['failed'] and result['msg'].startswith(message), result['msg']
    assert keepalived.reads == 0 and kernel.rules() == before
