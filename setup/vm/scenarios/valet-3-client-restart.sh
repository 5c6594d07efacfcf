#!/bin/bash
# vm-timeout: 900
# vm-seconds: 250
# vm-kernels: all
# Scenario 3: SIGKILL the client daemon during the workload and start it again. The driver holds the requests in
# flight (not failed, not zero-filled) and re-sends them to the new daemon, which recovers its slab map from the
# donors; hog must verify every page.
set -euo pipefail
. "$REPO/setup/vm/guest/lib.sh"
. "$REPO/setup/vm/guest/valet.sh"
trap valet_cleanup EXIT

valet_start_stack
valet_after_swapout 4000 valet_restart_client
restarter=$VALET_BG_PID
hog_workload hog-valet-restart 32M 128 1
wait "$restarter" || fail "the client could not be restarted"
valet_restarted_client
grep -q "recovered .* slabs" "$OUT/$SCENARIO.client.log" || fail "the restarted client did not recover its slabs"
