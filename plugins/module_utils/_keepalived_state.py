# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# keepalived's own view of its checked services, read from the data dump its checker process writes
# on SIGUSR1 (/tmp/keepalived_check.data), and what that view means for the kernel table:
# keepalived believes a real server is in the kernel exactly when the dump says "RS set = 1"
# (at weight 0 when inhibit_on_failure holds a failed one there).

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re
import signal
import time

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError, parse_address

DUMP_FILE = '/tmp/keepalived_check.data'
PID_FILES = ('/run/keepalived.pid', '/var/run/keepalived.pid')
# keepalived starts its checker process only with a virtual_server to check; with VRRP alone (director
# HA without health checks) there is none, and no dump ever comes
CHECKER_PID_FILES = ('/run/checkers.pid', '/var/run/checkers.pid')

_VS_VIP = re.compile(r'^ VS VIP = (\S+), VPORT = (\d+)$')
_VS_FWMARK = re.compile(r'^ VS FWMARK = (\d+)$')
_RS = re.compile(r'^   RIP = (\S+), RPORT = (\d+), WEIGHT = (-?\d+) EFF WEIGHT = (-?\d+)$')
_FIELD = re.compile(r'^   ([A-Za-z_ ]+?) (?:=|is) (.*)$')


def parse_check_dump(text):
    """{service key: {'alive', 'quorum_up', 'inhibit', 'real_servers': {(addr, port): {...}}}} from the
    checker dump; keys as in _ipvs_model (protocol, address, port) or ('fwmark', family, mark)."""
    services = {}
    vs = rs = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.startswith('------<') and 'LVS Topology' not in line:
            vs = rs = None      # a top-level section after the topology (health checkers, ...)
            continue
        match = _VS_VIP.match(line) or _VS_FWMARK.match(line)
        if match:
            vs = {'address': None, 'port': None, 'fwmark': None, 'protocol': None, 'family': 'ipv4',
                  'alive': False, 'quorum_up': False, 'inhibit': False, 'real_servers': {}}
            if len(match.groups()) == 2:
                vs['address'], vs['family'] = parse_address(match.group(1))
                vs['port'] = int(match.group(2))
            else:
                vs['fwmark'] = int(match.group(1))
            services[id(vs)] = vs
            rs = None
            continue
        if line.startswith(' VS GROUP = '):
            raise IpvsError('keepalived runs a virtual_server_group (%s), which lvs.cluster does not manage'
                            % line.split('=', 1)[1].strip())
        if vs is None:
            continue
        match = _RS.match(line)
        if match:
            rs = {'address': parse_address(match.group(1))[0], 'port': int(match.group(2)),
                  'weight': int(match.group(3)), 'effective_weight': int(match.group(4)),
                  'alive': False, 'set': False, 'inhibit': False}
            vs['real_servers'][(rs['address'], rs['port'])] = rs
            continue
        match = _FIELD.match(line)
        if not match:
            continue
        name, value = match.group(1), match.group(2).strip()
        target = rs if rs is not None else vs
        if name == 'alive':
            target['alive'] = value == '1'
        elif name == 'RS set' and rs is not None:
            rs['set'] = value == '1'
        elif name == 'Inhibit on failure':
            target['inhibit'] = value == 'ON'
        elif rs is None and name == 'quorum_state_up':
            vs['quorum_up'] = value == '1'
        elif rs is None and name == 'protocol':
            vs['protocol'] = value.lower() if value in ('TCP', 'UDP', 'SCTP') else None
        elif rs is None and name == 'Address family' and value == 'inet6':
            vs['family'] = 'ipv6'
    out = {}
    for vs in services.values():
        if vs['fwmark']:
            key = ('fwmark', vs['family'], vs['fwmark'])
        else:
            key = (vs['protocol'], vs['address'], vs['port'])
        out[key] = vs
    return out


def rs_state(rs):
    """up, quiesced (failed, kept at weight 0) or down (failed and out of the kernel)."""
    if rs['alive']:
        return 'up'
    return 'quiesced' if rs['set'] else 'down'


def kernel_dests(vs):
    """{dest key: weight} of the real servers keepalived believes are in the kernel."""
    return dict((key, rs['weight'] if rs['alive'] else 0)
                for key, rs in vs['real_servers'].items() if rs['set'])


def _pids(paths):
    """The process ids the pid files among paths name (missing or unreadable ones skipped)."""
    for path in paths:
        try:
            with open(path) as handle:
                yield int(handle.read().strip())
        except (IOError, OSError, ValueError):
            continue


def keepalived_pid():
    for pid in _pids(PID_FILES):
        if os.path.exists('/proc/%d' % pid):
            return pid
    return None


def parent_pid(pid):
    """The parent of a live process, or None."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses
            return int(handle.read().rsplit(')', 1)[1].split()[1])
    except (IOError, OSError, ValueError, IndexError):
        return None


def checker_pid(parent):
    """keepalived's checker process (a child of parent), or None when keepalived checks nothing."""
    for pid in _pids(CHECKER_PID_FILES):
        if parent_pid(pid) == parent:
            return pid
    return None


def read_dump(pid, timeout=5.0):
    """Ask keepalived for its checker dump and return its text once written (its size stops changing);
    an empty text when keepalived runs no checker process (it checks no service)."""
    if checker_pid(pid) is None:
        return ''
    try:
        os.unlink(DUMP_FILE)
    except OSError:
        pass
    os.kill(pid, signal.SIGUSR1)
    deadline, last = time.time() + timeout, -1
    while time.time() < deadline:
        time.sleep(0.05)
        try:
            size = os.path.getsize(DUMP_FILE)
        except OSError:
            continue
        if size and size == last:
            with open(DUMP_FILE) as handle:
                return handle.read()
        last = size
    raise IpvsError('keepalived (pid %d) wrote no checker dump to %s within %g s' % (pid, DUMP_FILE, timeout))
