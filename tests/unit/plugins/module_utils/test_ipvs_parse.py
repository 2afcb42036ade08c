"""Parser and normaliser of ipvsadm output, on outputs captured from the lab kernel (6.1, ipvsadm 1.31).

full_rules_input.txt is what was fed to 'ipvsadm -R'; full_*.txt and traffic_*.txt are the kernel's
answers, written by tests/unit/fixtures/ipvsadm/capture.py (the README there names each command).
"""

from pathlib import Path

import pytest

from ansible_collections.lvs.cluster.plugins.module_utils import _ipvs_model as M
from ansible_collections.lvs.cluster.plugins.module_utils import _ipvs_parse as P

FIXTURES = Path(__file__).resolve().parents[3] / 'unit' / 'fixtures' / 'ipvsadm'


def fixture(name):
    return (FIXTURES / name).read_text()


@pytest.fixture(scope='module')
def table():
    return P.merge_thresholds(P.parse_save(fixture('full_save.txt')), P.parse_listing(fixture('full_thresholds.txt')))


def test_every_service_and_real_server_is_parsed(table):
    lines = fixture('full_save.txt').splitlines()
    assert len(table) == sum(1 for line in lines if line.startswith('-A'))
    assert sum(len(s['real_servers']) for s in table.values()) == sum(1 for line in lines if line.startswith('-a'))


def test_save_round_trip_is_byte_identical_without_thresholds(table):
    rendered = []
    for key in table:     # parse order = kernel order
        svc = table[key]
        rendered.append(' '.join(M.service_line('-A', svc)))
        for dest in svc['real_servers'].values():
            line = M.dest_line('-a', svc, dict(dest, upper_threshold=0, lower_threshold=0))
            rendered.append(' '.join(line))
    assert rendered == fixture('full_save.txt').splitlines()


def test_input_rules_and_kernel_output_normalise_to_the_same_table(table):
    """-R input written with aliases, defaults and odd address forms equals what the kernel saved."""
    given = {}
    for line in fixture('full_rules_input.txt').splitlines():
        cmd, svc, dest = P.parse_rule(line)
        key = M.service_key(svc)
        if cmd == '-A':
            given[key] = svc
        else:
            given[key]['real_servers'][M.dest_key(dest)] = dest
    assert given == table


@pytest.mark.parametrize('key, field, value', [
    (('tcp', '192.0.2.10', 447), 'persistence_timeout', 360),             # -p without value
    (('tcp', '192.0.2.10', 447), 'persistence_netmask', '255.255.255.255'),
    (('tcp', '192.0.2.10', 443), 'persistence_netmask', '255.255.255.0'),
    (('tcp', '192.0.2.10', 443), 'scheduler_flags', ['sh-fallback', 'sh-port']),
    (('tcp', '192.0.2.10', 444), 'scheduler_flags', ['sh-port']),        # given as flag-2
    (('tcp', '192.0.2.10', 445), 'scheduler_flags', ['mh-fallback', 'mh-port']),
    (('tcp', '192.0.2.10', 446), 'scheduler_flags', ['flag-3']),
    (('udp', '2001:db8::53', 53), 'scheduler_flags', ['mh-fallback']),  # given as flag-1
    (('tcp', '192.0.2.10', 448), 'persistence_engine', 'sip'),
    (('udp', '192.0.2.10', 53), 'one_packet', True),
    (('tcp', '192.0.2.10', 80), 'one_packet', False),
    (('sctp', '192.0.2.10', 9000), 'scheduler', 'lblc'),
    (('sctp', '2001:db8::1', 38412), 'family', 'ipv6'),
    (('fwmark', 'ipv4', 7), 'persistence_timeout', 300),
    (('fwmark', 'ipv6', 8), 'one_packet', True),
    (('fwmark', 'ipv6', 9), 'persistence_netmask', '64'),
    (('tcp', '2001:db8::80', 80), 'persistence_netmask', '64'),
])
def test_service_fields(table, key, field, value):
    assert table[key][field] == value


