# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# Parsers for ipvsadm output (always produced under LC_ALL=C with -n): the rule format of -S
# (also accepted by -R), and the -L listings (--thresholds, --stats --exact, --rate --exact,
# --timeout, --daemon). Lines are tokenised and read field by field, never matched by substring.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import (
    CHECKSUM_OPTS, COMMAND_OPTS, DEFAULT_PERSISTENCE, FIELD_OPTS, FORWARDING_OPTS, PROTOCOL_OPTS, VALUE_FIELDS,
    IpvsError, dest_key, make_dest, make_service, option_spellings, parse_address, service_key)

_COMMANDS = option_spellings(COMMAND_OPTS)
_PROTOCOL = option_spellings(PROTOCOL_OPTS)
_FORWARDING = option_spellings(FORWARDING_OPTS)
_CHECKSUM = option_spellings(CHECKSUM_OPTS)
_FIELD = option_spellings(FIELD_OPTS)
_ENDPOINT = re.compile(r'^(?:\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<v4>\d{1,3}(?:\.\d{1,3}){3}))(?::(?P<port>\d+))?$')
_INT_FIELDS = ('weight', 'upper_threshold', 'lower_threshold', 'tun_port')


def split_endpoint(text):
    """'a.b.c.d:port' or '[v6]:port' (or a bare address) -> (canonical address, port or None)."""
    m = _ENDPOINT.match(text)
    if m:
        address = parse_address(m.group('v6') or m.group('v4'))[0]
        return address, (int(m.group('port')) if m.group('port') is not None else None)
    return parse_address(text)[0], None     # an unbracketed IPv6 literal without port


def parse_rule(line):
    """One ipvsadm rule line (-S output / -R input) -> (command, service record, real server or None)."""
    tokens = line.split()
    if tokens and tokens[0] == 'ipvsadm':
        tokens = tokens[1:]
    cmd = None
    svc = {}
    opts = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        field = _FIELD.get(tok)
        if tok in _COMMANDS:
            cmd = _COMMANDS[tok]
        elif tok in _PROTOCOL:
            svc['protocol'] = _PROTOCOL[tok]
            svc['address'], svc['port'] = split_endpoint(_need(nxt, tok, line))
            i += 1
        elif field == 'fwmark':
            svc['fwmark'] = fwmark(_need(nxt, tok, line))
            i += 1
        elif field == 'ipv6':
            svc['family'] = 'ipv6'
        elif field == 'persistence_timeout':
            if nxt is not None and nxt.isdigit():
                svc['persistence_timeout'] = int(nxt)
                i += 1
            else:
                svc['persistence_timeout'] = DEFAULT_PERSISTENCE
        elif field == 'one_packet':
            svc['one_packet'] = True
        elif tok in _FORWARDING:
            opts['forwarding'] = _FORWARDING[tok]
        elif tok in _CHECKSUM:
            opts['tun_checksum'] = _CHECKSUM[tok]
        elif field == 'scheduler_flags':
            # -S writes '-b ' with an empty value (see _scheduler_flags): the value is then missing at the
            # end of the line, or the next token is an option (no flag name starts with '-')
            if nxt is None or nxt.startswith('-'):
                opts['scheduler_flags'] = ''
            else:
                opts['scheduler_flags'] = nxt
                i += 1
        elif field in VALUE_FIELDS:
            opts[field] = _need(nxt, tok, line)
            i += 1
        else:
            raise IpvsError('cannot parse ipvsadm rule %r: unexpected token %r' % (line, tok))
        i += 1
    if cmd is None:
        raise IpvsError('cannot parse ipvsadm rule %r: no command' % line)
    for name in ('scheduler', 'persistence_netmask', 'persistence_engine'):
        if name in opts:
            svc[name] = opts.pop(name)
    if 'scheduler_flags' in opts:
        svc['scheduler_flags'] = _scheduler_flags(opts.pop('scheduler_flags'), svc.get('scheduler'))
    service = make_service(**svc)
    if cmd in ('-A', '-E', '-D'):
        return cmd, service, None
    if 'real_server' not in opts:
        raise IpvsError('cannot parse ipvsadm rule %r: no real server' % line)
    opts['address'], opts['port'] = split_endpoint(opts.pop('real_server'))
    for name in _INT_FIELDS:
        if name in opts:
            opts[name] = int(opts[name])
    return cmd, service, make_dest(service, **opts)


