#!/usr/bin/env python
# Copyright (c) 2026, lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print the host state the real-server role tests assert on, as one JSON document.

Arguments: --unit NAME, --file PATH and --sysctl NAME (repeatable; the value as /proc/sys prints
it, stripped, or null when the key does not exist), --ipvs for the IPVS table (ipvsadm -S -n
lines). Reads only; one script instead of many tasks because every task costs seconds on an
emulated guest.
"""
import argparse
import json
import os
import subprocess

CONF = "/proc/sys/net/ipv4/conf"
KEYS = ("arp_ignore", "arp_announce", "rp_filter")


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


def sysctls():
    result = {}
    for name in sorted(os.listdir(CONF)):
        result[name] = {}
        for key in KEYS:
            with open(os.path.join(CONF, name, key)) as handle:
                result[name][key] = int(handle.read())
    return result


def named_sysctl(name):
    value = content(os.path.join("/proc/sys", *name.split(".")))
    return None if value is None else value.strip()


def addresses():
    result = {}
    for link in json.loads(run(["ip", "-j", "addr", "show"]) or "[]"):
        result[link["ifname"]] = {
            "up": "UP" in link.get("flags", []),
            "addrs": ["%s/%s" % (a["local"], a["prefixlen"]) for a in link.get("addr_info", [])],
        }
    return result


def default_routes():
    routes = []
    for family in ("-4", "-6"):
        routes += json.loads(run(["ip", "-j", family, "route", "show", "default"]) or "[]")
    return [dict(gateway=r.get("gateway"), dev=r.get("dev")) for r in routes]


def unit(name):
    out = run(["systemctl", "show", "-p", "ActiveState", "-p", "UnitFileState", name])
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    # UnitFileState is "generated" for a SysV script (Debian's ipvsadm) whether it is enabled or
    # not; systemctl is-enabled asks systemd-sysv-install, which knows.
    is_enabled = run(["systemctl", "is-enabled", name]).split()
    return {"active": props.get("ActiveState", ""), "enabled": props.get("UnitFileState", ""),
            "is_enabled": is_enabled[-1] if is_enabled else ""}


def content(path):
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--unit", action="append", default=[])
    parser.add_argument("--file", action="append", default=[])
    parser.add_argument("--sysctl", action="append", default=[])
    parser.add_argument("--ipvs", action="store_true")
    args = parser.parse_args()
    state = {
        "sysctl": sysctls(),
        "links": addresses(),
        "default_routes": default_routes(),
        "units": dict((name, unit(name)) for name in args.unit),
        "files": dict((path, content(path)) for path in args.file),
        "sysctls": dict((name, named_sysctl(name)) for name in args.sysctl),
    }
    if args.ipvs:
        state["ipvs"] = run(["ipvsadm", "-S", "-n"]).splitlines()
    with open("/proc/modules") as handle:   # after ipvsadm, which may load ip_vs
        state["modules"] = sorted(line.split()[0] for line in handle)
    print(json.dumps(state))


if __name__ == "__main__":
    main()
