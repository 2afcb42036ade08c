"""The seed topology, which NAT, DR and TUN share, gives every host what each lab's own topology gives it."""

import pytest

from lab_harness import topology
from lab_harness.cluster import SEED_SCENARIOS


@pytest.mark.parametrize("scenario", SEED_SCENARIOS)
def test_seed_holds_each_labs_hosts_groups_and_addresses(scenario):
    seed, lab = topology.resolve("seed"), topology.resolve(scenario)
    seed_hosts = {h.name: h for h in seed.hosts}
    assert {h.name for h in lab.hosts} == set(seed_hosts)
    for host in lab.hosts:
        mine = seed_hosts[host.name]
        assert set(host.groups) == set(mine.groups), host.name
        assert host.vars.items() <= mine.vars.items(), host.name
        seed_addresses = {str(a) for nic in mine.nics for a in nic.addresses}
        for nic in host.nics:
            assert {str(a) for a in nic.addresses} <= seed_addresses, (host.name, nic.network)


def test_the_lan_is_eth1_and_the_site_eth2_as_the_lab_checks_expect():
    nics = {h.name: {n.interface: str(n.addresses[0]) for n in h.nics} for h in topology.resolve("seed").hosts}
    assert nics["director"]["eth1"] == "192.168.4.54/24" and nics["director"]["eth2"] == "192.168.6.54/24"
    for rs, last in (("rs1", 52), ("rs2", 53)):
        assert nics[rs] == {"eth1": "192.168.4.%d/24" % last, "eth2": "192.168.6.%d/24" % last}
    # The NAT client reaches the VIP on the public network; the real servers are not on it.
    assert "192.168.2.50/24" in nics["client"].values()
