#!/bin/sh
# Undo what the nat_realserver role and its test did, whatever state the test stopped in:
# one script because each task costs seconds on the emulated guest. The lab guest has no
# default route of its own, so every default route here is ours.
systemctl disable --now lvs-cluster-nat-gateway.service 2>/dev/null   # ExecStop deletes the route
rm -f /etc/systemd/system/lvs-cluster-nat-gateway.service
systemctl daemon-reload
systemctl reset-failed 2>/dev/null
while ip -4 route del default 2>/dev/null; do :; done
exit 0