def test_every_scheduler_of_the_kernel_is_seen(table):
    seen = set(s['scheduler'] for s in table.values())
    assert seen == set(M.SCHEDULERS) - {'twos'}


@pytest.mark.parametrize('key, dkey, fields', [
    (('tcp', '192.0.2.10', 80), ('10.0.0.12', 80),                          # port forced for -g, weight 0
     dict(forwarding='dr', weight=0, upper_threshold=1000, lower_threshold=750)),
    (('tcp', '192.0.2.10', 80), ('10.0.0.41', 80), dict(tun_type='gue', tun_port=6080, tun_checksum='nocsum')),
    (('tcp', '192.0.2.10', 80), ('10.0.0.42', 80), dict(tun_type='gre', tun_port=None, tun_checksum='csum')),
    (('tcp', '192.0.2.10', 80), ('10.0.0.43', 80), dict(tun_type='gue', tun_port=6081, tun_checksum='remcsum')),
    (('tcp', '192.0.2.10', 80), ('10.0.0.44', 80), dict(tun_type='gre', tun_checksum='nocsum')),
    (('tcp', '192.0.2.10', 80), ('10.0.0.45', 80), dict(forwarding='tun', tun_type='ipip', tun_checksum=None)),
    (('tcp', '192.0.2.10', 80), ('2001:db8::45', 80), dict(forwarding='tun', tun_type='ipip')),
    (('tcp', '192.0.2.10', 443), ('10.0.0.21', 8443), dict(forwarding='nat', weight=3, upper_threshold=50)),
    (('udp', '192.0.2.10', 53), ('10.0.0.32', 5353),
     dict(weight=65535, upper_threshold=2147483647, lower_threshold=1, tun_type=None)),
    (('fwmark', 'ipv4', 7), ('10.0.0.61', 0), dict(forwarding='dr')),
    (('fwmark', 'ipv4', 7), ('10.0.0.62', 8080), dict(forwarding='nat')),
    (('fwmark', 'ipv6', 8), ('2001:db8::62', 0), dict(weight=4)),
    (('tcp', '2001:db8::80', 80), ('2001:db8::a0a1', 80), dict(forwarding='dr')),    # given as 2001:DB8:0::a0a1:8080
    (('tcp', '2001:db8::80', 80), ('2001:db8::a0a0', 8080), dict(upper_threshold=20, lower_threshold=10)),
    (('tcp', '2001:db8::80', 80), ('10.0.0.70', 80), dict(forwarding='tun')),
])
def test_real_server_fields(table, key, dkey, fields):
    dest = table[key]['real_servers'][dkey]
    assert dict((k, dest[k]) for k in fields) == fields


def test_listing_stats_and_rates_with_traffic():
    stats = P.parse_listing(fixture('traffic_stats.txt'))
    rates = P.parse_listing(fixture('traffic_rate.txt'))
    key, dkey = ('tcp', '192.0.2.100', 80), ('192.0.2.10', 8080)
    assert stats[key]['columns'] == [2, 6, 0, 360, 0]
    assert stats[key]['real_servers'][dkey] == [2, 6, 0, 360, 0]
    assert rates[key]['columns'] == [0, 0, 0, 3, 0]
    assert rates[key]['real_servers'][dkey] == [0, 0, 0, 3, 0]
    assert P.connections(P.parse_listing(fixture('traffic_thresholds.txt')), key, dkey) == (2, 0)
    assert P.connections(P.parse_listing(fixture('traffic_thresholds.txt')), key, ('1.1.1.1', 1)) is None


def test_listing_full_table_has_every_service(table):
    for name in ('full_stats.txt', 'full_rate.txt', 'full_thresholds.txt'):
        listing = P.parse_listing(fixture(name))
        assert set(listing) == set(table)
        for key in table:
            assert set(listing[key]['real_servers']) == set(table[key]['real_servers'])


