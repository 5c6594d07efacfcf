#!/bin/bash
# vm-timeout: 600
# vm-seconds: 220
# vm-all: no
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
# bench NAME TRANSPORT: one `valet bench` run into $VALET_WORK/bench-NAME.json (VALET_JAR picks the build).
bench() {
    rdma_valet bench --transport "$2" --donor-host "$RDMA_IP" --donors 2 --donor-memory 64M --span 8M \
        --slab-size 4M --patterns rand --io write,read --depths 1,16 --replicas 1 --ops 1500 --warmup-ops 150 \
        --seconds 8 \
        --connect-timeout 30s --no-reference --no-progress --json "$VALET_WORK/bench-$1.json" \
        >"$VALET_WORK/bench-$1.out" 2>"$OUT/$SCENARIO.bench-$1.log" ||
        fail "valet bench --transport $2 ($1) failed: $(tail -n 5 "$OUT/$SCENARIO.bench-$1.log")"
    cat "$VALET_WORK/bench-$1.out"
}
# With VALET_COMPARE_REF=REV (lab.sh builds that commit's jar), the reference build's RDMA bench runs first, beside
# this checkout's: the bench-ref line gives this build's ops/s over the reference's, case by case.
names=(rdma tcp)
if [ -n "${VALET_COMPARE_REF:-}" ]; then
    ref_jar="$REPO/target/vm/ref/valet.jar"
    [ -f "$ref_jar" ] || fail "VALET_COMPARE_REF=$VALET_COMPARE_REF but no $ref_jar (lab.sh builds it)"
    VALET_JAR="$ref_jar" bench ref rdma
    names=(ref rdma tcp)
fi
bench rdma rdma
bench tcp tcp
grep -q "transport rdma\|connected over RDMA" "$OUT/$SCENARIO.bench-rdma.log" || fail "the rdma bench did not use RDMA"
if grep -q "connected over RDMA" "$OUT/$SCENARIO.bench-tcp.log"; then fail "the tcp bench used RDMA"; fi
# One metric per transport and case: ops/s, p50 and p99 in microseconds, heap bytes allocated per operation.
python3 - "$VALET_WORK" "${names[@]}" <<'PY' >"$VALET_WORK/metrics.txt"
import json, sys
for t in sys.argv[2:]:
    with open(f"{sys.argv[1]}/bench-{t}.json") as f:
        doc = json.load(f)
    for c in doc["cases"]:
        key = f"bench_{t}_{c['pattern']}_{c['op']}_d{c['depth']}"
        print(f"{key}_ops_per_s {c['opsPerSecond']:.0f}")
        print(f"{key}_p50_us {c['p50Us']}")
        print(f"{key}_p99_us {c['p99Us']}")
        print(f"{key}_alloc_b_per_op {c['allocated_bytes_per_op']:.0f}")
        if c["errors"]:
            print(f"{key}_errors {c['errors']}")
PY
[ -s "$VALET_WORK/metrics.txt" ] || fail "no bench results"
while read -r key value; do
    metric "$key" "$value"
done <"$VALET_WORK/metrics.txt"
if grep -q "_errors " "$VALET_WORK/metrics.txt"; then fail "bench requests failed"; fi
echo "run        op     depth  ops/s    p50_us  p99_us  alloc_B/op  rdma_thread_alloc_B/op"
python3 - "$VALET_WORK" "${names[@]}" <<'PY'
import json, sys
for t in sys.argv[2:]:
    with open(f"{sys.argv[1]}/bench-{t}.json") as f:
        for c in json.load(f)["cases"]:
            agent = sum(g["allocated_bytes_per_op"] for g in c["costs"]["threads"] if g["group"] == "valet-rdma")
            print(f"{t:9}  {c['op']:5}  {c['depth']:5}  {c['opsPerSecond']:7.0f}  {c['p50Us']:6}  {c['p99Us']:6}"
                  f"  {c['allocated_bytes_per_op']:10.0f}  {agent:22.0f}")
PY
if [ -n "${VALET_COMPARE_REF:-}" ]; then
    conclude "bench-ref: ref=$VALET_COMPARE_REF $(python3 - "$VALET_WORK" <<'PY'
import json, sys
def cases(name):
    with open(f"{sys.argv[1]}/bench-{name}.json") as f:
        return {(c["op"], c["depth"]): c["opsPerSecond"] for c in json.load(f)["cases"]}
new, ref = cases("rdma"), cases("ref")
print(" ".join(f"rdma_{op}_d{d}_over_ref={new[(op, d)] / ref[(op, d)]:.2f}" for (op, d) in sorted(new)))
PY
)"
fi
