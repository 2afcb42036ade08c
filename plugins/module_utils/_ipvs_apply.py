# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# Talking to the kernel through ipvsadm: read the live table (-S -n plus --thresholds), load the
# kernel modules, serialise invocations with a lock, apply a plan in one "ipvsadm -R" batch,
# verify it, and restore the snapshot exactly when anything fails.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import fcntl
import os
import time

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import (
    IpvsError, dest_key, export_service, key_text, service_args, service_key, sorted_keys)
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_parse import (
    merge_thresholds, parse_daemon, parse_listing, parse_save, parse_timeout)
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_plan import (
    Op, apply_ops, op_holds, plan, restore_intents)

LOCK_FILE = '/run/lvs-cluster-ipvs.lock'
PROC_IPVS = '/proc/net/ip_vs'
SYS_MODULE = '/sys/module'
C_LOCALE = {'LC_ALL': 'C', 'LANGUAGE': 'C', 'LANG': 'C'}
STAT_NAMES = ('connections', 'packets_in', 'packets_out', 'bytes_in', 'bytes_out')
_HELD_LOCKS = []   # lock handles stay open (and locked) until the module process exits
RATE_NAMES = ('cps', 'packets_in_per_second', 'packets_out_per_second', 'bytes_in_per_second', 'bytes_out_per_second')


class Ipvsadm(object):
    """ipvsadm bound to one AnsibleModule; every failure ends in fail_json, never a traceback."""

    def __init__(self, module):
        self.module = module
        self.bin = module.get_bin_path('ipvsadm', required=True)

    def run(self, args, data=None, check=True):
        cmd = [self.bin] + list(args)
        rc, out, err = self.module.run_command(cmd, data=data, environ_update=C_LOCALE, binary_data=True)
        if check and (rc != 0 or err.strip()):
            self.module.fail_json(msg='ipvsadm %s failed' % ' '.join(args), cmd=' '.join(cmd), rc=rc, stdout=out, stderr=err)
        return rc, out, err

    @staticmethod
    def loaded():
        return os.path.exists(PROC_IPVS)

    @staticmethod
    def module_loaded(name):
        return os.path.exists(os.path.join(SYS_MODULE, name))

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def read_table(self):
        """The live table {key: service with real_servers}; empty when ip_vs is not loaded."""
        if not self.loaded():
            return {}
        save = self.run(['-S', '-n'])[1]
        thresholds = self.run(['-L', '-n', '--thresholds'])[1]
        try:
            return merge_thresholds(parse_save(save), parse_listing(thresholds))
        except IpvsError as e:
            self.fail('cannot read the IPVS table: %s' % e, stdout=save + thresholds)

    def read_listing(self, variant, svc=None):
        args = ['-L', '-n'] + list(variant) + (service_args(svc) if svc else [])
        out = self.run(args)[1]
        try:
            return parse_listing(out)
        except IpvsError as e:
            self.fail('cannot parse ipvsadm %s: %s' % (' '.join(args), e), stdout=out)

    def read_info(self):
        """Everything ipvs_info returns."""
        if not self.loaded():
            return {'loaded': False, 'services': [], 'timeouts': {}, 'daemons': []}
        table = self.read_table()
        stats = self.read_listing(['--stats', '--exact'])
        rates = self.read_listing(['--rate', '--exact'])
        conns = self.read_listing(['--thresholds'])
        try:
            timeouts = parse_timeout(self.run(['-L', '-n', '--timeout'])[1])
            daemons = parse_daemon(self.run(['-L', '-n', '--daemon'])[1])
        except IpvsError as e:
            self.fail('cannot parse ipvsadm output: %s' % e)
        services = []
        for key in sorted_keys(table):
            svc = export_service(table[key])
            svc['stats'] = dict(zip(STAT_NAMES, stats.get(key, {}).get('columns', [])))
            svc['rates'] = dict(zip(RATE_NAMES, rates.get(key, {}).get('columns', [])))
            for dest in svc['real_servers']:
                dkey = (dest['address'], dest['port'])
                dest['stats'] = dict(zip(STAT_NAMES, stats.get(key, {}).get('real_servers', {}).get(dkey, [])))
                dest['rates'] = dict(zip(RATE_NAMES, rates.get(key, {}).get('real_servers', {}).get(dkey, [])))
                row = conns.get(key, {}).get('real_servers', {}).get(dkey, [0, 0, 0, 0])
                dest['active_connections'], dest['inactive_connections'] = row[2], row[3]
            services.append(svc)
        return {'loaded': True, 'services': services, 'timeouts': timeouts, 'daemons': daemons}

    # ---- changing the kernel -------------------------------------------------------------

    def lock(self):
        """Exclusive flock on LOCK_FILE, held until the module process exits."""
        try:
            handle = open(LOCK_FILE, 'a')
            fcntl.flock(handle, fcntl.LOCK_EX)
        except (IOError, OSError) as e:
            self.fail('cannot lock %s: %s' % (LOCK_FILE, e))
        _HELD_LOCKS.append(handle)
        return handle

    @staticmethod
    def unlock():
        while _HELD_LOCKS:
            handle = _HELD_LOCKS.pop()
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def load_modules(self, ops):
        """modprobe ip_vs and the schedulers / persistence engines the plan uses, when missing."""
        wanted = [] if self.loaded() else ['ip_vs']
        for op in ops:
            if op.cmd in ('-A', '-E'):
                wanted.append('ip_vs_' + op.svc['scheduler'])
                if op.svc['persistence_engine']:
                    wanted.append('ip_vs_pe_' + op.svc['persistence_engine'])
        missing = [m for m in dict.fromkeys(wanted) if not self.module_loaded(m)]
        if not missing:
            return
        modprobe = self.module.get_bin_path('modprobe', required=True)
        for name in missing:
            rc, out, err = self.module.run_command([modprobe, name], environ_update=C_LOCALE)
            if rc != 0 and name == 'ip_vs':
                self.fail('cannot load kernel module ip_vs', cmd='%s %s' % (modprobe, name), rc=rc, stdout=out, stderr=err)
            if rc != 0:
                # the kernel reports the failing line itself (and the batch is rolled back)
                self.module.warn('modprobe %s failed: %s' % (name, err.strip()))

    def restore(self, batch):
        """ipvsadm -R with the lines of ops; returns (rc, stdout, stderr)."""
        data = ''.join(' '.join(op.args) + '\n' for op in batch)
        return self.run(['-R'], data=data, check=False)

    def apply(self, current, ops, expected, touched):
        """Apply ops in one batch, verify, and on any failure put the snapshot back and fail."""
        rc, out, err = self.restore(ops)
        after = self.read_table()
        failed = [op for op in ops if not op_holds(op, after)]
        wrong = [k for k in touched if after.get(k) != expected.get(k)]
        if rc == 0 and not err.strip() and not failed and not wrong:
            return after
        if failed:
            culprit = failed[0].line
        elif wrong:
            culprit = 'verification of %s' % key_text(wrong[0])
        else:
            culprit = ops[-1].line
        back_ops = plan(after, restore_intents(current, touched))[0]
        brc, bout, berr = self.restore(back_ops) if back_ops else (0, '', '')
        restored_table = self.read_table()
        restored = all(restored_table.get(k) == current.get(k) for k in touched)
        self.fail('ipvsadm -R failed at: %s; the previous table was %s' % (culprit, 'restored' if restored else 'NOT restored'),
                  cmd=culprit, rc=rc, stdout=out, stderr=err, commands=[op.line for op in ops],
                  restored=restored, restore_commands=[op.line for op in back_ops],
                  restore_rc=brc, restore_stderr=berr)


