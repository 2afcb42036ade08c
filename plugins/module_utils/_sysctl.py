# -*- coding: utf-8 -*-
# Copyright (c) lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the lvs.cluster collection: this is not a public API, do not import it from other collections.
#
# The collection's one sysctl engine (lvs.cluster.arp_tuning, and through it the director role):
# sysctl names and their /proc/sys paths, reading, comparing and writing values, and the owned
# sysctl.d drop-in, rendered deterministically and replaced atomically.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re
import tempfile

# Where the kernel exposes the sysctls. Private so that unit tests can point it at a directory.
_PROC_SYS = "/proc/sys"

# Only the network subtree: this engine is for what LVS hosts need, not a general sysctl module.
PREFIX = "net"
_INTEGER = re.compile(r"^-?[0-9]+$")
# One path component: no whitespace, no "=" (the drop-in separator), no "/" (the other separator).
_COMPONENT = re.compile(r"^[^\s=/]+$")


class SysctlError(Exception):
    """A bad name or value; the message names the key."""


def parse_name(name):
    """The /proc/sys path components of a sysctl name, dotted (net.ipv4.ip_forward) or slashed
    (net/ipv4/conf/eth0.100/rp_filter, where a dot belongs to the component), as sysctl.d reads it."""
    parts = tuple(name.split("/") if "/" in name else name.split("."))
    if parts[0] != PREFIX or len(parts) < 2:
        raise SysctlError("%s is not under %s. (only net.* keys are managed)" % (name, PREFIX))
    if any(part in (".", "..") or not _COMPONENT.match(part) for part in parts):
        raise SysctlError("%s is not a valid sysctl name" % name)
    return parts


def normalize_value(value):
    """An int, or a string with its whitespace collapsed, the form in which values are compared.

    The kernel prints some multi-value keys tab-separated; "1" and 1 are the same value.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise SysctlError("must be an integer or a string, got %r" % (value,))
    if isinstance(value, int):
        return value
    text = " ".join(value.split())
    if not text:
        raise SysctlError("must not be empty")
    return int(text) if _INTEGER.match(text) else text


def proc_path(parts):
    return os.path.join(_PROC_SYS, *parts)


def read_value(parts):
    with open(proc_path(parts)) as handle:
        return normalize_value(handle.read())


def write_value(parts, value):
    with open(proc_path(parts), "w") as handle:
        handle.write("%s\n" % value)


def check_sysctls(sysctls, reserved=()):
    """Validate a name -> value dict without touching anything.

    Returns [(name, parts, value)] sorted by name, with normalized values; reserved holds the path
    tuples another option already manages. Raises SysctlError naming the key.
    """
    entries = []
    seen = {}
    for name in sorted(sysctls):
        parts = parse_name(name)
        if parts in seen:
            raise SysctlError("%s and %s are the same key" % (seen[parts], name))
        if parts in reserved:
            raise SysctlError("%s is set by %s" % (name, reserved[parts]))
        seen[parts] = name
        try:
            value = normalize_value(sysctls[name])
        except SysctlError as exc:
            raise SysctlError("%s %s" % (name, exc))
        entries.append((name, parts, value))
    return entries


def missing_keys(entries):
    """Names whose file does not exist; a directory (a subtree, not a value) raises SysctlError."""
    missing = []
    for name, parts, dummy in entries:
        path = proc_path(parts)
        if os.path.isdir(path):
            raise SysctlError("%s is a group of keys, not a value" % name)
        if not os.path.isfile(path):
            missing.append(name)
    return missing


def render_lines(pairs):
    """'name = value' lines, as sysctl.d and sysctl -p read them."""
    return "".join("%s = %s\n" % (name, value) for name, value in pairs)


def read_file(path):
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_dropin(module, path, content):
    """Write content next to path and move it into place, so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(prefix=".lvs-cluster-sysctl.", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        module.atomic_move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
