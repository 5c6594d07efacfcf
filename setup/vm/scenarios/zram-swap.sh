#!/bin/bash
# vm-timeout: 300
# vm-seconds: 20
# Swap on a 512M zram device: the comparison workload (COMPARE_WORKLOAD in guest/lib.sh: hog writes and verifies
# 256 MiB in a 64M memory cgroup), so most of it goes through swap; pages must really be swapped out (pswpout
# grows) and come back intact.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../guest/devices.sh
. "$REPO/setup/vm/guest/devices.sh"
trap zram_stop EXIT

zram_start 512M
swap_on "$ZRAM_DEV"

hog_workload hog-zram "${COMPARE_WORKLOAD[@]}"
# orig_data_size compr_data_size mem_used_total ...: how much zram held at the end
read -r orig compr _ </sys/block/zram0/mm_stat
metric zram_orig_bytes "$orig"
metric zram_compr_bytes "$compr"

swap_off "$ZRAM_DEV"
