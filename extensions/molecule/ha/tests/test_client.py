"""After the failover the client reaches both real servers, through the survivor's MAC."""

import json

from timeline import SURVIVOR, TIMELINE, VIP

testinfra_hosts = ["client"]


def test_the_client_reaches_both_real_servers_through_the_survivor(host):
    answers = [host.check_output("curl -s --max-time 3 http://%s/" % VIP) for _request in range(4)]
    assert sorted(set(answers)) == ["rs1", "rs2"]
    neighbours = json.loads(host.check_output("ip -j neigh show %s" % VIP))
    assert [n.get("lladdr") for n in neighbours] == [TIMELINE["names_by_director"][SURVIVOR]]
