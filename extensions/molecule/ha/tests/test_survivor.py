"""The director left running holds the VIP as VRRP master and keeps the whole pool."""

from timeline import REAL_SERVERS, SURVIVOR, VIP

# the powered-off master cannot be reached
testinfra_hosts = [SURVIVOR]


def test_the_survivor_holds_the_vip_as_vrrp_master(host):
    assert VIP in host.check_output("ip -br addr")
    states = host.check_output("journalctl -b -u keepalived --no-pager -o cat | grep -o 'Entering [A-Z]* STATE'")
    assert states.splitlines()[-1] == "Entering MASTER STATE"


def test_the_survivor_keeps_the_whole_pool(host):
    table = host.check_output("ipvsadm -Ln -t %s:80" % VIP)
    assert all(rs in table for rs in REAL_SERVERS), table
