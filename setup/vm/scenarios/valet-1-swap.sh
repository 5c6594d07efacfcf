#!/bin/bash
# vm-timeout: 900
# vm-seconds: 330
# Scenario 1: plain swap to /dev/valet0 with 3 donors, numReplica 2: the comparison workload (COMPARE_WORKLOAD in
# guest/lib.sh: hog writes and verifies 256 MiB in a 64M memory cgroup) on a 512M swap space; pages must really go
# out (pswpout) through the driver to the donors.
set -euo pipefail
. "$REPO/setup/vm/guest/lib.sh"
. "$REPO/setup/vm/guest/valet.sh"
trap valet_cleanup EXIT

valet_start_stack 512M
hog_workload hog-valet "${COMPARE_WORKLOAD[@]}"
# One `valet status` (a JVM start: tens of seconds under TCG) for the log and the count of donors lending.
status="$(valet_status || true)"
echo "$status"
grep -q "must prove the cluster secret" "$OUT/$SCENARIO.donor-0.log" || fail "the donors did not require the secret"
lent=$(awk 'NR > 1 && $3 != "0" { n++ } END { print n + 0 }' <<<"$status")
metric donors_lending "$lent"
[ "$lent" -ge 2 ] || fail "pages should be on at least 2 donors, found $lent lending"
# The driver's own counters: requests it completed, none failed.
"$REPO/native/kernel/tools/valet-nlprobe" status | tee "$VALET_WORK/driver-status.txt"
