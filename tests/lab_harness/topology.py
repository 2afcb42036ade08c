"""Topology files: which hosts a lab has, their lab networks and addresses.

A topology is YAML:

    description: LVS-NAT lab
    networks:
      public: {cidr: 192.168.2.0/24}
      private: {cidr: 192.168.4.0/24, cidr6: "fd00:4::/64"}
    hosts:
      director:
        groups: [directors]
        nics:
          public: 192.168.2.54
          private: [192.168.4.54, "fd00:4::54"]

Every lab NIC becomes ethN in the guest, in the order listed (eth0 is management).
Errors name the file, the host and the field, and are raised before anything boots.
"""

import ipaddress
import re
from pathlib import Path

import yaml

SHIPPED_DIR = Path(__file__).resolve().parent / "topologies"
HOST_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
NETWORK_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
MAX_NICS = 6
HOST_KEYS = {"groups", "nics", "memory", "cpus", "vars"}
NETWORK_KEYS = {"cidr", "cidr6"}
TOP_KEYS = {"description", "networks", "hosts", "vars"}


class TopologyError(ValueError):
    """A topology file is malformed; the message says where and why."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys instead of keeping the last one."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise TopologyError("duplicate key %r (line %d)" % (key, key_node.start_mark.line + 1))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class Nic:
    def __init__(self, network, addresses, index):
        self.network = network
        self.addresses = addresses  # ipaddress.ip_interface objects
        self.index = index  # 1-based: eth0 is management

    @property
    def interface(self):
        return "eth%d" % self.index


class Host:
    def __init__(self, name, groups, nics, memory, cpus, host_vars):
        self.name = name
        self.groups = groups
        self.nics = nics
        self.memory = memory
        self.cpus = cpus
        self.vars = host_vars


class Topology:
    def __init__(self, name, description, networks, hosts, lab_vars):
        self.name = name
        self.description = description
        self.networks = networks  # name -> {"cidr": IPv4Network|None, "cidr6": IPv6Network|None}
        self.hosts = hosts  # ordered list of Host
        self.vars = lab_vars

    def host(self, name):
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)


def _fail(where, message):
    raise TopologyError("%s: %s" % (where, message))


def _mapping(value, where):
    if not isinstance(value, dict):
        _fail(where, "must be a mapping, got %s" % type(value).__name__)
    return value


def _unknown_keys(data, allowed, where):
    extra = sorted(set(data) - allowed)
    if extra:
        _fail(where, "unknown key(s) %s (allowed: %s)" % (", ".join(map(str, extra)), ", ".join(sorted(allowed))))


def _parse_networks(data, where):
    networks = {}
    for name, spec in _mapping(data, where + ": networks").items():
        at = "%s: network %r" % (where, name)
        if not isinstance(name, str) or not NETWORK_NAME.match(name):
            _fail(at, "name must match %s" % NETWORK_NAME.pattern)
        spec = _mapping(spec, at)
        _unknown_keys(spec, NETWORK_KEYS, at)
        parsed = {"cidr": None, "cidr6": None}
        for key, version in (("cidr", 4), ("cidr6", 6)):
            if spec.get(key) is None:
                continue
            try:
                net = ipaddress.ip_network(str(spec[key]), strict=True)
            except ValueError as exc:
                _fail(at, "%s %r is not a network: %s" % (key, spec[key], exc))
            if net.version != version:
                _fail(at, "%s %s is not an IPv%d network" % (key, net, version))
            parsed[key] = net
        if parsed["cidr"] is None and parsed["cidr6"] is None:
            _fail(at, "needs cidr, cidr6 or both")
        networks[name] = parsed
    return networks


def _parse_nic(value, network_name, networks, index, at):
    if network_name not in networks:
        _fail(at, "unknown network %r (declared: %s)" % (network_name, ", ".join(sorted(networks)) or "none"))
    raw = value if isinstance(value, list) else [value]
    if not raw:
        _fail(at, "needs at least one address")
    addresses = []
    for item in raw:
        try:
            addr = ipaddress.ip_address(str(item))
        except ValueError:
            _fail(at, "%r is not an IP address" % (item,))
        net = networks[network_name]["cidr" if addr.version == 4 else "cidr6"]
        if net is None:
            _fail(at, "network %r has no IPv%d range for %s" % (network_name, addr.version, addr))
        if addr not in net:
            _fail(at, "address %s is outside network %r (%s)" % (addr, network_name, net))
        if addr.version == 4 and net.prefixlen < 31 and addr in (net.network_address, net.broadcast_address):
            _fail(at, "address %s is the network or broadcast address of %s" % (addr, net))
        addresses.append(ipaddress.ip_interface("%s/%d" % (addr, net.prefixlen)))
    return Nic(network_name, addresses, index)


def _parse_host(name, spec, networks, where):
    at = "%s: host %r" % (where, name)
    if not isinstance(name, str) or not HOST_NAME.match(name):
        _fail(at, "name must match %s" % HOST_NAME.pattern)
    spec = _mapping(spec if spec is not None else {}, at)
    _unknown_keys(spec, HOST_KEYS, at)
    groups = spec.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) and NETWORK_NAME.match(g) for g in groups):
        _fail(at, "groups must be a list of names matching %s" % NETWORK_NAME.pattern)
    nics_spec = _mapping(spec.get("nics") or {}, at + ": nics")
    if len(nics_spec) > MAX_NICS:
        _fail(at, "at most %d lab NICs" % MAX_NICS)
    nics = [_parse_nic(value, net, networks, i, "%s: nic %r" % (at, net))
            for i, (net, value) in enumerate(nics_spec.items(), start=1)]
    memory = spec.get("memory", 640)
    cpus = spec.get("cpus", 1)
    for key, value, low, high in (("memory", memory, 256, 8192), ("cpus", cpus, 1, 4)):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            _fail(at, "%s must be an integer from %d to %d" % (key, low, high))
    host_vars = _mapping(spec.get("vars") or {}, at + ": vars")
    return Host(name, groups, nics, memory, cpus, host_vars)


def parse(text, name="topology", where="<string>"):
    """Parse and validate topology YAML text."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except TopologyError as exc:
        _fail(where, str(exc))
    except yaml.YAMLError as exc:
        _fail(where, "not valid YAML: %s" % exc)
    data = _mapping(data, where)
    _unknown_keys(data, TOP_KEYS, where)
    networks = _parse_networks(data.get("networks") or {}, where)
    hosts_spec = _mapping(data.get("hosts") or {}, where + ": hosts")
    if not hosts_spec:
        _fail(where, "declares no hosts")
    hosts = [_parse_host(h, spec, networks, where) for h, spec in hosts_spec.items()]
    seen = {}
    for host in hosts:
        for nic in host.nics:
            for iface in nic.addresses:
                owner = seen.get(iface.ip)
                if owner:
                    _fail(where, "duplicate address %s (hosts %r and %r)" % (iface.ip, owner, host.name))
                seen[iface.ip] = host.name
    group_names = {g for h in hosts for g in h.groups}
    clash = group_names & {h.name for h in hosts}
    if clash:
        _fail(where, "group name(s) %s are also host names" % ", ".join(sorted(clash)))
    lab_vars = _mapping(data.get("vars") or {}, where + ": vars")
    return Topology(name, str(data.get("description", "")), networks, hosts, lab_vars)


def resolve(name_or_path):
    """A shipped topology by name (smoke, nat, dr, ha) or a path to a YAML file."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yml", ".yaml") or candidate.exists():
        path = candidate
    else:
        path = SHIPPED_DIR / ("%s.yml" % name_or_path)
        if not path.exists():
            shipped = sorted(p.stem for p in SHIPPED_DIR.glob("*.yml"))
            raise TopologyError("no topology %r (shipped: %s)" % (name_or_path, ", ".join(shipped)))
    if not path.is_file():
        raise TopologyError("%s: no such file" % path)
    return parse(path.read_text(), name=path.stem, where=str(path))
