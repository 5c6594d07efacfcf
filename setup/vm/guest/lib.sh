# shellcheck shell=bash
# Helpers for VM lab scenarios (setup/vm/scenarios/*.sh). Source it first:  . "$REPO/setup/vm/guest/lib.sh"
# The runner (guest/runner.sh) provides REPO, OUT, KVER, HOG, SCENARIO, VALET_METRICS and VALET_FAIL_FILE.
# Functions that check something call fail on error, so a scenario reads as a list of steps.

# A timeout (SIGTERM from the runner) must still run the scenario's EXIT trap, i.e. its cleanup.
trap 'exit 143' TERM

: "${OUT:=/tmp}" "${SCENARIO:=scenario}"
: "${VALET_METRICS:=$OUT/$SCENARIO.metrics}" "${VALET_FAIL_FILE:=/tmp/.fail-$SCENARIO}"

# log MESSAGE: a line with the guest's uptime, into the scenario's log.
log() {
    local up _
    read -r up _ </proc/uptime
    echo "[$up] $*"
}

# fail REASON: the scenario fails with REASON (the first reason wins) and exits 1. From a subshell it only ends the
# subshell, but the reason is kept and still fails the scenario.
fail() {
    echo "FAIL: $*" >&2
    [ -s "$VALET_FAIL_FILE" ] || printf '%s\n' "$*" >"$VALET_FAIL_FILE"
    exit 1
}

