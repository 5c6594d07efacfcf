#!/bin/bash
# vm-timeout: 300
# A donor SIGKILLed mid-workload over RDMA: `valet demo --transport rdma` starts 3 donor processes (each serving
# RDMA on Soft-RoCE), writes a working set through the engine with 2 copies of every slab, SIGKILLs one donor
# half-way, carries on, waits for re-replication, then reads and verifies every page: lost=0 or the scenario fails.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"
# shellcheck source=../guest/valet.sh
. "$REPO/setup/vm/guest/valet.sh"
# shellcheck source=../guest/rdma.sh
. "$REPO/setup/vm/guest/rdma.sh"
rdma_begin
time_it rdma_valet demo --transport rdma --donor-host "$RDMA_IP" --working-set 48M --donors 3 \
    --donor-memory 128M --slab-size 4M --request-timeout 30s --donor-timeout 15s --no-progress \
    >"$VALET_WORK/demo.out" 2>"$OUT/$SCENARIO.demo.log" ||
    fail "valet demo over RDMA failed: $(tail -n 5 "$VALET_WORK/demo.out" "$OUT/$SCENARIO.demo.log")"
cat "$VALET_WORK/demo.out"
line="$(grep '^demo:' "$VALET_WORK/demo.out")" || fail "no demo: line"
[[ "$line" == *" lost=0 "* ]] || fail "pages lost: $line"
grep -q "^restored:" "$OUT/$SCENARIO.demo.log" || fail "re-replication did not restore every copy"
[ "$(grep -c 'connected over RDMA' "$OUT/$SCENARIO.demo.log")" -ge 3 ] ||
    fail "the engine did not reach the 3 donors over RDMA"
grep -q "is dead" "$OUT/$SCENARIO.demo.log" || fail "the engine never noticed the killed donor"
metric rdma_demo_pages_verified "$(sed -E 's/.* verified=([0-9]+) .*/\1/' <<<"$line")"
metric rdma_demo_lost "$(sed -E 's/.* lost=([0-9]+) .*/\1/' <<<"$line")"
metric rdma_demo_seconds "$ELAPSED"
