"""keepalived_handover's main(): keepalived's real dump (the NAT lab's) against the fake kernel and a fake nft.

keepalived is replaced by its pid and its dump (keepalived_pid() and read_dump() of the module patched);
ipvsadm is the fake kernel of the other module tests (fake_ipvsadm, its own grammar); nft records the
scripts it is given and whether the bridge table exists.
"""

from pathlib import Path

from ansible_collections.lvs.cluster.plugins.modules import keepalived_handover

from fake_ipvsadm import FakeKernel
from test_ipvs_modules import run_module

DUMP = (Path(__file__).resolve().parents[2] / 'fixtures' / 'keepalived' / 'nat_both_up.txt').read_text()
SERVICE = {'protocol': 'tcp', 'address': '192.168.2.54', 'port': 80, 'scheduler': 'rr',
           'real_servers': [{'address': '192.168.4.52', 'forwarding': 'nat'}]}
LIVE = ['-A -t 192.168.2.54:80 -s rr', '-a -t 192.168.2.54:80 -r 192.168.4.52:80 -m -w 1',
        '-a -t 192.168.2.54:80 -r 192.168.4.53:80 -m -w 3']
BRIDGE = ['-A -f 1280704512 -s rr', '-a -f 1280704512 -r 192.168.4.52:80 -m -w 1',
          '-a -f 1280704512 -r 192.168.4.53:80 -m -w 3']
SCRIPT = ('table inet lvs_cluster_handover {}\n'
          'delete table inet lvs_cluster_handover\n'
          'table inet lvs_cluster_handover {\n'
          '  chain prerouting {\n'
          '    type filter hook prerouting priority mangle; policy accept;\n'
          '    ip daddr 192.168.2.54 tcp dport 80 meta mark set 0x4c560000\n'
          '  }\n'
          '  chain output {\n'
          '    type route hook output priority mangle; policy accept;\n'
          '    ip daddr 192.168.2.54 tcp dport 80 meta mark set 0x4c560000\n'
          '  }\n'
          '}\n')
DELETE = 'table inet lvs_cluster_handover {}\ndelete table inet lvs_cluster_handover\n'


class KernelWithNft(FakeKernel):
    def __init__(self, tmpdir, rules, nft_table=False):
        super(KernelWithNft, self).__init__(tmpdir, rules)
        self.nft_table, self.scripts = nft_table, []

    def run_command(self, args, data=None, environ_update=None, binary_data=False, **kwargs):
        if not args[0].endswith('/nft'):
            return super(KernelWithNft, self).run_command(args, data, environ_update, binary_data, **kwargs)
        assert environ_update and environ_update.get('LC_ALL') == 'C'
        self.calls.append(['nft'] + list(args[1:]))
        if args[1:] == ['list', 'table', 'inet', 'lvs_cluster_handover']:
            return (0, 'table inet lvs_cluster_handover {\n}\n', '') if self.nft_table else (1, '', 'No such file\n')
        assert args[1:] == ['-f', '-'], args
        self.scripts.append(data)
        self.nft_table = 'meta mark set' in data
        return 0, '', ''


def run(tmp_path, monkeypatch, capsys, rules, args, pid=4242, nft_table=False, check=False, connections=None):
    tmp_path = tmp_path / str(len(list(tmp_path.iterdir())))
    tmp_path.mkdir()
    kernel = KernelWithNft(tmp_path, '\n'.join(rules) + '\n', nft_table)
    for service, server, active in connections or []:
        kernel.set_connections(service, server, active, 0)
    monkeypatch.setattr(keepalived_handover, 'keepalived_pid', lambda: pid)
    monkeypatch.setattr(keepalived_handover, 'read_dump', lambda p: DUMP)
    result = run_module('keepalived_handover', args, kernel, tmp_path, monkeypatch, capsys, check=check)
    assert not result.get('failed'), result
    return result, kernel


def test_a_service_keepalived_runs_is_bridged_with_its_live_weights(tmp_path, monkeypatch, capsys):
    result, kernel = run(tmp_path, monkeypatch, capsys, LIVE, {'services': [SERVICE]})
    assert result['changed'] is True
    assert result['bridges'] == [{'service': 'tcp 192.168.2.54:80', 'fwmark': 1280704512,
                                  'ignore': {'fwmark': 1280704512, 'family': 'ipv4'}}]
    assert result['commands'] == BRIDGE + [SCRIPT]
    assert kernel.rules() == LIVE + BRIDGE
    assert kernel.scripts == [SCRIPT]
    assert result['waited'] == 0.0


def test_it_waits_for_the_active_connections_of_the_service_keepalived_will_delete(tmp_path, monkeypatch, capsys):
    args = {'services': [SERVICE], 'drain_timeout': 0.6}
    result, kernel = run(tmp_path, monkeypatch, capsys, LIVE, args, connections=[('-t 192.168.2.54:80', '192.168.4.53:80', 2)])
    assert 0.6 <= result['waited'] < 2, result['waited']
    result, kernel = run(tmp_path, monkeypatch, capsys, LIVE + BRIDGE, {'state': 'absent', 'drain_timeout': 0.6}, nft_table=True,
                         connections=[('-f 1280704512', '192.168.4.52:80', 1)])
    assert 0.6 <= result['waited'] < 2, result['waited']
    assert kernel.rules() == LIVE


def test_check_mode_reports_the_bridge_and_changes_nothing(tmp_path, monkeypatch, capsys):
    result, kernel = run(tmp_path, monkeypatch, capsys, LIVE, {'services': [SERVICE]}, check=True)
    assert (result['changed'], result['commands']) == (True, BRIDGE + [SCRIPT])
    assert kernel.rules() == LIVE and kernel.scripts == []


def test_nothing_is_bridged_when_keepalived_does_not_run_or_the_service_stays_its(tmp_path, monkeypatch, capsys):
    result, kernel = run(tmp_path, monkeypatch, capsys, LIVE, {'services': [SERVICE]}, pid=None)
    assert (result['changed'], result['bridges'], kernel.scripts) == (False, [], [])
    result, kernel = run(tmp_path, monkeypatch, capsys, LIVE, {'services': []})
    assert (result['changed'], result['bridges'], kernel.scripts) == (False, [], [])
    assert [c[0] for c in kernel.calls if c[0] == 'nft'] == ['nft']     # only the look for an old table


def test_absent_takes_the_rules_down_before_the_bridge(tmp_path, monkeypatch, capsys):
    result, kernel = run(tmp_path, monkeypatch, capsys, LIVE + BRIDGE, {'state': 'absent'}, nft_table=True)
    assert result['changed'] is True
    assert result['commands'] == ['-D -f 1280704512', DELETE]
    assert kernel.rules() == LIVE
    order = [c[:2] for c in kernel.calls if c[0] in ('nft', 'ipvsadm') and c[1] in ('-f', '-R')]
    assert order == [['nft', '-f'], ['ipvsadm', '-R']]
    again, kernel = run(tmp_path, monkeypatch, capsys, LIVE, {'state': 'absent'})
    assert (again['changed'], again['commands']) == (False, [])
