# -*- coding: utf-8 -*-

# Copyright (c) 2026, lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
name: ipvs_modules
short_description: The kernel modules a list of IPVS services needs
version_added: 0.1.0
author:
  - lvs.cluster developers (@lvs-cluster)
description:
  - Takes a list of services in the format of the O(lvs.cluster.ipvs_table#module:services) option and
    returns C(ip_vs), then the scheduler module of each service (that of the default scheduler of
    M(lvs.cluster.ipvs_table) for a service that names none) and its persistence engine module, each once.
  - The modules compute the same list when they load what a service needs, from the same definition,
    so the director role persists at boot exactly what M(lvs.cluster.ipvs_table) loads.
options:
  _input:
    description: The services, each a dict as in O(lvs.cluster.ipvs_table#module:services).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Load the modules of the services at boot
  ansible.builtin.copy:
    dest: /etc/modules-load.d/ipvs.conf
    content: "{{ services | lvs.cluster.ipvs_modules | join('\n') }}\n"
    mode: "0644"
  vars:
    services:
      - {protocol: tcp, address: 192.0.2.10, port: 80, scheduler: rr}
      - {protocol: udp, address: 192.0.2.10, port: 5060, persistence_timeout: 60, persistence_engine: sip}
"""

RETURN = r"""
_value:
  description: C(ip_vs) followed by the modules of the services, in the order of the services, without duplicates.
  type: list
  elements: str
  sample: [ip_vs, ip_vs_rr, ip_vs_wlc, ip_vs_pe_sip]
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.cluster.plugins.module_utils._ipvs_model import service_modules


def ipvs_modules(services):
    if not isinstance(services, list) or not all(isinstance(svc, dict) for svc in services):
        raise AnsibleFilterError('ipvs_modules: expects a list of services (dicts)')
    modules = ['ip_vs']
    for svc in services:
        modules.extend(service_modules(svc))
    return list(dict.fromkeys(modules))


class FilterModule(object):
    """lvs.cluster filters."""

    def filters(self):
        return {'ipvs_modules': ipvs_modules}
