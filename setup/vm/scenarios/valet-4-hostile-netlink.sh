#!/bin/bash
# vm-timeout: 900
# vm-seconds: 210
# Scenario 4: malformed and unauthorized netlink messages from a process that is not the daemon, while the daemon
# serves a swap workload: every one is rejected, the workload still verifies, and the kernel log stays clean
# (lab.sh fails the run on any oops, warning or lockup).
set -euo pipefail
. "$REPO/setup/vm/guest/lib.sh"
. "$REPO/setup/vm/guest/valet.sh"
trap valet_cleanup EXIT

probe="$REPO/native/kernel/tools/valet-nlprobe"
[ -x "$probe" ] || fail "$probe missing: build on the host first (make -C native/kernel tools)"
valet_start_stack
run_probe() {
    "$probe" >"$OUT/$SCENARIO.probe.log" 2>&1
    echo $? >"$VALET_WORK/probe.rc"
}
valet_after_swapout 2000 run_probe
prober=$VALET_BG_PID
hog_workload hog-valet-hostile 32M 128 1
wait "$prober" || true
rc="$(cat "$VALET_WORK/probe.rc" 2>/dev/null || echo missing)"
[ "$rc" = 0 ] || fail "valet-nlprobe: some hostile message was accepted (status $rc, see $SCENARIO.probe.log)"
metric probe_cases "$(grep -c '' "$OUT/$SCENARIO.probe.log")"
