#!/bin/bash
# vm-timeout: 600
# vm-seconds: 210
# `valet bench` over RDMA and over TCP in the same VM run (same Soft-RoCE host, same sizes): ops/s, p50 and p99 of
# single-page engine reads and writes for each transport, as metrics (docs/benchmarks.md records them). TCG
# emulates the CPU, so compare the two transports with each other, never with real hardware.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"
# shellcheck source=../guest/valet.sh
. "$REPO/setup/vm/guest/valet.sh"
# shellcheck source=../guest/rdma.sh
. "$REPO/setup/vm/guest/rdma.sh"
rdma_begin
for transport in rdma tcp; do
    rdma_valet bench --transport "$transport" --donor-host "$RDMA_IP" --donors 2 --donor-memory 64M --span 8M \
        --slab-size 4M --patterns rand --io write,read --depths 1,16 --replicas 1 --ops 1500 --warmup-ops 150 \
        --seconds 8 \
        --connect-timeout 30s --no-reference --no-progress --json "$VALET_WORK/bench-$transport.json" \
        >"$VALET_WORK/bench-$transport.out" 2>"$OUT/$SCENARIO.bench-$transport.log" ||
        fail "valet bench --transport $transport failed: $(tail -n 5 "$OUT/$SCENARIO.bench-$transport.log")"
    cat "$VALET_WORK/bench-$transport.out"
done
grep -q "transport rdma\|connected over RDMA" "$OUT/$SCENARIO.bench-rdma.log" || fail "the rdma bench did not use RDMA"
if grep -q "connected over RDMA" "$OUT/$SCENARIO.bench-tcp.log"; then fail "the tcp bench used RDMA"; fi
# One metric per transport and case: ops/s, p50 and p99 in microseconds.
python3 - "$VALET_WORK" <<'PY' >"$VALET_WORK/metrics.txt"
import json, sys
for t in ("rdma", "tcp"):
    with open(f"{sys.argv[1]}/bench-{t}.json") as f:
        doc = json.load(f)
    for c in doc["cases"]:
        key = f"bench_{t}_{c['pattern']}_{c['op']}_d{c['depth']}"
        print(f"{key}_ops_per_s {c['opsPerSecond']:.0f}")
        print(f"{key}_p50_us {c['p50Us']}")
        print(f"{key}_p99_us {c['p99Us']}")
        if c["errors"]:
            print(f"{key}_errors {c['errors']}")
PY
[ -s "$VALET_WORK/metrics.txt" ] || fail "no bench results"
while read -r key value; do
    metric "$key" "$value"
done <"$VALET_WORK/metrics.txt"
if grep -q "_errors " "$VALET_WORK/metrics.txt"; then fail "bench requests failed"; fi
echo "transport  op     depth  ops/s    p50_us  p99_us"
python3 - "$VALET_WORK" <<'PY'
import json, sys
for t in ("rdma", "tcp"):
    with open(f"{sys.argv[1]}/bench-{t}.json") as f:
        for c in json.load(f)["cases"]:
            print(f"{t:9}  {c['op']:5}  {c['depth']:5}  {c['opsPerSecond']:7.0f}  {c['p50Us']:6}  {c['p99Us']:6}")
PY
