#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: arp_tuning
short_description: Set the ARP and reverse-path sysctls LVS real servers need, and other net.* sysctls
version_added: 0.1.0
description:
  - The collection's one sysctl mechanism. The real-server roles use it for the ARP keys, and the
    C(lvs.cluster.director) role for C(net.ipv4.ip_forward) and the C(net.ipv4.vs.*) tuning through
    O(sysctls).
  - Sets C(net.ipv4.conf.<interface>.arp_ignore), C(arp_announce) and optionally C(rp_filter) on
    C(all) and on the named interfaces, live (in C(/proc/sys)) and persistently in one drop-in file
    under C(/etc/sysctl.d) that this module owns.
  - "What it adds over M(ansible.posix.sysctl):"
  - B(The max rule.) For these three keys the kernel uses the larger of C(conf/all/<key>) and
    C(conf/<interface>/<key>), so setting only C(lo) (the classic LVS-DR mistake) changes nothing.
    The module always sets C(all) as well as every interface in O(interfaces), and reports the
    resulting RV(effective) value of each interface.
  - B(One owned drop-in.) All values go to a single file, O(path), written atomically with
    deterministic content. The file is replaced as a whole, so values no longer requested disappear
    from it.
  - B(Validation before any change.) Values outside the ranges the kernel documents, interfaces
    and O(sysctls) keys that do not exist fail the task before anything is written.
  - B(Before, after and effective values) of every managed key are returned, also in check mode.
  - Interfaces whose name contains a dot (VLANs such as C(eth0.100)) are written to the drop-in in the
    slash-separated form C(net/ipv4/conf/eth0.100/arp_ignore) that C(systemd-sysctl) and C(sysctl)
    both understand.
author:
  - lvs.cluster developers (@lvs-cluster)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - Shows the live values and the drop-in file before and after.
  platform:
    platforms: linux
options:
  interfaces:
    description:
      - Interfaces to set in addition to C(all), which is always set.
      - C(lo), C(all) and C(default) are always accepted. Any other interface must exist (have a
        directory under C(/proc/sys/net/ipv4/conf)) unless O(allow_missing=true).
      - Setting C(default) makes interfaces created later start with the value.
    type: list
    elements: str
    default: []
  arp_ignore:
    description:
      - Reply policy for ARP requests. V(1) (reply only for addresses configured on the incoming
        interface) is what LVS-DR and LVS-TUN real servers need.
      - V(0) reply for any local address, V(2) like V(1) and the sender must be in the same subnet,
        V(3) do not reply for scope host addresses, V(8) do not reply at all.
      - Not managed when omitted.
    type: int
    choices: [0, 1, 2, 3, 8]
  arp_announce:
    description:
      - Source address restriction for ARP requests the host sends. V(2) (always use the best local
        address for the target) keeps a VIP on C(lo) out of ARP requests.
      - Not managed when omitted.
    type: int
    choices: [0, 1, 2]
  rp_filter:
    description:
      - Reverse path filtering. V(0) off, V(1) strict, V(2) loose.
      - LVS-TUN real servers need V(0) or V(2) on C(all) and C(tunl0), because decapsulated packets
        arrive on C(tunl0) while the route back to the client leaves through another interface.
      - Not managed when omitted.
    type: int
    choices: [0, 1, 2]
  sysctls:
    description:
      - Other sysctls to set, live and in O(path), by name (for example C(net.ipv4.ip_forward) or
        C(net.ipv4.vs.conntrack); the slash form C(net/ipv4/conf/eth0.100/forwarding) is accepted too)
        to an integer or a string value.
      - Only keys under C(net.) are accepted. Each must exist under C(/proc/sys) (C(net.ipv4.vs.*)
        exist once C(ip_vs) is loaded) unless O(allow_missing=true).
      - A key that an ARP option manages (C(net.ipv4.conf.all.arp_ignore) with O(arp_ignore) set,
        for example) is refused.
      - Values are compared with their whitespace collapsed, so C("32768 60999") matches what the
        kernel prints with a tab.
      - With only O(sysctls), no ARP key is managed and O(interfaces) must be empty.
      - A key dropped from the dict is dropped from O(path); its live value stays as it is.
      - An empty dict with no ARP option manages nothing, and O(path) is removed.
    type: dict
  persist:
    description:
      - Write the values to O(path) so that C(systemd-sysctl) applies them at boot and when an
        interface appears.
      - With V(false) only the live values are set and O(path) is left as it is.
    type: bool
    default: true
  path:
    description:
      - The drop-in file this module owns. Its whole content is replaced.
      - The directory must exist.
    type: path
    default: /etc/sysctl.d/90-lvs-cluster-arp.conf
  allow_missing:
    description:
      - Accept interfaces that do not exist yet (for example C(tunl0) before the C(ipip) module is
        loaded). Their values are only written to O(path); C(systemd-sysctl) applies them when the
        interface appears. They are listed in RV(missing).
      - Accept O(sysctls) keys that do not exist yet (for example C(net.ipv4.vs.*) in check mode,
        before C(ip_vs) is loaded) in the same way. They are listed in RV(missing_sysctls).
      - With V(false) a missing interface or key fails the task before anything changes.
    type: bool
    default: false
