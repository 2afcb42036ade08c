"""The lock that serialises concurrent invocations (held from the read to the verified apply), and the drain wait."""

import fcntl

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import _ipvs_reconcile, _ipvs_runner


class Module(object):
    check_mode = False

    def __init__(self, listings=()):
        self.listings = list(listings)

    def get_bin_path(self, name, required=False):
        return '/usr/sbin/' + name

    def run_command(self, args, **kwargs):
        return 0, self.listings.pop(0), ''

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


def test_lock_is_exclusive(tmp_path, monkeypatch):
    path = tmp_path / 'ipvs.lock'
    monkeypatch.setattr(_ipvs_runner, 'LOCK_FILE', str(path))
    _ipvs_runner.Ipvsadm(Module()).lock()
    with open(str(path), 'a') as other:
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)


LISTING = """Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port
TCP  192.0.2.10:8081 rr
  -> 192.0.2.10:8081              50         0          %d          %d         \n"""


SVC = {'protocol': 'tcp', 'address': '192.0.2.10', 'port': 8081, 'fwmark': None, 'family': 'ipv4'}


def test_wait_drained_polls_until_zero(monkeypatch):
    monkeypatch.setattr(_ipvs_reconcile.time, 'sleep', lambda s: None)
    module = Module([LISTING % (1, 0), LISTING % (0, 1), LISTING % (0, 0)])
    seen = _ipvs_reconcile.wait_drained(_ipvs_runner.Ipvsadm(module), [(('tcp', '192.0.2.10', 8081), ('192.0.2.10', 8081))],
                                    60, 1, SVC)[0]
    assert seen['drained'] and not seen['timed_out'] and module.listings == []


def test_wait_drained_reports_timeout(monkeypatch):
    clock = iter(range(0, 100, 5))
    monkeypatch.setattr(_ipvs_reconcile.time, 'time', lambda: next(clock))
    monkeypatch.setattr(_ipvs_reconcile.time, 'sleep', lambda s: None)
    module = Module([LISTING % (2, 3)] * 5)
    seen = _ipvs_reconcile.wait_drained(_ipvs_runner.Ipvsadm(module), [(('tcp', '192.0.2.10', 8081), ('192.0.2.10', 8081))],
                                    12, 1, SVC)[0]
    assert seen == {'active_connections': 2, 'inactive_connections': 3, 'drained': False, 'waited': 15, 'timed_out': True}


def test_unlock_releases(tmp_path, monkeypatch):
    path = tmp_path / 'ipvs.lock'
    monkeypatch.setattr(_ipvs_runner, 'LOCK_FILE', str(path))
    ipvs = _ipvs_runner.Ipvsadm(Module())
    ipvs.lock()
    ipvs.unlock()
    with open(str(path), 'a') as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
