#!/bin/bash
# vm-timeout: 2400
# vm-seconds: 1500
# vm-all: no
# The swap comparison (a benchmark, not a test of speed; `setup/vm/lab.sh compare`, not part of `all`). In this one
# VM, one after the other: the comparison workload (COMPARE_WORKLOAD in guest/lib.sh) on zram, on nbd to nbdkit's
# memory plugin, on nbd to Valet's NBD export (valet client --nbd, 1 copy; label nbdvalet), on /dev/valet0 with 1 copy
# and with 2 copies (3 donor processes on loopback, as nbdkit is); then
# fio (4 KiB random write and read, O_DIRECT, queue depth 1 and 32, every block verified) on zram, nbd and
# /dev/valet0 with 1 copy. r1 and r2 run the engine alone (hostTier.size 0); a last run, "tier", has 2 copies and a
# 32M host tier (an eighth of what the workload swaps out: what it gains comes from write-back and read-ahead, not
# from holding the working set). Ends with the ratio line of docs/benchmarks.md:
#   compare: r1_over_nbd=X r2_over_nbd=Y r1_over_zram=Z fio_qd32_read_r1_over_nbd=A fio_qd32_write_r1_over_nbd=B
#            fio_qd1_read_r1_over_nbd=C tier_over_nbd=T tier_over_zram=U tier_seq_hit_rate=H nbdvalet_r1_over_nbd=E
# (on one line; workload time ratios: lower is better; fio IOPS ratios: higher is better; H: pages the tier served
# per page swapped in, from the client's closing "tier:" line). With
# VALET_COMPARE_REF=REV (lab.sh builds that commit's jar into target/vm/ref/), the reference build is measured too,
# with 1 copy and fio, right after this checkout's r1 (a build of VALET version 3 or later: the driver refuses older
# daemons) (label ref1; right before it with VALET_COMPARE_REF_FIRST=1),
# and a second line compares the two:
#   compare-ref: ref=REV r1_over_ref=X fio_qd32_read_r1_over_ref=A fio_qd32_write_r1_over_ref=B
#                fio_qd1_read_r1_over_ref=C fio_qd1_write_r1_over_ref=D
# VALET_COMPARE_JFR=1 also records a JFR profile of every Valet run's client and donors (jfr_options below).
# It fails only if a run fails: a workload or fio error, a bad block, a missing number.
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

# cpu_snapshot FILE ROLE=PID...: the CPU time so far of the whole VM and of every thread of each process.
# Lines "ROLE TID TICKS NAME" (user + system clock ticks; NAME with spaces as _) and one "vm - BUSY PAGES" line
# (every CPU's non-idle ticks from /proc/stat; pages swapped in and out from /proc/vmstat). Reads only /proc.
cpu_snapshot() {
    local out="$1" rp role pid task stat comm busy pages
    shift
    busy="$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat)"
    pages="$(awk '$1 == "pswpin" || $1 == "pswpout" { n += $2 } END { print n + 0 }' /proc/vmstat)"
    {
        echo "vm - $busy $pages"
        for rp in "$@"; do
            role="${rp%%=*}" pid="${rp#*=}"
            for task in /proc/"$pid"/task/*; do
                if ! read -r stat 2>/dev/null <"$task/stat" || ! read -r comm 2>/dev/null <"$task/comm"; then
                    continue # the thread ended
                fi
                # shellcheck disable=SC2086 # the fields after the command name: state, ppid, ... utime (12th), stime
                set -- ${stat##*') '}
                echo "$role ${task##*/} $((${12} + ${13})) ${comm// /_}"
            done
        done
    } >"$out"
}

# cpu_breakdown LABEL BEFORE AFTER: what the workload cost in CPU, from two cpu_snapshot files: metrics
# LABEL_cpu_vm_s (the whole VM), LABEL_cpu_us_per_page (the VM's CPU per page swapped in or out) and
# LABEL_cpu_ROLE_s per process, and the threads (numbers in their names folded to #) by CPU seconds, most first,
# in $SCENARIO.threads.log. Under TCG every CPU second is emulated work: this is the software cost per page.
cpu_breakdown() {
    local label="$1" hz kv
    hz="$(getconf CLK_TCK)"
    awk -v hz="$hz" -v label="$label" '
        FNR == NR { before[$1 " " $2] = $3; if ($1 == "vm") pages0 = $4; next }
        $1 == "vm" { vm = ($3 - before["vm -"]) / hz; pages = $4 - pages0; next }
        {
            d = ($3 - before[$1 " " $2]) / hz
            name = $4; gsub(/[0-9]+/, "#", name)
            role[$1] += d; thread[$1 " " name] += d
        }
        END {
            printf("cpu_vm_s=%.2f cpu_us_per_page=%.0f", vm, (pages > 0 ? vm * 1e6 / pages : 0))
            for (r in role) printf " cpu_%s_s=%.2f", r, role[r]
            printf "\n"
            for (t in thread) if (thread[t] >= 0.05) printf "%s %s %.2f\n", label, t, thread[t] | "sort -k4 -rn >&2"
        }' "$2" "$3" 2>>"$OUT/$SCENARIO.threads.log" | {
        read -r line
        for kv in $line; do
            metric "${label}_${kv%%=*}" "${kv#*=}"
        done
    }
}

