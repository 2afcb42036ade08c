#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: keepalived_state
short_description: Report keepalived's health-check state and restore what keepalived believes is in the kernel
version_added: 0.2.0
description:
  - Reads keepalived's own view of its health-checked virtual services from the data dump its checker process
    writes on C(SIGUSR1) (C(/tmp/keepalived_check.data)), compares it with the live IPVS table, and reports each
    declared real server as V(up), V(down) (removed by its checker) or V(quiesced) (failed, kept at weight 0).
  - With O(repair=true), puts back what keepalived believes is in the kernel but is not, in one C(ipvsadm -R) batch
    verified and rolled back like M(lvs.cluster.ipvs_table) does. A service deleted by hand comes back with every
    real server keepalived holds in it; a real server keepalived holds but that is missing comes back; a weight
    edited by hand returns to keepalived's. A keepalived C(reload) does none of this; it compares the old
    configuration with the new one, never with the kernel (keepalived issues 1877 and 1720).
  - How it decides. keepalived writes C(RS set = 1) in the dump for a real server exactly when it has added
    it to the kernel (at weight 0 when C(inhibit_on_failure) holds a failed one). The module restores only those,
    so a server keepalived took out because it failed its check stays out. The dump is read twice, around the read
    of the kernel table; when a checker changed state in between, it reads again, so a server that fails at that
    moment is not put back.
  - keepalived stays the one writer of these services. The module never adds a real server keepalived did not,
    and never removes one. Real servers added by hand are left alone.
extends_documentation_fragment:
  - lvs.cluster.attributes
attributes:
  check_mode:
    support: full
    details: In check mode the module reads both views and reports what it would restore.
  diff_mode:
    support: full
options:
  services:
    description:
      - The health-checked services, each as an entry of the director role's C(director_services) that has
        C(health_check) (real servers may carry C(notify_up) and C(notify_down)). They are validated with the same
        code that renders keepalived's configuration.
    type: list
    elements: dict
    required: true
  repair:
    description: Restore what keepalived believes is in the kernel but is not. V(false) only reports.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait until keepalived runs exactly the declared services, for example just after a reload that
        added or removed one. The module fails, naming both sets, when they do not agree in time.
    type: float
    default: 30
requirements:
  - keepalived 2.x running on the target with the declared services in its configuration, and C(ipvsadm).
seealso:
  - module: lvs.cluster.ipvs_table
  - plugin: lvs.cluster.service_owners
    plugin_type: filter
author:
  - lvs.cluster developers (@lvs-cluster)
"""

EXAMPLES = r"""
- name: Restore keepalived-owned services deleted from the kernel by hand
  lvs.cluster.keepalived_state:
    services:
      - address: 192.0.2.10
        port: 80
        scheduler: rr
        health_check: {type: http, path: /}
        real_servers:
          - {address: 10.0.0.11, forwarding: nat}
          - {address: 10.0.0.12, forwarding: nat}

- name: Only report which real servers are up
  lvs.cluster.keepalived_state:
    services: "{{ director_services | selectattr('health_check', 'defined') | list }}"
    repair: false
  register: health
"""

RETURN = r"""
commands:
  description: The ipvsadm lines that restored keepalived's view (or would, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["-a -t 192.0.2.10:80 -r 10.0.0.11:80 -m -w 1"]
services:
  description: Each declared service, sorted as declared, with keepalived's view and the kernel's.
  returned: always
  type: list
  elements: dict
  contains:
    service:
      description: The service key as text.
      type: str
      sample: tcp 192.0.2.10:80
    in_kernel:
      description: Whether the service is in the kernel table (after any repair).
      type: bool
    real_servers:
      description: Each declared real server.
      type: list
      elements: dict
      contains:
        address: {description: Its address., type: str}
        port: {description: Its port., type: int}
        declared_weight: {description: The weight declared for it., type: int}
        state: {description: "keepalived's verdict: V(up), V(down) or V(quiesced).", type: str}
        kernel_weight: {description: "Its weight in the kernel (after any repair), or null when it is not there.", type: int}
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError, key_text, service_key
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_plan import intent
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_reconcile import reconcile, table_diff
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_runner import Ipvsadm
from ansible_collections.lvs.cluster.plugins.module_utils._keepalived import checked_record
from ansible_collections.lvs.cluster.plugins.module_utils._keepalived_state import (
    PID_FILES, keepalived_pid, kernel_dests, parse_check_dump, read_dump, rs_state)


