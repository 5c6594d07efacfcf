#!/bin/bash
# vm-timeout: 600
# vm-seconds: 220
# A fault that outlasts device.holdTimeout must fail clearly, not hang and not lose pages silently. The standard swap
# stack with holdTimeout 15s (no backup disk, no host tier); every donor SIGSTOPped for twice that during a swap workload. It
# passes only if the workload sees the failure (hog dies, or the kernel logs a swap I/O error on /dev/valet0), the
# client logs a "held request failed after" line naming what was missing, the kernel log has no splat, and after
# SIGCONT the same stack serves a new swap workload.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"
# shellcheck source=../guest/valet.sh
. "$REPO/setup/vm/guest/valet.sh"
# shellcheck source=../guest/faults.sh
. "$REPO/setup/vm/guest/faults.sh"

hold_s=15
stop_s=$((2 * hold_s))
cleanup() {
    faults_cleanup
    cgroup_kill outlast-hog
    (valet_cleanup) || true
    faults_teardown
}
trap cleanup EXIT

t_start="$(uptime_s)"
# The engine's own path: with the host tier (64M by default) this 48 MiB workload would be acknowledged and read
# back from the tier, and the freeze would rightly go unnoticed (valet-5-tier-crash freezes donors under the tier).
VALET_HOST_TIER=0
VALET_HOLD_TIMEOUT="${hold_s}s"
VALET_IO_TIMEOUT=10s # the driver's own limit (ioTimeout + holdTimeout) stays under the hung-task watchdog's 180 s
valet_start_stack

# hog in the background; every donor frozen for 2 x holdTimeout once it really swaps.
: >"$FAULTS_LOG"
run_in_cgroup outlast-hog 16M "$HOG" 48 1 >"$OUT/$SCENARIO.hog.log" 2>&1 &
hog_pid=$!
out0="$(vmstat_get pswpout)"
for ((i = 0; i < 900; i++)); do
    [ $(($(vmstat_get pswpout) - out0)) -lt 1000 ] || break
    valet_alive "$hog_pid" || break
    sleep 0.2
done
[ $(($(vmstat_get pswpout) - out0)) -ge 1000 ] || fail "the workload swapped out under 1000 pages before the fault"
fault_run 1 1 all-stop - "$stop_s" -

# The workload ends (it may fail: that is the point), within the driver's limits and then some.
hog_rc=0
_valet_wait_gone "$hog_pid" 240 || fail "hog still runs 240s after the donors came back (a hang, not a failure)"
wait "$hog_pid" || hog_rc=$?
log "first hog: status $hog_rc: $(tail -n 1 "$OUT/$SCENARIO.hog.log")"
kernel_log_since "$t_start" >"$PWD/kernel.log"
io_lines="$(grep -cE "$SWAP_IO_ERROR_PATTERN" "$PWD/kernel.log" || true)"
grep -E "$SWAP_IO_ERROR_PATTERN" "$PWD/kernel.log" | head -n 5 || true
metric hog_status "$hog_rc"
metric kernel_io_error_lines "$io_lines"
if grep -q 'bad_pages=[1-9]' "$OUT/$SCENARIO.hog.log"; then
    fail "hog read wrong data (bad_pages) instead of an I/O error: $(grep -m 1 'bad_pages=' "$OUT/$SCENARIO.hog.log")"
fi
[ "$hog_rc" != 0 ] || [ "$io_lines" -gt 0 ] ||
    fail "a ${stop_s}s freeze of every donor (holdTimeout ${hold_s}s) went unnoticed: hog passed, no swap I/O error"

held_line="$(grep -m 1 'held request failed after' "$OUT/$SCENARIO.client.log" || true)"
metric held_failed_lines "$(grep -c 'held request failed after' "$OUT/$SCENARIO.client.log" || true)"
[ -n "$held_line" ] || fail "the client logged no 'held request failed after' line"
log "client: ${held_line#*held request failed after}"
# What was missing: the line must go on after the duration and say which donors, copies or replicas it lacked.
missing_re='[0-9].*[[:space:]].*(donor|cop|replica|[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+:[0-9]+)'
[[ "${held_line#*held request failed after}" =~ $missing_re ]] ||
    fail "the held-request failure does not say what was missing: $held_line"
splats="$(grep -cE "$KERNEL_BUG_PATTERN" "$PWD/kernel.log" || true)"
metric kernel_splats "$splats"
[ "$splats" = 0 ] || fail "kernel splat: $(grep -m 1 -E "$KERNEL_BUG_PATTERN" "$PWD/kernel.log")"

# The donors are back: the same stack swaps again, and every page verifies. The cgroup is twice device.dataArea
# (8M), as docs/configuration.md asks: in an 8M cgroup the whole cgroup could be under writeback to the client at
# once (the area alone holds 8M), and when no writeback completed for about 1.6 s (memcg reclaim's 16 rounds of
# 100 ms; the client, busy resyncing under TCG, answered 512 KiB requests that slowly) the kernel OOM-killed the
# workload: 2 of 4 runs with kernel channel version 2.
valet_alive "$VALET_CLIENT_PID" || fail "the client died"
hog_workload outlast-after 16M 32 1
if kernel_log_since "$t_start" | grep -E "$KERNEL_BUG_PATTERN" >/dev/null; then
    fail "kernel splat after recovery: $(kernel_log_since "$t_start" | grep -m 1 -E "$KERNEL_BUG_PATTERN")"
fi
announce "chaos-outlast: hold_timeout=${hold_s}s stopped=${stop_s}s hog_status=$hog_rc" \
    "kernel_io_error_lines=$io_lines recovered=1"
