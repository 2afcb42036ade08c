"""What converge.yml set up with the collection is live in the kernel and persisted for the next boot."""

TABLE = ["-A -t 192.0.2.100:80 -s wrr",
         "-a -t 192.0.2.100:80 -r 192.0.2.21:80 -m -w 1",
         "-a -t 192.0.2.100:80 -r 192.0.2.22:80 -m -w 2"]


def test_the_live_table_is_the_declared_service(host):
    assert host.check_output("ipvsadm -S -n").splitlines() == TABLE


def test_the_rules_file_restores_the_same_table_at_boot(host):
    rules = [line for line in host.file("/etc/ipvsadm.rules").content_string.splitlines()
             if line and not line.startswith("#")]
    assert rules == TABLE
    assert host.service("ipvsadm").is_enabled


def test_nat_forwarding_and_the_vip(host):
    assert host.sysctl("net.ipv4.ip_forward") == 1
    # persisted by the director through lvs.cluster.arp_tuning's sysctls
    assert "net.ipv4.ip_forward = 1\n" in host.file("/etc/sysctl.d/90-lvs-cluster-director.conf").content_string
    assert "192.0.2.100/32" in host.check_output("ip -br addr show dev eth1")


def test_scheduler_module_loads_at_boot(host):
    modules = host.file("/etc/modules-load.d/lvs-cluster-director.conf").content_string.split()
    assert "ip_vs" in modules and "ip_vs_wrr" in modules


def test_arp_values_are_live_and_in_the_drop_in(host):
    assert host.sysctl("net.ipv4.conf.all.arp_ignore") == 1
    assert host.sysctl("net.ipv4.conf.eth1.arp_announce") == 2
    assert "net.ipv4.conf.eth1.arp_ignore = 1" in host.file("/etc/sysctl.d/90-lvs-cluster-arp.conf").content_string
