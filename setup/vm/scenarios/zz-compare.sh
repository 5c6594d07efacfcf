#!/bin/bash
# vm-timeout: 30
# vm-seconds: 1
# vm-needs: valet-1-swap zram-swap nbd-swap
# The benchmark, not a test of speed: the same hog workload's time on /dev/valet0 (valet-1-swap), zram and nbd
# (to nbdkit memory), measured earlier in this same VM run, printed as ratios. It only fails if a measurement is
# missing (its scenario did not run or did not finish).
set -euo pipefail
. "$REPO/setup/vm/guest/lib.sh"

seconds_of() {
    local f="$OUT/$1.metrics"
    [ -f "$f" ] || fail "no metrics from $1 (run it in the same lab run: setup/vm/lab.sh all)"
    sed -n 's/^workload_seconds=//p' "$f" | tail -n 1
}
valet="$(seconds_of valet-1-swap)"
zram="$(seconds_of zram-swap)"
nbd="$(seconds_of nbd-swap)"
if [ -z "$valet" ] || [ -z "$zram" ] || [ -z "$nbd" ]; then fail "a workload_seconds metric is missing"; fi
metric valet_seconds "$valet"
metric zram_seconds "$zram"
metric nbd_seconds "$nbd"
metric valet_over_zram "$(ratio "$valet" "$zram")"
metric valet_over_nbd "$(ratio "$valet" "$nbd")"