def test_abbreviated_counters_are_refused():
    with pytest.raises(M.IpvsError, match='--exact'):
        P.parse_listing('TCP  192.0.2.10:80   123K  0 0 0 0\n  -> 10.0.0.1:80  1K 0 0 0 0\n')


STATS_TITLE = ('IP Virtual Server version 1.2.1 (size=4096)\n'
               'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n'
               '  -> RemoteAddress:Port\n')


@pytest.mark.parametrize('service_line', [
    # 'ipvsadm -L -n --stats' without --exact: only the service's InBytes is above 10^8
    'TCP  192.0.2.10:80                       5       50       40  123456K     4000',
    'FWM  5 IPv6                              5       50       40  123456K     4000',
    'TCP  192.0.2.10:80                 123456K       50       40     1000     4000',
])
def test_abbreviated_service_counters_are_refused(service_line):
    text = STATS_TITLE + service_line + '\n  -> 10.0.0.1:80                         1       10        8     1000      800\n'
    with pytest.raises(M.IpvsError, match=r'expected numbers \(use --exact\)'):
        P.parse_listing(text)


def test_exact_service_counters_are_read():
    text = (STATS_TITLE + 'TCP  192.0.2.10:80                       5       50       40 123456789     4000\n'
            '  -> 10.0.0.1:80                         1       10        8     1000      800\n'
            'FWM  5 IPv6                              5       50       40 123456789     4000\n')
    assert P.parse_listing(text) == {
        ('tcp', '192.0.2.10', 80): {'columns': [5, 50, 40, 123456789, 4000],
                                    'real_servers': {('10.0.0.1', 80): [1, 10, 8, 1000, 800]}},
        ('fwmark', 'ipv6', 5): {'columns': [5, 50, 40, 123456789, 4000], 'real_servers': {}},
    }


def test_service_settings_are_not_counters():
    text = ('IP Virtual Server version 1.2.1 (size=4096)\n'
            'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n'
            '  -> RemoteAddress:Port\n'
            'TCP  192.0.2.10:80 rr\n'
            '  -> 10.0.0.1:80                  0          0          0          0         \n'
            'FWM  5 IPv6 sh ()\n'
            'TCP  192.0.2.10:443 sh (sh-fallback,sh-port) persistent 360 mask 255.255.255.0\n')
    assert P.parse_listing(text) == {
        ('tcp', '192.0.2.10', 80): {'columns': [], 'real_servers': {('10.0.0.1', 80): [0, 0, 0, 0]}},
        ('fwmark', 'ipv6', 5): {'columns': [], 'real_servers': {}},
        ('tcp', '192.0.2.10', 443): {'columns': [], 'real_servers': {}},
    }


# ipvsadm 1.31 has no name for bit 3 of sh and mh (tests/unit/plugins/modules/test_fake_ipvsadm.py,
# test_lab_observations): '-s sh -b flag-3' is saved as '-b ' and '-s mh -b mh-port,flag-3' as '-b mh-port'
@pytest.mark.parametrize('line, flags, rendered', [
    ('-A -t 192.0.2.10:92 -s sh -b ', ['flag-3'], '-A -t 192.0.2.10:92 -s sh -b flag-3'),
    ('-A -t 192.0.2.10:92 -s sh -b', ['flag-3'], '-A -t 192.0.2.10:92 -s sh -b flag-3'),
    ('-A -f 5 -6 -s mh -b ', ['flag-3'], '-A -f 5 -6 -s mh -b flag-3'),
    ('-A -t 192.0.2.10:92 -s sh -p 600 -b ', ['flag-3'], '-A -t 192.0.2.10:92 -s sh -p 600 -b flag-3'),
    ('-A -t 192.0.2.10:92 -b -s sh', ['flag-3'], '-A -t 192.0.2.10:92 -s sh -b flag-3'),
    ('-A -t 192.0.2.10:91 -s mh -b mh-port', ['mh-port'], '-A -t 192.0.2.10:91 -s mh -b mh-port'),
    ('-A -t 192.0.2.10:93 -s rr -b ', [], '-A -t 192.0.2.10:93 -s rr'),
])
def test_empty_scheduler_flags_value(line, flags, rendered):
    table = P.parse_save(line + '\n')
    svc = list(table.values())[0]
    assert svc['scheduler_flags'] == flags
    assert ' '.join(M.service_line('-A', svc)) == rendered


