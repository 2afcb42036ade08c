"""The hand-over bridge: which services it bridges, the bridge services and the nftables script.

The tables are real `ipvsadm -S -n` output of the lab kernel (tests/unit/fixtures/ipvsadm/README.md says how
they were captured); expected ipvsadm lines and nft scripts are literals.
"""

from pathlib import Path

from ansible_collections.lvs.cluster.plugins.module_utils._handover import (
    bridge_intents, bridges, is_bridge, leaving, nft_ruleset)
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_parse import parse_save
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_plan import plan

FIXTURES = Path(__file__).resolve().parents[2] / 'fixtures' / 'ipvsadm'
NAT = ('tcp', '192.0.2.100', 80)


def traffic_table():
    return parse_save((FIXTURES / 'traffic_save.txt').read_text())


def test_only_services_keepalived_runs_and_ipvs_table_is_to_own_are_bridged():
    fwm = ('fwmark', 'ipv4', 7)
    other = ('udp', '192.0.2.100', 53)
    assert leaving({NAT, fwm, other}, [NAT, fwm]) == [NAT]
    assert leaving({NAT}, []) == []
    assert leaving(set(), [NAT]) == []


def test_the_bridge_copies_scheduler_and_real_servers_with_their_port():
    table = traffic_table()
    planned = bridges(table, [NAT, ('tcp', '192.0.2.99', 80)])    # the second is not in the kernel
    assert [(key, svc['fwmark'], svc['scheduler']) for key, svc in planned] == [(NAT, 0x4c560000, 'rr')]
    ops = plan(table, bridge_intents(table, planned))[0]
    assert [op.line for op in ops] == ['-A -f 1280704512 -s rr', '-a -f 1280704512 -r 192.0.2.10:8080 -m -w 1']
    # the live service is left alone
    assert table[NAT]['real_servers'][('192.0.2.10', 8080)]['weight'] == 1


def test_bridges_not_needed_any_more_are_deleted_and_others_are_left_alone():
    table = parse_save('-A -t 192.0.2.100:80 -s rr\n'
                       '-a -t 192.0.2.100:80 -r 192.0.2.10:8080 -m -w 1\n'
                       '-A -f 1280704513 -s wlc\n'
                       '-A -f 7 -s rr\n')
    assert [k for k in table if is_bridge(k)] == [('fwmark', 'ipv4', 1280704513)]
    ops = plan(table, bridge_intents(table, []))[0]
    assert [op.line for op in ops] == ['-D -f 1280704513']


def test_the_nft_script_replaces_the_table_atomically_and_marks_both_hooks():
    assert nft_ruleset([(NAT, {'fwmark': 0x4c560000}), (('udp', '2001:db8::10', 53), {'fwmark': 0x4c560001})]) == (
        'table inet lvs_cluster_handover {}\n'
        'delete table inet lvs_cluster_handover\n'
        'table inet lvs_cluster_handover {\n'
        '  chain prerouting {\n'
        '    type filter hook prerouting priority mangle; policy accept;\n'
        '    ip daddr 192.0.2.100 tcp dport 80 meta mark set 0x4c560000\n'
        '    ip6 daddr 2001:db8::10 udp dport 53 meta mark set 0x4c560001\n'
        '  }\n'
        '  chain output {\n'
        '    type route hook output priority mangle; policy accept;\n'
        '    ip daddr 192.0.2.100 tcp dport 80 meta mark set 0x4c560000\n'
        '    ip6 daddr 2001:db8::10 udp dport 53 meta mark set 0x4c560001\n'
        '  }\n'
        '}\n')
    assert nft_ruleset([]) == 'table inet lvs_cluster_handover {}\ndelete table inet lvs_cluster_handover\n'
