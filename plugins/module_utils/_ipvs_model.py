# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# The IPVS model: canonical service and real-server records, their keys, and how a record is
# written as an ipvsadm command line (the format of "ipvsadm -S -n", accepted by "ipvsadm -R").
#
# A service record is a dict with the keys of SERVICE_FIELDS plus "real_servers" (a dict keyed by
# real-server key while planning, a sorted list in module results). A real-server record is a dict
# with the keys of DEST_FIELDS. Records are canonical: two records describe the same kernel state
# exactly when they compare equal.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ipaddress

SCHEDULERS = ('rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos')
PROTOCOLS = ('tcp', 'udp', 'sctp')
FAMILIES = ('ipv4', 'ipv6')
FORWARDING = ('nat', 'dr', 'tun')
TUN_TYPES = ('ipip', 'gue', 'gre')
TUN_CHECKSUMS = ('nocsum', 'csum', 'remcsum')
PERSISTENCE_ENGINES = ('sip',)

DEFAULT_PROTOCOL = 'tcp'
DEFAULT_FAMILY = 'ipv4'
DEFAULT_SCHEDULER = 'wlc'
DEFAULT_FORWARDING = 'dr'
DEFAULT_WEIGHT = 1
DEFAULT_TUN_TYPE = 'ipip'
DEFAULT_TUN_CHECKSUM = 'nocsum'
DEFAULT_PERSISTENCE = 360          # "-p" without a value (IPVS_SVC_PERSISTENT_TIMEOUT)
MAX_PERSISTENCE = 2678400          # 31 days (MAX_TIMEOUT in ipvsadm)
MAX_WEIGHT = 65535
MAX_THRESHOLD = 2147483647
MAX_FWMARK = 4294967295
DEFAULT_NETMASK = {'ipv4': '255.255.255.255', 'ipv6': '128'}

KEY_FIELDS = ('protocol', 'address', 'port', 'fwmark', 'family')
SETTING_FIELDS = ('scheduler', 'scheduler_flags', 'persistence_timeout', 'persistence_netmask',
                  'persistence_engine', 'one_packet')
SERVICE_FIELDS = KEY_FIELDS + SETTING_FIELDS
DEST_FIELDS = ('address', 'port', 'forwarding', 'weight', 'upper_threshold', 'lower_threshold',
               'tun_type', 'tun_port', 'tun_checksum')

# scheduler flag bit (1, 2, 3) -> the name ipvsadm prints for a scheduler; others print flag-N.
# flag-3 is read from the kernel but cannot be set: ipvsadm shows no name for bit 3 of sh and mh
# (-S writes '-b ' or leaves it out next to a named flag), so the change could not be verified.
_FLAG_BITS = {'flag-1': 1, 'flag-2': 2, 'flag-3': 3, 'sh-fallback': 1, 'sh-port': 2, 'mh-fallback': 1, 'mh-port': 2}
_FLAG_NAMES = {'sh': {1: 'sh-fallback', 2: 'sh-port'}, 'mh': {1: 'mh-fallback', 2: 'mh-port'}}
SCHEDULER_FLAGS = tuple(f for f in _FLAG_BITS if f != 'flag-3')
FLAG_SCHEDULERS = tuple(_FLAG_NAMES)

# ipvsadm's option grammar, each meaning once: the first spelling is the one written (as -S writes
# it), the others are the aliases a parser must also read. option_spellings() gives the reverse map.
COMMAND_OPTS = {'-A': ('-A', '--add-service'), '-E': ('-E', '--edit-service'), '-D': ('-D', '--delete-service'),
                '-a': ('-a', '--add-server'), '-e': ('-e', '--edit-server'), '-d': ('-d', '--delete-server')}
PROTOCOL_OPTS = {'tcp': ('-t', '--tcp-service'), 'udp': ('-u', '--udp-service'), 'sctp': ('--sctp-service',)}
FORWARDING_OPTS = {'dr': ('-g', '--gatewaying'), 'nat': ('-m', '--masquerading'), 'tun': ('-i', '--ipip')}
CHECKSUM_OPTS = {'nocsum': ('--tun-nocsum',), 'csum': ('--tun-csum',), 'remcsum': ('--tun-remcsum',)}
# field (or 'real_server', 'ipv6') -> spellings; VALUE_FIELDS take the next token as their value
FIELD_OPTS = {'fwmark': ('-f', '--fwmark-service'), 'ipv6': ('-6', '--ipv6'), 'scheduler': ('-s', '--scheduler'),
              'persistence_timeout': ('-p', '--persistent'), 'persistence_netmask': ('-M', '--netmask'),
              'persistence_engine': ('--pe',), 'one_packet': ('-o', '--ops'), 'scheduler_flags': ('-b', '--sched-flags'),
              'real_server': ('-r', '--real-server'), 'weight': ('-w', '--weight'),
              'upper_threshold': ('-x', '--u-threshold'), 'lower_threshold': ('-y', '--l-threshold'),
              'tun_type': ('--tun-type',), 'tun_port': ('--tun-port',)}
