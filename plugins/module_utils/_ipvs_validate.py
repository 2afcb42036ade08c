# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# Validation of module parameters before anything touches the kernel. Each function takes the
# user-level dict (argument_spec names) and a "where" prefix naming it in messages (for example
# "services[3].real_servers[0]"), and returns canonical records or raises IpvsError.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import (
    DEFAULT_FORWARDING, DEFAULT_PROTOCOL, DEFAULT_SCHEDULER, DEFAULT_TUN_TYPE, FLAG_SCHEDULERS, KEY_FIELDS,
    MAX_FWMARK, MAX_PERSISTENCE, MAX_THRESHOLD, MAX_WEIGHT, SERVICE_FIELDS, IpvsError,
    dest_key, key_text, make_dest, make_service, parse_address, service_key)

# The argument specs (_ipvs_spec) already enforce choices, the key's mutually_exclusive/required_one_of,
# required_by (persistence options) and required_if (tun_port with gue); these checks are the rest.


def _name(where, option):
    return '%s.%s' % (where, option) if where else option


def _fail(where, option, msg):
    raise IpvsError('%s: %s' % (_name(where, option), msg))


def _range(params, where, option, low, high):
    value = params.get(option)
    if value is not None and not low <= value <= high:
        _fail(where, option, 'must be between %d and %d, got %d' % (low, high, value))


def check_key(params, where='', persistent=False):
    """Validate a service key (protocol/address/port or fwmark/family)."""
    if params.get('fwmark') is not None:
        _range(params, where, 'fwmark', 1, MAX_FWMARK)
        return
    family = parse_address(params['address'], _name(where, 'address'))[1]
    if params.get('family') is not None and params['family'] != family:
        _fail(where, 'family', 'is %s but address %s is %s (family is only used with fwmark)'
              % (params['family'], params['address'], family))
    port = params.get('port')
    if port is None or port == 0:
        if not persistent:
            _fail(where, 'port', 'is required (port 0 is only allowed for a persistent service)')
    else:
        _range(params, where, 'port', 1, 65535)


def build_key_service(params, where='service'):
    """A service named by its key alone (protocol/address/port or fwmark/family): a record with default settings."""
    key_params = dict((k, params.get(k)) for k in KEY_FIELDS if params.get(k) is not None)
    check_key(key_params, where, persistent=True)
    return make_service(persistence_timeout=1, **key_params)


def build_service(params, where=''):
    """Validate service key + settings; return the canonical record (without real servers)."""
    persistent = params.get('persistence_timeout') is not None
    check_key(params, where, persistent)
    scheduler = params.get('scheduler') or DEFAULT_SCHEDULER
    for flag in params.get('scheduler_flags') or []:
        owner = flag.split('-')[0]
        if scheduler not in FLAG_SCHEDULERS or (owner in FLAG_SCHEDULERS and owner != scheduler):
            _fail(where, 'scheduler_flags', 'flag %r cannot be used with scheduler %s' % (flag, scheduler))
    _range(params, where, 'persistence_timeout', 1, MAX_PERSISTENCE)
    if params.get('one_packet') and params.get('fwmark') is None and (params.get('protocol') or DEFAULT_PROTOCOL) != 'udp':
        _fail(where, 'one_packet', 'is only allowed for udp or fwmark services')
    values = dict((k, params.get(k)) for k in SERVICE_FIELDS)
    values['scheduler'] = scheduler
    try:
        return make_service(**values)
    except IpvsError as e:
        raise IpvsError('%s%s' % (where + ': ' if where else '', e))


def build_dest(svc, params, where=''):
    """Validate one real server of service record svc; return its canonical record."""
    address = params.get('address')
    if address is None:
        _fail(where, 'address', 'is required')
    try:
        family = parse_address(address)[1]
    except IpvsError:   # again, to name it: the name is formatted only then (10,000 real servers take 0.01 s less)
        parse_address(address, _name(where, 'address'))
    forwarding = params.get('forwarding') or DEFAULT_FORWARDING
    if family != svc['family'] and forwarding != 'tun':
        _fail(where, 'address', 'is %s but the service is %s: mixed address families need forwarding=tun'
              % (family, svc['family']))
    port = params.get('port')
    if port is not None:
        _range(params, where, 'port', 0 if svc['fwmark'] else 1, 65535)
        if not svc['fwmark'] and forwarding != 'nat' and port != svc['port']:
            _fail(where, 'port', '%d differs from the service port %d: only forwarding=nat can map ports'
                  % (port, svc['port']))
    _range(params, where, 'weight', 0, MAX_WEIGHT)
    _range(params, where, 'upper_threshold', 0, MAX_THRESHOLD)
    _range(params, where, 'lower_threshold', 0, MAX_THRESHOLD)
    upper, lower = params.get('upper_threshold') or 0, params.get('lower_threshold') or 0
    if lower and (not upper or lower > upper):
        _fail(where, 'lower_threshold', '%d must not be above upper_threshold %d (the kernel rejects it)' % (lower, upper))
    tun_type, tun_port, checksum = params.get('tun_type'), params.get('tun_port'), params.get('tun_checksum')
    if forwarding != 'tun':
        for option in ('tun_type', 'tun_port', 'tun_checksum'):
            if params.get(option) is not None:
                _fail(where, option, 'is a tunnel option and needs forwarding=tun (forwarding is %s)' % forwarding)
    given_tun_type, tun_type = tun_type, tun_type or DEFAULT_TUN_TYPE
    if tun_type == 'gue':
        _range(params, where, 'tun_port', 1, 65535)
    elif tun_port is not None:
        _fail(where, 'tun_port', 'is only allowed with tun_type=gue')
    if checksum is not None and forwarding == 'tun':
        if tun_type == 'ipip':
            _fail(where, 'tun_checksum', 'is only allowed with tun_type=gue or gre')
        if checksum == 'remcsum' and tun_type != 'gue':
            _fail(where, 'tun_checksum', 'remcsum is only allowed with tun_type=gue')
    return make_dest(svc, address, port, forwarding, params.get('weight'), upper, lower, given_tun_type, tun_port, checksum)


def build_dests(svc, items, where=''):
    """Validate a real_servers list; reject duplicates; return {dest key: record}."""
    dests = {}
    prefix = _name(where, 'real_servers')
    for index, item in enumerate(items or []):
        label = '%s[%d]' % (prefix, index)
        dest = build_dest(svc, item, label)
        key = dest_key(dest)
        if key in dests:
            raise IpvsError('%s: duplicate real server %s port %d in %s' % (label, key[0], key[1], key_text(service_key(svc))))
        dests[key] = dest
    return dests


def build_selector(params, where=''):
    """An ignore selector: any of protocol/address/port/fwmark/family; address canonicalised."""
    selector = dict((k, params.get(k)) for k in KEY_FIELDS if params.get(k) is not None)
    if not selector:
        raise IpvsError('%s: an ignore selector needs at least one of %s' % (where or 'ignore', ', '.join(KEY_FIELDS)))
    if 'address' in selector:
        selector['address'] = parse_address(selector['address'], _name(where, 'address'))[0]
    return selector


def selector_matches(selector, svc):
    for name, value in selector.items():
        if svc.get(name) != value:
            return False
    return True
