"""lvs.cluster.vrrp_instance and keepalived_conf's vrrp: director HA's VRRP instance and sync daemon."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.cluster.plugins.filter.keepalived_conf import keepalived_conf
from ansible_collections.lvs.cluster.plugins.filter.vrrp_instance import FilterModule, vrrp_instance

HA = {'interface': 'eth1', 'virtual_router_id': 51, 'advert_int': 0.3}
VIPS = [{'address': '192.168.4.253', 'interface': 'eth1'}]
GROUPS = {'directors': ['director1', 'director2'], 'solo': ['director1']}
FACTS = {'interfaces': ['lo', 'eth1', 'eth2'],
         'eth1': {'ipv4': {'address': '192.168.4.54', 'netmask': '255.255.255.0'}},
         'eth2': {'ipv4': {'address': '192.168.2.54', 'netmask': '255.255.255.0'}}}


def hostvars(ha=None, **priorities):
    return dict((host, {'director_ha': dict(ha or HA), 'director_ha_priority': priorities.get(host)})
                for host in ('director1', 'director2'))


def build(ha=None, host='director1', vips=None, hv=None, facts=None):
    ha = dict(HA, **(ha or {}))
    return vrrp_instance(ha, host, VIPS if vips is None else vips, GROUPS, hv or hostvars(ha), facts or FACTS)


def test_the_lab_s_dr_instance_renders_literally():
    conf = keepalived_conf([], header='# h', vrrp=build())
    assert conf == '''# h
global_defs {
    enable_script_security
    script_user keepalived_script
}

vrrp_instance lvs_cluster_51 {
    state BACKUP
    interface eth1
    virtual_router_id 51
    priority 200
    advert_int 0.3
    version 3
    nopreempt
    virtual_ipaddress {
        192.168.4.253/32 dev eth1
    }
}
'''


def test_priority_derives_from_the_group_order_or_the_host_variable():
    assert build()['priority'] == 200
    assert build(host='director2')['priority'] == 190
    assert build(host='director2', hv=hostvars(director2=120))['priority'] == 120


def test_every_option_renders():
    ha = {'version': 2, 'advert_int': 1, 'preempt': True, 'preempt_delay': 60, 'unicast_peers': ['192.168.4.55'],
          'unicast_src_ip': '192.168.4.54', 'authentication': {'type': 'AH', 'password': 's3cret'},
          'track_interfaces': ['eth2'], 'track_script': {'script': '/usr/local/bin/ok', 'weight': -20, 'fall': 2},
          'sync_interface': 'eth2', 'sync_id': 7, 'garp_master_refresh': 30}
    vips = VIPS + [{'address': '192.168.2.253', 'interface': 'eth2', 'prefix': 24}]
    conf = keepalived_conf([], vrrp=build(ha, vips=vips, hv=hostvars(dict(HA, **ha), director2=150)))
    assert conf == '''global_defs {
    enable_script_security
    script_user keepalived_script
    vrrp_garp_master_refresh 30
}

vrrp_script lvs_cluster_51_check {
    script "/usr/local/bin/ok"
    interval 1
    timeout 1
    weight -20
    fall 2
    rise 1
}

vrrp_instance lvs_cluster_51 {
    state BACKUP
    interface eth1
    virtual_router_id 51
    priority 200
    advert_int 1
    version 2
    preempt_delay 60
    unicast_src_ip 192.168.4.54
    unicast_peer {
        192.168.4.55
    }
    authentication {
        auth_type AH
        auth_pass s3cret
    }
    track_interface {
        eth2
    }
    track_script {
        lvs_cluster_51_check
    }
    virtual_ipaddress {
        192.168.4.253/32 dev eth1
        192.168.2.253/24 dev eth2
    }
}
'''


def test_preempt_without_delay_renders_neither_keyword():
    conf = keepalived_conf([], vrrp=build({'preempt': True}, hv=hostvars(director2=100)))
    assert 'nopreempt' not in conf and 'preempt_delay' not in conf


@pytest.mark.parametrize('ha, message', [
    ({'virtual_router_id': 0}, 'director_ha.virtual_router_id: must be an integer from 1 to 255, got 0'),
    ({'virtual_router_id': 256}, 'director_ha.virtual_router_id: must be an integer from 1 to 255, got 256'),
    ({'advert_int': 0.5, 'version': 2}, 'director_ha.advert_int: VRRP version 2 adverts in whole seconds, got 0.5'),
    ({'authentication': {'password': 'x'}}, 'director_ha.authentication: VRRP version 3 has no authentication'),
    ({'version': 2, 'advert_int': 1, 'authentication': {'password': 'ninechars'}},
     'director_ha.authentication.password: must be 1 to 8 characters'),
    ({'preempt_delay': 10}, 'director_ha.preempt_delay: applies only with preempt: true'),
    ({'unicast_peers': ['peer']}, "director_ha.unicast_peers[0]: must be a plain IP address, got 'peer'"),
    ({'sync_id': 300}, 'director_ha.sync_id: must be an integer from 0 to 255, got 300'),
    ({'track_script': {'weight': 1}}, 'director_ha.track_script.script: is required'),
    ({'colour': 'red'}, 'director_ha: unknown option.s. colour'),
])
def test_bad_options_name_the_option(ha, message):
    hv = hostvars(dict(HA, **ha))
    with pytest.raises(AnsibleFilterError, match='^' + message.replace('[', r'\[').replace(']', r'\]')):
        build(ha, hv=hv)


def test_a_vip_off_the_network_of_its_interface_fails():
    message = r'^director_vips\[0\]: 192\.168\.9\.1 is not on the network of eth1 \(192\.168\.4\.0/24\)'
    with pytest.raises(AnsibleFilterError, match=message):
        build(vips=[{'address': '192.168.9.1', 'interface': 'eth1'}])


def test_a_vip_on_an_interface_without_an_address_fails():
    message = r'^director_vips\[0\]: 192\.168\.4\.253 is not on the network of eth3 \(no address\)'
    with pytest.raises(AnsibleFilterError, match=message):
        build(vips=[{'address': '192.168.4.253', 'interface': 'eth3'}])


def test_no_vip_fails():
    with pytest.raises(AnsibleFilterError, match='^director_vips: director_ha needs at least one VIP'):
        build(vips=[])


def test_a_group_of_one_director_fails():
    with pytest.raises(AnsibleFilterError, match="^director_ha: director1 is the only host of the group 'solo'"):
        build({'group': 'solo'})


def test_a_host_outside_its_group_fails():
    with pytest.raises(AnsibleFilterError, match="^director_ha.group: director3 is not in the group 'directors'"):
        build(host='director3')


def test_equal_priorities_fail_under_preemption_only():
    hv = hostvars(dict(HA, preempt=True), director1=150, director2=150)
    message = '^director_ha_priority: director1 and director2 both have priority 150 while director_ha.preempt is true'
    with pytest.raises(AnsibleFilterError, match=message):
        build({'preempt': True}, hv=hv)
    assert build(hv=hostvars(director1=150, director2=150))['priority'] == 150


def test_a_peer_with_another_router_id_fails():
    hv = hostvars()
    hv['director2']['director_ha'] = dict(HA, virtual_router_id=52)
    message = '^director_ha: director2 of the group .directors. has virtual_router_id 52; every director'
    with pytest.raises(AnsibleFilterError, match=message):
        build(hv=hv)


@pytest.mark.parametrize('priority', [0, 255, True])
def test_priority_out_of_range_fails(priority):
    with pytest.raises(AnsibleFilterError, match='^director_ha_priority: must be an integer from 1 to 254'):
        build(hv=hostvars(director1=priority))


def test_filter_module_maps_the_name():
    assert FilterModule().filters() == {'vrrp_instance': vrrp_instance}


def test_both_sync_daemons_on_the_vrrp_interface_with_the_router_id():
    record = build()
    assert record['sync_start'] == [
        ['ipvsadm', '--start-daemon', 'master', '--mcast-interface', 'eth1', '--syncid', '51'],
        ['ipvsadm', '--start-daemon', 'backup', '--mcast-interface', 'eth1', '--syncid', '51']]
    assert record['sync_running'] == ['master sync daemon (mcast=eth1, syncid=51,', 'backup sync daemon (mcast=eth1, syncid=51,']
    assert build({'sync_interface': 'eth2', 'sync_id': 0})['sync_start'][1][3:] == ['--mcast-interface', 'eth2', '--syncid', '0']
