#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: ipvs_counters
short_description: Zero the IPVS (LVS) counters of all virtual services or one
version_added: 0.1.0
description:
  - Zeroes the counters (connections, packets and bytes in and out, and with them the rates) of every
    virtual service and its real servers, or of one service, as C(ipvsadm -Z) does.
  - Reads the counters first with C(ipvsadm -L -n --stats --exact) and zeroes only when a counter to zero is
    not V(0), so a second run reports no change.
  - A module of its own rather than an option of M(lvs.cluster.ipvs_info), which only reads, or of
    M(lvs.cluster.ipvs_table), which declares configuration: zeroing is an action on runtime state that needs
    its own check mode and changed status, and a shell task running C(ipvsadm -Z) would have neither.
extends_documentation_fragment:
  - lvs.cluster.attributes
attributes:
  check_mode:
    support: full
    details: In check mode the module reads the counters and reports whether it would zero them.
  diff_mode:
    support: none
options:
  state:
    description: V(zeroed) makes the counters zero.
    type: str
    default: zeroed
    choices: [zeroed]
  service:
    description:
      - The virtual service whose counters (with those of its real servers) to zero, by its key. The service must
        exist. Omitted means every service.
    type: dict
    suboptions:
      protocol:
        description: Protocol of the service. Defaults to V(tcp) when O(service.fwmark) is not used.
        type: str
        choices: [tcp, udp, sctp]
      address:
        description: Virtual IP address. Required unless O(service.fwmark) is given.
        type: str
      port:
        description: Virtual port (V(0) only for a persistent all-ports service).
        type: int
      fwmark:
        description: Firewall mark of a fwmark service.
        type: int
      family:
        description: Address family of a fwmark service. Defaults to V(ipv4).
        type: str
        choices: [ipv4, ipv6]
requirements:
  - C(ipvsadm) on the target.
notes:
  - When the C(ip_vs) kernel module is not loaded there is nothing to zero; the module does not load it.
  - The kernel folds its per-CPU counters into the totals every 2 seconds, so counters read right after
    traffic can lag by up to that long.
  - Outside check mode the read and the zeroing run under the lock (C(flock)) on C(/run/lvs-cluster-ipvs.lock)
    that the other ipvs_* modules take.
seealso:
  - module: lvs.cluster.ipvs_info
author:
  - lvs.cluster developers (@lvs-cluster)
"""

EXAMPLES = r"""
- name: Zero the counters of every service
  lvs.cluster.ipvs_counters:

- name: Zero the counters of the web service only
  lvs.cluster.ipvs_counters:
    service: {protocol: tcp, address: 192.0.2.10, port: 80}
  register: web_counters

- name: Show how many connections it had counted
  ansible.builtin.debug:
    msg: "{{ web_counters.services[0].stats.connections }}"
"""

RETURN = r"""
commands:
  description: The ipvsadm command line that ran (or would run in check mode); empty when nothing was to zero.
  returned: always
  type: list
  elements: str
  sample: ["-Z -t 192.0.2.10:80"]
services:
  description:
    - The services whose counters were to zero, sorted by key, with their counters B(before) zeroing; each with
      the fields returned by M(lvs.cluster.ipvs_service).
  returned: always
  type: list
  elements: dict
  contains:
    stats:
      description: Counters before zeroing (connections, packets_in, packets_out, bytes_in, bytes_out).
      type: dict
      sample: {connections: 2, packets_in: 4, packets_out: 0, bytes_in: 240, bytes_out: 0}
    real_servers:
      description: Real servers, each with its RV(services[].stats) before zeroing.
      type: list
      elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError, key_text, service_args, service_key
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_report import with_counters
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_runner import Ipvsadm
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_spec import KEY_MUTUALLY_EXCLUSIVE, KEY_REQUIRED_ONE_OF, key_spec
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_validate import build_key_service


def counting(services):
    """Whether any counter of the services or their real servers is not zero."""
    return any(any(svc['stats'].values()) or any(any(d['stats'].values()) for d in svc['real_servers'])
               for svc in services)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', default='zeroed', choices=['zeroed']),
            service=dict(type='dict', options=key_spec(),
                         mutually_exclusive=KEY_MUTUALLY_EXCLUSIVE, required_one_of=KEY_REQUIRED_ONE_OF),
        ),
        supports_check_mode=True,
    )
    probe = None
    if module.params['service']:
        try:
            probe = build_key_service(module.params['service'])
        except IpvsError as e:
            module.fail_json(msg=str(e))
    ipvs = Ipvsadm(module)
    table = {}
    if ipvs.loaded():
        if not module.check_mode:
            ipvs.lock()
        table = ipvs.read_table()
    if probe is not None:
        key = service_key(probe)
        if key not in table:
            module.fail_json(msg='service: %s does not exist' % key_text(key))
        table = {key: table[key]}
    before = with_counters(table, ipvs.read_listing(['--stats', '--exact'], probe)) if table else []
    args = ['-Z'] + (service_args(probe) if probe is not None else [])
    changed = counting(before)
    if changed and not module.check_mode:
        ipvs.run(args)
    ipvs.unlock()
    module.exit_json(changed=changed, commands=[' '.join(args)] if changed else [], services=before)


if __name__ == '__main__':
    main()
