# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# The ipvsadm runner: the binary, argv lists under LC_ALL=C, the lock that serialises invocations,
# modprobe (the one path that loads ip_vs, schedulers and persistence engines), the "ipvsadm -R"
# batch, and reading the live table (-S -n plus --thresholds) and the -L listings.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import fcntl
import os

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError, service_args, service_modules
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_parse import merge_thresholds, parse_listing, parse_save

LOCK_FILE = '/run/lvs-cluster-ipvs.lock'
PROC_IPVS = '/proc/net/ip_vs'
SYS_MODULE = '/sys/module'
C_LOCALE = {'LC_ALL': 'C', 'LANGUAGE': 'C', 'LANG': 'C'}
_HELD_LOCKS = []   # lock handles, open and locked until unlock()


class Ipvsadm(object):
    """ipvsadm bound to one AnsibleModule; every failure ends in fail_json, never a traceback."""

    def __init__(self, module):
        self.module = module
        self.bin = module.get_bin_path('ipvsadm', required=True)

    def run(self, args, data=None, check=True):
        cmd = [self.bin] + list(args)
        rc, out, err = self.module.run_command(cmd, data=data, environ_update=C_LOCALE, binary_data=True)
        if check and (rc != 0 or err.strip()):
            self.fail('ipvsadm %s failed' % ' '.join(args), cmd=' '.join(cmd), rc=rc, stdout=out, stderr=err)
        return rc, out, err

    @staticmethod
    def loaded():
        return os.path.exists(PROC_IPVS)

    @staticmethod
    def module_loaded(name):
        return os.path.exists(os.path.join(SYS_MODULE, name))

    def fail(self, msg, **kwargs):
        # release the lock first: a persistent interpreter (Mitogen) runs the next module in this process
        self.unlock()
        self.module.fail_json(msg=msg, **kwargs)

    def read_table(self, thresholds=True):
        """The live table {key: service with real_servers}; empty when ip_vs is not loaded.

        thresholds=False skips the --thresholds listing (as long a read as -S itself) and leaves every
        threshold 0: only for a caller that knows the table has none.
        """
        if not self.loaded():
            return {}
        save = self.run(['-S', '-n'])[1]
        listing = self.run(['-L', '-n', '--thresholds'])[1] if thresholds else None
        return self.parse_table(save, listing)

    def read_texts(self):
        """(-S -n output, --thresholds listing) of the live table, for parse_table() (ip_vs must be loaded)."""
        return self.run(['-S', '-n'])[1], self.run(['-L', '-n', '--thresholds'])[1]

    def parse_table(self, save, listing):
        """The table of read_texts()' output; listing None leaves every threshold 0."""
        try:
            table = parse_save(save)
            return table if listing is None else merge_thresholds(table, parse_listing(listing))
        except IpvsError as e:
            self.fail('cannot read the IPVS table: %s' % e, stdout=save + (listing or ''))

    def read_listing(self, variant, svc=None):
        args = ['-L', '-n'] + list(variant) + (service_args(svc) if svc else [])
        out = self.run(args)[1]
        try:
            return parse_listing(out)
        except IpvsError as e:
            self.fail('cannot parse ipvsadm %s: %s' % (' '.join(args), e), stdout=out)

    # ---- changing the kernel -------------------------------------------------------------

    def lock(self):
        """Exclusive flock on LOCK_FILE, held until unlock(); fail() and the modules' exits release it."""
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

    def modprobe(self, names):
        """Load the kernel modules of names that are not loaded yet; only ip_vs is required."""
        missing = [m for m in dict.fromkeys(names) if not self.module_loaded(m)]
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

    def load_modules(self, ops):
        """modprobe ip_vs and the schedulers / persistence engines the plan uses, when missing."""
        wanted = [] if self.loaded() else ['ip_vs']
        for op in ops:
            if op.cmd in ('-A', '-E'):
                wanted.extend(service_modules(op.svc))
        self.modprobe(wanted)

    def restore(self, batch):
        """ipvsadm -R with the lines of ops; returns (rc, stdout, stderr)."""
        data = ''.join(op.line + '\n' for op in batch)
        return self.run(['-R'], data=data, check=False)
