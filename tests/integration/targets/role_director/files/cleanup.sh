#!/bin/sh
# Undo what the director role and its test did, whatever state the test stopped in: one script
# because each task costs seconds on the emulated guest. Usage: cleanup.sh NIC
nic=$1
keep=/run/lvs-cluster-test-director
ipvsadm -C
systemctl disable --now lvs-cluster-director-vip.service 2>/dev/null   # ExecStop deletes the VIPs
rm -f /etc/systemd/system/lvs-cluster-director-vip.service \
      /etc/modules-load.d/lvs-cluster-director.conf /etc/sysctl.d/90-lvs-cluster-director.conf
systemctl daemon-reload
# The drop-in is gone; the live vs sysctl the test set goes back to the kernel default.
if [ -e /proc/sys/net/ipv4/vs/conntrack ]; then
    echo 0 > /proc/sys/net/ipv4/vs/conntrack
fi
systemctl reset-failed 2>/dev/null
for vip in 192.0.2.100/32 2001:db8:2::100/128; do
    ip addr del "$vip" dev "$nic" 2>/dev/null
done
# The ipvsadm package's files and boot service as save.sh found them.
if [ -d "$keep" ]; then
    for path in /etc/default/ipvsadm /etc/ipvsadm.rules; do
        if [ -e "$keep/$(basename "$path")" ]; then
            cp -a "$keep/$(basename "$path")" "$path"
        else
            rm -f "$path"
        fi
    done
    if [ -s "$keep/ip_forward" ]; then
        cat "$keep/ip_forward" > /proc/sys/net/ipv4/ip_forward
    fi
    case "$(cat "$keep/ipvsadm.enabled")" in
        enabled) systemctl enable ipvsadm.service 2>/dev/null ;;
        *) systemctl disable ipvsadm.service 2>/dev/null ;;
    esac
    rm -rf "$keep"
fi
exit 0
