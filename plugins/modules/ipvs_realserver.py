#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: ipvs_realserver
short_description: Manage one real server of an IPVS (LVS) virtual service
version_added: 0.1.0
description:
  - Adds, edits in place, drains or deletes one real server of an existing IPVS virtual service.
  - With O(state=drained) the weight is set to V(0) (no new connections) and the module can wait until
    the real server has no active and inactive connections left, or O(drain_timeout) passes.
  - The service itself is managed with M(lvs.cluster.ipvs_service) or M(lvs.cluster.ipvs_table).
extends_documentation_fragment:
  - lvs.cluster.attributes
  - lvs.cluster.attributes.ipvs
attributes:
  check_mode:
    support: full
    details: In check mode O(state=drained) does not wait; it reports the connections it sees.
  diff_mode:
    support: full
options:
  service:
    description: The virtual service of the real server (its key). The service must exist unless O(state=absent).
    type: dict
    required: true
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
  address:
    description: Real server address (IPv4 or IPv6). A family other than the service's needs O(forwarding=tun).
    type: str
    required: true
  port:
    description:
      - Real server port. Defaults to the service port (V(0) for a fwmark service). A different port
        is only possible with O(forwarding=nat).
    type: int
  forwarding:
    description:
      - Forwarding method, V(nat), V(dr) or V(tun).
      - Defaults to V(dr). With O(state=drained) an existing real server keeps its current value.
    type: str
    choices: [nat, dr, tun]
  weight:
    description:
      - Weight 0..65535. Defaults to V(1). Not allowed with O(state=drained), which sets V(0).
    type: int
  upper_threshold:
    description:
      - Upper connection threshold, V(0) means none. Defaults to V(0); with O(state=drained) an existing
        real server keeps its current value.
    type: int
  lower_threshold:
    description:
      - Lower connection threshold, not above O(upper_threshold). Defaults to V(0); with O(state=drained)
        an existing real server keeps its current value.
    type: int
  tun_type:
    description: Tunnel type with O(forwarding=tun). Defaults to V(ipip).
    type: str
    choices: [ipip, gue, gre]
  tun_port:
    description: Tunnel destination port; required for O(tun_type=gue), forbidden otherwise.
    type: int
  tun_checksum:
    description: Tunnel checksum mode for V(gue) and V(gre) (default V(nocsum)); V(remcsum) only for V(gue).
    type: str
    choices: [nocsum, csum, remcsum]
  state:
    description:
      - V(present) adds or edits the real server; V(absent) deletes it; V(drained) sets its weight to V(0)
        (adding it with weight 0 if it does not exist) and optionally waits for its connections to end.
    type: str
    default: present
    choices: [present, absent, drained]
  drain_timeout:
    description:
      - With O(state=drained), wait up to this many seconds until active plus inactive connections reach 0.
        V(0) does not wait. The module does not fail when the timeout passes; see RV(drain).
    type: int
    default: 0
  drain_poll:
    description: Seconds between two connection counts while waiting.
    type: int
    default: 1
seealso:
  - module: lvs.cluster.ipvs_service
  - module: lvs.cluster.ipvs_info
author:
  - lvs.cluster developers (@lvs-cluster)
"""

EXAMPLES = r"""
- name: Add a NAT real server on another port
  lvs.cluster.ipvs_realserver:
    service: {protocol: tcp, address: 192.0.2.10, port: 80}
    address: 10.0.0.21
    port: 8080
    forwarding: nat
    weight: 3

- name: Drain a real server and wait up to five minutes for its connections to end
  lvs.cluster.ipvs_realserver:
    service: {address: 192.0.2.10, port: 80}
    address: 10.0.0.21
    port: 8080
    state: drained
    drain_timeout: 300
  register: drain

- name: Remove it once drained
  lvs.cluster.ipvs_realserver:
    service: {address: 192.0.2.10, port: 80}
    address: 10.0.0.21
    port: 8080
    state: absent
  when: drain.drain.drained

- name: GUE tunnel real server of an IPv6 fwmark service
  lvs.cluster.ipvs_realserver:
    service: {fwmark: 8, family: ipv6}
    address: 2001:db8::62
    forwarding: tun
    tun_type: gue
    tun_port: 6080
    tun_checksum: remcsum
"""

RETURN = r"""
commands:
  description: The ipvsadm lines, in C(ipvsadm -R) syntax, that ran (or would run in check mode).
  returned: always
  type: list
  elements: str
  sample: ["-e -t 192.0.2.10:80 -r 10.0.0.21:8080 -m -w 0"]
real_server:
  description: The real server after the change (predicted in check mode); null when it does not exist.
  returned: always
  type: dict
  sample: {address: 10.0.0.21, port: 8080, forwarding: nat, weight: 0, upper_threshold: 0, lower_threshold: 0,
           tun_type: null, tun_port: null, tun_checksum: null}
  contains:
    address:
      description: Canonical address.
      type: str
    port:
      description: Port.
      type: int
    forwarding:
      description: V(nat), V(dr) or V(tun).
      type: str
    weight:
      description: Weight.
      type: int
    upper_threshold:
      description: Upper connection threshold (0 = none).
      type: int
    lower_threshold:
      description: Lower connection threshold (0 = none).
      type: int
    tun_type:
      description: Tunnel type, null unless V(tun).
      type: str
    tun_port:
      description: Tunnel port, null unless V(gue).
      type: int
    tun_checksum:
      description: Tunnel checksum mode, null unless V(gue) or V(gre).
      type: str
