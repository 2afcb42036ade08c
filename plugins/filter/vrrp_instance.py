# -*- coding: utf-8 -*-

# Copyright (c) 2026, lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
name: vrrp_instance
short_description: One director's VRRP instance and sync daemon for director HA, validated across the HA group
version_added: 0.3.0
author:
  - lvs.cluster developers (@lvs-cluster)
description:
  - Validates O(_input) (the director role's C(director_ha)) for one director and returns the canonical record that
    P(lvs.cluster.keepalived_conf#filter) renders as a C(vrrp_instance) and an C(lvs_sync_daemon).
  - "Rules that span hosts: the HA group must exist, hold this host and at least one other; this host's priority is its
    C(director_ha_priority) or derived from its place in the group (200 for the first, 10 less for each next);
    with C(preempt: true) no two directors of the group may share a priority; every peer must set C(director_ha) with
    the same C(virtual_router_id)."
  - Every VIP of O(vips) must lie on the network of its interface, read from O(facts).
options:
  _input:
    description: The C(director_ha) dict.
    type: dict
    required: true
  host:
    description: This director's inventory name.
    type: str
    required: true
  vips:
    description: This director's C(director_vips); the VIPs VRRP holds.
    type: list
    elements: dict
    required: true
  groups:
    description: The magic variable C(groups).
    type: dict
    required: true
  hostvars:
    description: The magic variable C(hostvars).
    type: dict
    required: true
  facts:
    description: This director's C(ansible_facts), with the network subset, for the addresses of its interfaces.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Build this director's VRRP record
  ansible.builtin.set_fact:
    vrrp: "{{ director_ha | lvs.cluster.vrrp_instance(inventory_hostname, director_vips, groups, hostvars, ansible_facts) }}"
"""

RETURN = r"""
_value:
  description:
    - The canonical record, with C(priority), C(vips) and C(sync_id) filled in, C(sync_start) (the argv of the two
      C(ipvsadm --start-daemon) commands, master and backup) and C(sync_running) (what each line of C(ipvsadm -L --daemon)
      starts with when both run).
  type: dict
"""

import ipaddress

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError
from ansible_collections.lvs.cluster.plugins.module_utils._keepalived import build_vrrp, derive_priority, sync_daemon_argv


def _networks(facts):
    out = {}
    for name in facts.get('interfaces') or []:
        data = facts.get(name.replace('-', '_')) or {}
        nets = []
        for item in [data.get('ipv4') or {}] + list(data.get('ipv4_secondaries') or []):
            if item.get('address') and item.get('netmask'):
                nets.append(ipaddress.ip_interface(u'%s/%s' % (item['address'], item['netmask'])))
        for item in data.get('ipv6') or []:
            if item.get('address') and item.get('prefix') and item.get('scope') != 'link':
                nets.append(ipaddress.ip_interface(u'%s/%s' % (item['address'], item['prefix'])))
        out[name] = nets
    return out


def _priority(hostvars, host):
    value = hostvars[host].get('director_ha_priority')
    return None if value is None or value == '' else value


def vrrp_instance(ha, host, vips, groups, hostvars, facts):
    """director_ha | lvs.cluster.vrrp_instance(inventory_hostname, director_vips, groups, hostvars, ansible_facts)."""
    if not isinstance(ha, dict):
        raise AnsibleFilterError('director_ha must be a dict, got %s' % type(ha).__name__)
    group = ha.get('group') or 'directors'
    hosts = list(groups.get(group) or [])
    if host not in hosts:
        raise AnsibleFilterError('director_ha.group: %s is not in the group %r of the directors that share the VIPs '
                                 '(it holds %s)' % (host, group, ', '.join(hosts) or 'no host'))
    if len(hosts) < 2:
        raise AnsibleFilterError('director_ha: %s is the only host of the group %r: VRRP needs a second director to '
                                 'fail over to. Add one, or unset director_ha' % (host, group))
    priorities = {}
    for peer in hosts:
        peer_ha = hostvars[peer].get('director_ha')
        if not isinstance(peer_ha, dict) or peer_ha.get('virtual_router_id') != ha.get('virtual_router_id'):
            raise AnsibleFilterError('director_ha: %s of the group %r has %s; every director of the group needs '
                                     'director_ha with the same virtual_router_id %r'
                                     % (peer, group, 'no director_ha' if not isinstance(peer_ha, dict) else
                                        'virtual_router_id %r' % (peer_ha.get('virtual_router_id'),),
                                        ha.get('virtual_router_id')))
        priorities[peer] = derive_priority(hosts, peer, _priority(hostvars, peer))
    if ha.get('preempt'):
        mine = priorities[host]
        twins = sorted(peer for peer, value in priorities.items() if value == mine and peer != host)
        if twins:
            raise AnsibleFilterError('director_ha_priority: %s and %s both have priority %s while director_ha.preempt '
                                     'is true: a tie is broken by the higher IP address, not by you. Give each '
                                     'director its own priority' % (host, ', '.join(twins), mine))
    try:
        record = build_vrrp(ha, vips, priorities[host], networks=_networks(facts))
    except IpvsError as e:
        raise AnsibleFilterError(str(e))
    record['sync_start'], record['sync_running'] = sync_daemon_argv(record)
    return record


class FilterModule(object):
    """lvs.cluster filters."""

    def filters(self):
        return {'vrrp_instance': vrrp_instance}
