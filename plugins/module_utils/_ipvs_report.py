# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# The ipvs_info report: the table with the counters and rates of every service and real server,
# connection counts, timeouts and sync daemons. Read only; ipvs_counters reads its counters here too.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError, export_service, sorted_keys
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_parse import parse_daemon, parse_timeout

STAT_NAMES = ('connections', 'packets_in', 'packets_out', 'bytes_in', 'bytes_out')
RATE_NAMES = ('cps', 'packets_in_per_second', 'packets_out_per_second', 'bytes_in_per_second', 'bytes_out_per_second')


def with_counters(table, stats, rates=None, conns=None):
    """Exported services of table (sorted by key) with stats, and rates and connection counts when given."""
    services = []
    for key in sorted_keys(table):
        svc = export_service(table[key])
        svc['stats'] = dict(zip(STAT_NAMES, stats.get(key, {}).get('columns', [])))
        if rates is not None:
            svc['rates'] = dict(zip(RATE_NAMES, rates.get(key, {}).get('columns', [])))
        for dest in svc['real_servers']:
            dkey = (dest['address'], dest['port'])
            dest['stats'] = dict(zip(STAT_NAMES, stats.get(key, {}).get('real_servers', {}).get(dkey, [])))
            if rates is not None:
                dest['rates'] = dict(zip(RATE_NAMES, rates.get(key, {}).get('real_servers', {}).get(dkey, [])))
            if conns is not None:
                row = conns.get(key, {}).get('real_servers', {}).get(dkey, [0, 0, 0, 0])
                dest['active_connections'], dest['inactive_connections'] = row[2], row[3]
        services.append(svc)
    return services


def read_info(ipvs):
    """Everything ipvs_info returns."""
    if not ipvs.loaded():
        return {'loaded': False, 'services': [], 'timeouts': {}, 'daemons': []}
    table = ipvs.read_table()
    stats = ipvs.read_listing(['--stats', '--exact'])
    rates = ipvs.read_listing(['--rate', '--exact'])
    conns = ipvs.read_listing(['--thresholds'])
    try:
        timeouts = parse_timeout(ipvs.run(['-L', '-n', '--timeout'])[1])
        daemons = parse_daemon(ipvs.run(['-L', '-n', '--daemon'])[1])
    except IpvsError as e:
        ipvs.fail('cannot parse ipvsadm output: %s' % e)
    return {'loaded': True, 'services': with_counters(table, stats, rates, conns), 'timeouts': timeouts,
            'daemons': daemons}
