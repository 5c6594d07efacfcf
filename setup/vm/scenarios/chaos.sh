#!/bin/bash
# vm-timeout: 1500
# vm-seconds: 480
# Chaos soak: never lose a page to a slow donor. The standard swap stack (3 donors, each in its own network namespace,
# 2 copies of every slab, a backup disk on its own small tmpfs, device.holdTimeout 120s) runs the standard swap
# workload (hog, again and again, in a memory cgroup) while a seeded random schedule injects at least 20 faults, each
# shorter than holdTimeout, round-robin over 8 kinds (guest/faults.sh: sigstop, net-loss, donor-restart,
# client-restart right after it, net-delay, all-stop, net-blackhole, backup-full; each restart kind only
# VALET_CHAOS_RESTARTS times, 1: a JVM start takes minutes under TCG) with random targets, parameters and lengths.
# It ends with one line,
#   chaos: faults=N bad_pages=0 io_errors=0 held_max_ms=H kernel_splats=0
# and fails if faults < 20 or any other count is not 0. VALET_CHAOS_SEED (printed), VALET_CHAOS_FAULTS (20) and
# VALET_CHAOS_BUDGET (seconds for the schedule, 480) override; lab.sh passes them from the host's environment.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"
# shellcheck source=../guest/valet.sh
. "$REPO/setup/vm/guest/valet.sh"
# shellcheck source=../guest/faults.sh
. "$REPO/setup/vm/guest/faults.sh"

total="${VALET_CHAOS_FAULTS:-20}"
seed="${VALET_CHAOS_SEED:-$(($(od -An -N4 -tu4 /dev/urandom) % 1000000))}"
budget="${VALET_CHAOS_BUDGET:-480}"
restarts="${VALET_CHAOS_RESTARTS:-1}"
[[ "$total$seed$budget$restarts" =~ ^[0-9]+$ ]] ||
    fail "VALET_CHAOS_FAULTS, _SEED, _BUDGET and _RESTARTS must be whole numbers"
# Round-robin order. client-restart follows donor-restart at once: the client dies while it re-replicates.
kinds=(sigstop net-loss donor-restart client-restart net-delay all-stop net-blackhole backup-full)
# Longer than any fault, restarts included: under TCG a new client takes about a minute to start and recover its slab
# map, and the driver holds I/O for no longer than this while no client is attached.
hold_s=120
swap_mib=256
hog_mib=64
hog_limit=16M
hog_log="$OUT/$SCENARIO.hog.log"
stop_file="$PWD/workload.stop"
runs_file="$PWD/workload.runs"
workload_pid=""

cleanup() {
    [ -z "$workload_pid" ] || { touch "$stop_file"; kill "$workload_pid" 2>/dev/null || true; }
    faults_cleanup
    cgroup_kill chaos-hog
    (valet_cleanup) || true
    faults_teardown
}
trap cleanup EXIT

t_start="$(uptime_s)"
announce "chaos: seed=$seed faults=$total budget=${budget}s (rerun: VALET_CHAOS_SEED=$seed setup/vm/lab.sh chaos)"
metric seed "$seed"

# --- the schedule, drawn up front from the seed alone (bash's RANDOM, seeded): the same seed, the same faults ------
RANDOM="$seed"
R=0
rnd() { R=$(($1 + RANDOM % ($2 - $1 + 1))); } # sets R, never in a subshell: that would not advance RANDOM
plan=()
k=0 donor_restarts=0 client_restarts=0
for ((n = 0; n < total; n++)); do
    # Round-robin; a restart kind only while it has run fewer than $restarts times (each costs a JVM start).
    for ((j = 0; j < ${#kinds[@]}; j++)); do
        kind="${kinds[k % ${#kinds[@]}]}"
        k=$((k + 1))
        case "$kind" in
            donor-restart)
                [ "$donor_restarts" -lt "$restarts" ] || continue
                donor_restarts=$((donor_restarts + 1))
                ;;
            client-restart)
                [ "$client_restarts" -lt "$restarts" ] || continue
                client_restarts=$((client_restarts + 1))
                ;;
        esac
        break
    done
    rnd 0 2 && target=$R
    param=-
    case "$kind" in
        donor-restart | client-restart) rnd 1 4 ;; # down this long, plus the new process's start-up
        *) rnd 2 8 ;;
    esac
    secs=$R
    case "$kind" in
        net-loss) rnd 20 50 && param=$R ;;
        net-delay) rnd 150 400 && param=$R ;;
        client-restart) rnd 0 1 && if [ "$R" = 0 ]; then param=KILL; else param=TERM; fi ;;
    esac
    rnd 1 3 && gap=$R
    [ "$kind" != donor-restart ] || [ "$client_restarts" -ge "$restarts" ] || gap=0
    plan+=("$kind $target $secs $param $gap")
