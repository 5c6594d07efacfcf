#!/bin/bash
# vm-timeout: 1500
# vm-seconds: 250
# Scenario 5: the host tier (hostTier, 32M) holding dirty pages through both crashes it must survive. During the
# standard workload every donor is frozen (SIGSTOP), so the tier's write-back cannot finish and the pages swapped out
# meanwhile are acknowledged from the tier alone; then donor 0 is SIGKILLed and the client daemon too. The other
# donors thaw, the client starts again: it must find the dirty pages in the driver's tier area, serve them from the
# tier and write them to the donors first, and hog must verify every page. hog's read pass swaps in sequentially: the
# prefetcher must have read pages ahead that were then used.
set -euo pipefail
. "$REPO/setup/vm/guest/lib.sh"
. "$REPO/setup/vm/guest/valet.sh"
trap valet_cleanup EXIT

export VALET_HOST_TIER=32M
# The driver holds I/O through the restart: a new JVM under TCG that recovers its slab map from donors busy with
# the backlog of their freeze (95-125 s measured here; the tier's write-out no longer adds to it).
export VALET_HOLD_TIMEOUT=600s
valet_start_stack
crash_with_dirty_pages() {
    local p start deadline
    log "SIGSTOP every donor: the tier's write-back stalls, swap-outs stay dirty in the tier"
    for p in "${VALET_DONOR_PIDS[@]}"; do kill -STOP "$p"; done
    start="$(vmstat_get pswpout)"
    deadline=$(($(now_ms) + 60000))
    while [ $(($(vmstat_get pswpout) - start)) -lt 1000 ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.2; done
    log "$(($(vmstat_get pswpout) - start)) pages swapped out while the donors were frozen"
    log "SIGKILL donor 0 (pid ${VALET_DONOR_PIDS[0]})"
    kill -KILL "${VALET_DONOR_PIDS[0]}"
    valet_restart_client kill -CONT "${VALET_DONOR_PIDS[1]}" "${VALET_DONOR_PIDS[2]}"
}
valet_after_swapout 4000 crash_with_dirty_pages
crasher=$VALET_BG_PID
hog_workload hog-valet-tier 32M 128 1
wait "$crasher" || fail "the crash and restart did not complete"
valet_restarted_client
recovered="$(grep -o 'the [0-9]* recovered pages are on the donors' "$OUT/$SCENARIO.client.log" | grep -o '[0-9]*' |
    tail -1 || true)"
metric tier_recovered_dirty "${recovered:-0}"
[ "${recovered:-0}" -gt 0 ] || fail "the restarted client found no dirty page in the tier to write to the donors"
swap_off "$VALET_DEV" # before the client stops, which logs the tier's counters
valet_stop "$VALET_CLIENT_PID"
VALET_CLIENT_PID=""
for k in hits misses prefetched prefetch_used hit_rate; do metric "tier_$k" "$(valet_tier_stat "$k")"; done
[ "$(valet_tier_stat prefetch_used)" -gt 0 ] || fail "no page read ahead into the tier was used (sequential swap-in)"
