#!/bin/sh
# Stand-in for ipvsadm, put first on the PATH of one ipvs_table task to fail a batch in the middle
# on any kernel. The first "ipvsadm -R" keeps its whole batch in ./batch, feeds only the first
# $IPVSADM_CUT_LINES lines of it to the real ipvsadm (so the kernel holds part of the batch),
# keeps the table that left in ./partial and exits 1, as ipvsadm does on a line the kernel
# rejects. Every other call, and every later -R (the module's rollback), is the real ipvsadm.
real=/usr/sbin/ipvsadm
dir=$(dirname "$0")
if [ "$1" = "-R" ] && [ ! -e "$dir/batch" ]; then
    cat > "$dir/batch"
    head -n "$IPVSADM_CUT_LINES" "$dir/batch" | "$real" -R || exit 3
    "$real" -S -n > "$dir/partial"
    echo "ipvsadm_cut.sh: stopped the batch after line $IPVSADM_CUT_LINES" >&2
    exit 1
fi
exec "$real" "$@"