# measure LABEL DEV: the workload on DEV as swap, with its CPU cost (cpu_breakdown); with RUN_FIO=1, the fio suite
# on DEV after swapoff.
measure() {
    local label="$1" dev="$2" qd rw procs=() i
    if [ "$dev" = "$VALET_DEV" ] || [ "$VALET_NBD_ATTACHED" = 1 ]; then
        procs=("client=$VALET_CLIENT_PID")
        for i in "${!VALET_DONOR_PIDS[@]}"; do
            procs+=("donor$i=${VALET_DONOR_PIDS[i]}")
        done
    elif [ "$dev" = "$NBD_DEV" ]; then
        procs=("nbdkit=$(cat "$NBD_PIDFILE")")
    fi
    swap_on "$dev"
    cpu_snapshot /tmp/compare-cpu0 "${procs[@]}"
    HOG_METRIC_PREFIX="${label}_" hog_workload "hog-$label" "${COMPARE_WORKLOAD[@]}"
    seconds[$label]="$ELAPSED"
    cpu_snapshot /tmp/compare-cpu1 "${procs[@]}"
    cpu_breakdown "$label" /tmp/compare-cpu0 /tmp/compare-cpu1
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

# valet_measure COPIES [LABEL]: a fresh stack (3 donors, a 512M swap space in 16M slabs, COPIES copies) measured,
# undone; LABEL (default rCOPIES) names its metrics.
valet_measure() {
    local label="${2:-r$1}" donor_jvm=("${VALET_DONOR_JVM[@]}") client_opts="$VALET_CLIENT_JAVA_OPTS"
    if [ "${VALET_COMPARE_JFR:-0}" = 1 ]; then
        jfr_options "$label"
    fi
    valet_setup
    valet_start_donors 3 512M
    valet_write_config 512M 16M "$1"
    valet_start_client
    measure "$label" "$VALET_DEV"
    valet_cleanup
    daemon_stages "$label"
    VALET_DONOR_JVM=("${donor_jvm[@]}") VALET_CLIENT_JAVA_OPTS="$client_opts"
}

# valet_nbd_measure COPIES LABEL: like valet_measure, but the client serves the swap space as an NBD export (valet
# client --nbd, no valet.ko) and the workload swaps to it through the kernel's nbd driver, as the nbd run does to
# nbdkit.
valet_nbd_measure() {
    VALET_NBD_SOCKET="$VALET_WORK/nbd.sock"
    valet_work
    valet_start_donors 3 512M
    valet_write_config 512M 16M "$1"
    valet_start_client
    valet_nbd_attach
    measure "$2" "$VALET_NBD_DEV"
    valet_cleanup
    VALET_NBD_SOCKET=""
}

# jfr_options LABEL: with VALET_COMPARE_JFR=1, the client and the donors of run LABEL record a JFR profile (Java
# methods sampled every 10-20 ms, allocations, locks) into $SCENARIO.LABEL.jfr/{client,donors}/, written when they
# stop. Read it on the host: setup/vm/jfr-top.sh target/vm/results/latest/compare.r1.jfr/client. The recording
# costs time (r1_over_nbd 8.84 recorded against 7.4-7.6 unrecorded): compare such a run only with another recorded
# run.
jfr_options() {
    local dir="$OUT/$SCENARIO.$1.jfr" flags="-XX:StartFlightRecording=settings=profile,dumponexit=true"
    mkdir -p "$dir/client" "$dir/donors"
    VALET_DONOR_JVM+=("$flags,filename=$dir/donors")
    export VALET_CLIENT_JAVA_OPTS+=" $flags,filename=$dir/client"
}

zram_start 512M
RUN_FIO=1 measure zram "$ZRAM_DEV"
zram_stop
nbd_start
RUN_FIO=1 measure nbd "$NBD_DEV"
nbd_stop
valet_nbd_measure 1 nbdvalet
# measure_ref: the reference build with 1 copy and fio (label ref1), when VALET_COMPARE_REF names one.
measure_ref() {
    [ -n "${VALET_COMPARE_REF:-}" ] || return 0
    local ref_jar="$REPO/target/vm/ref/valet.jar"
    [ -f "$ref_jar" ] || fail "VALET_COMPARE_REF=$VALET_COMPARE_REF but no $ref_jar (lab.sh builds it)"
    log "reference build $VALET_COMPARE_REF: $ref_jar"
    RUN_FIO=1 VALET_JAR="$ref_jar" valet_measure 1 ref1
}
# VALET_COMPARE_REF_FIRST=1 measures the reference before this checkout's r1 (to see what the order does).
if [ "${VALET_COMPARE_REF_FIRST:-0}" = 1 ]; then
    measure_ref
    RUN_FIO=1 VALET_HOST_TIER=0 valet_measure 1
else
    RUN_FIO=1 VALET_HOST_TIER=0 valet_measure 1
    measure_ref
fi
VALET_HOST_TIER=0 valet_measure 2
VALET_HOST_TIER=32M valet_measure 2 tier
tier_hit_rate="$(valet_tier_stat hit_rate)"
[ -n "$tier_hit_rate" ] || fail "the tier run logged no tier: line"
metric tier_hit_rate "$tier_hit_rate"
metric tier_pages_per_backing_call "$(ratio "$(valet_tier_stat backing_pages)" "$(valet_tier_stat backing_calls)")"

conclude "compare-runs: seconds r1=${seconds[r1]} r2=${seconds[r2]} tier=${seconds[tier]} nbd=${seconds[nbd]}" \
    "nbdvalet=${seconds[nbdvalet]} zram=${seconds[zram]}" \
    "fio_iops(qd1 write/read, qd32 write/read) r1=${iops[write_qd1_r1]}/${iops[read_qd1_r1]}" \
    "${iops[write_qd32_r1]}/${iops[read_qd32_r1]} nbd=${iops[write_qd1_nbd]}/${iops[read_qd1_nbd]}" \
    "${iops[write_qd32_nbd]}/${iops[read_qd32_nbd]} zram=${iops[write_qd1_zram]}/${iops[read_qd1_zram]}" \
    "${iops[write_qd32_zram]}/${iops[read_qd32_zram]}"
conclude "compare: r1_over_nbd=$(ratio "${seconds[r1]}" "${seconds[nbd]}")" \
    "r2_over_nbd=$(ratio "${seconds[r2]}" "${seconds[nbd]}")" \
    "r1_over_zram=$(ratio "${seconds[r1]}" "${seconds[zram]}")" \
    "fio_qd32_read_r1_over_nbd=$(ratio "${iops[read_qd32_r1]}" "${iops[read_qd32_nbd]}")" \
    "fio_qd32_write_r1_over_nbd=$(ratio "${iops[write_qd32_r1]}" "${iops[write_qd32_nbd]}")" \
    "fio_qd1_read_r1_over_nbd=$(ratio "${iops[read_qd1_r1]}" "${iops[read_qd1_nbd]}")" \
    "tier_over_nbd=$(ratio "${seconds[tier]}" "${seconds[nbd]}")" \
    "tier_over_zram=$(ratio "${seconds[tier]}" "${seconds[zram]}")" \
    "tier_seq_hit_rate=$tier_hit_rate" \
    "nbdvalet_r1_over_nbd=$(ratio "${seconds[nbdvalet]}" "${seconds[nbd]}")"
if [ -n "${VALET_COMPARE_REF:-}" ]; then
    conclude "compare-ref: ref=$VALET_COMPARE_REF order=$([ "${VALET_COMPARE_REF_FIRST:-0}" = 1 ] && echo ref-first ||
        echo ref-second) r1_over_ref=$(ratio "${seconds[r1]}" "${seconds[ref1]}")" \
        "fio_qd32_read_r1_over_ref=$(ratio "${iops[read_qd32_r1]}" "${iops[read_qd32_ref1]}")" \
        "fio_qd32_write_r1_over_ref=$(ratio "${iops[write_qd32_r1]}" "${iops[write_qd32_ref1]}")" \
        "fio_qd1_read_r1_over_ref=$(ratio "${iops[read_qd1_r1]}" "${iops[read_qd1_ref1]}")" \
        "fio_qd1_write_r1_over_ref=$(ratio "${iops[write_qd1_r1]}" "${iops[write_qd1_ref1]}")"
fi
