#!/usr/bin/env bash
# The NBD front end against nbdkit, on this machine (a benchmark, not a test of speed: docs/benchmarks.md).
#
#   setup/bench-nbd.sh [--seconds N] [--rounds N] [--warmup N] [--size SIZE] [--client-yaml FILE] [--keep DIR]
#
# Starts 3 donor processes on loopback, two client daemons serving NBD exports on unix sockets (`valet client
# --nbd`: one with 1 copy of every slab, one with 2), and `nbdkit memory` on a third socket, all at once. Each
# export is filled once (fio, 256 KiB sequential writes over --size), every case runs once unmeasured on each Valet
# export (--warmup seconds: the JIT compiles the paths), then fio's nbd engine (libnbd, one connection)
# runs 4 KiB random I/O for --seconds per run: read and write at queue depth 32, read at queue depth 1 (write at
# queue depth 32 for the 2-copy export). Every case runs on every export in turn, --rounds times, the order of the
# exports alternating, so both sides see the same machine. Then a short verified run (fio crc32c, every block read
# back) on each Valet export. Prints per case and export the IOPS (sum over the rounds) and the CPU each server
# took per operation (the client daemon and the donors for Valet, nbdkit's for nbdkit), and last:
#   nbd-compare: qd32_read_r1_over_nbdkit=A qd32_write_r1_over_nbdkit=B qd1_read_r1_over_nbdkit=C qd32_write_r2_over_nbdkit=D
# (IOPS ratios, higher is better). Run one benchmark at a time, with nothing else heavy on the machine.
#
# --seconds: per fio run (default 10); --rounds: default 2; --warmup: default 5; --size: the part of each export used (default 256M);
# --client-yaml FILE: more valet.yaml keys for both clients (appended to theirs, e.g. an nbd: section to try
# nbd.maxRequestBytes); --keep DIR: work in DIR and keep its logs (default: a temporary folder, removed).
# Needs fio with its nbd engine, nbdkit, java; builds the jar when needed (bin/valet). Exit 1 on any error.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STEP=bench-nbd
# shellcheck source-path=SCRIPTDIR source=step-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/step-lib.sh"

