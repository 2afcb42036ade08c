# Copyright (c) 2026, lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""lvs.cluster.ip_address: the one test the roles use for a plain IP address."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.cluster.plugins.test import ip_address as plugin
from ansible_collections.lvs.cluster.plugins.test.ip_address import ip_address


@pytest.mark.parametrize("value", ["192.0.2.10", "0.0.0.0", "2001:db8::10", "2001:DB8:0::10", "::ffff:192.0.2.1"])
def test_plain_addresses_pass(value):
    assert ip_address(value) is True


@pytest.mark.parametrize("value", [
    "192.0.2.10/32", "2001:db8::10/128", "256.0.0.1", "192.0.2", "web-1", "", " 192.0.2.10", "[2001:db8::1]",
    "fe80::1%eth0", 3221225994, None, ["192.0.2.10"],
])
def test_anything_else_fails(value):
    assert ip_address(value) is False


def test_version_restricts_the_family():
    assert ip_address("192.0.2.10", 4) is True
    assert ip_address("2001:db8::10", 4) is False
    assert ip_address("2001:db8::10", version=6) is True
    assert ip_address("192.0.2.10", 6) is False
    with pytest.raises(AnsibleFilterError, match="version must be 4 or 6, got 5"):
        ip_address("192.0.2.10", 5)


def test_registered_under_its_documented_name():
    # imported as a module attribute: pytest would collect a class named Test* as tests
    assert plugin.TestModule().tests() == {"ip_address": ip_address}