VALUE_FIELDS = ('scheduler', 'persistence_netmask', 'persistence_engine', 'real_server', 'weight',
                'upper_threshold', 'lower_threshold', 'tun_type', 'tun_port')


def option_spellings(grammar):
    """The reverse of a grammar map: every spelling (short and long) -> its meaning."""
    return dict((spelling, meaning) for meaning, spellings in grammar.items() for spelling in spellings)


def opt(field):
    """The spelling of a field's option as ipvsadm -S writes it."""
    return FIELD_OPTS[field][0]


class IpvsError(Exception):
    """Bad input or state that cannot be modelled; the message names the offending parameter."""


_ADDRESSES = {}     # memo of parse_address: tables repeat the same addresses many times


def parse_address(value, where='address'):
    """Return (canonical text, family) of an IPv4/IPv6 literal; brackets are accepted and dropped."""
    try:
        return _ADDRESSES[value]
    except (KeyError, TypeError):    # TypeError: not hashable, and then not an address either
        pass
    text = str(value).strip()
    if text in _ADDRESSES:
        return _ADDRESSES[text]
    inner = text[1:-1] if text.startswith('[') and text.endswith(']') else text
    try:
        addr = ipaddress.ip_address(inner)
    except ValueError:
        raise IpvsError('%s: %r is not an IPv4 or IPv6 address' % (where, value))
    _ADDRESSES[text] = result = (addr.compressed, 'ipv4' if addr.version == 4 else 'ipv6')
    if isinstance(value, str):
        _ADDRESSES[value] = result
    return result


def address_family(address):
    return 'ipv6' if ':' in address else 'ipv4'


def endpoint(address, port):
    """addr:port as ipvsadm writes it ([v6]:port)."""
    if ':' in address:
        return '[%s]:%d' % (address, port)
    return '%s:%d' % (address, port)


def canonical_flags(flags, scheduler):
    """Scheduler flags as the kernel reports them for this scheduler: deduplicated, in bit order."""
    bits = sorted(set(_FLAG_BITS[f] for f in flags or ()))
    names = _FLAG_NAMES.get(scheduler, {})
    return [names.get(b, 'flag-%d' % b) for b in bits]


def canonical_netmask(value, family, where='persistence_netmask'):
    if value is None or str(value).strip() == '':
        return DEFAULT_NETMASK[family]
    text = str(value).strip()
    if family == 'ipv6':
        if text.startswith('/'):
            text = text[1:]
        if not text.isdigit() or not 1 <= int(text) <= 128:
            raise IpvsError('%s: %r must be an IPv6 prefix length 1..128' % (where, value))
        return str(int(text))
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise IpvsError('%s: %r must be a dotted IPv4 netmask such as 255.255.255.0' % (where, value))


def service_modules(svc):
    """The kernel modules a service needs besides ip_vs: its scheduler (the default when it names none)
    and its persistence engine. One home for these names: the runner loads them, the director role
    persists them at boot (through the ipvs_modules filter)."""
    modules = ['ip_vs_' + (svc.get('scheduler') or DEFAULT_SCHEDULER)]
    if svc.get('persistence_engine'):
        modules.append('ip_vs_pe_' + svc['persistence_engine'])
    return modules


def service_key(svc):
    if svc.get('fwmark'):
        return ('fwmark', svc['family'], svc['fwmark'])
    return (svc['protocol'], svc['address'], svc['port'])


def dest_key(dest):
    return (dest['address'], dest['port'])


def key_text(key):
    """A readable, stable label of a service key (used in diffs and messages)."""
    if key[0] == 'fwmark':
        return 'fwmark %d %s' % (key[2], key[1])
    return '%s %s' % (key[0], endpoint(key[1], key[2]))


def make_service(protocol=None, address=None, port=None, fwmark=None, family=None, scheduler=None,
                 scheduler_flags=None, persistence_timeout=None, persistence_netmask=None,
                 persistence_engine=None, one_packet=False):
    """Build a canonical service record (no real servers) from user-level or parsed values."""
    svc = dict.fromkeys(SERVICE_FIELDS)
    if fwmark:
        svc['fwmark'] = int(fwmark)
        svc['family'] = family or DEFAULT_FAMILY
    else:
        svc['protocol'] = protocol or DEFAULT_PROTOCOL
        svc['address'], svc['family'] = parse_address(address)
        svc['port'] = int(port or 0)
    svc['scheduler'] = scheduler or DEFAULT_SCHEDULER
    svc['scheduler_flags'] = canonical_flags(scheduler_flags, svc['scheduler'])
    if persistence_timeout:
        svc['persistence_timeout'] = int(persistence_timeout)
        svc['persistence_netmask'] = canonical_netmask(persistence_netmask, svc['family'])
    svc['persistence_engine'] = persistence_engine or None
    svc['one_packet'] = bool(one_packet)
    svc['real_servers'] = {}
    return svc


