#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: ipvs_service
short_description: Manage one IPVS (LVS) virtual service and optionally its real servers
version_added: 0.1.0
description:
  - Creates, edits in place or deletes one IPVS virtual service, keyed by O(protocol), O(address) and O(port),
    or by O(fwmark) and O(family).
  - Optionally enforces its real servers (O(real_servers)) and removes unlisted ones (O(purge_real_servers)).
  - Every field of the service is enforced; an option left out takes its documented default
    (for example, omitting O(persistence_timeout) makes the service non-persistent).
extends_documentation_fragment:
  - lvs.cluster.attributes
  - lvs.cluster.attributes.ipvs
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  protocol:
    description:
      - Protocol of the virtual service. Defaults to V(tcp) when O(fwmark) is not used.
      - Mutually exclusive with O(fwmark).
    type: str
    choices: [tcp, udp, sctp]
  address:
    description:
      - Virtual IP address (IPv4 or IPv6, without brackets). Required unless O(fwmark) is given.
    type: str
  port:
    description:
      - Virtual port, 1..65535. V(0) (or omitted) is only allowed for a persistent service (all ports).
    type: int
  fwmark:
    description:
      - Firewall mark (1..4294967295) identifying a fwmark service instead of O(protocol)/O(address)/O(port).
    type: int
  family:
    description:
      - Address family of a fwmark service. Defaults to V(ipv4). With O(address) it must match the address.
    type: str
    choices: [ipv4, ipv6]
  scheduler:
    description:
      - Scheduling algorithm (kernel module C(ip_vs_<name>)). V(twos) needs a kernel that has C(ip_vs_twos).
    type: str
    default: wlc
    choices: [rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos]
  scheduler_flags:
    description:
      - Scheduler flags, only for the V(sh) and V(mh) schedulers. V(sh-fallback) and V(sh-port) apply to V(sh) only,
        V(mh-fallback) and V(mh-port) to V(mh) only. V(flag-1) and V(flag-2) are aliases of
        V(sh-fallback)/V(mh-fallback) and V(sh-port)/V(mh-port); results use the scheduler's names.
      - V(flag-3) is refused with every scheduler. C(ipvsadm) shows no name for it with V(sh) and V(mh), so the
        module could not read it back. A service that has it as its only flag (set with C(ipvsadm)) is read as V(flag-3).
    type: list
    elements: str
    choices: [flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback, mh-port]
  persistence_timeout:
    description:
      - Persistence timeout in seconds (1..2678400). Omitted means the service is not persistent.
        (C(ipvsadm -p) without a value means 360.)
    type: int
  persistence_netmask:
    description:
      - Persistence granularity; requires O(persistence_timeout). A dotted mask for IPv4 (default
        V(255.255.255.255)) or a prefix length for IPv6 (default V(128)).
    type: str
  persistence_engine:
    description:
      - Persistence engine; requires O(persistence_timeout).
    type: str
    choices: [sip]
  one_packet:
    description:
      - One-packet scheduling (C(-o)); only for V(udp) or fwmark services.
    type: bool
    default: false
  state:
    description:
      - V(present) creates or edits the service, V(absent) deletes it with all its real servers.
    type: str
    default: present
    choices: [present, absent]
  real_servers:
    description:
      - Real servers to enforce on the service. Omitted means real servers are left alone.
    type: list
    elements: dict
    suboptions:
      address:
        description: Real server address (IPv4 or IPv6). A family other than the service's needs O(real_servers[].forwarding=tun).
        type: str
        required: true
      port:
        description:
          - Real server port. Defaults to the service port. A different port is only possible with
            O(real_servers[].forwarding=nat) (the kernel forces the service port for V(dr) and V(tun)).
        type: int
      forwarding:
        description: Forwarding method, V(nat) (masquerading), V(dr) (direct routing, gatewaying) or V(tun) (tunnelling).
        type: str
        default: dr
        choices: [nat, dr, tun]
      weight:
        description: Weight 0..65535; V(0) is quiescent (no new connections).
        type: int
        default: 1
      upper_threshold:
        description: Upper connection threshold, V(0) means none.
        type: int
        default: 0
      lower_threshold:
        description: Lower connection threshold, V(0) means none; not above O(real_servers[].upper_threshold).
        type: int
        default: 0
      tun_type:
        description: Tunnel type for O(real_servers[].forwarding=tun). Defaults to V(ipip).
        type: str
        choices: [ipip, gue, gre]
      tun_port:
        description: Destination UDP port of the tunnel; required for V(gue), forbidden otherwise.
        type: int
      tun_checksum:
        description: Tunnel checksum mode for V(gue) and V(gre) (default V(nocsum)); V(remcsum) only for V(gue).
        type: str
        choices: [nocsum, csum, remcsum]
  purge_real_servers:
    description:
      - Delete the real servers of the service that O(real_servers) does not list. Requires O(real_servers).
    type: bool
    default: false
