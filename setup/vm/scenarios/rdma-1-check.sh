#!/bin/bash
# vm-timeout: 420
# vm-seconds: 160
# RDMA write/read/verify: 3 donor processes serve TCP and RDMA on Soft-RoCE; `valet check --transport rdma` (a
# separate process) writes pages by one-sided RDMA WRITE (each batch proven placed by an RDMA READ), reads them
# back by RDMA READ and verifies version and CRC32C of every page. The logs prove RDMA carried them, not TCP.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"
# shellcheck source=../guest/valet.sh
. "$REPO/setup/vm/guest/valet.sh"
# shellcheck source=../guest/rdma.sh
. "$REPO/setup/vm/guest/rdma.sh"
rdma_begin
rdma_start_donors 3 256M
# Software emulation (TCG) is slow: generous timeouts, or live donors look dead.
printf 'auth:\n  secretFile: cluster.secret\nconnectTimeout: 20s\nrequestTimeout: 30s\n' >"$VALET_WORK/valet.yaml"
time_it rdma_valet check --config "$VALET_WORK/valet.yaml" --portal "$VALET_WORK/portal.list" \
    --identity vm-rdma-check --transport rdma \
    --pages 8192 --slab-size 4M --rounds 2 --no-progress >"$VALET_WORK/check.out" 2>"$OUT/$SCENARIO.check.log" ||
    fail "valet check over RDMA failed: $(tail -n 3 "$VALET_WORK/check.out" "$OUT/$SCENARIO.check.log")"
cat "$VALET_WORK/check.out"
line="$(grep '^check:' "$VALET_WORK/check.out")" || fail "no check: line"
[[ "$line" == *" mismatches=0 failed_requests=0 "* ]] || fail "check found problems: $line"
verified="$(sed -E 's/.* verified=([0-9]+) .*/\1/' <<<"$line")"
[ "$verified" -eq 8192 ] || fail "verified $verified pages, expected 8192 (each page in each of 2 rounds)"
# RDMA, really: the client connected each donor over RDMA, and each donor saw an RDMA client.
[ "$(grep -c 'connected over RDMA' "$OUT/$SCENARIO.check.log")" -eq 3 ] ||
    fail "the client did not connect to all 3 donors over RDMA"
for i in 0 1 2; do
    grep -q "RDMA client 'vm-rdma-check' connected" "$OUT/$SCENARIO.donor-$i.log" ||
        fail "donor $i never saw the RDMA client"
    if grep -q "^.*client 'vm-rdma-check' connected from /" "$OUT/$SCENARIO.donor-$i.log"; then
        fail "donor $i saw the client over TCP"
    fi
done
metric rdma_check_pages_verified "$verified"
metric rdma_check_seconds "$ELAPSED"
metric rdma_check_write_pages_per_s "$(sed -E 's/.* write_pages_per_s=([0-9]+).*/\1/' <<<"$line")"
metric rdma_check_read_pages_per_s "$(sed -E 's/.* read_pages_per_s=([0-9]+).*/\1/' <<<"$line")"

# The same donor processes serve TCP too, and `auto` picks RDMA where the donor offers it (logged per donor).
rdma_valet check --config "$VALET_WORK/valet.yaml" --portal "$VALET_WORK/portal.list" --identity vm-tcp-check \
    --transport tcp --pages 1024 --slab-size 4M --no-progress >"$VALET_WORK/check-tcp.out" \
    2>"$OUT/$SCENARIO.check-tcp.log" || fail "valet check over TCP against the same donors failed"
grep -q " mismatches=0 failed_requests=0 " "$VALET_WORK/check-tcp.out" ||
    fail "TCP check: $(cat "$VALET_WORK/check-tcp.out")"
for i in 0 1 2; do
    grep -q "client 'vm-tcp-check' connected from /" "$OUT/$SCENARIO.donor-$i.log" ||
        fail "donor $i did not serve the TCP client"
done
rdma_valet status --config "$VALET_WORK/valet.yaml" --portal "$VALET_WORK/portal.list" --identity vm-auto \
    --transport auto >"$VALET_WORK/status.out" 2>"$OUT/$SCENARIO.status.log" || fail "valet status (auto) failed"
cat "$VALET_WORK/status.out"
# Every donor up, with a heartbeat round trip measured over RDMA (RTT_us, the last column, >= 0).
[ "$(awk 'NR > 1 && $NF ~ /^[0-9]+$/' "$VALET_WORK/status.out" | wc -l)" -eq 3 ] ||
    fail "valet status over RDMA: not 3 donors with a round trip time"
[ "$(grep -c ': transport rdma' "$OUT/$SCENARIO.status.log")" -eq 3 ] ||
    fail "transport auto did not choose RDMA for all 3 donors (see $SCENARIO.status.log)"
metric rdma_auto_chose_rdma 3