def _scheduler_flags(value, scheduler):
    """The flag names of '-b VALUE' in -S output, where VALUE may be empty.

    ipvsadm writes '-b ' when any flag bit is set, then the names it has for the set bits; for sh and
    mh it has none for bit 3 (flag-3). So for sh and mh an empty value means exactly bit 3 alone, and
    it is read as flag-3, not as no flags: the record then matches the kernel, a declaration without
    the flag edits it away, and a rollback sets it again. (Next to a named flag, bit 3 leaves no trace
    in -S output at all, which no reader can undo.) Other schedulers name every bit, so for them an
    empty value has no flags.
    """
    if value:
        return value.split(',')
    return ['flag-3'] if scheduler in ('sh', 'mh') else []


def _need(value, option, line):
    if value is None:
        raise IpvsError('cannot parse ipvsadm rule %r: %s needs a value' % (line, option))
    return value


# The real-server lines ipvsadm -S writes for plain NAT and DR servers of an IPv4 endpoint, which are
# nearly all of a large table, are read by _fast_dest (the same record as parse_rule, about 8 times
# faster); every other line goes through parse_rule.
_FAST_FORWARDING = {'-g': 'dr', '-m': 'nat'}


def _fast_dest(tokens, selectors):
    """(service key, real server) of ['-a', SEL, SEL_VALUE, '-r', 'a.b.c.d:port', '-g'|'-m', '-w', N], else None."""
    if len(tokens) != 8 or tokens[0] != '-a' or tokens[3] != '-r' or tokens[6] != '-w' or tokens[4][:1] == '[':
        return None
    forwarding = _FAST_FORWARDING.get(tokens[5])
    known = selectors.get((tokens[1], tokens[2]))
    if forwarding is None or known is None or not tokens[7].isdigit():
        return None
    key, svc = known
    address, sep, port = tokens[4].rpartition(':')
    if not sep or ':' in address or not port.isdigit():
        return None
    return key, make_dest(svc, address=address, port=port, forwarding=forwarding, weight=tokens[7])


def parse_save(text):
    """Output of 'ipvsadm -S -n' -> table {service key: service record with real_servers {key: dest}}."""
    table = {}
    selectors = {}      # (selector option, its value) of each -A line with one -> (service key, record)
    for line in text.splitlines():
        tokens = line.split()
        fast = _fast_dest(tokens, selectors) if tokens else None
        if fast is not None:
            key, dest = fast
            table[key]['real_servers'][(dest['address'], dest['port'])] = dest
            continue
        if not tokens or tokens[0].startswith('#'):
            continue
        cmd, svc, dest = parse_rule(line)
        key = service_key(svc)
        if cmd == '-A':
            table[key] = svc
            if len(tokens) > 2 and tokens[1] in ('-t', '-u', '-f') and (len(tokens) == 3 or tokens[3] != '-6'):
                selectors[(tokens[1], tokens[2])] = (key, svc)
        elif cmd == '-a':
            if key not in table:
                raise IpvsError('cannot parse ipvsadm rule %r: real server before its service' % line)
            table[key]['real_servers'][dest_key(dest)] = dest
        else:
            raise IpvsError('cannot parse ipvsadm save line %r: unexpected command %s' % (line, cmd))
    return table