seealso:
  - module: lvs.cluster.ipvs_realserver
  - module: lvs.cluster.ipvs_table
  - module: lvs.cluster.ipvs_info
author:
  - lvs.cluster developers (@lvs-cluster)
"""

EXAMPLES = r"""
- name: Round-robin web service with two direct-routing real servers
  lvs.cluster.ipvs_service:
    address: 192.0.2.10
    port: 80
    scheduler: rr
    real_servers:
      - address: 10.0.0.11
      - address: 10.0.0.12
        weight: 2
    purge_real_servers: true

- name: Persistent HTTPS service with source hashing on /24 networks
  lvs.cluster.ipvs_service:
    address: 192.0.2.10
    port: 443
    scheduler: sh
    scheduler_flags: [sh-fallback, sh-port]
    persistence_timeout: 600
    persistence_netmask: 255.255.255.0

- name: IPv6 fwmark service with one-packet scheduling
  lvs.cluster.ipvs_service:
    fwmark: 8
    family: ipv6
    scheduler: mh
    one_packet: true

- name: Remove a service and its real servers
  lvs.cluster.ipvs_service:
    protocol: udp
    address: 192.0.2.10
    port: 53
    state: absent
"""

RETURN = r"""
commands:
  description: The ipvsadm lines, in C(ipvsadm -R) syntax, that ran (or would run in check mode).
  returned: always
  type: list
  elements: str
  sample: ["-A -t 192.0.2.10:80 -s rr", "-a -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 1"]
service:
  description: The service after the change (predicted in check mode); null when it does not exist.
  returned: always
  type: dict
  sample:
    protocol: tcp
    address: 192.0.2.10
    port: 80
    fwmark: null
    family: ipv4
    scheduler: rr
    scheduler_flags: []
    persistence_timeout: null
    persistence_netmask: null
    persistence_engine: null
    one_packet: false
    real_servers:
      - {address: 10.0.0.11, port: 80, forwarding: dr, weight: 1, upper_threshold: 0, lower_threshold: 0,
         tun_type: null, tun_port: null, tun_checksum: null}
  contains:
    protocol:
      description: V(tcp), V(udp) or V(sctp); null for a fwmark service.
      type: str
    address:
      description: Virtual address in canonical form; null for a fwmark service.
      type: str
    port:
      description: Virtual port; null for a fwmark service.
      type: int
    fwmark:
      description: Firewall mark, or null.
      type: int
    family:
      description: V(ipv4) or V(ipv6).
      type: str
    scheduler:
      description: Scheduler name.
      type: str
    scheduler_flags:
      description: Scheduler flags by the scheduler's names.
      type: list
      elements: str
    persistence_timeout:
      description: Persistence timeout in seconds, or null when not persistent.
      type: int
    persistence_netmask:
      description: Persistence netmask (dotted IPv4 mask or IPv6 prefix length), or null when not persistent.
      type: str
    persistence_engine:
      description: Persistence engine, or null.
      type: str
    one_packet:
      description: Whether one-packet scheduling is on.
      type: bool
    real_servers:
      description: Real servers (address, port, forwarding, weight, upper_threshold, lower_threshold, tun_type, tun_port, tun_checksum).
      type: list
      elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_reconcile import reconcile, table_diff
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError, export_service, service_key
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_plan import intent
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_spec import (
    KEY_MUTUALLY_EXCLUSIVE, KEY_REQUIRED_ONE_OF, dest_spec, key_spec, settings_spec)
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_validate import build_dests, build_service


def main():
    argument_spec = key_spec()
    argument_spec.update(settings_spec())
    argument_spec.update(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        real_servers=dict(type='list', elements='dict', options=dest_spec()),
        purge_real_servers=dict(type='bool', default=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=KEY_MUTUALLY_EXCLUSIVE,
        required_one_of=KEY_REQUIRED_ONE_OF,
        required_if=[('purge_real_servers', True, ['real_servers'])],
        supports_check_mode=True,
    )
    params = module.params
    try:
        svc = build_service(params)
        dests = build_dests(svc, params['real_servers'])
    except IpvsError as e:
        module.fail_json(msg=str(e))
    key = service_key(svc)
    if params['state'] == 'absent':
        wanted = intent(key, 'absent')
    else:
        wanted = intent(key, service=svc, dests=dests, purge_dests=params['purge_real_servers'])
    dummy, before, after, ops, dummy, dummy = reconcile(module, [wanted])
    result = dict(changed=bool(ops), commands=[op.line for op in ops],
                  service=export_service(after[key]) if key in after else None)
    if module._diff:
        result['diff'] = table_diff(before, after, [key])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