notes:
  - C(arp_ignore=1) is host-wide in effect, because C(all) is set. On a multi-homed host, addresses of
    one interface are then no longer answered for on another.
  - Interface values higher than the requested value stay effective on interfaces that are not named,
    because C(all) can only raise the effective value. Name an interface to set it exactly.
  - At least one of O(arp_ignore), O(arp_announce), O(rp_filter) and O(sysctls) is required.
  - The drop-in holds the ARP keys per interface, then the O(sysctls) keys sorted by name, one
    C(name = value) line each, after a comment header.
seealso:
  - module: ansible.posix.sysctl
  - name: ip-sysctl (arp_ignore, arp_announce, rp_filter)
    description: The kernel documentation of the three keys and the max rule.
    link: https://docs.kernel.org/networking/ip-sysctl.html
"""

EXAMPLES = r"""
- name: Stop a DR real server from answering ARP for its VIPs on lo
  lvs.cluster.arp_tuning:
    interfaces:
      - lo
    arp_ignore: 1
    arp_announce: 2

- name: Prepare a TUN real server (tunl0 may not exist yet in check mode)
  lvs.cluster.arp_tuning:
    interfaces:
      - lo
      - tunl0
    arp_ignore: 1
    arp_announce: 2
    rp_filter: 0
    allow_missing: true

- name: Set the values live only, in a file of your own
  lvs.cluster.arp_tuning:
    interfaces:
      - eth1
    arp_ignore: 1
    persist: false
  register: arp

- name: Forward IPv4 and keep IPVS connection tracking, live and at boot (what the director role does)
  lvs.cluster.arp_tuning:
    path: /etc/sysctl.d/90-lvs-cluster-director.conf
    sysctls:
      net.ipv4.ip_forward: 1
      net.ipv4.vs.conntrack: 1

- name: Show what the kernel now uses on eth1
  ansible.builtin.debug:
    msg: "{{ arp.effective.eth1 }}"
"""

RETURN = r"""
path:
  description: The drop-in file the values are persisted in (also returned with O(persist=false)).
  returned: always
  type: str
  sample: /etc/sysctl.d/90-lvs-cluster-arp.conf
interfaces:
  description:
    - The managed interfaces, C(all) first, then the others sorted.
    - Empty when no ARP key is managed.
  returned: always
  type: list
  elements: str
  sample: [all, eth1, lo]
missing:
  description: Managed interfaces that do not exist (only possible with O(allow_missing=true)).
  returned: always
  type: list
  elements: str
  sample: [tunl0]
