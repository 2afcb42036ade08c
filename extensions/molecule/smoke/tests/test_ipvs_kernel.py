"""The guest kernel really has IPVS: the module loads and the kernel table answers."""

import os


def test_ip_vs_module_is_loaded(host):
    assert host.run("lsmod").stdout.split().count("ip_vs") >= 1


def test_proc_net_ip_vs_exists(host):
    table = host.file("/proc/net/ip_vs")
    assert table.exists
    assert host.file("/proc/net/ip_vs").content_string.startswith("IP Virtual Server version 1.2.1")


def test_ipvsadm_talks_to_the_kernel(host):
    out = host.check_output("ipvsadm -Ln")
    assert "Prot LocalAddress:Port Scheduler Flags" in out


def test_kernel_has_schedulers(host):
    cmd = host.run("modprobe ip_vs_wrr && grep -c . /proc/net/ip_vs")
    assert cmd.rc == 0


def test_guest_runs_the_requested_release(host):
    wanted = os.environ.get("LVSLAB_RELEASE") or "bookworm"
    assert host.system_info.codename == wanted
