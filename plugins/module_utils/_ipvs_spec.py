# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# argument_spec pieces shared by the ipvs_* modules, so that every module spells the service key,
# the service settings and the real-server options the same way.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import (
    DEFAULT_FORWARDING, DEFAULT_SCHEDULER, DEFAULT_WEIGHT, FAMILIES, FORWARDING, PERSISTENCE_ENGINES, PROTOCOLS,
    SCHEDULERS, SCHEDULER_FLAGS, TUN_CHECKSUMS, TUN_TYPES, IpvsError)


def key_spec():
    return dict(
        protocol=dict(type='str', choices=list(PROTOCOLS)),
        address=dict(type='str'),
        port=dict(type='int'),
        fwmark=dict(type='int'),
        family=dict(type='str', choices=list(FAMILIES)),
    )


KEY_MUTUALLY_EXCLUSIVE = [('fwmark', 'address'), ('fwmark', 'port'), ('fwmark', 'protocol')]
KEY_REQUIRED_ONE_OF = [('address', 'fwmark')]
SETTINGS_REQUIRED_BY = {'persistence_netmask': 'persistence_timeout', 'persistence_engine': 'persistence_timeout'}
DEST_REQUIRED_IF = [('tun_type', 'gue', ['tun_port'])]


def settings_spec():
    return dict(
        scheduler=dict(type='str', default=DEFAULT_SCHEDULER, choices=list(SCHEDULERS)),
        scheduler_flags=dict(type='list', elements='str', choices=list(SCHEDULER_FLAGS)),
        persistence_timeout=dict(type='int'),
        persistence_netmask=dict(type='str'),
        persistence_engine=dict(type='str', choices=list(PERSISTENCE_ENGINES)),
        one_packet=dict(type='bool', default=False),
    )


def dest_spec(defaults=True):
    """Real-server options; with defaults=False the defaults are applied by the module instead."""
    spec = dict(
        address=dict(type='str', required=True),
        port=dict(type='int'),
        forwarding=dict(type='str', choices=list(FORWARDING)),
        weight=dict(type='int'),
        upper_threshold=dict(type='int'),
        lower_threshold=dict(type='int'),
        tun_type=dict(type='str', choices=list(TUN_TYPES)),
        tun_port=dict(type='int'),
        tun_checksum=dict(type='str', choices=list(TUN_CHECKSUMS)),
    )
    if defaults:
        spec['forwarding']['default'] = DEFAULT_FORWARDING
        spec['weight']['default'] = DEFAULT_WEIGHT
        spec['upper_threshold']['default'] = 0
        spec['lower_threshold']['default'] = 0
    return spec


def real_servers_spec():
    """A real_servers list of ipvs_service and ipvs_table."""
    return dict(type='list', elements='dict', options=dest_spec(), required_if=DEST_REQUIRED_IF)


def service_spec(purge_default):
    """A service entry of ipvs_table: key + settings + real_servers + purge_real_servers."""
    spec = key_spec()
    spec.update(settings_spec())
    spec['real_servers'] = real_servers_spec()
    spec['purge_real_servers'] = dict(type='bool', default=purge_default)
    return spec


def services_spec(purge_default):
    """The services option of ipvs_table: a list of service entries with their cross-field rules."""
    return dict(type='list', elements='dict', default=[], options=service_spec(purge_default),
                mutually_exclusive=KEY_MUTUALLY_EXCLUSIVE, required_one_of=KEY_REQUIRED_ONE_OF,
                required_by=SETTINGS_REQUIRED_BY)


# ---- a fast check of a long list of suboption dicts -------------------------------------------
#
# AnsibleModule validates a list of suboption dicts entry by entry, filling every unset suboption,
# which costs about 25 us per entry (a quarter of a second for 11,000 real servers), and the result
# echoes every filled entry back. plain_valid() accepts only entries that AnsibleModule would accept
# unchanged: known keys, no None, values already of their type (no conversion), choices, required,
# mutually_exclusive, required_one_of, required_by and required_if. Anything else goes to AnsibleModule's
# own validator (validated_list), so the result and every error message are exactly Ansible's.

def _compiled(spec):
    out = {}
    for name, option in spec.items():
        choices = option.get('choices')
        out[name] = (option.get('type', 'str'), frozenset(choices) if choices else None, option.get('elements'),
                     _compiled(option['options']) if option.get('options') else None, _rules(option))
    return out


def _rules(option):
    return (option.get('mutually_exclusive') or [], option.get('required_one_of') or [],
            [(k, (v,) if isinstance(v, str) else tuple(v)) for k, v in sorted((option.get('required_by') or {}).items())],
            [(c[0], c[1], tuple(c[2]), len(c) > 3 and c[3]) for c in option.get('required_if') or []],
            [name for name, sub in (option.get('options') or {}).items() if sub.get('required')])


def _plain(value, kind):
    if kind == 'int':
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == 'str':
        return isinstance(value, str)
    if kind == 'bool':
        return isinstance(value, bool)
    return False