def test_timeout_and_daemon():
    assert P.parse_timeout(fixture('full_timeout.txt')) == {'tcp': 900, 'tcpfin': 120, 'udp': 300}
    assert P.parse_daemon(fixture('full_daemon_none.txt')) == []
    # the kernel of the lab refuses to start a sync daemon; this line follows ipvsadm's list_daemon() format
    line = 'master sync daemon (mcast=eth1, syncid=10, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n'
    assert P.parse_daemon(line) == [{'state': 'master', 'mcast': 'eth1', 'syncid': 10, 'maxlen': 1472,
                                     'group': '224.0.0.81', 'port': 8848, 'ttl': 1}]
    with pytest.raises(M.IpvsError):
        P.parse_daemon('slave thing\n')


@pytest.mark.parametrize('line', [
    '-A -t 192.0.2.10:80 -s',                 # missing value
    '-t 192.0.2.10:80 -s rr',                 # no command
    '-A -t 192.0.2.10:80 --bogus',            # unknown token
    '-a -t 192.0.2.10:80 -g',                 # no real server
    '-A -t 300.0.2.10:80',                    # bad address
])
def test_bad_rules(line):
    with pytest.raises(M.IpvsError):
        P.parse_rule(line)


def test_real_server_before_service_is_an_error():
    with pytest.raises(M.IpvsError):
        P.parse_save('-a -t 192.0.2.10:80 -r 10.0.0.1:80 -g -w 1\n')


@pytest.mark.parametrize('text, expected', [
    ('[2001:DB8:0:0::1]:80', ('2001:db8::1', 80)),
    ('10.0.0.1:0', ('10.0.0.1', 0)),
    ('10.0.0.1', ('10.0.0.1', None)),
    ('2001:db8::1', ('2001:db8::1', None)),
])
def test_split_endpoint(text, expected):
    assert P.split_endpoint(text) == expected


def test_normaliser_defaults():
    svc = M.make_service(address='2001:DB8::0:1', port=80, persistence_timeout=10)
    assert (svc['protocol'], svc['address'], svc['family'], svc['scheduler']) == ('tcp', '2001:db8::1', 'ipv6', 'wlc')
    assert svc['persistence_netmask'] == '128'
    dest = M.make_dest(svc, address='2001:db8::2', forwarding='tun')
    assert (dest['port'], dest['tun_type'], dest['tun_checksum'], dest['weight']) == (80, 'ipip', None, 1)
    assert M.make_dest(svc, address='2001:db8::2', forwarding='tun', tun_type='gre')['tun_checksum'] == 'nocsum'
    assert M.make_dest(svc, address='2001:db8::2', forwarding='nat', port=81)['port'] == 81
    assert M.make_dest(svc, address='2001:db8::2', forwarding='dr', port=81)['port'] == 80
    assert M.canonical_flags(['flag-2', 'sh-port', 'flag-1'], 'sh') == ['sh-fallback', 'sh-port']
    assert M.canonical_flags(['mh-port'], 'rr') == ['flag-2']


def test_table_rules_keep_thresholds_and_restore_the_same_table(table):
    """The rules file the director writes: parsing it back gives the kernel's table, thresholds included."""
    rules = M.table_rules(table)
    assert any(' -x ' in line for line in rules) and any(' -y ' in line for line in rules)
    assert sum(1 for line in rules if line.startswith('-A')) == len(table)
    reparsed = P.parse_save('\n'.join(rules) + '\n')
    assert reparsed == table


