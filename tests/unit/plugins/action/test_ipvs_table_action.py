"""The ipvs_table action plugin: services checked on the controller, sent packed; same results as without it."""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from ansible_collections.lvs.cluster.plugins.action.ipvs_table import ActionModule
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_spec import pack_list, unpack_list
from ansible_collections.lvs.cluster.plugins.modules import ipvs_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'modules'))

from fake_ipvsadm import FakeKernel  # noqa: E402
from test_ipvs_modules import CASES, run_module  # noqa: E402

TABLE_CASES = [c for c in CASES if c['module'] == 'ipvs_table']


def action(args, sent):
    """The action plugin with a task of args; its module call runs the module in-process (sent records the args)."""
    task = SimpleNamespace(args=args, action='lvs.cluster.ipvs_table', async_val=0, check_mode=False)
    connection = SimpleNamespace(has_native_async=False, _shell=SimpleNamespace(tmpdir=None))
    plugin = ActionModule(task, connection, None, None, None)

    def execute_module(module_name=None, module_args=None, task_vars=None, wrap_async=False):
        sent.append((module_name, module_args))
        return sent.run(module_args)
    plugin._execute_module = execute_module
    return plugin


class Sent(list):
    def __init__(self, run):
        super(Sent, self).__init__()
        self.run = run


def via_action(case_args, kernel, tmp_path, monkeypatch, capsys, check=False, diff=False):
    sent = Sent(lambda module_args: run_module('ipvs_table', module_args, kernel, tmp_path, monkeypatch, capsys, check, diff))
    return action(dict(case_args), sent).run(task_vars={}), sent


@pytest.mark.parametrize('case', TABLE_CASES, ids=[c['id'] for c in TABLE_CASES])
def test_same_result_through_the_action_plugin(case, tmp_path, monkeypatch, capsys):
    """Every ipvs_table case gives the same result, kernel calls and final table with the plugin as without."""
    options = dict(check=case.get('check_mode', False), diff=case.get('diff', False))
    plain_kernel = FakeKernel(tmp_path / 'plain', case.get('initial', ''), loaded=case.get('loaded', True))
    plain = run_module('ipvs_table', case['args'], plain_kernel, tmp_path / 'plain', monkeypatch, capsys, **options)
    kernel = FakeKernel(tmp_path / 'packed', case.get('initial', ''), loaded=case.get('loaded', True))
    result, sent = via_action(case['args'], kernel, tmp_path / 'packed', monkeypatch, capsys, **options)
    for name in ('failed', 'msg', 'changed', 'commands', 'diff', 'drained', 'restored', 'restore_commands'):
        assert result.get(name) == plain.get(name), name
    assert kernel.calls == plain_kernel.calls
    assert kernel.rules() == plain_kernel.rules()
    if sent:
        assert sent[0][0] == 'lvs.cluster.ipvs_table'
        assert 'services' not in sent[0][1] and isinstance(sent[0][1]['services_packed'], str)
        # the echo shows services as without the plugin, never the packed string
        assert result['invocation']['module_args']['services'] == plain['invocation']['module_args']['services']
        assert 'services_packed' not in result['invocation']['module_args']


def test_bad_entry_fails_on_the_controller(tmp_path, monkeypatch, capsys):
    """Ansible's own message, naming the parameter, and nothing is sent to the host."""
    kernel = FakeKernel(tmp_path)
    args = {'services': [{'address': '192.0.2.10', 'port': 80, 'real_servers': [{'address': '10.0.0.1', 'wieght': 2}]}]}
    result, sent = via_action(args, kernel, tmp_path, monkeypatch, capsys)
    assert result['failed'] and sent == [] and kernel.calls == []
    assert result['msg'].startswith('Unsupported parameters for (lvs.cluster.ipvs_table) module: '
                                    'services.real_servers.wieght. Supported parameters include: address, ')


def test_converted_values_are_sent_converted(tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path)
    args = {'services': [{'address': '192.0.2.10', 'port': '80', 'real_servers': [{'address': '10.0.0.1', 'weight': '2'}]}]}
    result, sent = via_action(args, kernel, tmp_path, monkeypatch, capsys)
    assert result['commands'] == ['-A -t 192.0.2.10:80 -s wlc', '-a -t 192.0.2.10:80 -r 10.0.0.1:80 -g -w 2']
    rows = json.loads(sent[0][1]['services_packed'])['rows']
    assert rows[0][1:3] == ['192.0.2.10', 80] and rows[0][11][0][:4] == ['10.0.0.1', None, 'dr', 2]


