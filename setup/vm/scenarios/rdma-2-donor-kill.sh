#!/bin/bash
# vm-timeout: 300
# vm-seconds: 130
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
rdma_demo --kill
grep -q "^restored:" "$OUT/$SCENARIO.demo.log" || fail "re-replication did not restore every copy"
grep -qE "is (dead|suspected)" "$OUT/$SCENARIO.demo.log" || fail "the engine never noticed the killed donor"
metric rdma_demo_pages_verified "$(demo_field verified)"
metric rdma_demo_lost "$(demo_field lost)"
metric rdma_demo_seconds "$ELAPSED"