def make_dest(svc, address=None, port=None, forwarding=None, weight=None, upper_threshold=None,
              lower_threshold=None, tun_type=None, tun_port=None, tun_checksum=None):
    """Build a canonical real-server record of service svc from user-level or parsed values."""
    dest = dict.fromkeys(DEST_FIELDS)
    dest['address'] = parse_address(address)[0]
    dest['forwarding'] = forwarding or DEFAULT_FORWARDING
    if svc.get('fwmark'):
        dest['port'] = int(port or 0)
    elif dest['forwarding'] != 'nat' or port is None:
        # ipvsadm forces the VIP port for DR and TUN (and uses it when no port is given)
        dest['port'] = svc['port']
    else:
        dest['port'] = int(port)
    dest['weight'] = DEFAULT_WEIGHT if weight is None else int(weight)
    dest['upper_threshold'] = int(upper_threshold or 0)
    dest['lower_threshold'] = int(lower_threshold or 0)
    if dest['forwarding'] == 'tun':
        dest['tun_type'] = tun_type or DEFAULT_TUN_TYPE
        if dest['tun_type'] == 'gue':
            dest['tun_port'] = int(tun_port or 0)
        if dest['tun_type'] != 'ipip':
            dest['tun_checksum'] = tun_checksum or DEFAULT_TUN_CHECKSUM
    return dest


def service_args(svc):
    """The virtual-service selector arguments (-t/-u/--sctp-service addr:port, or -f N [-6])."""
    if svc.get('fwmark'):
        args = [opt('fwmark'), str(svc['fwmark'])]
        if svc['family'] == 'ipv6':
            args.append(opt('ipv6'))
        return args
    return [PROTOCOL_OPTS[svc['protocol']][0], endpoint(svc['address'], svc['port'])]


def service_line(cmd, svc):
    """A full -A/-E line (every field, as -E replaces them all) or a -D line, in -S -n token order."""
    args = [cmd] + service_args(svc)
    if cmd == '-D':
        return args
    args += [opt('scheduler'), svc['scheduler']]
    if svc['persistence_timeout']:
        args += [opt('persistence_timeout'), str(svc['persistence_timeout'])]
        if svc['persistence_netmask'] != DEFAULT_NETMASK[svc['family']]:
            args += [opt('persistence_netmask'), svc['persistence_netmask']]
    if svc['persistence_engine']:
        args += [opt('persistence_engine'), svc['persistence_engine']]
    if svc['one_packet']:
        args.append(opt('one_packet'))
    if svc['scheduler_flags']:
        args += [opt('scheduler_flags'), ','.join(svc['scheduler_flags'])]
    return args


def dest_line(cmd, svc, dest):
    """A full -a/-e line (every field, as -e replaces them all) or a -d line."""
    args = [cmd] + service_args(svc) + [opt('real_server'), endpoint(dest['address'], dest['port'])]
    if cmd == '-d':
        return args
    args += [FORWARDING_OPTS[dest['forwarding']][0], opt('weight'), str(dest['weight'])]
    for field in ('upper_threshold', 'lower_threshold'):
        if dest[field]:
            args += [opt(field), str(dest[field])]
    if dest['tun_type']:
        args += [opt('tun_type'), dest['tun_type']]
        if dest['tun_port']:
            args += [opt('tun_port'), str(dest['tun_port'])]
        if dest['tun_checksum']:
            args.append(CHECKSUM_OPTS[dest['tun_checksum']][0])
    return args


def settings(svc):
    """The service record without its real servers (what -A/-E sets)."""
    return dict((k, svc[k]) for k in SERVICE_FIELDS)


def copy_table(table):
    """A copy of a table deep enough for planning (records are flat apart from scheduler_flags)."""
    return dict((key, copy_service(svc)) for key, svc in table.items())


def copy_service(svc):
    out = dict(svc, scheduler_flags=list(svc['scheduler_flags']))
    out['real_servers'] = dict((k, dict(d)) for k, d in svc.get('real_servers', {}).items())
    return out


def export_service(svc):
    """A service record for module results: real servers as a list sorted by key."""
    out = settings(svc)
    out['real_servers'] = [dict(svc['real_servers'][k]) for k in sorted(svc['real_servers'], key=_sort_key)]
    return out


def export_table(table):
    return [export_service(table[k]) for k in sorted(table, key=_sort_key)]


def table_rules(table):
    """The whole table as ipvsadm -R lines (-A, then its -a lines), thresholds included.

    Unlike ipvsadm -S, which drops -x/-y, restoring these lines rebuilds the table exactly.
    """
    lines = []
    for key in sorted(table, key=_sort_key):
        svc = table[key]
        lines.append(' '.join(service_line('-A', svc)))
        for dkey in sorted(svc['real_servers'], key=_sort_key):
            lines.append(' '.join(dest_line('-a', svc, svc['real_servers'][dkey])))
    return lines


def _sort_key(key):
    return tuple((0, x, '') if isinstance(x, int) else (1, 0, str(x)) for x in key)


def sorted_keys(keys):
    return sorted(keys, key=_sort_key)
