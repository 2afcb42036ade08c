"""ipvs_table drain_timeout: weight 0 in a batch of its own, a bounded wait, then the rest of the plan."""

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import _ipvs_reconcile

from fake_ipvsadm import FakeKernel
from test_ipvs_modules import run_module

INITIAL = """-A -t 192.0.2.10:80 -s wlc
-a -t 192.0.2.10:80 -r 10.0.0.1:80 -g -w 1
-a -t 192.0.2.10:80 -r 10.0.0.2:80 -m -w 3 -x 50
-a -t 192.0.2.10:80 -r 10.0.0.3:80 -g -w 0
-A -t 192.0.2.200:80 -s rr
"""
# 10.0.0.2 and 10.0.0.3 are no longer declared; 10.0.0.1 gets a new weight
ARGS = {'services': [{'address': '192.0.2.10', 'port': 80, 'real_servers': [{'address': '10.0.0.1', 'weight': 2}]}],
        'drain_timeout': 10}
ZERO = ['-e -t 192.0.2.10:80 -r 10.0.0.2:80 -m -w 0 -x 50']
REST = ['-d -t 192.0.2.10:80 -r 10.0.0.2:80', '-d -t 192.0.2.10:80 -r 10.0.0.3:80',
        '-e -t 192.0.2.10:80 -r 10.0.0.1:80 -g -w 2']
FINAL = ['-A -t 192.0.2.10:80 -s wlc', '-a -t 192.0.2.10:80 -r 10.0.0.1:80 -g -w 2', '-A -t 192.0.2.200:80 -s rr']


class Clock(object):
    """time.time/time.sleep of the module: sleeping advances the clock; hook runs at each sleep."""

    def __init__(self, hook=None):
        self.now, self.hook, self.sleeps = 1000.0, hook, 0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps += 1
        self.now += seconds
        if self.hook:
            self.hook(self)


def _run(tmp_path, monkeypatch, capsys, clock, kernel, args=None, check=False):
    monkeypatch.setattr(_ipvs_reconcile.time, 'time', clock.time)
    monkeypatch.setattr(_ipvs_reconcile.time, 'sleep', clock.sleep)
    return run_module('ipvs_table', args or ARGS, kernel, tmp_path, monkeypatch, capsys, check=check)


def test_drain_waits_for_connections_then_removes(tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path, INITIAL)
    kernel.set_connections('-t 192.0.2.10:80', '10.0.0.2:80', 2, 1)
    kernel.set_connections('-t 192.0.2.10:80', '10.0.0.3:80', 0, 1)

    def hook(clock):
        # both end after 3 s; each must still be there, 10.0.0.2 already at weight 0
        if clock.now >= 1003:
            assert '-a -t 192.0.2.10:80 -r 10.0.0.2:80 -m -w 0 -x 50' in kernel.rules()
            kernel.set_connections('-t 192.0.2.10:80', '10.0.0.2:80', 0, 0)
            kernel.set_connections('-t 192.0.2.10:80', '10.0.0.3:80', 0, 0)
    result = _run(tmp_path, monkeypatch, capsys, Clock(hook), kernel, dict(ARGS, return_rules=True))
    assert result['changed'] and not result.get('failed'), result
    assert result['commands'] == ZERO + REST
    assert [r.splitlines() for r in kernel.restores] == [ZERO, REST]
    assert kernel.rules() == FINAL
    assert result['drained'] == [
        {'service': 'tcp 192.0.2.10:80', 'address': '10.0.0.2', 'port': 80, 'seconds': 3.0, 'connections_left': 0},
        {'service': 'tcp 192.0.2.10:80', 'address': '10.0.0.3', 'port': 80, 'seconds': 3.0, 'connections_left': 0}]
    assert result['rules'] == ['-A -t 192.0.2.10:80 -s wlc', '-a -t 192.0.2.10:80 -r 10.0.0.1:80 -g -w 2']


def test_drain_timeout_passes_and_removes_anyway(tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path, INITIAL)
    kernel.set_connections('-t 192.0.2.10:80', '10.0.0.2:80', 4, 0)
    clock = Clock()
    result = _run(tmp_path, monkeypatch, capsys, clock, kernel)
    assert result['commands'] == ZERO + REST
    assert kernel.rules() == FINAL
    assert result['drained'][0] == {'service': 'tcp 192.0.2.10:80', 'address': '10.0.0.2', 'port': 80,
                                    'seconds': 10.0, 'connections_left': 4}
    # 10.0.0.3 had none: drained at the first count
    assert result['drained'][1]['seconds'] == 0.0 and result['drained'][1]['connections_left'] == 0
    assert clock.now == 1010.0


def test_drain_check_mode_reports_without_waiting(tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path, INITIAL)
    before = kernel.rules()
    kernel.set_connections('-t 192.0.2.10:80', '10.0.0.2:80', 4, 1)
    clock = Clock()
    result = _run(tmp_path, monkeypatch, capsys, clock, kernel, check=True)
    assert result['changed'] and result['commands'] == ZERO + REST
    assert [(d['address'], d['seconds'], d['connections_left']) for d in result['drained']] == [
        ('10.0.0.2', 0.0, 5), ('10.0.0.3', 0.0, 0)]
    assert clock.sleeps == 0 and kernel.restores == [] and kernel.rules() == before


@pytest.mark.parametrize('timeout', [0, 10])
def test_no_removal_no_drain(tmp_path, monkeypatch, capsys, timeout):
    kernel = FakeKernel(tmp_path, INITIAL)
    args = {'services': [{'address': '192.0.2.10', 'port': 80, 'purge_real_servers': False,
                          'real_servers': [{'address': '10.0.0.1', 'weight': 2}]}], 'drain_timeout': timeout}
    result = _run(tmp_path, monkeypatch, capsys, Clock(), kernel, args=args)
    assert result['commands'] == ['-e -t 192.0.2.10:80 -r 10.0.0.1:80 -g -w 2']
    assert result['drained'] == []
    assert len(kernel.restores) == 1


def test_drain_timeout_zero_removes_in_one_batch(tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path, INITIAL)
    kernel.set_connections('-t 192.0.2.10:80', '10.0.0.2:80', 4, 0)
    result = _run(tmp_path, monkeypatch, capsys, Clock(), kernel, args=dict(ARGS, drain_timeout=0))
    assert result['commands'] == REST
    assert [r.splitlines() for r in kernel.restores] == [REST]
    assert result['drained'] == []


def test_negative_drain_timeout_is_refused(tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path, INITIAL)
    before = kernel.rules()
    result = _run(tmp_path, monkeypatch, capsys, Clock(), kernel, args=dict(ARGS, drain_timeout=-1))
    assert result['failed'] and 'drain_timeout' in result['msg']
    assert kernel.rules() == before and kernel.restores == []