done
: >"$FAULTS_LOG"
_faults_log "seed=$seed schedule (kind target seconds param gap_after):"
for ((n = 0; n < total; n++)); do _faults_log "  plan $((n + 1)) ${plan[n]}"; done

# --- the stack: donors in namespaces, backup disk on its own tmpfs, holdTimeout 120s ------------------------------
faults_netns_setup 3
faults_backup_setup $((swap_mib + 8))
VALET_HOLD_TIMEOUT="${hold_s}s"
valet_start_stack "${swap_mib}M"

# --- the workload: hog again and again until the schedule is over --------------------------------------------------
workload() {
    local run=0 rc deadline
    deadline=$(($(now_ms) + (budget + 300) * 1000))
    while [ ! -e "$stop_file" ] && [ "$run" -lt 100 ] && [ "$(now_ms)" -lt "$deadline" ]; do
        run=$((run + 1))
        rc=0
        echo "[$(uptime_s)] hog run $run: $hog_mib MiB x 1 pass in $hog_limit" >>"$hog_log"
        run_in_cgroup chaos-hog "$hog_limit" "$HOG" "$hog_mib" 1 2>&1 | tee "$PWD/hog-$run.out" >>"$hog_log" ||
            rc=${PIPESTATUS[0]}
        echo "[$(uptime_s)] hog run $run: status $rc" >>"$hog_log"
        echo "$run $rc" >>"$runs_file"
    done
}
: >"$runs_file"
out0="$(vmstat_get pswpout)" in0="$(vmstat_get pswpin)"
workload &
workload_pid=$!
# Faults start once the workload really swaps, whatever the VM's speed.
for ((i = 0; i < 900; i++)); do
    [ $(($(vmstat_get pswpout) - out0)) -lt 2000 ] || break
    valet_alive "$workload_pid" || fail "the workload ended before it swapped (see $SCENARIO.hog.log)"
    sleep 0.2
done
[ $(($(vmstat_get pswpout) - out0)) -ge 2000 ] || fail "the workload swapped out under 2000 pages in 180s"

# --- the faults ------------------------------------------------------------------------------------------------------
t_faults="$(now_ms)"
for ((n = 0; n < total; n++)); do
    if [ $(($(now_ms) - t_faults)) -ge $((budget * 1000)) ]; then
        _faults_log "budget of ${budget}s spent after $n faults: no more"
        break
    fi
    read -r kind target secs param gap <<<"${plan[n]}"
    fault_run $((n + 1)) "$total" "$kind" "$target" "$secs" "$param"
    [ "$gap" = 0 ] || sleep "$gap"
done
faults_summary
metric fault_schedule_seconds $((($(now_ms) - t_faults) / 1000))

# --- the workload's last run finishes, then the client says what it held -------------------------------------------
touch "$stop_file"
for ((i = 0; i < 2400; i++)); do
    valet_alive "$workload_pid" || break
    sleep 0.1
done
if valet_alive "$workload_pid"; then
    log "the workload's last hog run did not end within 240s of the last fault: killing it"
    cgroup_kill chaos-hog # recorded as a failed run
    _valet_wait_gone "$workload_pid" 30 || { kill "$workload_pid" 2>/dev/null; echo "0 hung" >>"$runs_file"; }