def reconcile(module, intents, purge=False, keep=None, ipvs=None, drain_timeout=0, drain_poll=1):
    """Lock, read, plan and (outside check mode) apply intents.

    With drain_timeout > 0, the real servers the plan deletes first get weight 0 in a batch of their
    own; the module then waits (lock released) until their connections end or the timeout passes,
    and plans again from the table it reads then, so a change made meanwhile is not undone blindly.
    Returns (ipvs, before, after, ops, touched, drained); ops include the weight-0 edits.
    """
    if ipvs is None:
        ipvs = Ipvsadm(module)
    if not module.check_mode:
        ipvs.lock()
    before = ipvs.read_table()
    ops, expected, touched = _plan(module, before, intents, purge, keep)
    targets = [(service_key(op.svc), dest_key(op.dest)) for op in ops if op.cmd == '-d'] if drain_timeout > 0 else []
    if not targets:
        after = expected
        if ops and not module.check_mode:
            ipvs.load_modules(ops)
            after = ipvs.apply(before, ops, expected, touched)
        ipvs.unlock()   # a drain wait afterwards must not block other invocations
        return ipvs, before, after, ops, touched, []
    zero_ops = weight_zero_ops(before, targets)
    if module.check_mode:
        # report what the drain would wait for, without waiting
        waits = wait_drained(ipvs, targets, 0, drain_poll)
        return ipvs, before, expected, zero_ops + ops, touched, drained_report(targets, waits)
    if zero_ops:
        ipvs.apply(before, zero_ops, apply_ops(before, zero_ops), set(k for k, dummy in targets))
    ipvs.unlock()
    waits = wait_drained(ipvs, targets, drain_timeout, drain_poll)
    ipvs.lock()
    current = ipvs.read_table()
    rest, expected, rest_touched = _plan(module, current, intents, purge, keep)
    after = current
    if rest:
        ipvs.load_modules(rest)
        after = ipvs.apply(current, rest, expected, rest_touched)
    ipvs.unlock()
    return ipvs, before, after, zero_ops + rest, touched | rest_touched, drained_report(targets, waits)


def _plan(module, table, intents, purge, keep):
    try:
        return plan(table, intents, purge=purge, keep=keep)
    except IpvsError as e:
        module.fail_json(msg=str(e))


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
