"""The reset that lets NAT, DR and TUN share one booted seed lab returns the hosts to how they booted.

Runs after the labs that used its seed lab (tests/conftest.py orders it): in one pytest process after
NAT, DR and TUN; under make test's two workers after NAT on the same worker (DR and TUN run on a second
seed lab, whose every reset checks itself). Either way the hosts have been converged, drained, rebooted
and given bad input. After a reset, converging NAT from scratch must
change exactly the tasks that NAT's first converge changed on the freshly booted hosts.
"""

import pytest

pytestmark = pytest.mark.lab


def test_reset_then_converge_changes_what_fresh_hosts_changed(seed_cluster, fresh_converges):
    cluster = seed_cluster("nat")  # resets, and fails naming anything the reset left behind
    if "nat" not in fresh_converges:  # run alone: this session's first converge is the fresh one
        fresh_converges["nat"] = cluster.converge_ok()["changed_tasks"]
        cluster = seed_cluster("nat")
    result = cluster.converge_ok()
    assert result["changed_tasks"] == fresh_converges["nat"]
    # Fresh hosts change something on every host: an empty record would make the check above vacuous.
    assert set(result["changed_tasks"]) == {"director", "rs1", "rs2"}
    assert all(len(tasks) >= 2 for tasks in result["changed_tasks"].values()), result["changed_tasks"]