def _entry_valid(item, options, rules):
    if not isinstance(item, dict):
        return False
    for name, value in item.items():
        compiled = options.get(name)
        if compiled is None or value is None:
            return False
        kind, choices, elements, sub, sub_rules = compiled
        if kind == 'list':
            if not isinstance(value, list):
                return False
            if sub is not None:
                if not all(_entry_valid(entry, sub, sub_rules) for entry in value):
                    return False
            elif not all(_plain(entry, elements) and (choices is None or entry in choices) for entry in value):
                return False
        elif not _plain(value, kind) or (choices is not None and value not in choices):
            return False
    exclusive, one_of, required_by, required_if, required = rules
    for name in required:
        if name not in item:
            return False
    for terms in exclusive:
        if sum(1 for t in terms if t in item) > 1:
            return False
    for terms in one_of:
        if not any(t in item for t in terms):
            return False
    for name, needed in required_by:
        if name in item and not all(t in item for t in needed):
            return False
    for name, value, needed, any_of in required_if:
        if item.get(name) == value and not (any if any_of else all)(t in item for t in needed):
            return False
    return True


def plain_valid(items, option):
    """Whether every entry of items (a list of dicts) passes option (a list-of-dicts spec) unchanged."""
    if not isinstance(items, list):
        return False
    options, rules = _compiled(option['options']), _rules(option)
    return all(_entry_valid(item, options, rules) for item in items)


def checked_list(name, items, option, module_name):
    """items checked against option (a list-of-dicts spec with options) as AnsibleModule would: (items, error).

    Entries that plain_valid() accepts are returned as given (unset suboptions are missing, not None: read
    them with .get()); otherwise Ansible's own validator runs on the whole list and its result (defaults
    filled) is returned, or its message. Used on the host (validated_list) and on the controller (the
    ipvs_table action plugin), so both give the same result and the same messages.
    """
    if plain_valid(items, option):
        return items, None
    # imported here: only unusual input pays for it
    from ansible.module_utils.common.arg_spec import ModuleArgumentSpecValidator
    from ansible.module_utils.errors import UnsupportedError
    result = ModuleArgumentSpecValidator({name: option}).validate({name: items})
    if result.errors.errors:
        msg = result.errors.msg
        if isinstance(result.errors[0], UnsupportedError):
            msg = 'Unsupported parameters for (%s) module: %s' % (module_name, msg)
        return None, msg
    return result.validated_parameters[name], None


def validated_list(module, name, option):
    """module.params[name] checked against option (a list-of-dicts spec with options), as AnsibleModule would.

    Declare the option in argument_spec without 'options' (type='list', elements='dict'), and call this
    first thing in main(); see checked_list() for the result. The module fails with Ansible's message.
    """
    items, msg = checked_list(name, module.params[name], option, module._name)
    if msg is not None:
        module.fail_json(msg=msg)
    return items


# ---- a checked list of suboption dicts, packed for the host ------------------------------------
#
# The ipvs_table action plugin checks services on the controller (checked_list) and sends the module
# one string instead: each entry as a row of its suboptions' values in the spec's order (nested lists
# of dicts as rows too), unset ones as null and trailing ones dropped. The host then decodes one JSON
# string instead of AnsibleModule checking, copying twice and echoing back thousands of dicts.

PACK_VERSION = 1


def _pack_rows(items, options):
    names = list(options)
    rows = []
    for item in items:
        row = []
        for name in names:
            value = item.get(name)
            sub = options[name].get('options')
            row.append(_pack_rows(value, sub) if sub is not None and value is not None else value)
        while row and row[-1] is None:
            row.pop()
        rows.append(row)
    return rows


def pack_list(items, option, **extra):
    """A checked list of dicts (see checked_list) as one JSON string, with extra keys; unpack_list() reverses it."""
    packed = dict(extra, version=PACK_VERSION, fields=_fields(option['options']), rows=_pack_rows(items, option['options']))
    return json.dumps(packed, separators=(',', ':'))


def _fields(options):
    return [[name, _fields(sub['options'])] if sub.get('options') else name for name, sub in options.items()]


def _unpack_rows(rows, options):
    names = list(options)
    subs = [options[name].get('options') for name in names]
    items = []
    for row in rows:
        item = {}
        for name, sub, value in zip(names, subs, row):
            if value is not None:
                item[name] = _unpack_rows(value, sub) if sub is not None else value
        items.append(item)
    return items


def load_packed(text, option):
    """The packed dict of pack_list()'s string (rows still packed); IpvsError when text is not one."""
    try:
        packed = json.loads(text)
        if packed['version'] != PACK_VERSION or packed['fields'] != _fields(option['options']):
            raise ValueError('packed by another version of the spec')
        return packed
    except (ValueError, KeyError, TypeError) as e:
        raise IpvsError('not a declaration packed by this collection (%s)' % e)


def unpack_rows(packed, option):
    """The list of dicts of load_packed()'s result, unset suboptions missing; IpvsError for malformed rows.

    The rows are not checked here: call plain_valid() on the result.
    """
    try:
        return _unpack_rows(packed['rows'], option['options'])
    except (KeyError, TypeError) as e:
        raise IpvsError('not a declaration packed by this collection (%s)' % e)


def unpack_list(text, option):
    """The list of dicts pack_list() packed (see unpack_rows)."""
    return unpack_rows(load_packed(text, option), option)
