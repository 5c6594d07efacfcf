#!/bin/bash
# vm-timeout: 300
# vm-seconds: 175
# A donor SIGKILLed mid-workload over RDMA, with page encryption: `valet demo --transport rdma --encryption
# aes-256-gcm` starts 3 donor processes (each serving RDMA on Soft-RoCE), writes a working set through the engine
# with 2 copies of every slab (ciphertext and tags in the one-sided writes), SIGKILLs one donor half-way, carries on,
# waits for re-replication (copies made from the donors' ciphertext), then reads, authenticates and verifies every
# page: lost=0 or the scenario fails.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"
# shellcheck source=../guest/valet.sh
. "$REPO/setup/vm/guest/valet.sh"
# shellcheck source=../guest/rdma.sh
. "$REPO/setup/vm/guest/rdma.sh"
rdma_begin
rdma_demo --kill --encryption aes-256-gcm
grep -q "encryption: aes-256-gcm" "$OUT/$SCENARIO.demo.log" || fail "the demo did not encrypt its pages"
grep -q "^restored:" "$OUT/$SCENARIO.demo.log" || fail "re-replication did not restore every copy"
grep -qE "is (dead|suspected)" "$OUT/$SCENARIO.demo.log" || fail "the engine never noticed the killed donor"
metric rdma_demo_pages_verified "$(demo_field verified)"
metric rdma_demo_lost "$(demo_field lost)"
metric rdma_demo_seconds "$ELAPSED"