missing_sysctls:
  description: O(sysctls) keys that do not exist (only possible with O(allow_missing=true)).
  returned: always
  type: list
  elements: str
  sample: [net.ipv4.vs.conntrack]
before:
  description:
    - The live value of each managed ARP key before the task, per existing managed interface.
    - Each existing O(sysctls) key under its name as given, with the value as the kernel has it (an
      integer, or a string with whitespace collapsed).
  returned: always
  type: dict
  sample: {"all": {"arp_ignore": 0, "arp_announce": 0}, "lo": {"arp_ignore": 0, "arp_announce": 0},
           "net.ipv4.ip_forward": 0}
after:
  description:
    - The live value of each managed key after the task, in the shape of RV(before).
    - In check mode the values the task would set.
  returned: always
  type: dict
  sample: {"all": {"arp_ignore": 1, "arp_announce": 2}, "lo": {"arp_ignore": 1, "arp_announce": 2},
           "net.ipv4.ip_forward": 1}
effective:
  description:
    - The value the kernel uses for each managed key on every existing interface, that is the larger
      of the C(all) value and the interface's own value, after the task (predicted in check mode).
    - C(all) and C(default) are not interfaces and are not listed.
    - Empty when no ARP key is managed.
  returned: always
  type: dict
  sample: {"eth0": {"arp_ignore": 1, "arp_announce": 2}, "lo": {"arp_ignore": 1, "arp_announce": 2}}
  contains:
    arp_ignore:
      description: Effective C(arp_ignore), when managed.
      type: int
      returned: when O(arp_ignore) is set
    arp_announce:
      description: Effective C(arp_announce), when managed.
      type: int
      returned: when O(arp_announce) is set
    rp_filter:
      description: Effective C(rp_filter), when managed.
      type: int
      returned: when O(rp_filter) is set
content:
  description:
    - The content of the drop-in file as the module renders it.
    - Empty when nothing is managed; the file is then removed.
  returned: always
  type: str
  sample: "net.ipv4.conf.all.arp_ignore = 1\n"
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.lvs.cluster.plugins.module_utils._sysctl import (
    SysctlError, check_sysctls, missing_keys, proc_path, read_file, read_value, render_lines, write_dropin,
    write_value,
)

# The managed keys in the order they are written and reported.
KEYS = ("arp_ignore", "arp_announce", "rp_filter")
# Pseudo interfaces that always exist under net/ipv4/conf; lo is a real device that always exists.
ALWAYS_PRESENT = ("all", "default", "lo")
# Linux interface names: at most 15 bytes, no slash, no whitespace, not "." or "..".
_IFNAME = re.compile(r"^[^/\s:]{1,15}$")
CONF = ("net", "ipv4", "conf")

MANAGED = "# Managed by lvs.cluster.arp_tuning; local changes are overwritten.\n"
HEADER = MANAGED + "# The kernel uses max(all, <interface>) for these keys, so 'all' is always set.\n"


def normalize_interfaces(names):
    """'all' first, then the other names sorted and without duplicates."""
    return ["all"] + sorted(set(name for name in names if name != "all"))


def invalid_interface_names(names):
    return [name for name in names if not _IFNAME.match(name) or name in (".", "..")]


def requested_settings(params):
    """The managed keys and their values, in KEYS order (omitted options are not managed)."""
    return dict((key, params[key]) for key in KEYS if params.get(key) is not None)


def sysctl_name(interface, key):
    """The key as written in a sysctl.d file; a dot in the interface name forces the slash form."""
    if "." in interface:
        return "net/ipv4/conf/%s/%s" % (interface, key)
    return "net.ipv4.conf.%s.%s" % (interface, key)


def arp_parts(interface, key):
    return CONF + (interface, key)


def reserved_keys(interfaces, settings):
    """The /proc/sys paths the ARP options manage, so that sysctls cannot set them a second time."""
    return dict((arp_parts(interface, key), key) for interface in interfaces for key in settings)


