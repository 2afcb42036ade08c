# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# The one planner shared by every module: from the current table and the desired changes, compute
# the minimal list of ipvsadm operations (one per changed object, edits in place with -E/-e, full
# records) and the table expected afterwards.
#
# A desired change ("intent") is a dict:
#   key            service key
#   state          'present' or 'absent'
#   service        canonical service record to enforce, or None to leave the settings alone
#                  (the service must then exist)
#   dests          {dest key: record} real servers to enforce (present)
#   absent_dests   [dest key] real servers to delete when present
#   purge_dests    delete every real server not in dests

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import (
    IpvsError, copy_service, copy_table, dest_key, dest_line, key_text, service_key, service_line, settings, sorted_keys)


def intent(key, state='present', service=None, dests=None, absent_dests=None, purge_dests=False):
    return {'key': key, 'state': state, 'service': service, 'dests': dests or {},
            'absent_dests': absent_dests or [], 'purge_dests': purge_dests}


class Op(object):
    """One kernel operation: cmd is -A -E -D -a -e -d; svc the service record; dest a real server."""

    __slots__ = ('cmd', 'svc', 'dest', '_line')

    def __init__(self, cmd, svc, dest=None):
        self.cmd, self.svc, self.dest = cmd, svc, dest
        self._line = None

    @property
    def args(self):
        if self.dest is None:
            return service_line(self.cmd, self.svc)
        return dest_line(self.cmd, self.svc, self.dest)

    @property
    def line(self):
        # written once: the batch, the result and the messages all use it (records are not changed after planning)
        if self._line is None:
            self._line = ' '.join(self.args)
        return self._line

    def __repr__(self):
        return 'Op(%s)' % self.line


def plan(current, intents, purge=False, keep=None):
    """Return (ops, expected table, touched service keys).

    purge deletes every current service that no intent names, except those for which keep(svc)
    is true (ignore selectors).
    """
    ops = []
    named = set()
    for it in intents:
        key = it['key']
        if key in named:
            raise IpvsError('service %s is declared twice' % key_text(key))
        named.add(key)
        cur = current.get(key)
        if it['state'] == 'absent':
            if cur is not None:
                ops.append(Op('-D', cur))
            continue
        want = it['service']
        if want is None:
            if cur is None:
                raise IpvsError('service %s does not exist' % key_text(key))
            want = cur
        if cur is None:
            ops.append(Op('-A', want))
            cur_dests = {}
        else:
            if settings(cur) != settings(want):
                ops.append(Op('-E', want))
            cur_dests = cur['real_servers']
        gone = set(k for k in it['absent_dests'] if k in cur_dests)
        if it['purge_dests']:
            gone.update(k for k in cur_dests if k not in it['dests'])
        for dkey in sorted_keys(gone):
            ops.append(Op('-d', want, cur_dests[dkey]))
        for dkey in sorted_keys(it['dests']):
            dest = it['dests'][dkey]
            if dkey not in cur_dests:
                ops.append(Op('-a', want, dest))
            elif cur_dests[dkey] != dest:
                ops.append(Op('-e', want, dest))
    if purge:
        deletes = [Op('-D', current[k]) for k in sorted_keys(current)
                   if k not in named and not (keep and keep(current[k]))]
        ops = deletes + ops
    ops = [op for op in ops if op.cmd == '-D'] + [op for op in ops if op.cmd != '-D']
    expected = apply_ops(current, ops)
    touched = set(service_key_of(op) for op in ops)
    return ops, expected, touched


def service_key_of(op):
    return service_key(op.svc)


def apply_ops(table, ops):
    """The table after ops, as the kernel would make it (used for expectations and tests)."""
    result = copy_table(table)
    for op in ops:
        key = service_key_of(op)
        if op.cmd == '-A':
            svc = copy_service(op.svc)
            svc['real_servers'] = {}
            result[key] = svc
        elif op.cmd == '-E':
            dests = result[key]['real_servers']
            svc = copy_service(op.svc)
            svc['real_servers'] = dests
            result[key] = svc
        elif op.cmd == '-D':
            result.pop(key, None)
        elif op.cmd in ('-a', '-e'):
            result[key]['real_servers'][dest_key(op.dest)] = dict(op.dest)
        elif op.cmd == '-d':
            result[key]['real_servers'].pop(dest_key(op.dest), None)
    return result


def op_holds(op, table):
    """Whether the effect of op is visible in table (used to find the line that failed)."""
    svc = table.get(service_key_of(op))
    if op.cmd == '-D':
        return svc is None
    if svc is None:
        return False
    if op.cmd in ('-A', '-E'):
        return settings(svc) == settings(op.svc)
    dest = svc['real_servers'].get(dest_key(op.dest))
    if op.cmd == '-d':
        return dest is None
    return dest == op.dest


def restore_intents(snapshot, keys):
    """Intents that bring the services named by keys back to their state in snapshot."""
    result = []
    for key in sorted_keys(keys):
        svc = snapshot.get(key)
        if svc is None:
            result.append(intent(key, 'absent'))
        else:
            result.append(intent(key, service=settings_with_empty_dests(svc), dests=svc['real_servers'], purge_dests=True))
    return result


def settings_with_empty_dests(svc):
    out = settings(svc)
    out['real_servers'] = {}
    return out
