#!/bin/bash
# vm-timeout: 600
# vm-seconds: 240
# vm-all: no
# How long a Valet JVM takes to start here, with and without the class archives the host made (setup/vm/cds.sh):
# one donor at a time, started until it listens, twice each way. A measurement, not a test of Valet (not in `all`).
set -euo pipefail
. "$REPO/setup/vm/guest/lib.sh"
. "$REPO/setup/vm/guest/valet.sh"
trap valet_cleanup EXIT

valet_work
[ -f "$REPO/target/vm/cds/donor.jsa" ] || fail "no class archive: lab.sh makes it (setup/vm/cds.sh)"
with_cds=("${VALET_DONOR_JVM[@]}")
without_cds=()
for f in "${VALET_DONOR_JVM[@]}"; do [[ "$f" == -XX:SharedArchiveFile=* || "$f" == -Xlog:cds* ]] || without_cds+=("$f"); done
echo 1 >"$VALET_WORK/portal.list"
VALET_DONOR_MEMORY=64M
for round in 1 2; do
    for mode in without with; do
        if [ "$mode" = with ]; then VALET_DONOR_JVM=("${with_cds[@]}"); else VALET_DONOR_JVM=("${without_cds[@]}"); fi
        t0="$(now_ms)"
        valet_start_donor 0
        valet_wait_donor 0
        secs="$(awk -v a="$t0" -v b="$(now_ms)" 'BEGIN { printf "%.2f", (b - a) / 1000 }')"
        log "donor start $mode class archive, round $round: ${secs}s"
        metric "donor_start_${mode}_cds_r${round}_seconds" "$secs"
        kill "${VALET_DONOR_PIDS[0]}"
        wait "${VALET_DONOR_PIDS[0]}" || true
    done
done
