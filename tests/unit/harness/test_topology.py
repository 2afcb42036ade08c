"""Topology parsing: every shipped topology is valid, and each kind of mistake is named."""

import pytest

import yaml

from lab_harness import playbook, topology, vm
from lab_harness.cluster import LABS, TOPOLOGIES

GOOD = """
networks:
  public: {cidr: 192.168.2.0/24}
  private: {cidr: 192.168.4.0/24, cidr6: "fd00:4::/64"}
hosts:
  client:
    groups: [clients]
    nics: {public: 192.168.2.50}
  director:
    groups: [directors]
    nics:
      public: 192.168.2.54
      private: [192.168.4.54, "fd00:4::54"]
"""


def test_good_topology_parses_in_order():
    topo = topology.parse(GOOD, name="t")
    assert [h.name for h in topo.hosts] == ["client", "director"]
    director = topo.host("director")
    assert [(n.network, n.interface) for n in director.nics] == [("public", "eth1"), ("private", "eth2")]
    assert [str(a) for a in director.nics[1].addresses] == ["192.168.4.54/24", "fd00:4::54/64"]
    assert director.memory == 640 and director.cpus == 1


@pytest.mark.parametrize("name", ["smoke", "nat", "dr", "tun", "ha"])
def test_shipped_topologies_are_valid(name):
    topo = topology.resolve(name)
    assert topo.hosts


def test_nat_topology_has_the_seed_addresses():
    topo = topology.resolve("nat")
    addrs = {h.name: {n.network: str(n.addresses[0].ip) for n in h.nics} for h in topo.hosts}
    assert addrs == {"client": {"public": "192.168.2.50"},
                     "director": {"public": "192.168.2.54", "private": "192.168.4.54"},
                     "rs1": {"private": "192.168.4.52"}, "rs2": {"private": "192.168.4.53"}}


@pytest.mark.parametrize("scenario", sorted(LABS))
def test_seed_inventory_matches_its_topology(scenario):
    """The seed inventory's hosts, groups and addresses are those the harness boots for its scenario."""
    seed = yaml.safe_load((playbook.REPO / LABS[scenario][0] / "hosts.yml").read_text())
    topo = topology.resolve(TOPOLOGIES.get(scenario, scenario))
    booted = {h.name: ({str(a.ip) for n in h.nics for a in n.addresses}, set(h.groups)) for h in topo.hosts}
    seen = set()
    for group, body in seed["all"]["children"].items():
        for name, hostvars in body["hosts"].items():
            addresses, groups = booted[name]
            seen.add(name)
            assert group in groups, (name, group)
            assert hostvars["ansible_host"] in addresses, name
            assert hostvars.get("lvs_rip", hostvars["ansible_host"]) in addresses, name
    assert seen == set(booted)


BAD = [
    ("unknown network", """
networks: {lan: {cidr: 10.9.0.0/24}}
hosts: {a: {nics: {wan: 10.9.0.2}}}
""", r"host 'a': nic 'wan': unknown network 'wan' \(declared: lan\)"),
    ("duplicate address", """
networks: {lan: {cidr: 10.9.0.0/24}}
hosts:
  a: {nics: {lan: 10.9.0.2}}
  b: {nics: {lan: 10.9.0.2}}
""", r"duplicate address 10.9.0.2 \(hosts 'a' and 'b'\)"),
    ("outside segment", """
networks: {lan: {cidr: 10.9.0.0/24}}
hosts: {a: {nics: {lan: 10.9.1.2}}}
""", r"address 10.9.1.2 is outside network 'lan' \(10.9.0.0/24\)"),
    ("duplicate host", """
networks: {lan: {cidr: 10.9.0.0/24}}
hosts:
  a: {nics: {lan: 10.9.0.2}}
  a: {nics: {lan: 10.9.0.3}}
""", r"duplicate key 'a'"),
    ("broadcast", """
networks: {lan: {cidr: 10.9.0.0/24}}
hosts: {a: {nics: {lan: 10.9.0.255}}}
""", r"network or broadcast address"),
    ("no v6 range", """
networks: {lan: {cidr: 10.9.0.0/24}}
hosts: {a: {nics: {lan: "fd00::1"}}}
""", r"network 'lan' has no IPv6 range"),
    ("not an address", """
networks: {lan: {cidr: 10.9.0.0/24}}
hosts: {a: {nics: {lan: 10.9.0.x}}}
""", r"'10.9.0.x' is not an IP address"),
    ("host bits in network", """
networks: {lan: {cidr: 10.9.0.1/24}}
hosts: {a: {}}
""", r"cidr '10.9.0.1/24' is not a network"),
    ("unknown key", """
hosts: {a: {memroy: 512}}
""", r"unknown key\(s\) memroy"),
    ("bad host name", """
hosts: {Bad_Name: {}}
""", r"host 'Bad_Name': name must match"),
    ("memory range", """
hosts: {a: {memory: 64}}
""", r"memory must be an integer from 256 to 8192"),
    ("no hosts", """
networks: {lan: {cidr: 10.9.0.0/24}}
""", r"declares no hosts"),
    ("group clashes with host", """
hosts: {a: {groups: [b]}, b: {}}
""", r"group name\(s\) b are also host names"),
    ("not yaml", "hosts: [a: {", r"not valid YAML"),
]


@pytest.mark.parametrize("text,pattern", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_topology_is_rejected_with_a_clear_message(text, pattern):
    with pytest.raises(topology.TopologyError, match=pattern):
        topology.parse(text, where="t.yml")


def test_unknown_shipped_name_lists_the_shipped_ones():
    with pytest.raises(topology.TopologyError, match=r"no topology 'nope' \(shipped: dr, ha, nat, seed, smoke, tun\)"):
        topology.resolve("nope")


def test_inventory_carries_groups_ports_and_lab_nics():
    topo = topology.parse(GOOD, name="t")
    state = {"run_id": "t-1", "key": "/k", "hosts": {"client": {"ssh_port": 2201}, "director": {"ssh_port": 2202}}}
    inv = vm.inventory(state, topo)["all"]
    assert inv["children"] == {"clients": {"hosts": {"client": None}}, "directors": {"hosts": {"director": None}}}
    d = inv["hosts"]["director"]
    assert (d["ansible_host"], d["ansible_port"], d["ansible_user"]) == ("127.0.0.1", 2202, "root")
    assert d["lab_nics"]["private"] == {"interface": "eth2", "address": "192.168.4.54", "prefix": 24,
                                        "addresses": ["192.168.4.54/24", "fd00:4::54/64"]}
    assert inv["vars"]["lab_run_id"] == "t-1"


def test_qemu_argv_isolates_the_guest():
    topo = topology.parse(GOOD, name="t")

    class Img:
        kernel, initrd = "/vmlinuz", "/initrd"

    segs = {"public": {"group": "239.255.1.2", "port": 30000}, "private": {"group": "239.255.1.3", "port": 30001}}
    argv = vm._qemu_argv("t-1", vm.Path("/run/x"), Img, topo.host("director"), 2, 7, 2222, segs, "tcg")
    joined = " ".join(argv)
    assert "user,id=mgmt,restrict=on,ipv6=off,hostfwd=tcp:127.0.0.1:2222-:22" in joined
    assert "socket,id=lab1,mcast=239.255.1.2:30000,localaddr=127.0.0.1" in joined
    assert "socket,id=lab2,mcast=239.255.1.3:30001,localaddr=127.0.0.1" in joined
    assert "lvslab.nic=52:54:12:07:00:02,192.168.4.54/24,fd00:4::54/64" in joined
    assert argv[argv.index("-name") + 1] == "lvslab-t-1-director"
