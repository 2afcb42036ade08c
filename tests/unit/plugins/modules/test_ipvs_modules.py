"""Each module's main() as data-driven cases (test_ipvs_modules.yaml) against a fake kernel.

Only AnsibleModule.run_command (and get_bin_path) is replaced; the module's /proc, /sys and lock
paths point into a temporary directory.
"""

import fcntl
import functools
import importlib
import json
from pathlib import Path

import pytest
import yaml

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.lvs.cluster.plugins.module_utils import _ipvs_runner

from fake_ipvsadm import FakeKernel

CASES = yaml.safe_load((Path(__file__).parent / 'test_ipvs_modules.yaml').read_text())


def run_module(name, args, kernel, tmp_path, monkeypatch, capsys, check=False, diff=False):
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', kernel.run_command)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path',
                        lambda self, arg, required=False, opt_dirs=None: '/usr/sbin/' + arg)
    monkeypatch.setattr(_ipvs_runner, 'PROC_IPVS', kernel.proc)
    monkeypatch.setattr(_ipvs_runner, 'SYS_MODULE', kernel.sys)
    monkeypatch.setattr(_ipvs_runner, 'LOCK_FILE', str(tmp_path / 'ipvs.lock'))
    module = importlib.import_module('ansible_collections.lvs.cluster.plugins.modules.' + name)
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def subset(expected, actual, path='result'):
    """Every key of expected is in actual with an equal value (recursively for dicts)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), '%s: %r is not a dict' % (path, actual)
        for key, value in expected.items():
            assert key in actual, '%s.%s missing' % (path, key)
            subset(value, actual[key], '%s.%s' % (path, key))
    elif isinstance(expected, list) and expected and isinstance(expected[0], dict):
        assert isinstance(actual, list) and len(actual) == len(expected), '%s: %r' % (path, actual)
        for index, (want, got) in enumerate(zip(expected, actual)):
            subset(want, got, '%s[%d]' % (path, index))
    else:
        assert actual == expected, '%s: %r != %r' % (path, actual, expected)


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_module(case, tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path, case.get('initial', ''), loaded=case.get('loaded', True))
    before = kernel.rules()
    result = run_module(case['module'], case['args'], kernel, tmp_path, monkeypatch, capsys,
                        check=case.get('check_mode', False), diff=case.get('diff', False))
    expect = case['expect']
    assert result.get('failed', False) == expect.get('failed', False), result.get('msg')
    if 'msg' in expect:
        assert expect['msg'] in result['msg']
    for name in ('changed', 'commands'):
        if name in expect:
            assert result[name] == expect[name]
    if expect.get('commands') and not case.get('check_mode') and case['module'] != 'ipvs_counters':
        # what ipvsadm -R was given first is exactly what the module reports
        assert kernel.restores[0].splitlines() == expect['commands']
    subset(expect.get('result', {}), result)
    if 'final' in expect:
        assert kernel.rules() == expect['final'].splitlines()
    else:
        # rejected, failed-and-restored, check mode and no-op runs leave the table byte-identical
        assert kernel.rules() == before
    if 'calls' in expect:
        assert kernel.calls == expect['calls']
    if case.get('check_mode') or 'reject' in case['id']:
        assert not any(c[0] == 'modprobe' or c[1:2] == ['-R'] for c in kernel.calls)
    # the lock under /run is a write too: never in check mode, never by ipvs_info
    lock_taken = (tmp_path / 'ipvs.lock').exists()
    if case.get('check_mode') or case['module'] == 'ipvs_info':
        assert not lock_taken
    elif expect.get('commands'):
        assert lock_taken


@pytest.mark.parametrize('module_name, args', [
    ('ipvs_realserver', {'service': {'address': '192.0.2.10', 'port': 80}, 'address': '10.0.0.1', 'weight': 3}),
    ('ipvs_realserver', {'service': {'address': '192.0.2.10', 'port': 80}, 'address': '10.0.0.1', 'state': 'absent'}),
    ('ipvs_service', {'address': '192.0.2.10', 'port': 80, 'scheduler': 'rr'}),
    ('ipvs_table', {'services': [{'address': '192.0.2.10', 'port': 80}]}),
])
def test_every_read_of_the_table_is_under_the_lock(module_name, args, tmp_path, monkeypatch, capsys):
    """A module decides on the table it read under the lock, so no other run changes it in between."""
    kernel = FakeKernel(tmp_path, '-A -t 192.0.2.10:80 -s wlc\n-a -t 192.0.2.10:80 -r 10.0.0.1:80 -g -w 1\n')
    lock = tmp_path / 'ipvs.lock'
    held = []
    kernel_run = kernel.run_command

    def run_command(args, **kwargs):
        if args[1:3] == ['-S', '-n']:
            with open(str(lock), 'a') as other:
                try:
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held.append(False)
                    fcntl.flock(other, fcntl.LOCK_UN)
                except BlockingIOError:
                    held.append(True)
        return kernel_run(args, **kwargs)
    # a partial, not a function: set on AnsibleModule it must not become a method
    monkeypatch.setattr(kernel, 'run_command', functools.partial(run_command))
    result = run_module(module_name, args, kernel, tmp_path, monkeypatch, capsys)
    assert result['changed'], result
    assert held and all(held), held


def test_counters_zero_once_then_count_again(tmp_path, monkeypatch, capsys):
    """Zeroed counters read zero (no change, no -Z), and are zeroed again once traffic counts them up."""
    kernel = FakeKernel(tmp_path, '-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 10.0.0.1:80 -m -w 1\n')
    first = run_module('ipvs_counters', {}, kernel, tmp_path, monkeypatch, capsys)
    second = run_module('ipvs_counters', {}, kernel, tmp_path, monkeypatch, capsys)
    assert first['changed'] and first['services'][0]['stats']['connections'] == 5
    assert not second['changed'] and second['commands'] == []
    assert second['services'][0]['stats'] == dict.fromkeys(
        ('connections', 'packets_in', 'packets_out', 'bytes_in', 'bytes_out'), 0)
    assert second['services'][0]['real_servers'][0]['stats']['bytes_in'] == 0
    assert [c for c in kernel.calls if c[1:2] == ['-Z']] == [['ipvsadm', '-Z']]
    kernel.zeroed.clear()       # traffic again
    third = run_module('ipvs_counters', {}, kernel, tmp_path, monkeypatch, capsys)
    assert third['changed'] and third['commands'] == ['-Z']
