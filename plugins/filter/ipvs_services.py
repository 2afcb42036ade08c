# -*- coding: utf-8 -*-

# Copyright (c) 2026, lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
name: ipvs_services
short_description: Expand inventory-driven real-server pools of IPVS services
version_added: 0.1.0
author:
  - lvs.cluster developers (@lvs-cluster)
description:
  - Takes a list of services in the format of the O(lvs.cluster.ipvs_table#module:services) option, where a
    service may also carry C(real_servers_from_group), and returns the same services with each group
    replaced by one real server per host of the group.
  - Each host of the group gives its address in the host variable C(lvs_rip) (required), and optionally
    its weight in C(lvs_weight) and its forwarding method in C(lvs_forwarding). Real servers of the group
    come after the explicit C(real_servers) of the service, in inventory order.
  - This is the one place where the pool of a service is computed, so that the director role and any
    other consumer of the service model (a keepalived configuration, for example) agree on it.
  - Fails, naming the parameter, when the group does not exist, when it is empty and the service has no
    explicit real servers, when a host of the group has no C(lvs_rip) or an invalid one, or when a
    real server appears twice in one service (from the group and explicitly, for example).
options:
  _input:
    description: The services, each a dict as in O(lvs.cluster.ipvs_table#module:services).
    type: list
    elements: dict
    required: true
  groups:
    description: The inventory groups, normally the magic variable C(groups).
    type: dict
    required: true
  hostvars:
    description: The variables of every host, normally the magic variable C(hostvars).
    type: dict
    required: true
  name:
    description: Name of the variable the services come from, used in error messages.
    type: str
    default: services
"""

EXAMPLES = r"""
- name: Program the services, with the pool of the web service taken from the group webservers
  lvs.cluster.ipvs_table:
    services: "{{ director_services | lvs.cluster.ipvs_services(groups, hostvars, name='director_services') }}"
  vars:
    # hosts.yml gives every host of webservers its address once, for example
    #   web1: {ansible_host: 10.0.0.11, lvs_rip: 10.0.0.11, lvs_forwarding: nat}
    director_services:
      - protocol: tcp
        address: 192.0.2.10
        port: 80
        scheduler: rr
        real_servers_from_group: webservers
        real_servers:
          - address: 10.0.0.99
            forwarding: nat
            weight: 0
"""

RETURN = r"""
_value:
  description:
    - The services without C(real_servers_from_group), each with the explicit real servers followed by
      one C({address, weight, forwarding}) entry per host of the group (C(weight) and C(forwarding)
      only when the host sets C(lvs_weight) or C(lvs_forwarding)).
  type: list
  elements: dict
"""

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six import string_types

GROUP_KEY = 'real_servers_from_group'
HOST_KEYS = (('lvs_weight', 'weight'), ('lvs_forwarding', 'forwarding'))


def _address(value):
    """The canonical text of an IP address (compressed IPv6), or None when it is not one."""
    try:
        return to_text(ipaddress.ip_address(to_text(value).strip()))
    except ValueError:
        return None


def _group_real_servers(where, group, groups, hostvars):
    if group not in groups:
        raise AnsibleFilterError("%s.%s: inventory group '%s' does not exist" % (where, GROUP_KEY, group))
    out = []
    for host in groups[group]:
        hvars = hostvars[host]
        if 'lvs_rip' not in hvars or hvars['lvs_rip'] in (None, ''):
            raise AnsibleFilterError("%s.%s: host '%s' of group '%s' has no lvs_rip (its real-server address)"
                                     % (where, GROUP_KEY, host, group))
        address = _address(hvars['lvs_rip'])
        if address is None:
            raise AnsibleFilterError("%s.%s: lvs_rip of host '%s' is not an IP address: %s"
                                     % (where, GROUP_KEY, host, hvars['lvs_rip']))
        real_server = {'address': address}
        for host_key, key in HOST_KEYS:
            if hvars.get(host_key) is not None:
                real_server[key] = hvars[host_key]
        out.append(real_server)
    return out


def ipvs_services(services, groups, hostvars, name='services'):
    """director_services | lvs.cluster.ipvs_services(groups, hostvars): real_servers_from_group expanded."""
    if not isinstance(services, list):
        raise AnsibleFilterError('%s must be a list of services, got %s' % (name, type(services).__name__))
    expanded = []
    for index, service in enumerate(services):
        where = '%s[%d]' % (name, index)
        if not isinstance(service, dict):
            raise AnsibleFilterError('%s must be a dict, got %s' % (where, type(service).__name__))
        service = dict(service)
        group = service.pop(GROUP_KEY, None)
        explicit = list(service.get('real_servers') or [])
        if group is None:
            expanded.append(service)
            continue
        if not isinstance(group, string_types) or not group:
            raise AnsibleFilterError('%s.%s must be the name of an inventory group' % (where, GROUP_KEY))
        from_group = _group_real_servers(where, group, groups, hostvars)
        if not from_group and not explicit:
            raise AnsibleFilterError("%s.%s: inventory group '%s' is empty and the service lists no real_servers"
                                     % (where, GROUP_KEY, group))
        seen = {}
        group_origin = "%s '%s'" % (GROUP_KEY, group)
        for origin, real_server in [('real_servers', rs) for rs in explicit] + [(group_origin, rs) for rs in from_group]:
            # A real server without a port takes the service's, as in ipvs_table.
            key = (_address(real_server.get('address')) or real_server.get('address'),
                   real_server.get('port') or service.get('port'))
            if key in seen:
                raise AnsibleFilterError('%s: real server %s%s is given twice (%s and %s)'
                                         % (where, key[0], '' if key[1] is None else ':%s' % key[1], seen[key], origin))
            seen[key] = origin
        service['real_servers'] = explicit + from_group
        expanded.append(service)
    return expanded


class FilterModule(object):
    """lvs.cluster filters."""

    def filters(self):
        return {'ipvs_services': ipvs_services}
