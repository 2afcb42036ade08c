#!/bin/sh
# Keep what the director role changes that the ipvsadm package owns (its defaults file, its rules
# file and whether its boot service is enabled) and the live ip_forward, for cleanup.sh to put back.
keep=/run/lvs-cluster-test-director
rm -rf "$keep"
mkdir -p "$keep"
for path in /etc/default/ipvsadm /etc/ipvsadm.rules; do
    if [ -e "$path" ]; then
        cp -a "$path" "$keep/"
    fi
done
systemctl is-enabled ipvsadm.service > "$keep/ipvsadm.enabled" 2>/dev/null
cat /proc/sys/net/ipv4/ip_forward > "$keep/ip_forward"
exit 0
