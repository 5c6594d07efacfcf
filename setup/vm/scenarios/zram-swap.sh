#!/bin/bash
# vm-timeout: 300
# Swap on a 512M zram device: the comparison workload (COMPARE_WORKLOAD in guest/lib.sh: hog writes and verifies
# 256 MiB in a 64M memory cgroup), so most of it goes through swap; pages must really be swapped out (pswpout
# grows) and come back intact.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"

dev=/dev/zram0
cleanup() {
    (swap_off "$dev") || true # a subshell: a failing swap_off must not skip the rest
    [ -w /sys/block/zram0/reset ] && echo 1 >/sys/block/zram0/reset
    modprobe -r zram 2>/dev/null || true
}
trap cleanup EXIT

modprobe zram num_devices=1 || fail "modprobe zram failed"
wait_for_file /sys/block/zram0/disksize 5 || fail "zram0 did not appear"
echo 512M >/sys/block/zram0/disksize || fail "cannot size zram0"
wait_for_file "$dev" 5 || fail "$dev did not appear"
swap_on "$dev"

hog_workload hog-zram "${COMPARE_WORKLOAD[@]}"
# orig_data_size compr_data_size mem_used_total ...: how much zram held at the end
read -r orig compr _ </sys/block/zram0/mm_stat
metric zram_orig_bytes "$orig"
metric zram_compr_bytes "$compr"

swap_off "$dev"