seconds=10 rounds=2 size=256M warmup=5 work="" client_yaml=""
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) [ $# -ge 2 ] || { usage >&2; exit 2; }; seconds="$2"; shift 2 ;;
        --rounds) [ $# -ge 2 ] || { usage >&2; exit 2; }; rounds="$2"; shift 2 ;;
        --size) [ $# -ge 2 ] || { usage >&2; exit 2; }; size="$2"; shift 2 ;;
        --warmup) [ $# -ge 2 ] || { usage >&2; exit 2; }; warmup="$2"; shift 2 ;;
        --keep) [ $# -ge 2 ] || { usage >&2; exit 2; }; work="$2"; shift 2 ;;
        --client-yaml) [ $# -ge 2 ] || { usage >&2; exit 2; }; client_yaml="$2"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || die "--seconds wants a whole number of seconds, got '$seconds'"
[[ "$warmup" =~ ^[1-9][0-9]*$ ]] || die "--warmup wants a whole number of seconds, got '$warmup'"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a whole number, got '$rounds'"
[[ "$size" =~ ^[1-9][0-9]*[MG]$ ]] || die "--size wants a size such as 256M or 1G, got '$size'"
[ -z "$client_yaml" ] || [ -r "$client_yaml" ] || die "--client-yaml $client_yaml cannot be read"
command -v nbdkit >/dev/null || die "nbdkit is missing (setup/install-deps.sh installs it)"
fio --enghelp 2>/dev/null | grep -qx '[[:space:]]*nbd' || die "fio has no nbd engine (setup/install-deps.sh)"

"$root/bin/valet" --version >/dev/null # builds the jar when the sources are newer
jar="${VALET_JAR:-$root/valet-cli/target/valet.jar}"
keep=1
if [ -z "$work" ]; then
    work="$(mktemp -d /tmp/valet-bench-nbd.XXXXXX)"
    keep=0
fi
mkdir -p "$work"
rm -f "$work"/*.ready "$work"/*.sock
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    [ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

# wait_ready FILE PID WHAT: waits up to 120 s for FILE, failing early if PID exits.
wait_ready() {
    local deadline=$((SECONDS + 120))
    until [ -s "$1" ]; do
        kill -0 "$2" 2>/dev/null || die "$3 exited before it was ready (see $work)"
        [ "$SECONDS" -lt "$deadline" ] || die "$3 not ready after 120 s (see $work)"
        sleep 0.2
    done
}

(umask 077 && head -c 32 /dev/urandom >"$work/cluster.secret")
echo 3 >"$work/portal.list"
donors=()
for i in 0 1 2; do
    java -Xms256m -Xmx256m -jar "$jar" donor --listen 127.0.0.1:0 --memory 2G --no-lock-memory \
        --secret-file "$work/cluster.secret" --ready-file "$work/donor-$i.ready" >"$work/donor-$i.log" 2>&1 &
    pids+=($!) donors+=($!)
done
for i in 0 1 2; do
    wait_ready "$work/donor-$i.ready" "${donors[i]}" "donor $i"
    cat "$work/donor-$i.ready" >>"$work/portal.list"
done
say "3 donors on $(tail -n 3 "$work/portal.list" | paste -sd ' ')"

declare -A server=()
for copies in 1 2; do
    cat >"$work/r$copies.yaml" <<YAML
identity: bench-nbd-r$copies
portalList: portal.list
auth:
  secretFile: cluster.secret
swapSpace: 1G
slabSize: 64M
placement:
  numReplica: $copies
  serverSelectNum: 3
control:
  socket: ""
YAML
    [ -z "$client_yaml" ] || cat "$client_yaml" >>"$work/r$copies.yaml"
    VALET_NO_BUILD=1 "$root/bin/valet" client --config "$work/r$copies.yaml" --nbd "unix:$work/r$copies.sock" \
        --ready-file "$work/r$copies.ready" >"$work/r$copies.log" 2>&1 &
    pids+=($!) server[r$copies]=$!
    wait_ready "$work/r$copies.ready" "$!" "valet client (r$copies)"
done
nbdkit --foreground -U "$work/nbdkit.sock" memory 1G >"$work/nbdkit.log" 2>&1 &
pids+=($!) server[nbdkit]=$!
until [ -S "$work/nbdkit.sock" ]; do
    kill -0 "${server[nbdkit]}" 2>/dev/null || die "nbdkit exited (see $work/nbdkit.log)"
    sleep 0.1
done
say "exports: nbdkit memory, valet 1 copy, valet 2 copies (unix sockets in $work)"

uri() { echo "nbd+unix:///?socket=$work/$1.sock"; }

# ticks PIDS...: user + system clock ticks so far of the processes.
ticks() {
    local p n=0
    for p in "$@"; do n=$((n + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
    echo "$n"
}
# server_pids EXPORT: the processes that serve EXPORT (a Valet client's donors serve it too).
server_pids() {
    case "$1" in
        nbdkit) echo "${server[nbdkit]}" ;;
        *) echo "${server[$1]} ${donors[*]}" ;;
    esac
}

declare -A iops=() cpu_ticks=() ops=()
hz="$(getconf CLK_TCK)"

# rw_of CASE, depth_of CASE: fio's --rw and --iodepth of CASE (qd32_read, qd32_write, qd1_read).
rw_of() { [[ "$1" == *_read ]] && echo randread || echo randwrite; }
depth_of() { local d="${1%%_*}"; echo "${d#qd}"; }

# fio_run EXPORT CASE: one measured run; adds to iops[], ops[], cpu_ticks[].
fio_run() {
    local export="$1" case="$2" rw depth out t0 t1 n
    rw="$(rw_of "$case")" depth="$(depth_of "$case")"
    # shellcheck disable=SC2046 # the pids, one word each
    t0="$(ticks $(server_pids "$export"))"
    out="$(fio --name="$case-$export" --ioengine=nbd --uri="$(uri "$export")" --rw="$rw" --bs=4k --size="$size" \
        --iodepth="$depth" --runtime="$seconds" --time_based --output-format=terse --terse-version=3 \
        2>>"$work/fio.log")" || die "fio $case on $export failed (see $work/fio.log)"
    # shellcheck disable=SC2046
    t1="$(ticks $(server_pids "$export"))"
    # terse v3: field 5 error, 8 read IOPS, 49 write IOPS
    n="$(awk -F';' 'NF > 100 && $5 == 0 { print $8 + $49; ok = 1 } END { exit !ok }' <<<"$out")" ||
        die "fio $case on $export: no result line"
    iops[$case.$export]=$((${iops[$case.$export]:-0} + n))
    ops[$case.$export]=$((${ops[$case.$export]:-0} + n * seconds))
    cpu_ticks[$case.$export]=$((${cpu_ticks[$case.$export]:-0} + t1 - t0))
}

cases=(qd32_read:nbdkit,r1 qd32_write:nbdkit,r1,r2 qd1_read:nbdkit,r1)
for export in nbdkit r1 r2; do
    fio --name="fill-$export" --ioengine=nbd --uri="$(uri "$export")" --rw=write --bs=256k --size="$size" \
        --iodepth=8 --output-format=terse --terse-version=3 >/dev/null 2>>"$work/fio.log" ||
        die "filling $export failed (see $work/fio.log)"
done
say "filled $size of each export"
# Unmeasured: every case once on each Valet export, so the JIT has compiled every path before anything counts.
for c in "${cases[@]}"; do
    for export in r1 r2; do
        fio --name="warmup-$export" --ioengine=nbd --uri="$(uri "$export")" --rw="$(rw_of "${c%%:*}")" --bs=4k \
            --size="$size" --iodepth="$(depth_of "${c%%:*}")" --runtime="$warmup" --time_based >/dev/null \
            2>>"$work/fio.log" || die "warm-up on $export failed (see $work/fio.log)"
    done
done
say "warmed up (${warmup}s per case and Valet export); $rounds rounds of ${seconds}s runs"

for ((round = 1; round <= rounds; round++)); do
    for c in "${cases[@]}"; do
        IFS=, read -r -a exports <<<"${c#*:}"
        if [ $((round % 2)) = 0 ]; then # the other order: neither side always runs first
            mapfile -t exports < <(printf '%s\n' "${exports[@]}" | tac)
        fi
        for export in "${exports[@]}"; do
            fio_run "$export" "${c%%:*}"
        done
    done
    say "round $round of $rounds done"
done

for export in r1 r2; do
    fio --name="verify-$export" --ioengine=nbd --uri="$(uri "$export")" --rw=randwrite --bs=4k --size=16M \
        --iodepth=32 --verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 \
        >"$work/verify-$export.txt" 2>&1 ||
        die "verified run on $export failed: a bad block or an I/O error (see $work/verify-$export.txt)"
done
say "verified runs on r1 and r2: every block read back as written"

printf '%-11s %-7s %9s %14s\n' case export iops server_us/op
for c in "${cases[@]}"; do
    IFS=, read -r -a exports <<<"${c#*:}"
    for export in "${exports[@]}"; do
        k="${c%%:*}.$export"
        printf '%-11s %-7s %9d %14.1f\n' "${c%%:*}" "$export" $((iops[$k] / rounds)) \
            "$(echo "${cpu_ticks[$k]} * 1000000 / $hz / ${ops[$k]}" | bc -l)"
    done
done
echo "(iops: mean over the rounds; server_us/op: CPU of the serving processes per operation: nbdkit, or the Valet"
echo " client daemon and its 3 donors)"
ratio() { echo "scale=2; ${iops[$1.$2]} / ${iops[$1.nbdkit]}" | bc -l | sed 's/^\./0./'; }
echo "nbd-compare: qd32_read_r1_over_nbdkit=$(ratio qd32_read r1) qd32_write_r1_over_nbdkit=$(ratio qd32_write r1)" \
    "qd1_read_r1_over_nbdkit=$(ratio qd1_read r1) qd32_write_r2_over_nbdkit=$(ratio qd32_write r2)"