service:
  description: The key of the service (protocol, address, port, fwmark, family) in canonical form.
  returned: always
  type: dict
  sample: {protocol: tcp, address: 192.0.2.10, port: 80, fwmark: null, family: ipv4}
drain:
  description: What the module saw while draining.
  returned: when O(state=drained)
  type: dict
  sample: {active_connections: 0, inactive_connections: 0, drained: true, waited: 2.1, timed_out: false}
  contains:
    active_connections:
      description: Active connections at the last count.
      type: int
    inactive_connections:
      description: Inactive connections at the last count.
      type: int
    drained:
      description: Whether both counts were 0.
      type: bool
    waited:
      description: Seconds spent waiting.
      type: float
    timed_out:
      description: Whether O(drain_timeout) passed with connections left.
      type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_reconcile import reconcile, table_diff, wait_drained
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import (
    IpvsError, dest_key, key_text, parse_address, service_key)
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_plan import intent
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_spec import (
    KEY_MUTUALLY_EXCLUSIVE, KEY_REQUIRED_ONE_OF, dest_spec, key_spec)
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_validate import DEST_PARAMS, build_dest, build_key_service

KEEP_WHEN_DRAINED = ('forwarding', 'upper_threshold', 'lower_threshold')
KEEP_TUNNEL = ('tun_type', 'tun_port', 'tun_checksum')


def existing_dest(current, params):
    """The real server params names in service record current (port omitted: the one with that address)."""
    if current is None:
        return None
    address = parse_address(params['address'], 'address')[0]
    dests = current['real_servers']
    if params['port'] is not None:
        return dests.get((address, params['port']))
    same = [d for k, d in dests.items() if k[0] == address]
    return same[0] if len(same) == 1 else dests.get((address, current['port'] or 0))


def desired_dest(params, current, probe):
    """Validate and build the wanted real server; drained keeps the omitted fields of an existing one."""
    values = dict((k, params[k]) for k in DEST_PARAMS)
    if params['state'] == 'drained':
        values['weight'] = 0
        existing = existing_dest(current, params)
        if existing is not None:
            for name in KEEP_WHEN_DRAINED + ('port',):
                if values[name] is None:
                    values[name] = existing[name]
            if values['forwarding'] == 'tun' and existing['forwarding'] == 'tun' and values['tun_type'] is None:
                values.update((k, existing[k]) for k in KEEP_TUNNEL)
    return build_dest(current or probe, values, '')


def main():
    argument_spec = dest_spec(defaults=False)
    argument_spec.update(
        service=dict(type='dict', required=True, options=key_spec(),
                     mutually_exclusive=KEY_MUTUALLY_EXCLUSIVE, required_one_of=KEY_REQUIRED_ONE_OF),
        state=dict(type='str', default='present', choices=['present', 'absent', 'drained']),
        drain_timeout=dict(type='int', default=0),
        drain_poll=dict(type='int', default=1),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        if params['state'] == 'drained' and params['weight'] is not None:
            raise IpvsError('weight: cannot be set with state=drained (drained means weight 0)')
        if params['drain_timeout'] < 0 or params['drain_poll'] < 1:
            raise IpvsError('drain_timeout: must be >= 0 (and drain_poll >= 1)')
        parse_address(params['address'], 'address')
        probe = build_key_service(params['service'])
    except IpvsError as e:
        module.fail_json(msg=str(e))
    key = service_key(probe)
    chosen = {}

    def wanted(table):
        """The intents, decided on the table read under the lock."""
        current = table.get(key)
        chosen['dkey'] = None
        if params['state'] == 'absent':
            # only the key matters: the real server with this address (and port, when given)
            existing = existing_dest(current, params)
            if existing is None:
                return []
            chosen['dkey'] = dest_key(existing)
            return [intent(key, absent_dests=[chosen['dkey']])]
        if current is None:
            raise IpvsError('service: %s does not exist; create it first with lvs.cluster.ipvs_service' % key_text(key))
        dest = desired_dest(params, current, probe)
        chosen['dkey'] = dest_key(dest)
        return [intent(key, dests={chosen['dkey']: dest})]

    ipvs, before, after, ops, dummy, dummy = reconcile(module, wanted)
    dkey = chosen['dkey']
    svc_after = after.get(key)
    result = dict(changed=bool(ops), commands=[op.line for op in ops],
                  real_server=svc_after['real_servers'].get(dkey) if svc_after and dkey else None,
                  service=dict((k, probe[k]) for k in ('protocol', 'address', 'port', 'fwmark', 'family')))
    if params['state'] == 'drained':
        timeout = 0 if module.check_mode else params['drain_timeout']
        result['drain'] = wait_drained(ipvs, [(key, dkey)], timeout, params['drain_poll'], svc_after)[0]
    if module._diff:
        result['diff'] = table_diff(before, after, [key])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
