"""Return a lab guest to the state it booted in, so NAT, DR and TUN can share one set of booted hosts.

Runs inside the guest (python3 on stdin, no files installed): `python3 - snapshot|reset|fingerprint`.
- snapshot: record the fresh host once (a tar of /etc and /var/www plus the fingerprint) under
  /var/lib/lvslab; a second snapshot keeps the first.
- reset: undo whatever the roles and tests did since: stop the units they added or started, clear
  IPVS, put back every file, unload the modules they loaded, restore sysctls, addresses, routes and
  ARP; then print the fingerprint diff against the snapshot (empty means the host is as it booted).
- fingerprint: print the current fingerprint as JSON.
The fingerprint covers what the collection can change: files under /etc and /var/www (hashes, modes,
link targets), loaded modules, net sysctls, addresses, routes, the IPVS table and sync daemons, and the
state of the units the roles manage, and nftables' tables.
"""

import hashlib
import json
import os
import subprocess
import sys
import tarfile

BASE = "/var/lib/lvslab"
TAR = BASE + "/baseline.tar"
PRINT = BASE + "/baseline.json"
TREES = ("/etc", "/var/www")
# Packages' units the roles start or enable; units the roles write live in /etc/systemd/system.
PACKAGE_UNITS = ("ipvsadm.service", "apache2.service", "keepalived.service")
SYSCTL_PREFIXES = ("net.ipv4.conf.", "net.ipv4.ip_forward", "net.ipv4.vs.", "net.ipv6.conf.all.forwarding")


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=False, env=dict(os.environ, LC_ALL="C"))


def files():
    found = {}
    for top in TREES:
        for root, dirs, names in os.walk(top):
            for name in dirs + names:
                path = os.path.join(root, name)
                st = os.lstat(path)
                if os.path.islink(path):
                    found[path] = "link " + os.readlink(path)
                elif os.path.isdir(path):
                    found[path] = "dir %o" % st.st_mode
                else:
                    with open(path, "rb") as handle:
                        found[path] = "file %o %s" % (st.st_mode, hashlib.sha256(handle.read()).hexdigest())
    return found


def sysctls():
    out = run("sysctl", "-a").stdout
    values = {}
    for line in out.splitlines():
        key, value = line.partition(" = ")[::2]
        if key.startswith(SYSCTL_PREFIXES):
            values[key] = value
    return values


def modules():
    with open("/proc/modules") as handle:
        return sorted(line.split()[0] for line in handle)


def units():
    names = set(PACKAGE_UNITS)
    if os.path.isdir("/etc/systemd/system"):
        names.update(n for n in os.listdir("/etc/systemd/system") if n.endswith(".service"))
    names = sorted(names)
    # One systemctl call for all (each call costs a fraction of a second under emulation); blocks
    # come back in argument order, one per unit.
    out = run("systemctl", "show", "--property=ActiveState,UnitFileState", *names).stdout
    blocks = [dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
              for block in out.strip().split("\n\n")]
    return {name: "%s/%s" % (b.get("ActiveState", ""), b.get("UnitFileState", "")) for name, b in zip(names, blocks)}


def ipvs():
    # ipvsadm would load ip_vs; read /proc instead when it is not loaded.
    if not os.path.exists("/proc/net/ip_vs"):
        return {"table": "", "daemons": ""}
    return {"table": run("ipvsadm", "-S", "-n").stdout, "daemons": run("ipvsadm", "-L", "--daemon").stdout}


def addresses():
    links = json.loads(run("ip", "-j", "addr", "show").stdout)
    return {l["ifname"]: sorted("%s/%s" % (a["local"], a["prefixlen"]) for a in l.get("addr_info", [])
                                if a.get("scope") != "link") for l in links}


def routes():
    return sorted(run("ip", "route", "show").stdout.splitlines())


def nft_tables():
    # the hand-over bridge's table (keepalived_handover) is the only one the collection adds
    # nft would load nf_tables: without it loaded there is no table
    if "nf_tables" not in modules() or not os.path.exists("/usr/sbin/nft"):
        return []
    return sorted(run("nft", "list", "tables").stdout.splitlines())


def fingerprint():
    return {"files": files(), "sysctl": sysctls(), "modules": modules(), "units": units(), "ipvs": ipvs(),
            "addresses": addresses(), "routes": routes(), "nft": nft_tables()}


