# -*- coding: utf-8 -*-

# Copyright (c) 2026, lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
name: service_owners
short_description: Split IPVS services between ipvs_table and keepalived, one writer each
version_added: 0.2.0
author:
  - lvs.cluster developers (@lvs-cluster)
description:
  - Takes a list of services in the format of the O(lvs.cluster.ipvs_table#module:services) option, where a
    service may carry C(health_check) (and its real servers C(notify_up) and C(notify_down)), and returns which
    mechanism owns each one. A service with C(health_check) belongs to keepalived, which checks its real servers
    and adds and removes them; every other service belongs to M(lvs.cluster.ipvs_table).
  - The keepalived-owned services are validated and made canonical by the code M(lvs.cluster.ipvs_table) uses
    (defaults of scheduler, forwarding, weight and real-server port included), so the keepalived configuration
    rendered from them by P(lvs.cluster.keepalived_conf#filter) cannot disagree with the table's model.
  - Fails naming the parameter (for example C(director_services[2].health_check.path)) on bad input.
options:
  _input:
    description: The services, each a dict as in O(lvs.cluster.ipvs_table#module:services), optionally with C(health_check).
    type: list
    elements: dict
    required: true
  name:
    description: Name of the variable the services come from, used in error messages.
    type: str
    default: services
"""

EXAMPLES = r"""
- name: Split the services
  ansible.builtin.set_fact:
    owners: "{{ director_services | lvs.cluster.service_owners(name='director_services') }}"

- name: ipvs_table programs the unchecked ones and leaves keepalived's alone
  lvs.cluster.ipvs_table:
    services: "{{ owners.table }}"
    ignore: "{{ owners.ignore }}"
"""

RETURN = r"""
_value:
  description: The services by owner.
  type: dict
  contains:
    table:
      description: The services without C(health_check), unchanged, for M(lvs.cluster.ipvs_table).
      type: list
      elements: dict
    keepalived:
      description:
        - The health-checked services as canonical records (every field of M(lvs.cluster.ipvs_table)'s
          RV(lvs.cluster.ipvs_table#module:services) return value), each with its complete C(health_check)
          (defaults filled in) and C(detection), the worst-case seconds to take a dead real server out (C(down))
          and to put a recovered one back (C(up)).
      type: list
      elements: dict
    ignore:
      description: Selectors of the keepalived-owned services, for O(lvs.cluster.ipvs_table#module:ignore).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import IpvsError
from ansible_collections.lvs.cluster.plugins.module_utils._keepalived import detection_seconds, split_services


def service_owners(services, name='services'):
    """services | lvs.cluster.service_owners: {table, keepalived, ignore}."""
    if not isinstance(services, list):
        raise AnsibleFilterError('%s must be a list of services, got %s' % (name, type(services).__name__))
    try:
        table, checked, ignore = split_services(services, name)
    except IpvsError as e:
        raise AnsibleFilterError(str(e))
    for record in checked:
        down, up = detection_seconds(record['health_check'])
        record['detection'] = {'down': down, 'up': up}
    return {'table': table, 'keepalived': checked, 'ignore': ignore}


class FilterModule(object):
    """lvs.cluster filters."""

    def filters(self):
        return {'service_owners': service_owners}
