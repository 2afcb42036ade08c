#!/bin/sh
# Undo what the dr_realserver role and its test did, whatever state the test stopped in:
# one script because each task costs seconds on the emulated guest. Usage: cleanup.sh NIC
nic=$1
systemctl disable --now lvs-cluster-vip.service 2>/dev/null   # ExecStop deletes the VIPs
rm -f /etc/systemd/system/lvs-cluster-vip.service /etc/sysctl.d/90-lvs-cluster-arp.conf
systemctl daemon-reload
systemctl reset-failed 2>/dev/null
for vip in 192.0.2.100/32 192.0.2.101/32 2001:db8:2::100/128; do
    ip addr del "$vip" dev lo 2>/dev/null
done
for conf in all lo "$nic"; do
    echo 0 > "/proc/sys/net/ipv4/conf/$conf/arp_ignore"
    echo 0 > "/proc/sys/net/ipv4/conf/$conf/arp_announce"
done
exit 0