def states(dump):
    """What must not change between two dumps for a kernel read taken between them to be consistent."""
    return dict((key, (vs['alive'], sorted((k, rs['alive'], rs['set'], rs['weight']) for k, rs in vs['real_servers'].items())))
                for key, vs in dump.items())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            services=dict(type='list', elements='dict', required=True),
            repair=dict(type='bool', default=True),
            timeout=dict(type='float', default=30),
        ),
        supports_check_mode=True,
    )
    try:
        records = [checked_record(item, 'services[%d]' % i) for i, item in enumerate(module.params['services'])]
    except IpvsError as e:
        module.fail_json(msg=str(e))
    pid = keepalived_pid()
    if pid is None:
        module.fail_json(msg='keepalived is not running (no live pid in %s)' % ' or '.join(PID_FILES))
    seen = {}

    def wanted(table):
        """keepalived's view as intents, from a dump consistent with the table read under the lock."""
        deadline = time.time() + module.params['timeout']
        while True:
            first = parse_check_dump(read_dump(pid))
            declared = set(service_key(svc) for svc, hc, hooks in records)
            missing, extra = declared - set(first), set(first) - declared
            # a reload just signalled may not be done: wait until keepalived runs exactly these services
            if (missing or extra) and time.time() < deadline:
                time.sleep(0.5)
                continue
            if missing or extra:
                raise IpvsError('keepalived runs %s instead of the declared %s: is its configuration applied and '
                                'reloaded?' % (', '.join(sorted(key_text(k) for k in first)) or 'nothing',
                                               ', '.join(sorted(key_text(k) for k in declared))))
            fresh = ipvs.read_table()
            second = parse_check_dump(read_dump(pid))
            if states(first) == states(second):
                break
            if time.time() >= deadline:
                raise IpvsError('keepalived\'s checkers kept changing state for %g s' % module.params['timeout'])
        table.clear()
        table.update(fresh)
        seen.update(second)
        out = []
        for svc, hc, hooks in records:
            vs = second[service_key(svc)]
            if not vs['alive'] or not module.params['repair']:
                continue
            dests = dict((dkey, dict(svc['real_servers'][dkey], weight=weight))
                         for dkey, weight in kernel_dests(vs).items() if dkey in svc['real_servers'])
            out.append(intent(service_key(svc), service=dict(svc, real_servers={}), dests=dests))
        return out

    ipvs = Ipvsadm(module)
    dummy, before, after, ops, touched, dummy2 = reconcile(module, wanted, ipvs=ipvs)
    report = []
    for svc, hc, hooks in records:
        key = service_key(svc)
        vs = seen.get(key, {'real_servers': {}})
        live = after.get(key)
        servers = []
        for dkey in sorted(svc['real_servers']):
            rs = vs['real_servers'].get(dkey)
            kernel = live['real_servers'].get(dkey) if live else None
            servers.append({'address': dkey[0], 'port': dkey[1], 'declared_weight': svc['real_servers'][dkey]['weight'],
                            'state': rs_state(rs) if rs else 'unknown',
                            'kernel_weight': kernel['weight'] if kernel else None})
        report.append({'service': key_text(key), 'in_kernel': live is not None, 'real_servers': servers})
    result = dict(changed=bool(ops), commands=[op.line for op in ops], services=report)
    if module._diff:
        result['diff'] = table_diff(before, after, touched)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