def test_pack_round_trip():
    items = [{'address': '192.0.2.10', 'port': 80, 'scheduler_flags': ['sh-port'], 'scheduler': 'sh',
              'real_servers': [{'address': '10.0.0.1', 'forwarding': 'tun', 'tun_type': 'gue', 'tun_port': 6080}]},
             {'fwmark': 3, 'family': 'ipv6', 'purge_real_servers': False}]
    packed = pack_list(items, ipvs_table.SERVICES)
    assert unpack_list(packed, ipvs_table.SERVICES) == items
    # unset suboptions are not sent: the fwmark entry is a row of 5 values, the real server one of 8
    rows = json.loads(packed)['rows']
    assert len(rows[1]) == len(list(ipvs_table.SERVICES['options']))
    assert rows[1][:5] == [None, None, None, 3, 'ipv6'] and len(rows[0][11][0]) == 8


@pytest.mark.parametrize('packed, msg', [
    ('{"rows": []', 'services_packed: not a declaration packed by this collection'),
    (json.dumps({'version': 1, 'fields': ['address'], 'rows': []}), 'packed by another version of the spec'),
    (pack_list([{'address': '192.0.2.10', 'port': 80}], ipvs_table.SERVICES).replace('80', '"80"'),
     'services_packed: holds entries that services would not take unchanged'),
])
def test_a_hand_made_packed_string_is_refused_before_anything(packed, msg, tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path)
    result = run_module('ipvs_table', {'services_packed': packed}, kernel, tmp_path, monkeypatch, capsys)
    assert result['failed'] and msg in result['msg']
    assert kernel.calls == []


def test_services_and_packed_are_exclusive(tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path)
    packed = pack_list([{'address': '192.0.2.10', 'port': 80}], ipvs_table.SERVICES)
    result = run_module('ipvs_table', {'services_packed': packed, 'services': [{'address': '192.0.2.11', 'port': 80}]},
                        kernel, tmp_path, monkeypatch, capsys)
    assert result['failed'] and 'mutually exclusive: services|services_packed' in result['msg']
    assert kernel.calls == []


# ---- the no-op check on digests of the -S text ---------------------------------------------------

DECLARED = {'services': [{'address': '192.0.2.10', 'port': 80, 'scheduler': 'wrr',
                          'real_servers': [{'address': '10.0.0.1', 'weight': 2}, {'address': '10.0.0.2', 'forwarding': 'nat', 'port': 8080}]},
                         {'fwmark': 4, 'family': 'ipv6', 'scheduler': 'rr', 'one_packet': True,
                          'real_servers': [{'address': '2001:db8::4', 'forwarding': 'tun', 'tun_type': 'gre'}]}]}
LIVE = ('-A -t 192.0.2.10:80 -s wrr\n-a -t 192.0.2.10:80 -r 10.0.0.2:8080 -m -w 1\n-a -t 192.0.2.10:80 -r 10.0.0.1:80 -g -w 2\n'
        '-A -f 4 -6 -s rr -o\n-a -f 4 -6 -r [2001:db8::4]:0 -i -w 1 --tun-type gre --tun-nocsum\n'
        '-A -u 192.0.2.99:53 -s rr\n')   # a service the declaration does not name stays untouched


def unparsed(monkeypatch):
    """Make any parse of the table fail: the digest check must decide alone."""
    from ansible_collections.lvs.cluster.plugins.module_utils import _ipvs_runner

    def refuse(*args):
        raise AssertionError('the table was parsed')
    monkeypatch.setattr(_ipvs_runner, 'parse_save', refuse)


@pytest.mark.parametrize('check', [False, True])
def test_noop_is_found_on_the_text_alone(check, tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path, LIVE)
    before = kernel.rules()
    unparsed(monkeypatch)
    result, sent = via_action(DECLARED, kernel, tmp_path, monkeypatch, capsys, check=check, diff=True)
    assert (result['changed'], result['commands'], result['drained']) == (False, [], [])
    assert result['diff'] == {'before': {'services': {}}, 'after': {'services': {}}}
    assert kernel.calls == [['ipvsadm', '-S', '-n'], ['ipvsadm', '-L', '-n', '--thresholds']]
    assert kernel.rules() == before
    assert (tmp_path / 'ipvs.lock').exists() is not check
    assert len(json.loads(sent[0][1]['services_packed'])['digests']) == 2


@pytest.mark.parametrize('live, commands, calls', [
    # same -S text, but a threshold the declaration does not have: -S hides it, the listing shows it
    (LIVE.replace('10.0.0.1:80 -g -w 2', '10.0.0.1:80 -g -w 2 -x 10 -y 5'),
     ['-e -t 192.0.2.10:80 -r 10.0.0.1:80 -g -w 2'],
     [['-S', '-n'], ['-L', '-n', '--thresholds'], ['-R'], ['-S', '-n'], ['-L', '-n', '--thresholds']]),
    # an undeclared real server: purged on the table already read (one read, not two)
    (LIVE + '-a -u 192.0.2.99:53 -r 10.0.0.9:53 -g -w 1\n-a -f 4 -6 -r [2001:db8::5]:0 -i -w 1 --tun-type ipip\n',
     ['-d -f 4 -6 -r [2001:db8::5]:0'],
     [['-S', '-n'], ['-L', '-n', '--thresholds'], ['-R'], ['-S', '-n']]),
    # one weight
    (LIVE.replace('-m -w 1', '-m -w 3'), ['-e -t 192.0.2.10:80 -r 10.0.0.2:8080 -m -w 1'],
     [['-S', '-n'], ['-L', '-n', '--thresholds'], ['-R'], ['-S', '-n']]),
])
def test_a_difference_takes_the_full_path_on_what_was_read(live, commands, calls, tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path, live)
    result, sent = via_action(DECLARED, kernel, tmp_path, monkeypatch, capsys)
    assert result['changed'] and result['commands'] == commands
    assert [c[1:] for c in kernel.calls if c[0] == 'ipvsadm'] == calls


