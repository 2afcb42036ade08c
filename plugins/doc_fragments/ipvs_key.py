# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    # The suboptions of O(service), an existing service named by its key (ipvs_realserver, ipvs_counters).
    # The module documents the option itself (description, type, required); Ansible merges these into it.
    DOCUMENTATION = r"""
options:
  service:
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
"""
