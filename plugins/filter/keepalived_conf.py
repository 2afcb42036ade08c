# -*- coding: utf-8 -*-

# Copyright (c) 2026, lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
name: keepalived_conf
short_description: keepalived.conf for health-checked IPVS services
version_added: 0.2.0
author:
  - lvs.cluster developers (@lvs-cluster)
description:
  - Renders a whole keepalived configuration, a C(global_defs) block with script security and one
    C(virtual_server) block per service, from the canonical records of P(lvs.cluster.service_owners#filter)
    (its C(keepalived) list).
  - Each real server gets one checker of the service's C(health_check) type (C(TCP_CHECK), C(HTTP_GET),
    C(SSL_GET) or C(MISC_CHECK)) with its timers; C(on_failure=quiesce) renders C(inhibit_on_failure).
options:
  _input:
    description: The C(keepalived) list of P(lvs.cluster.service_owners#filter).
    type: list
    elements: dict
    required: true
  script_user:
    description: The unprivileged user that runs C(misc) checks and notify commands (keepalived C(script_user)).
    type: str
    default: keepalived_script
  header:
    description: A comment line put first.
    type: str
    default: ''
  vrrp:
    description:
      - For director HA, the record of P(lvs.cluster.vrrp_instance#filter). Adds a C(vrrp_instance) that holds the VIPs,
        with an optional C(vrrp_script). The IPVS sync daemons are not keepalived's (the director role starts them).
    type: dict
    version_added: 0.3.0
"""

EXAMPLES = r"""
- name: Write keepalived's configuration, checked by keepalived before it goes live
  ansible.builtin.copy:
    content: "{{ (director_services | lvs.cluster.service_owners).keepalived | lvs.cluster.keepalived_conf }}"
    dest: /etc/keepalived/keepalived.conf
    mode: "0640"
    validate: keepalived --config-test -f %s
"""

RETURN = r"""
_value:
  description: The configuration text.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.lvs.cluster.plugins.module_utils._keepalived import render_config


def keepalived_conf(checked, script_user='keepalived_script', header='', vrrp=None):
    """records | lvs.cluster.keepalived_conf: the keepalived.conf text."""
    if not isinstance(checked, list):
        raise AnsibleFilterError('keepalived_conf takes the keepalived list of lvs.cluster.service_owners')
    try:
        return render_config(checked, script_user=script_user, header=header, vrrp=vrrp or None)
    except (KeyError, TypeError) as e:
        raise AnsibleFilterError('keepalived_conf: not a record of lvs.cluster.service_owners: %s' % e)


class FilterModule(object):
    """lvs.cluster filters."""

    def filters(self):
        return {'keepalived_conf': keepalived_conf}
