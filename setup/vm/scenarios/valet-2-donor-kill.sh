#!/bin/bash
# vm-timeout: 900
# vm-seconds: 200
# vm-kernels: all
# Scenario 2: SIGKILL one donor during the workload. numReplica 2: every page keeps a copy, re-replication restores
# the second; hog must still verify every page.
set -euo pipefail
. "$REPO/setup/vm/guest/lib.sh"
. "$REPO/setup/vm/guest/valet.sh"
trap valet_cleanup EXIT

valet_start_stack
kill_donor0() {
    log "SIGKILL donor 0 (pid ${VALET_DONOR_PIDS[0]})"
    kill -KILL "${VALET_DONOR_PIDS[0]}"
}
valet_after_swapout 4000 kill_donor0
killer=$VALET_BG_PID
hog_workload hog-valet-kill 32M 128 1
wait "$killer" || true
grep -q "is dead" "$OUT/$SCENARIO.client.log" || fail "the client never noticed the killed donor"
metric re_replicated_slabs "$(grep -c 'new copy on .* complete' "$OUT/$SCENARIO.client.log" || true)"
