#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
module: ipvs_info
short_description: Read the IPVS (LVS) table, counters, timeouts and sync daemons
version_added: 0.1.0
description:
  - Returns every virtual service with its settings and real servers (forwarding, weight, thresholds,
    active and inactive connections), the counters and rates of services and real servers, the
    connection timeouts and the state of the connection sync daemons.
  - Reads with C(ipvsadm -S -n) and C(ipvsadm -L -n) (C(--thresholds), C(--stats --exact), C(--rate --exact),
    C(--timeout), C(--daemon)) under C(LC_ALL=C). Never changes anything; when the C(ip_vs) kernel module is
    not loaded it does not load it and returns RV(loaded=false).
notes:
  - The kernel adds its per-CPU counters into the totals every 2 seconds (the rate estimator), so counters
    read right after traffic can lag by up to that long; read again after 2 seconds for exact totals.
extends_documentation_fragment:
  - lvs.cluster.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  protocol:
    description: Only return services with this protocol.
    type: str
    choices: [tcp, udp, sctp]
  address:
    description: Only return services with this virtual address.
    type: str
  port:
    description: Only return services with this port.
    type: int
  fwmark:
    description: Only return the fwmark service with this mark.
    type: int
requirements:
  - C(ipvsadm) on the target.
seealso:
  - module: lvs.cluster.ipvs_table
author:
  - lvs.cluster developers (@lvs-cluster)
"""

EXAMPLES = r"""
- name: Read the IPVS state
  lvs.cluster.ipvs_info:
  register: ipvs

- name: Show the weights of the web service
  ansible.builtin.debug:
    msg: "{{ ipvs.services | selectattr('port', 'equalto', 80) | map(attribute='real_servers') }}"

- name: Only the services of one VIP
  lvs.cluster.ipvs_info:
    address: 192.0.2.10
"""

RETURN = r"""
loaded:
  description: Whether the C(ip_vs) kernel module is loaded (if not, everything else is empty).
  returned: always
  type: bool
  sample: true
services:
  description: Virtual services sorted by key, with the fields returned by M(lvs.cluster.ipvs_service) plus counters.
  returned: always
  type: list
  elements: dict
  contains:
    stats:
      description: Counters since creation (connections, packets_in, packets_out, bytes_in, bytes_out).
      type: dict
      sample: {connections: 2, packets_in: 4, packets_out: 0, bytes_in: 240, bytes_out: 0}
    rates:
      description: Rates (cps, packets_in_per_second, packets_out_per_second, bytes_in_per_second, bytes_out_per_second).
      type: dict
    real_servers:
      description:
        - Real servers (address, port, forwarding, weight, upper_threshold, lower_threshold, tun_type, tun_port,
          tun_checksum), each with active_connections, inactive_connections, stats and rates.
      type: list
      elements: dict
      sample:
        - {address: 10.0.0.11, port: 80, forwarding: dr, weight: 1, upper_threshold: 0, lower_threshold: 0,
           tun_type: null, tun_port: null, tun_checksum: null, active_connections: 2, inactive_connections: 0,
           stats: {connections: 2, packets_in: 4, packets_out: 0, bytes_in: 240, bytes_out: 0},
           rates: {cps: 0, packets_in_per_second: 0, packets_out_per_second: 0, bytes_in_per_second: 22,
                   bytes_out_per_second: 0}}
timeouts:
  description: Connection timeouts in seconds (empty when ip_vs is not loaded).
  returned: always
  type: dict
  sample: {tcp: 900, tcpfin: 120, udp: 300}
daemons:
  description: Running connection sync daemons as ipvsadm reports them (state, mcast, syncid, maxlen, group, port, ttl).
  returned: always
  type: list
  elements: dict
  sample: [{state: master, mcast: eth1, syncid: 10, maxlen: 1472, group: 224.0.0.81, port: 8848, ttl: 1}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_report import read_info
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_runner import Ipvsadm
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError, parse_address
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_validate import selector_matches

FILTERS = ('protocol', 'address', 'port', 'fwmark')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            protocol=dict(type='str', choices=['tcp', 'udp', 'sctp']),
            address=dict(type='str'),
            port=dict(type='int'),
            fwmark=dict(type='int'),
        ),
        supports_check_mode=True,
    )
    selector = dict((k, module.params[k]) for k in FILTERS if module.params[k] is not None)
    if 'address' in selector:
        try:
            selector['address'] = parse_address(selector['address'])[0]
        except IpvsError as e:
            module.fail_json(msg=str(e))
    info = read_info(Ipvsadm(module))
    info['services'] = [s for s in info['services'] if selector_matches(selector, s)]
    module.exit_json(changed=False, **info)


if __name__ == '__main__':
    main()
