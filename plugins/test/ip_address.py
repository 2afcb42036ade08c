# -*- coding: utf-8 -*-

# Copyright (c) 2026, lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
name: ip_address
short_description: Test whether a value is a plain IPv4 or IPv6 address
positional: _input, version
version_added: 0.1.0
author:
  - lvs.cluster developers (@lvs-cluster)
description:
  - True when the value is a string that Python's C(ipaddress) module reads as one IP address, with
    no prefix length, no host name, no brackets and no IPv6 zone (C(%eth0)).
  - The roles of this collection use it for every address they check (VIPs, the NAT gateway), so
    that they agree on what an address is. C(ansible.builtin) has no such test.
options:
  _input:
    description: The value to test.
    type: raw
    required: true
  version:
    description: Accept only this IP version. Any version when omitted.
    type: int
    choices: [4, 6]
"""

EXAMPLES = r"""
- name: Refuse VIPs that are not plain addresses
  ansible.builtin.assert:
    that: vips | reject('lvs.cluster.ip_address') | list | length == 0
  vars:
    vips: [192.0.2.10, "2001:db8::10"]

- name: Only IPv4 fits in an IPv4-in-IPv4 tunnel
  ansible.builtin.assert:
    that: vip is lvs.cluster.ip_address(4)
  vars:
    vip: 192.0.2.10
"""

RETURN = r"""
_value:
  description: Whether the value is a plain IP address (of O(version), when given).
  type: bool
"""

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types


def ip_address(value, version=None):
    """A plain address only: ipaddress also reads integers and IPv6 zones, which no role can use."""
    if version not in (None, 4, 6):
        raise AnsibleFilterError("ip_address: version must be 4 or 6, got %r" % (version,))
    if not isinstance(value, string_types) or "%" in value:
        return False
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return version is None or address.version == version


class TestModule(object):
    """lvs.cluster tests."""

    def tests(self):
        return {'ip_address': ip_address}
