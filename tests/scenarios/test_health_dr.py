"""Health checks in the seed's LVS-DR lab: the notes' checker scenario with direct routing.

The DR lab inventory turns an http check on (inventories/dr_lab). keepalived programs the service with
DR real servers, and a dead real server leaves the pool and returns as in the NAT lab.
"""

import pytest

import phases
from lab_harness import checker

pytestmark = pytest.mark.lab

RS1, RS2 = "192.168.4.52", "192.168.4.53"


@pytest.fixture(scope="module")
def dr(seed_cluster):
    cluster = seed_cluster("dr")
    cluster.health_checks = True
    return cluster


def test_dr_converges_to_keepalived_and_a_second_run_changes_nothing(dr):
    first = dr.converge_ok()
    assert any(t.endswith("Write keepalived's configuration") for t in first["changed_tasks"]["director"])
    conf = dr.out("director", "cat /etc/keepalived/keepalived.conf")
    assert "virtual_server 192.168.4.253 80" in conf and conf.count("lvs_method DR") == 2, conf
    table = dr.out("director", "ipvsadm -Ln -t 192.168.4.253:80")
    assert [line.split()[1:4] for line in table.splitlines() if line.split()[:1] == ["->"]][1:] == [
        [RS1 + ":80", "Route", "1"], [RS2 + ":80", "Route", "1"]], table
    again = dr.converge_ok()
    assert again["changed_tasks"] == {}, again["changed_tasks"]


def test_dr_dead_real_server_leaves_within_3_s_and_returns_within_3_s(dr):
    timeline = checker.run(dr, "systemctl kill apache2", "systemctl start apache2")
    print("\nDR checker timeline:\n" + checker.report(timeline))
    checker.assert_detected(timeline, limit=3.0)
    phases.figure("health check DR: dead real server out of the pool", timeline["down_seconds"])
    phases.figure("health check DR: recovered real server back", timeline["up_seconds"])
