#!/bin/bash
# vm-timeout: 2400
# vm-all: no
# The swap comparison (a benchmark, not a test of speed; `setup/vm/lab.sh compare`, not part of `all`). In this one
# VM, one after the other: the comparison workload (COMPARE_WORKLOAD in guest/lib.sh) on zram, on nbd to nbdkit's
# memory plugin, on /dev/valet0 with 1 copy and with 2 copies (3 donor processes on loopback, as nbdkit is); then
# fio (4 KiB random write and read, O_DIRECT, queue depth 1 and 32, every block verified) on zram, nbd and
# /dev/valet0 with 1 copy. Ends with the ratio line of docs/benchmarks.md:
#   compare: r1_over_nbd=X r2_over_nbd=Y r1_over_zram=Z fio_qd32_read_r1_over_nbd=A fio_qd32_write_r1_over_nbd=B
#            fio_qd1_read_r1_over_nbd=C
# (on one line; workload time ratios: lower is better; fio IOPS ratios: higher is better). It fails only if a run
# fails: a workload or fio error, a bad block, a missing number.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../guest/devices.sh
. "$REPO/setup/vm/guest/devices.sh"
# shellcheck source-path=SCRIPTDIR source=../guest/valet.sh
. "$REPO/setup/vm/guest/valet.sh"
cleanup() {
    zram_stop
    nbd_stop
    valet_cleanup
}
trap cleanup EXIT

declare -A seconds=() iops=()

# measure LABEL DEV: the workload on DEV as swap; with RUN_FIO=1, the fio suite on DEV after swapoff.
measure() {
    local label="$1" dev="$2" qd rw
    swap_on "$dev"
    HOG_METRIC_PREFIX="${label}_" hog_workload "hog-$label" "${COMPARE_WORKLOAD[@]}"
    seconds[$label]="$ELAPSED"
    swap_off "$dev"
    [ "$dev" != "$VALET_DEV" ] || driver_breakdown "$label"
    [ "${RUN_FIO:-0}" = 1 ] || return 0
    for qd in 1 32; do
        for rw in write read; do
            iops[${rw}_qd${qd}_$label]="$(fio_iops "$label-$rw-qd$qd" "$dev" "rand$rw" "$qd")"
            metric "fio_qd${qd}_${rw}_${label}_iops" "${iops[${rw}_qd${qd}_$label]}"
        done
    done
}

# driver_breakdown LABEL: where the device's requests spent their time so far, from the driver's counters
# (valet-nlprobe status): mean request size, requests per IO message, microseconds per request from queue_rq to
# its IO message (driver) and from there to its DONE (the daemon: channel, engine, transport, donors).
driver_breakdown() {
    local line
    line="$("$REPO/native/kernel/tools/valet-nlprobe" status 0)" || return 0
    echo "$line"
    # shellcheck disable=SC2086 # the status line is KEY=VALUE words
    read -r req_kib reqs_per_msg queued_us served_us < <(echo $line | tr ' ' '\n' | awk -F= '
        { v[$1] = $2 }
        END {
            n = v["reads"] + v["writes"]
            if (n == 0 || v["messages"] == "") { print "- - - -"; exit }
            printf "%.1f %.2f %.0f %.0f\n", (v["read_bytes"] + v["write_bytes"]) / n / 1024, n / v["messages"],
                v["queued_ns"] / n / 1000, v["served_ns"] / n / 1000
        }')
    [ "$req_kib" != - ] || return 0
    metric "${1}_request_kib" "$req_kib"
    metric "${1}_requests_per_message" "$reqs_per_msg"
    metric "${1}_driver_us_per_request" "$queued_us"
    metric "${1}_daemon_us_per_request" "$served_us"
}

# daemon_stages LABEL: the client's stage line (logged when it stops: engine time per request, donor round trip
# per frame, batching) as metrics LABEL_<key>.
daemon_stages() {
    local line kv
    line="$(grep -o 'stages: .*' "$OUT/$SCENARIO.client.log" | tail -n 1)" || return 0
    for kv in ${line#stages: }; do
        metric "${1}_${kv%%=*}" "${kv#*=}"
    done
}

# valet_measure COPIES: a fresh stack (3 donors, a 512M swap space in 16M slabs, COPIES copies) measured, undone.
valet_measure() {
    valet_setup
    valet_start_donors 3 512M
    valet_write_config 512M 16M "$1"
    valet_start_client
    measure "r$1" "$VALET_DEV"
    valet_cleanup
    daemon_stages "r$1"
}

zram_start 512M
RUN_FIO=1 measure zram "$ZRAM_DEV"
zram_stop
nbd_start
RUN_FIO=1 measure nbd "$NBD_DEV"
nbd_stop
RUN_FIO=1 valet_measure 1
valet_measure 2

conclude "compare-runs: seconds r1=${seconds[r1]} r2=${seconds[r2]} nbd=${seconds[nbd]} zram=${seconds[zram]}" \
    "fio_iops(qd1 write/read, qd32 write/read) r1=${iops[write_qd1_r1]}/${iops[read_qd1_r1]}" \
    "${iops[write_qd32_r1]}/${iops[read_qd32_r1]} nbd=${iops[write_qd1_nbd]}/${iops[read_qd1_nbd]}" \
    "${iops[write_qd32_nbd]}/${iops[read_qd32_nbd]} zram=${iops[write_qd1_zram]}/${iops[read_qd1_zram]}" \
    "${iops[write_qd32_zram]}/${iops[read_qd32_zram]}"
conclude "compare: r1_over_nbd=$(ratio "${seconds[r1]}" "${seconds[nbd]}")" \
    "r2_over_nbd=$(ratio "${seconds[r2]}" "${seconds[nbd]}")" \
    "r1_over_zram=$(ratio "${seconds[r1]}" "${seconds[zram]}")" \
    "fio_qd32_read_r1_over_nbd=$(ratio "${iops[read_qd32_r1]}" "${iops[read_qd32_nbd]}")" \
    "fio_qd32_write_r1_over_nbd=$(ratio "${iops[write_qd32_r1]}" "${iops[write_qd32_nbd]}")" \
    "fio_qd1_read_r1_over_nbd=$(ratio "${iops[read_qd1_r1]}" "${iops[read_qd1_nbd]}")"
