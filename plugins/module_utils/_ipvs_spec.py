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

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import (
    DEFAULT_FORWARDING, DEFAULT_SCHEDULER, DEFAULT_WEIGHT, FAMILIES, FORWARDING, PERSISTENCE_ENGINES, PROTOCOLS,
    SCHEDULERS, SCHEDULER_FLAGS, TUN_CHECKSUMS, TUN_TYPES)


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
