# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# The bridge that carries a service from keepalived back to ipvs_table without a window. A keepalived
# reload (or stop) deletes every service it no longer has, and ipvs_table adds it again only later in
# the run. Meanwhile a fwmark service holding the same real servers takes the new connections: IPVS
# looks a packet's fwmark up before its address and port, and an nftables rule marks the packets of
# the bridged service. Connections opened before keep their real server (IPVS finds them in its
# connection table first).

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import copy_service, sorted_keys
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_plan import intent

# The fwmarks of bridges ("LV" in the high half): a service in this range is a bridge.
MARK_FIRST = 0x4c560000
MARK_LAST = 0x4c56ffff
NFT_TABLE = 'lvs_cluster_handover'
# mangle priority, before routing and before IPVS, which sees the packet at LOCAL_IN (and LOCAL_OUT)
NFT_CHAINS = (('prerouting', 'filter', 'prerouting'), ('output', 'route', 'output'))


def is_bridge(key):
    return key[0] == 'fwmark' and MARK_FIRST <= key[2] <= MARK_LAST


def leaving(keepalived_keys, table_keys):
    """The services keepalived runs that ipvs_table is to own: those a reload or a stop would delete.
    fwmark services are not bridged (a bridge is itself a fwmark service, matched by one)."""
    return [key for key in sorted_keys(set(keepalived_keys) & set(table_keys)) if key[0] != 'fwmark']


def bridges(table, keys):
    """[(service key, bridge service)] for each of keys that is in table: a fwmark service with its
    scheduler, persistence and real servers, numbered from MARK_FIRST in the order of keys."""
    out = []
    for key in keys:
        if key not in table or MARK_FIRST + len(out) > MARK_LAST:
            continue
        bridge = copy_service(table[key])
        bridge.update(fwmark=MARK_FIRST + len(out), protocol=None, address=None, port=None)
        out.append((key, bridge))
    return out


def bridge_intents(table, planned):
    """Intents that leave exactly the planned bridges in table: each with exactly its real servers,
    every other service of the bridge range deleted."""
    wanted = dict((('fwmark', svc['family'], svc['fwmark']), svc) for key, svc in planned)
    out = [intent(k, service=dict(svc, real_servers={}), dests=svc['real_servers'], purge_dests=True)
           for k, svc in sorted(wanted.items())]
    out.extend(intent(k, state='absent') for k in sorted_keys(table) if is_bridge(k) and k not in wanted)
    return out


def nft_rule(key, mark):
    """The rule marking the new packets of service key for the bridge of that mark."""
    protocol, address, port = key
    family = 'ip6' if ':' in address else 'ip'
    return '%s daddr %s %s dport %d meta mark set 0x%08x' % (family, address, protocol, port, mark)


def nft_ruleset(planned):
    """An nft -f script that replaces the bridge table atomically (create, delete, create) with one
    rule per bridge in each chain; with no bridges it only deletes the table."""
    lines = ['table inet %s {}' % NFT_TABLE, 'delete table inet %s' % NFT_TABLE]
    if planned:
        lines.append('table inet %s {' % NFT_TABLE)
        for chain, kind, hook in NFT_CHAINS:
            lines.append('  chain %s {' % chain)
            lines.append('    type %s hook %s priority mangle; policy accept;' % (kind, hook))
            lines.extend('    %s' % nft_rule(key, svc['fwmark']) for key, svc in planned)
            lines.append('  }')
        lines.append('}')
    return '\n'.join(lines) + '\n'