@pytest.mark.parametrize('extra', [{'purge': True}, {'return_rules': True}, {'ignore': [{'address': '192.0.2.99'}]}])
def test_no_digest_check_where_the_module_needs_the_parsed_table(extra, tmp_path, monkeypatch, capsys):
    kernel = FakeKernel(tmp_path, LIVE)
    unparsed(monkeypatch)
    with pytest.raises(AssertionError, match='the table was parsed'):
        via_action(dict(DECLARED, **extra), kernel, tmp_path, monkeypatch, capsys)


def test_no_digests_for_services_that_keep_undeclared_real_servers_or_set_thresholds():
    from ansible_collections.lvs.cluster.plugins.action.ipvs_table import digests
    keep = [dict(DECLARED['services'][0], purge_real_servers=False)]
    threshold = [{'address': '192.0.2.10', 'port': 80, 'real_servers': [{'address': '10.0.0.1', 'upper_threshold': 5}]}]
    invalid = [{'address': '192.0.2.10', 'port': 70000}]
    assert digests(keep) is None and digests(threshold) is None and digests(invalid) is None
    assert [d[0] for d in digests(DECLARED['services'])] == ['-t 192.0.2.10:80', '-f 4 -6']


def test_a_long_declaration_is_echoed_as_a_summary_on_both_paths(tmp_path, monkeypatch, capsys):
    services = [{'address': '10.100.0.%d' % i, 'port': 80, 'real_servers': [{'address': '172.16.%d.%d' % (i, j)} for j in range(1, 11)]}
                for i in range(100)]
    kernel = FakeKernel(tmp_path)
    first, dummy = via_action({'services': services}, kernel, tmp_path, monkeypatch, capsys)
    unparsed(monkeypatch)
    second, dummy = via_action({'services': services}, kernel, tmp_path, monkeypatch, capsys)
    assert first['changed'] and len(first['commands']) == 1100 and not second['changed']
    summary = '100 services with 1000 real servers in all (not echoed above 1000 entries)'
    assert first['invocation']['module_args']['services'] == second['invocation']['module_args']['services'] == summary


WIDE = {'services': [
    {'address': '2001:DB8::80', 'port': 80, 'scheduler': 'sh', 'scheduler_flags': ['flag-2', 'sh-fallback'],
     'persistence_timeout': 600, 'persistence_netmask': '64',
     'real_servers': [{'address': '2001:db8::a0', 'port': 8080, 'forwarding': 'nat', 'weight': 0},
                      {'address': '10.0.0.70', 'forwarding': 'tun', 'tun_type': 'gue', 'tun_port': 6080, 'tun_checksum': 'remcsum'}]},
    {'protocol': 'udp', 'address': '192.0.2.10', 'port': 53, 'scheduler': 'mh', 'scheduler_flags': ['mh-port'],
     'one_packet': True, 'persistence_timeout': 30, 'persistence_engine': 'sip',
     'real_servers': [{'address': '10.0.0.31', 'forwarding': 'tun', 'tun_type': 'gre', 'tun_checksum': 'csum'}]},
    {'protocol': 'sctp', 'address': '192.0.2.10', 'port': 0, 'persistence_timeout': 360, 'persistence_netmask': '255.255.255.0'},
    {'fwmark': 7, 'scheduler': 'rr', 'real_servers': [{'address': '10.0.0.5', 'port': 0, 'forwarding': 'nat', 'weight': 65535}]},
]}


def test_every_option_is_a_digest_noop_once_applied(tmp_path, monkeypatch, capsys):
    """The digests render what -S prints for every option the declaration can hold (thresholds aside)."""
    kernel = FakeKernel(tmp_path)
    first, dummy = via_action(WIDE, kernel, tmp_path, monkeypatch, capsys)
    assert first['changed'] and not first.get('failed'), first.get('msg')
    plain = run_module('ipvs_table', WIDE, kernel, tmp_path, monkeypatch, capsys)
    assert not plain['changed'], plain['commands']
    kernel.calls.clear()
    unparsed(monkeypatch)
    second, dummy = via_action(WIDE, kernel, tmp_path, monkeypatch, capsys)
    assert not second['changed'] and second['commands'] == []
    assert [c[1:] for c in kernel.calls] == [['-S', '-n'], ['-L', '-n', '--thresholds']]