def diff(old, new):
    """Human-readable differences between two fingerprints (empty when equal)."""
    lines = []
    for section in sorted(set(old) | set(new)):
        a, b = old.get(section), new.get(section)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                if a.get(key) != b.get(key):
                    lines.append("%s %s: %r -> %r" % (section, key, a.get(key), b.get(key)))
        else:
            lines.append("%s: %r -> %r" % (section, a, b))
    return lines


def snapshot():
    if os.path.exists(PRINT):
        return
    os.makedirs(BASE, exist_ok=True)
    with tarfile.open(TAR, "w") as tar:
        for top in TREES:
            tar.add(top)
    with open(PRINT + ".tmp", "w") as handle:
        json.dump(fingerprint(), handle)
    os.rename(PRINT + ".tmp", PRINT)


def restore_files(base):
    """Put back the files of the snapshot; returns the paths it removed or rewrote."""
    now = files()
    extra = set(now) - set(base)
    for path in sorted(extra, key=len, reverse=True):
        if os.path.isdir(path) and not os.path.islink(path):
            subprocess.run(["rm", "-rf", path], check=True)
        elif os.path.lexists(path):
            os.unlink(path)
    changed = [p for p in base if now.get(p) != base[p]]
    if changed:
        with tarfile.open(TAR) as tar:
            members = [tar.getmember(p.lstrip("/")) for p in sorted(changed, key=len)]
            for member in members:
                target = "/" + member.name
                if os.path.lexists(target) and not os.path.isdir(target):
                    os.unlink(target)
            # Python 3.12+ (and late 3.11) warn without an explicit filter; these are our own files.
            kwargs = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
            tar.extractall("/", members=members, **kwargs)
    return sorted(extra) + changed


def unload_modules(base):
    extra = [m for m in modules() if m not in base]
    for _attempt in range(6):
        if not extra:
            return
        for name in extra:
            run("modprobe", "-r", name)
        extra = [m for m in modules() if m not in base]


def restore_sysctls(base):
    for key, value in sysctls().items():
        if key in base and base[key] != value:
            with open("/proc/sys/" + key.replace(".", "/"), "w") as handle:
                handle.write(base[key])


def restore_network(base_addresses, base_routes):
    for ifname, addrs in addresses().items():
        want = base_addresses.get(ifname, [])
        for addr in addrs:
            if addr not in want:
                run("ip", "addr", "del", addr, "dev", ifname)
        for addr in want:
            if addr not in addrs:
                run("ip", "addr", "add", addr, "dev", ifname)
    for route in routes():
        if route not in base_routes:
            run("ip", "route", "del", *route.split())
    now = routes()
    for route in base_routes:
        if route not in now:
            run("ip", "route", "add", *route.split())
    run("ip", "neigh", "flush", "all")


def reset():
    with open(PRINT) as handle:
        base = json.load(handle)
    for name, state in units().items():
        was = base["units"].get(name, "").split("/")[0]
        if state.split("/")[0] == "active" and was != "active":
            run("systemctl", "stop", name)
        elif state.split("/")[0] == "failed" and was != "failed":
            run("systemctl", "reset-failed", name)   # a unit a test left failed (keepalived, say)
    if os.path.exists("/proc/net/ip_vs"):
        run("ipvsadm", "-C")
        run("ipvsadm", "--stop-daemon", "master")
        run("ipvsadm", "--stop-daemon", "backup")
    for table in nft_tables():
        if table not in base.get("nft", []):
            run("nft", "delete", *table.split())
    touched = restore_files(base["files"])
    # daemon-reload costs seconds under emulation: only when a unit file came or went.
    if any(path.startswith("/etc/systemd/") for path in touched):
        run("systemctl", "daemon-reload")
    unload_modules(base["modules"])
    restore_sysctls(base["sysctl"])
    restore_network(base["addresses"], base["routes"])
    now = units()
    for name, state in base["units"].items():
        if state.split("/")[0] == "active" and now.get(name, "").split("/")[0] != "active":
            run("systemctl", "start", name)
    for path in os.listdir("/run"):
        if path.startswith("lvs-cluster"):
            os.unlink(os.path.join("/run", path))
    return diff(base, fingerprint())


def main(action):
    if action == "snapshot":
        snapshot()
    elif action == "reset":
        print(json.dumps(reset()))
    elif action == "fingerprint":
        print(json.dumps(fingerprint()))
    else:
        raise SystemExit("usage: python3 - snapshot|reset|fingerprint")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