def parse_listing(text):
    """Output of 'ipvsadm -L -n' with --thresholds, --stats --exact or --rate --exact.

    Returns {service key: {'columns': [...], 'real_servers': {dest key: [int columns]}}}. For
    service lines, 'columns' are the numbers after the endpoint (stats/rate), else [].
    """
    result = {}
    current = None
    for line in text.splitlines():
        tokens = line.split()
        if not tokens:
            continue
        if tokens[0] == '->':
            if tokens[1].startswith('RemoteAddress'):
                continue
            if current is None:
                raise IpvsError('cannot parse ipvsadm listing line %r: real server before service' % line)
            endpoint = tokens[1]
            address, sep, port = endpoint.rpartition(':')
            if sep and ':' not in address and endpoint[:1] != '[' and port.isdigit():
                dkey = (parse_address(address)[0], int(port))
            else:
                dkey = split_endpoint(endpoint)
            result[current]['real_servers'][dkey] = _numbers(tokens[2:], line)
        elif tokens[0] in ('TCP', 'UDP', 'SCTP', 'FWM'):
            current, rest = _listing_key(tokens)
            # counters (--stats, --rate) start with a digit, also when abbreviated ('123456K' without
            # --exact, which _numbers refuses); settings (-L, --thresholds) start with the scheduler
            numbers = _numbers(rest, line) if rest and rest[0][:1].isdigit() else []
            result[current] = {'columns': numbers, 'real_servers': {}}
        elif tokens[0] in ('IP', 'Prot'):
            continue
        else:
            raise IpvsError('cannot parse ipvsadm listing line %r' % line)
    return result


def fwmark(text):
    """A firewall mark as the kernel holds it: ipvsadm prints the unsigned mark with %d, so marks of 2^31
    and above read as negative numbers (-1 is 4294967295)."""
    return int(text) & 0xffffffff


def _listing_key(tokens):
    if tokens[0] == 'FWM':
        if len(tokens) > 2 and tokens[2] == 'IPv6':
            return ('fwmark', 'ipv6', fwmark(tokens[1])), tokens[3:]
        return ('fwmark', 'ipv4', fwmark(tokens[1])), tokens[2:]
    address, port = split_endpoint(tokens[1])
    return (tokens[0].lower(), address, port), tokens[2:]


def _numbers(tokens, line):
    try:
        return [int(t) for t in tokens]
    except ValueError:
        raise IpvsError('cannot parse ipvsadm listing line %r: expected numbers (use --exact)' % line)


def merge_thresholds(table, listing):
    """Put upper/lower thresholds from 'ipvsadm -Ln --thresholds' (absent from -S) into the table."""
    for key, svc in table.items():
        rows = listing.get(key, {}).get('real_servers', {})
        for dkey, dest in svc['real_servers'].items():
            row = rows.get(dkey)
            if row is None:
                raise IpvsError('real server %s of %s is in -S but not in --thresholds output' % (dkey, key))
            dest['upper_threshold'], dest['lower_threshold'] = row[0], row[1]
    return table


def connections(listing, key, dkey):
    """(active, inactive) connections of one real server from a --thresholds listing, or None."""
    row = listing.get(key, {}).get('real_servers', {}).get(dkey)
    if row is None:
        return None
    return row[2], row[3]


def parse_timeout(text):
    """'Timeout (tcp tcpfin udp): 900 120 300' -> {'tcp': 900, 'tcpfin': 120, 'udp': 300}."""
    for line in text.splitlines():
        head, sep, values = line.partition(':')
        if sep and head.strip().startswith('Timeout'):
            names = head[head.index('(') + 1:head.index(')')].split()
            return dict(zip(names, [int(v) for v in values.split()]))
    raise IpvsError('cannot parse ipvsadm --timeout output %r' % text)


_DAEMON = re.compile(r'^(?P<state>master|backup) sync daemon \((?P<opts>[^)]*)\)\s*$')


def parse_daemon(text):
    """'master sync daemon (mcast=eth1, syncid=10, ...)' lines -> list of dicts."""
    daemons = []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _DAEMON.match(line.strip())
        if not m:
            raise IpvsError('cannot parse ipvsadm --daemon line %r' % line)
        entry = {'state': m.group('state')}
        for item in m.group('opts').split(','):
            name, _sep, value = item.strip().partition('=')
            entry[name] = int(value) if value.isdigit() else value
        daemons.append(entry)
    return daemons