def render_dropin(interfaces, settings, entries=()):
    """The drop-in: the ARP keys per interface, then the generic sysctls sorted; empty when nothing is managed."""
    arp = [(sysctl_name(interface, key), settings[key]) for interface in interfaces for key in KEYS if key in settings]
    if not arp and not entries:
        return ""
    generic = [(name, value) for name, dummy, value in entries]
    return (HEADER if arp else MANAGED) + render_lines(arp + generic)


def effective_values(values):
    """Per real interface, max(all, interface) of every key known for 'all'.

    values maps interface -> {key: int} and must contain 'all'.
    """
    base = values["all"]
    result = {}
    for interface, own in values.items():
        if interface in ("all", "default"):
            continue
        result[interface] = dict((key, max(base[key], own[key])) for key in base if key in own)
    return result


def live_changes(before, settings):
    """(interface, key, value) triples that differ from the live values, in a stable order."""
    changes = []
    for interface in before:
        for key in KEYS:
            if key in settings and before[interface][key] != settings[key]:
                changes.append((interface, key, settings[key]))
    return changes


def render_live(values, sysctls=None):
    """The ARP values per interface, then the generic sysctls, one 'name = value' line each."""
    arp = [(sysctl_name(interface, key), value) for interface in values for key, value in values[interface].items()]
    return render_lines(arp + sorted((sysctls or {}).items()))


def merged(interfaces, sysctls):
    """before/after: the ARP values per interface, and each generic sysctl under its name."""
    result = dict(interfaces)
    result.update(sysctls)
    return result


def existing_interfaces():
    return sorted(os.listdir(proc_path(CONF)))


def validate(module, params, settings):
    """Everything that can be refused, before anything is read for a change or written.

    Returns (existing interfaces, managed interfaces, missing interfaces, sysctl entries, missing
    sysctl names).
    """
    invalid = invalid_interface_names(params["interfaces"])
    if invalid:
        module.fail_json(msg="invalid interface names: %s" % ", ".join(invalid), invalid=invalid)
    if params["interfaces"] and not settings:
        module.fail_json(msg="interfaces needs one of arp_ignore, arp_announce, rp_filter")
    # With only sysctls, no ARP key is managed and no interface is touched.
    interfaces = normalize_interfaces(params["interfaces"]) if settings else []

    try:
        present = existing_interfaces()
    except OSError as exc:
        module.fail_json(msg="cannot list %s: %s" % (proc_path(CONF), to_native(exc)))
    missing = [name for name in interfaces if name not in present and name not in ALWAYS_PRESENT]
    if missing and not params["allow_missing"]:
        module.fail_json(msg="interfaces do not exist: %s (nothing was changed)" % ", ".join(missing),
                         missing=missing)

    try:
        entries = check_sysctls(params["sysctls"] or {}, reserved_keys(interfaces, settings))
        missing_sysctls = missing_keys(entries)
    except SysctlError as exc:
        module.fail_json(msg="sysctls: %s (nothing was changed)" % to_native(exc))
    clash = [name for name, dummy, dummy in entries if name in interfaces]
    if clash:
        module.fail_json(msg="sysctls: %s is also an interface name (nothing was changed)" % clash[0])
    if missing_sysctls and not params["allow_missing"]:
        module.fail_json(msg="sysctls: %s does not exist (is the module loaded?) (nothing was changed)"
                         % ", ".join(missing_sysctls), missing_sysctls=missing_sysctls)

    path = params["path"]
    if params["persist"] and not os.path.isdir(os.path.dirname(path)):
        module.fail_json(msg="cannot persist to %s: directory %s does not exist"
                         % (path, os.path.dirname(path)))
    return present, interfaces, missing, entries, missing_sysctls