fi
wait "$workload_pid" 2>/dev/null || true
workload_pid=""
metric pswpout_delta $(($(vmstat_get pswpout) - out0))
metric pswpin_delta $(($(vmstat_get pswpin) - in0))
swap_off "$VALET_DEV"
valet_stop "$VALET_CLIENT_PID" # SIGTERM: the client logs its engine's held-request counts on the way out
VALET_CLIENT_PID=""

# --- the counts ------------------------------------------------------------------------------------------------------
runs=0 failed_runs=0 bad_pages=0 hog_errors=0
while read -r run rc; do
    runs=$((runs + 1))
    bad=0
    [ "$run" = 0 ] || bad="$(sed -n 's/.*bad_pages=\([0-9]*\).*/\1/p' "$PWD/hog-$run.out" | tail -n 1)"
    bad_pages=$((bad_pages + ${bad:-0}))
    if [ "$rc" != 0 ]; then
        failed_runs=$((failed_runs + 1))
        # A run that failed without finding a bad page died of an I/O error (SIGBUS on a failed swap-in), an OOM kill
        # (run_in_cgroup logs it in the hog log) or a hang: the workload lost its memory either way.
        [ "${bad:-0}" -gt 0 ] || hog_errors=$((hog_errors + 1))
        log "hog run $run failed: status $rc, bad_pages=${bad:-?} (see $SCENARIO.hog.log)"
    fi
done <"$runs_file"
kernel_log_since "$t_start" >"$PWD/kernel.log"
kernel_io_errors="$(grep -cE "$SWAP_IO_ERROR_PATTERN" "$PWD/kernel.log" || true)"
kernel_splats="$(grep -cE "$KERNEL_BUG_PATTERN" "$PWD/kernel.log" || true)"
io_errors=$((kernel_io_errors + hog_errors))
held_max_ms="$(grep -o 'held_max_ms=[0-9]*' "$OUT/$SCENARIO.client.log" | cut -d= -f2 | sort -n | tail -n 1)"
sum_of() { grep -o "$1=[0-9]*" "$OUT/$SCENARIO.client.log" | awk -F= '{ s += $2 } END { print s + 0 }'; }
held_requests="$(sum_of held_requests)"
held_failed="$(sum_of held_failed)"
grep -E "$SWAP_IO_ERROR_PATTERN|$KERNEL_BUG_PATTERN" "$PWD/kernel.log" | head -n 20 || true
grep -E 'held request failed after' "$OUT/$SCENARIO.client.log" | head -n 5 || true

metric hog_runs "$runs"
metric hog_runs_failed "$failed_runs"
metric kernel_io_error_lines "$kernel_io_errors"
metric held_requests "$held_requests"
metric held_failed "$held_failed"
metric chaos_faults "$FAULTS_DONE"
metric bad_pages "$bad_pages"
metric io_errors "$io_errors"
metric held_max_ms "${held_max_ms:-0}"
metric kernel_splats "$kernel_splats"
announce "chaos: faults=$FAULTS_DONE bad_pages=$bad_pages io_errors=$io_errors held_max_ms=${held_max_ms:-0}" \
    "kernel_splats=$kernel_splats"

[ "$FAULTS_DONE" -ge 20 ] || fail "only $FAULTS_DONE faults injected (at least 20 wanted)"
[ "$bad_pages" = 0 ] || fail "$bad_pages bad pages (see $SCENARIO.hog.log)"
[ "$io_errors" = 0 ] || fail "$io_errors I/O errors ($kernel_io_errors kernel log lines, $hog_errors hog runs died)"
[ "$kernel_splats" = 0 ] ||
    fail "$kernel_splats kernel splat lines: $(grep -m 1 -E "$KERNEL_BUG_PATTERN" "$PWD/kernel.log")"
[ "$runs" -gt 0 ] || fail "no hog run"
