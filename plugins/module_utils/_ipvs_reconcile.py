# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# Reconcile: lock, read, plan and apply intents in one "ipvsadm -R" batch, verify the result and
# restore the snapshot exactly when anything fails; drain real servers before removing them.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import time

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import (
    IpvsError, dest_key, export_service, key_text, service_key, sorted_keys)
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_plan import (
    Op, apply_ops, op_holds, plan, restore_intents)
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_runner import Ipvsadm


def apply_verified(ipvs, current, ops, expected, touched):
    """Apply ops in one batch, verify, and on any failure put the snapshot back and fail."""
    rc, out, err = ipvs.restore(ops)
    # Without a threshold in the table before or in the plan, the batch sets none (-a and -e set every
    # field), so the re-read skips the --thresholds listing; -S still proves every other field.
    after = ipvs.read_table(thresholds=has_thresholds(current) or has_thresholds(expected))
    wrong = [k for k in touched if after.get(k) != expected.get(k)]
    if rc == 0 and not err.strip() and not wrong:
        # touched holds the service of every op and expected is their effect: every op holds
        return after
    failed = [op for op in ops if not op_holds(op, after)]
    if failed:
        culprit = failed[0].line
    elif wrong:
        culprit = 'verification of %s' % key_text(wrong[0])
    else:
        culprit = ops[-1].line
    back_ops = plan(after, restore_intents(current, touched))[0]
    brc, dummy, berr = ipvs.restore(back_ops) if back_ops else (0, '', '')
    restored_table = ipvs.read_table()
    restored = all(restored_table.get(k) == current.get(k) for k in touched)
    ipvs.fail('ipvsadm -R failed at: %s; the previous table was %s' % (culprit, 'restored' if restored else 'NOT restored'),
              cmd=culprit, rc=rc, stdout=out, stderr=err, commands=[op.line for op in ops],
              restored=restored, restore_commands=[op.line for op in back_ops],
              restore_rc=brc, restore_stderr=berr)


def has_thresholds(table):
    """Whether any real server of table has an upper or lower connection threshold."""
    return any(dest['upper_threshold'] or dest['lower_threshold']
               for svc in table.values() for dest in svc['real_servers'].values())


def reconcile(module, intents, purge=False, keep=None, ipvs=None, drain_timeout=0, drain_poll=1, read=None):
    """Lock, read, plan and (outside check mode) apply intents.

    With drain_timeout > 0, the real servers the plan deletes first get weight 0 in a batch of their
    own; the module then waits (lock released) until their connections end or the timeout passes,
    and plans again from the table it reads then, so a change made meanwhile is not undone blindly.
    intents may be a function of the table read under the lock, returning the intents: a module
    that decides from the live table decides on what it then changes. It may raise IpvsError.
    read: (-S, --thresholds) output that ipvs read under the lock it still holds (Ipvsadm.read_texts).
    Returns (ipvs, before, after, ops, touched, drained); ops include the weight-0 edits.
    """
    if ipvs is None:
        ipvs = Ipvsadm(module)
    if read is not None:
        before = ipvs.parse_table(*read)
    else:
        if not module.check_mode:
            ipvs.lock()
        before = ipvs.read_table()
    ops, expected, touched = _plan(ipvs, before, intents, purge, keep)
    targets = [(service_key(op.svc), dest_key(op.dest)) for op in ops if op.cmd == '-d'] if drain_timeout > 0 else []
    if not targets:
        after = expected
        if ops and not module.check_mode:
            ipvs.load_modules(ops)
            after = apply_verified(ipvs, before, ops, expected, touched)
        ipvs.unlock()   # a drain wait afterwards must not block other invocations
        return ipvs, before, after, ops, touched, []
    zero_ops = weight_zero_ops(before, targets)
    if module.check_mode:
        # report what the drain would wait for, without waiting
        waits = wait_drained(ipvs, targets, 0, drain_poll)
        return ipvs, before, expected, zero_ops + ops, touched, drained_report(targets, waits)
    if zero_ops:
        apply_verified(ipvs, before, zero_ops, apply_ops(before, zero_ops), set(k for k, dummy in targets))
    ipvs.unlock()
    waits = wait_drained(ipvs, targets, drain_timeout, drain_poll)
    ipvs.lock()
    current = ipvs.read_table()
    rest, expected, rest_touched = _plan(ipvs, current, intents, purge, keep)
    after = current
    if rest:
        ipvs.load_modules(rest)
        after = apply_verified(ipvs, current, rest, expected, rest_touched)
    ipvs.unlock()
    return ipvs, before, after, zero_ops + rest, touched | rest_touched, drained_report(targets, waits)


def _plan(ipvs, table, intents, purge, keep):
    try:
        return plan(table, intents(table) if callable(intents) else intents, purge=purge, keep=keep)
    except IpvsError as e:
        ipvs.fail(str(e))


def weight_zero_ops(table, targets):
    """-e lines setting weight 0 on the target real servers that still take new connections."""
    ops = []
    for key, dkey in targets:
        svc = table[key]
        dest = svc['real_servers'][dkey]
        if dest['weight']:
            ops.append(Op('-e', svc, dict(dest, weight=0)))
    return ops


def drained_report(targets, waits):
    """The drained return value: one entry per real server that was drained before removal."""
    return [{'service': key_text(key), 'address': dkey[0], 'port': dkey[1], 'seconds': seen['waited'],
             'connections_left': seen['active_connections'] + seen['inactive_connections']}
            for (key, dkey), seen in zip(targets, waits)]


def table_diff(before, after, keys):
    """Diff of the touched services (with their real servers), keyed by a readable label."""
    def side(table):
        return dict((key_text(k), export_service(table[k])) for k in sorted_keys(keys) if k in table)
    return {'before': {'services': side(before)}, 'after': {'services': side(after)}}


def wait_drained(ipvs, targets, timeout, poll, svc=None):
    """Poll active+inactive connections of real servers [(service key, dest key)] until all are 0 or
    timeout passes; return, per target, what was seen last and when it reached 0 (or the time waited).

    With svc (the service of every target) only that service is listed.
    """
    start = time.time()
    seen = [None] * len(targets)
    while True:
        listing = ipvs.read_listing(['--thresholds'], svc)
        # the first count is not a wait, however long the read took
        waited = round(time.time() - start, 1) if seen[0] is not None else 0.0
        for index, (key, dkey) in enumerate(targets):
            if seen[index] is not None and seen[index]['drained']:
                continue
            row = listing.get(key, {}).get('real_servers', {}).get(dkey)
            active, inactive = (row[2], row[3]) if row else (0, 0)
            seen[index] = {'active_connections': active, 'inactive_connections': inactive,
                           'drained': active + inactive == 0, 'waited': waited,
                           'timed_out': active + inactive > 0 and timeout > 0}
        if all(s['drained'] for s in seen) or waited >= timeout:
            return seen
        time.sleep(max(0.1, min(poll, timeout - waited)))
