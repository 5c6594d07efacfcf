#!/bin/bash
# vm-timeout: 300
# vm-seconds: 145
# A donor whose host needs its memory back, over RDMA: `valet demo --transport rdma --evict` starts 3 donor processes
# (each serving RDMA on Soft-RoCE, reading its free memory from a file: the donor's --meminfo-file test hook), writes
# a working set with 2 copies of every slab, makes one donor's host short of memory half-way, carries on, and waits
# until that donor holds no slab: its EVICTs travel over the RDMA control channel, the engine moves each slab and
# answers over it. Then every page is read and verified: lost=0, or the scenario fails.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"
# shellcheck source=../guest/valet.sh
. "$REPO/setup/vm/guest/valet.sh"
# shellcheck source=../guest/rdma.sh
. "$REPO/setup/vm/guest/rdma.sh"
rdma_begin
rdma_demo --evict
grep -q "evicts slab" "$OUT/$SCENARIO.demo.log" || fail "the engine got no EVICT"
moved="$(sed -nE 's/^evicted: donor .* holds no slab \(([0-9]+) moved\)$/\1/p' "$OUT/$SCENARIO.demo.log")"
[[ "$moved" =~ ^[1-9][0-9]*$ ]] || fail "the donor short of memory was not emptied by EVICTs over RDMA"
metric rdma_evict_pages_verified "$(demo_field verified)"
metric rdma_evict_lost "$(demo_field lost)"
metric rdma_evict_slabs_moved "$moved"
metric rdma_evict_seconds "$ELAPSED"