GRAMMARS = (M.COMMAND_OPTS, M.PROTOCOL_OPTS, M.FORWARDING_OPTS,
            M.CHECKSUM_OPTS, M.FIELD_OPTS)


def test_every_spelling_means_one_thing():
    spellings = [s for grammar in GRAMMARS for names in grammar.values() for s in names]
    assert len(spellings) == len(set(spellings))


@pytest.mark.parametrize('long_line, written', [
    ('--add-service --udp-service [2001:db8::53]:53 --scheduler sh --persistent 60 --netmask 64 --pe sip --ops '
     '--sched-flags sh-port', '-A -u [2001:db8::53]:53 -s sh -p 60 -M 64 --pe sip -o -b sh-port'),
    ('--edit-service --fwmark-service 7 --ipv6 --scheduler rr', '-E -f 7 -6 -s rr'),
    ('--add-server --tcp-service 192.0.2.10:80 --real-server 10.0.0.1:8080 --masquerading --weight 3 '
     '--u-threshold 9 --l-threshold 2', '-a -t 192.0.2.10:80 -r 10.0.0.1:8080 -m -w 3 -x 9 -y 2'),
    ('--edit-server --sctp-service 192.0.2.10:38412 --real-server 10.0.0.2 --ipip --weight 1 --tun-type gue '
     '--tun-port 6080 --tun-remcsum', '-e --sctp-service 192.0.2.10:38412 -r 10.0.0.2:38412 -i -w 1 --tun-type gue '
     '--tun-port 6080 --tun-remcsum'),
    ('--delete-server --tcp-service 192.0.2.10:80 --real-server 10.0.0.1:80', '-d -t 192.0.2.10:80 -r 10.0.0.1:80'),
    ('--delete-service --tcp-service 192.0.2.10:80', '-D -t 192.0.2.10:80'),
])
def test_grammar_reads_long_options_and_writes_short_ones(long_line, written):
    """One grammar both ways: the parser reads every alias, the renderer writes what ipvsadm -S writes."""
    cmd, svc, dest = P.parse_rule(long_line)
    line = M.service_line(cmd, svc) if dest is None else M.dest_line(cmd, svc, dest)
    assert ' '.join(line) == written
    assert P.parse_rule(written) == (cmd, svc, dest)


def test_zeroed_counters_read_as_zero():
    """After ipvsadm -Z (ipvs_counters) the same service and real server list zero counters."""
    before = P.parse_listing(fixture('traffic_stats.txt'))
    after = P.parse_listing(fixture('traffic_zeroed_stats.txt'))
    key = ('tcp', '192.0.2.100', 80)
    assert list(after) == list(before) == [key]
    assert any(before[key]['columns'])
    assert after[key] == {'columns': [0] * 5, 'real_servers': {('192.0.2.10', 8080): [0] * 5}}


def test_fwmarks_of_2_to_the_31_and_above_read_as_the_kernel_holds_them():
    # ipvsadm prints the unsigned mark with %d: 2147483648 as -2147483648, 4294967295 as -1
    table = P.merge_thresholds(P.parse_save(fixture('fwmark_high_save.txt')),
                               P.parse_listing(fixture('fwmark_high_thresholds.txt')))
    assert sorted(table) == [('fwmark', 'ipv4', 2147483648), ('fwmark', 'ipv6', 4294967295)]
    low = table[('fwmark', 'ipv4', 2147483648)]
    assert low['fwmark'] == 2147483648
    assert low['real_servers'][('10.0.0.1', 0)]['upper_threshold'] == 5
    assert table[('fwmark', 'ipv6', 4294967295)]['scheduler'] == 'wlc'
    # written back as the module writes a mark, which ipvsadm -R and the kernel accept
    assert M.service_line('-A', low) == ['-A', '-f', '2147483648', '-s', 'rr']