def main():
    module = AnsibleModule(
        argument_spec=dict(
            interfaces=dict(type="list", elements="str", default=[]),
            arp_ignore=dict(type="int", choices=[0, 1, 2, 3, 8]),
            arp_announce=dict(type="int", choices=[0, 1, 2]),
            rp_filter=dict(type="int", choices=[0, 1, 2]),
            sysctls=dict(type="dict"),
            persist=dict(type="bool", default=True),
            path=dict(type="path", default="/etc/sysctl.d/90-lvs-cluster-arp.conf"),
            allow_missing=dict(type="bool", default=False),
        ),
        required_one_of=[("arp_ignore", "arp_announce", "rp_filter", "sysctls")],
        supports_check_mode=True,
    )
    params = module.params
    settings = requested_settings(params)
    path = params["path"]
    present, interfaces, missing, entries, missing_sysctls = validate(module, params, settings)
    live_entries = [entry for entry in entries if entry[0] not in missing_sysctls]

    # Read the managed keys of every interface: the managed ones for before/after, all of them
    # for the effective values.
    try:
        current = dict((name, dict((key, read_value(arp_parts(name, key))) for key in settings))
                       for name in present) if settings else {}
        sys_before = dict((name, read_value(parts)) for name, parts, dummy in live_entries)
        old_content = read_file(path) if params["persist"] else None
    except (OSError, SysctlError) as exc:
        module.fail_json(msg="cannot read the current values: %s" % to_native(exc))

    managed = [name for name in interfaces if name in current]
    before = dict((name, dict(current[name])) for name in managed)
    changes = live_changes(before, settings)
    sys_changes = [(name, parts, value) for name, parts, value in live_entries if sys_before[name] != value]
    content = render_dropin(interfaces, settings, entries)
    # Nothing managed: the owned drop-in is removed rather than left with stale keys.
    if not params["persist"]:
        file_changed = False
    elif content:
        file_changed = content != old_content
    else:
        file_changed = old_content is not None
    changed = bool(changes) or bool(sys_changes) or file_changed

    predicted = dict((name, dict(values)) for name, values in current.items())
    for name, key, value in changes:
        predicted[name][key] = value
    sys_after = dict(sys_before)
    sys_after.update((name, value) for name, dummy, value in sys_changes)

    if changed and not module.check_mode:
        writes = [(sysctl_name(name, key), arp_parts(name, key), value) for name, key, value in changes]
        for name, parts, value in writes + sys_changes:
            try:
                write_value(parts, value)
            except OSError as exc:
                module.fail_json(msg="cannot set %s to %s: %s" % (name, value, to_native(exc)),
                                 before=merged(before, sys_before))
        if file_changed:
            try:
                if content:
                    write_dropin(module, path, content)
                else:
                    os.unlink(path)
            except OSError as exc:
                module.fail_json(msg="cannot write %s: %s" % (path, to_native(exc)),
                                 before=merged(before, sys_before))
        # Report what the kernel holds now, not what was asked for.
        try:
            for name in predicted:
                for key in settings:
                    predicted[name][key] = read_value(arp_parts(name, key))
            for name, parts, dummy in live_entries:
                sys_after[name] = read_value(parts)
        except (OSError, SysctlError) as exc:
            module.fail_json(msg="cannot read back the values: %s" % to_native(exc))

    after = dict((name, dict(predicted[name])) for name in managed)
    result = dict(
        changed=changed,
        path=path,
        interfaces=interfaces,
        missing=missing,
        missing_sysctls=missing_sysctls,
        before=merged(before, sys_before),
        after=merged(after, sys_after),
        effective=effective_values(predicted) if settings else {},
        content=content,
    )
    if module._diff:
        result["diff"] = [
            dict(before_header="live values", after_header="live values",
                 before=render_live(before, sys_before), after=render_live(after, sys_after)),
        ]
        if params["persist"]:
            result["diff"].append(dict(before_header=path, after_header=path,
                                       before=old_content or "", after=content))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