# metric KEY VALUE: records KEY=VALUE in $OUT/$SCENARIO.metrics (lab.sh prints it with the result).
metric() {
    [ $# -eq 2 ] || fail "metric: usage: metric KEY VALUE"
    [[ "$1" =~ ^[A-Za-z0-9_.-]+$ ]] || fail "metric: bad key '$1'"
    [[ "$2" != *[[:space:]]* ]] || fail "metric: value of $1 has white space: '$2'"
    echo "$1=$2" >>"$VALET_METRICS"
    log "metric $1=$2"
}

# vmstat_get NAME: prints the counter NAME of /proc/vmstat (pswpout, pswpin, ...).
vmstat_get() {
    awk -v k="$1" '$1 == k { print $2; found = 1 } END { exit !found }' /proc/vmstat ||
        fail "vmstat_get: no $1 in /proc/vmstat"
}

# now_ms: wall-clock milliseconds (bash's EPOCHREALTIME: no fork).
now_ms() {
    local us="${EPOCHREALTIME/[.,]/}"
    echo $((us / 1000))
}

# time_it CMD...: runs CMD, sets ELAPSED to its duration in seconds with millisecond precision (e.g. 9.123) and
# returns CMD's status:  time_it "$HOG" 64 1 || fail "hog failed"; metric workload_seconds "$ELAPSED"
ELAPSED=""
time_it() {
    local t0 t1 rc=0
    t0="$(now_ms)"
    "$@" || rc=$?
    t1="$(now_ms)"
    ELAPSED="$(printf '%d.%03d' $(((t1 - t0) / 1000)) $(((t1 - t0) % 1000)))"
    return "$rc"
}

# wait_for_file PATH SECONDS: returns 0 as soon as PATH exists, 1 after SECONDS (may be fractional).
wait_for_file() {
    local path="$1" deadline
    deadline=$(($(now_ms) + $(awk -v s="$2" 'BEGIN { printf "%d", s * 1000 }')))
    until [ -e "$path" ]; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

_swap_active() {
    local dev
    dev="$(readlink -f "$1")"
    awk -v d="$dev" 'NR > 1 && $1 == d { found = 1 } END { exit !found }' /proc/swaps
}

# swap_on DEV: mkswap + swapon DEV, checks it is in /proc/swaps.
swap_on() {
    local dev="$1"
    [ -b "$dev" ] || fail "swap_on: $dev is not a block device"
    mkswap "$dev" >/dev/null || fail "swap_on: mkswap $dev failed"
    swapon "$dev" || fail "swap_on: swapon $dev failed"
    _swap_active "$dev" || fail "swap_on: $dev not in /proc/swaps after swapon"
    log "swap on $dev"
}

# swap_off DEV: swapoff DEV if it is active (so cleanup traps may call it twice), checks it left /proc/swaps.
swap_off() {
    local dev="$1"
    _swap_active "$dev" || return 0
    swapoff "$dev" || fail "swap_off: swapoff $dev failed"
    ! _swap_active "$dev" || fail "swap_off: $dev still in /proc/swaps after swapoff"
    log "swap off $dev"
}

# run_in_cgroup NAME LIMIT CMD...: runs CMD in the cgroup2 memory cgroup /sys/fs/cgroup/NAME with memory.max=LIMIT
# (e.g. 64M) and unlimited swap, so CMD's memory beyond LIMIT is swapped out. Returns CMD's status, sets
# CGROUP_OOM_KILLS from memory.events, removes the cgroup. CMD may be a shell function.
CGROUP_OOM_KILLS=0
run_in_cgroup() {
    local name="$1" limit="$2" cg="/sys/fs/cgroup/$1" rc=0
    shift 2
    grep -qw memory /sys/fs/cgroup/cgroup.subtree_control ||
        echo +memory >/sys/fs/cgroup/cgroup.subtree_control || fail "run_in_cgroup: cannot enable memory controller"
    mkdir -p "$cg" || fail "run_in_cgroup: cannot create $cg"
    echo "$limit" >"$cg/memory.max" || fail "run_in_cgroup: bad limit $limit"
    echo max >"$cg/memory.swap.max"
    (
        echo "$BASHPID" >"$cg/cgroup.procs" || exit 125
        if declare -F "$1" >/dev/null; then "$@"; else exec "$@"; fi
    ) || rc=$?
    CGROUP_OOM_KILLS="$(awk '$1 == "oom_kill" { print $2 }' "$cg/memory.events")"
    [ "${CGROUP_OOM_KILLS:-0}" = 0 ] || log "run_in_cgroup: $name: $CGROUP_OOM_KILLS OOM kill(s)"
    rmdir "$cg" 2>/dev/null || log "run_in_cgroup: $cg not removed (processes left in it?)"
    return "$rc"
}

# cgroup_kill NAME: SIGKILLs every process in cgroup /sys/fs/cgroup/NAME (run_in_cgroup's), if it exists.
cgroup_kill() {
    local procs="/sys/fs/cgroup/$1/cgroup.procs"
    [ ! -f "$procs" ] || xargs -r kill -KILL <"$procs" 2>/dev/null || true
}

# The workload that valet-1-swap, zram-swap and nbd-swap all run, so zz-compare compares like with like:
# LIMIT MIB PASSES for hog_workload (256 MiB written and verified in a 64M memory cgroup: 3/4 of it must swap).
# shellcheck disable=SC2034 # used by the scenarios
COMPARE_WORKLOAD=(64M 256 1)

# hog_workload NAME LIMIT MIB PASSES: the standard swap workload. Runs "$HOG MIB PASSES" in memory cgroup NAME
# limited to LIMIT, records metrics workload_seconds, pswpout_delta and pswpin_delta (each prefixed with
# $HOG_METRIC_PREFIX, empty by default), and fails if hog fails, was OOM-killed, or nothing was swapped out (the swap
# device was not really used). ELAPSED holds the workload's seconds afterwards.
HOG_METRIC_PREFIX=""
hog_workload() {
    local name="$1" limit="$2" mib="$3" passes="$4" out0 in0 out1 in1 rc=0
    [ -x "$HOG" ] || fail "hog_workload: $HOG missing (lab.sh builds it)"
    out0="$(vmstat_get pswpout)"
    in0="$(vmstat_get pswpin)"
    log "hog $mib MiB x $passes passes in cgroup $name (memory.max=$limit)"
    time_it run_in_cgroup "$name" "$limit" "$HOG" "$mib" "$passes" || rc=$?
    out1="$(vmstat_get pswpout)"
    in1="$(vmstat_get pswpin)"
    metric "${HOG_METRIC_PREFIX}workload_seconds" "$ELAPSED"
    metric "${HOG_METRIC_PREFIX}pswpout_delta" $((out1 - out0))
    metric "${HOG_METRIC_PREFIX}pswpin_delta" $((in1 - in0))
    [ "$CGROUP_OOM_KILLS" = 0 ] || fail "hog was OOM-killed ($CGROUP_OOM_KILLS kills)"
    [ "$rc" = 0 ] || fail "hog failed with status $rc"
    [ $((out1 - out0)) -gt 0 ] || fail "no page was swapped out (pswpout did not grow)"
}

# What fails a run when it appears in the guest kernel log. lab.sh reads this very line (one definition for both).
# shellcheck disable=SC2034 # used by the scenarios
KERNEL_BUG_PATTERN='Oops|BUG:|WARNING:|watchdog: BUG: soft lockup|hung_task|blocked for more than|general protection fault|Call Trace|Kernel panic'

# uptime_s: the guest's uptime in seconds (e.g. 123.45), the clock of the kernel log's timestamps.
uptime_s() {
    local up _
    read -r up _ </proc/uptime
    echo "$up"
}

# kernel_log_since UPTIME: the kernel log lines printed at or after UPTIME (seconds, from uptime_s).
kernel_log_since() {
    dmesg 2>/dev/null | awk -v t0="$1" '
        match($0, /^\[ *[0-9]+\.[0-9]+\]/) { if (substr($0, RSTART + 1, RLENGTH - 2) + 0 >= t0 + 0) print }'
}

# Kernel log lines that say a swap I/O on /dev/valet0 failed: the block layer's, the swap code's, the driver's.
# shellcheck disable=SC2034 # used by the scenarios
SWAP_IO_ERROR_PATTERN='I/O error, dev valet0|Write-error on swap-device|Read-error on swap-device|valet0: (request failed|[0-9]+ request\(s\) failed)'

# ratio A B: A / B with two decimals (e.g. a time or IOPS ratio for a benchmark line); fails when B is not positive.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 <= 0) exit 1; printf "%.2f", a / b }' || fail "ratio $1/$2: bad divisor"
}

# conclude LINE: a line lab.sh prints after its summary, as the last words of the run (e.g. compare's ratios).
conclude() {
    echo "$*" >>"$OUT/$SCENARIO.conclusion"
    announce "$*"
}

# announce MESSAGE: a line for the scenario's log that lab.sh also prints live on the host (through the console).
announce() {
    echo "$*"
    echo "vm-scenario: $SCENARIO: $*" >/dev/console 2>/dev/null || true
}
