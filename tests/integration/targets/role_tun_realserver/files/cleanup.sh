#!/bin/sh
# Undo what the tun_realserver role and its test did, whatever state the test stopped in:
# one script because each task costs seconds on the emulated guest.
systemctl disable --now lvs-cluster-tun-vip.service 2>/dev/null   # ExecStop deletes the VIPs
rm -f /etc/systemd/system/lvs-cluster-tun-vip.service /etc/sysctl.d/90-lvs-cluster-arp.conf \
    /etc/modules-load.d/lvs-cluster-ipip.conf
systemctl daemon-reload
systemctl reset-failed 2>/dev/null
modprobe -r ipip 2>/dev/null    # removes tunl0 and its addresses
for conf in all lo; do
    echo 0 > "/proc/sys/net/ipv4/conf/$conf/arp_ignore"
    echo 0 > "/proc/sys/net/ipv4/conf/$conf/arp_announce"
    echo 0 > "/proc/sys/net/ipv4/conf/$conf/rp_filter"
done
exit 0
