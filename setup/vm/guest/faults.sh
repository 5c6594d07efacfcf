# shellcheck shell=bash
# Fault injection for the chaos scenarios (setup/vm/scenarios/chaos*.sh), on the stack valet.sh starts: donors
# frozen (SIGSTOP/SIGCONT), partitioned or slowed (network namespaces + tc netem), restarted as new instances, the
# client daemon restarted, every donor frozen at once, the backup disk full. Source it after lib.sh and valet.sh;
# faults_cleanup (call it from the EXIT trap, before valet_cleanup) undoes whatever is still in place.
#
# Every fault is logged twice in FAULTS_LOG, when it starts and when it ends, with the guest's uptime (the kernel
# log's clock) and its real length:
#   [123.45] fault 3/20 start net-loss donor=1 loss=30% planned=5s
#   [128.52] fault 3/20 end   net-loss donor=1 lasted_ms=5071

FAULTS_LOG="$OUT/$SCENARIO.faults.log"
# The network namespaces: donor I in ${FAULTS_NETNS}I; its veth is ${FAULTS_NETNS}Ih here (10.200.I.1/24) and
# ${FAULTS_NETNS}In there (10.200.I.2/24). valet.sh's VALET_DONOR_NETNS points donors into them.
FAULTS_NETNS=vd
FAULTS_NETNS_COUNT=0
# The backup disk's own tmpfs (faults_backup_setup) and the file that fills it up.
FAULTS_BACKUP_MNT=""
FAULTS_FILLER=""
# Donors stopped by a fault, so faults_cleanup continues them whatever happened.
FAULTS_STOPPED=()
# Per kind: how many faults ran and their summed length in ms (faults_summary prints them).
declare -A FAULTS_COUNT=() FAULTS_MS=()
FAULTS_DONE=0

# _faults_log LINE: a line into FAULTS_LOG and the scenario's log, stamped with the uptime.
_faults_log() {
    local line
    line="[$(uptime_s)] $*"
    echo "$line" >>"$FAULTS_LOG"
    echo "$line"
}

# --- network namespaces ------------------------------------------------------------------------------------------

# faults_netns_setup N: N namespaces, each joined to this one by a veth pair, for donors 0..N-1; checks that netem
# can be put on a link and taken off again. Sets VALET_DONOR_NETNS so valet_start_donors puts donors there.
faults_netns_setup() {
    local n="$1" i ns host peer
    modprobe veth || fail "modprobe veth failed"
    modprobe sch_netem || fail "modprobe sch_netem failed"
    command -v tc >/dev/null || fail "tc (iproute2) missing"
    for ((i = 0; i < n; i++)); do
        ns="$FAULTS_NETNS$i" host="$FAULTS_NETNS${i}h" peer="$FAULTS_NETNS${i}n"
        ip netns add "$ns" || fail "ip netns add $ns failed"
        FAULTS_NETNS_COUNT=$((i + 1))
        ip link add "$host" type veth peer name "$peer" netns "$ns" || fail "veth $host/$peer failed"
        { ip addr add "10.200.$i.1/24" dev "$host" && ip link set "$host" up; } || fail "cannot configure $host"
        { ip -n "$ns" link set lo up && ip -n "$ns" addr add "10.200.$i.2/24" dev "$peer" &&
            ip -n "$ns" link set "$peer" up; } || fail "cannot configure $peer in $ns"
    done
    tc qdisc replace dev "${FAULTS_NETNS}0h" root netem loss 1% || fail "tc netem does not work on ${FAULTS_NETNS}0h"
    tc qdisc show dev "${FAULTS_NETNS}0h" | grep -q netem || fail "netem not shown on ${FAULTS_NETNS}0h"
    tc qdisc del dev "${FAULTS_NETNS}0h" root || fail "cannot remove netem from ${FAULTS_NETNS}0h"
    # shellcheck disable=SC2034 # read by valet.sh
    VALET_DONOR_NETNS="$FAULTS_NETNS"
    log "$n network namespaces (${FAULTS_NETNS}0..), donor I on 10.200.I.2; netem works"
}

# faults_netem I ARGS...: netem ARGS on this side of donor I's link (what the client sends to donor I).
faults_netem() {
    local i="$1"
    shift
    tc qdisc replace dev "$FAULTS_NETNS${i}h" root netem "$@" || fail "tc netem $* on donor $i's link failed"
}

# faults_heal I: removes netem from donor I's link (nothing to do if none).
faults_heal() {
    tc qdisc del dev "$FAULTS_NETNS${1}h" root 2>/dev/null || true
}

# --- backup disk on its own tmpfs ---------------------------------------------------------------------------------

# faults_backup_setup SIZE_MIB: a tmpfs of SIZE_MIB for the backup disk; sets VALET_BACKUP_DISK to a file on it
# (valet_write_config puts it in valet.yaml; the client creates it, sparse, as large as the swap space).
faults_backup_setup() {
    FAULTS_BACKUP_MNT="/tmp/valet-backup-$SCENARIO"
    mkdir -p "$FAULTS_BACKUP_MNT"
    mount -t tmpfs -o "size=${1}M,mode=0700" "valet-backup" "$FAULTS_BACKUP_MNT" || fail "cannot mount the backup tmpfs"
    VALET_BACKUP_DISK="$FAULTS_BACKUP_MNT/backup.img"
    FAULTS_FILLER="$FAULTS_BACKUP_MNT/filler"
    log "backup disk $VALET_BACKUP_DISK on a ${1}M tmpfs"
}

# faults_backup_fill: fills the backup tmpfs up, so every write to a block of the backup file not yet allocated fails
# (ENOSPC). Prints how much of the file was allocated then (the part that still takes writes).
faults_backup_fill() {
    local avail
    avail="$(df -B1 --output=avail "$FAULTS_BACKUP_MNT" | tail -n 1 | tr -d ' ')"
    fallocate -l "$avail" "$FAULTS_FILLER" 2>/dev/null ||
        dd if=/dev/zero of="$FAULTS_FILLER" bs=1M count=$((avail >> 20)) status=none 2>/dev/null || true
    echo "backup_allocated=$(du -k "$VALET_BACKUP_DISK" 2>/dev/null | cut -f1)K free=$(df -k --output=avail \
        "$FAULTS_BACKUP_MNT" | tail -n 1 | tr -d ' ')K"
}

faults_backup_heal() {
    rm -f "$FAULTS_FILLER"
}

# --- processes ----------------------------------------------------------------------------------------------------

faults_stop_donor() {
    kill -STOP "${VALET_DONOR_PIDS[$1]}" || fail "cannot SIGSTOP donor $1"
    FAULTS_STOPPED+=("${VALET_DONOR_PIDS[$1]}")
}

faults_cont_donor() {
    kill -CONT "${VALET_DONOR_PIDS[$1]}" || fail "cannot SIGCONT donor $1 (pid ${VALET_DONOR_PIDS[$1]})"
    local p keep=()
    for p in "${FAULTS_STOPPED[@]}"; do [ "$p" = "${VALET_DONOR_PIDS[$1]}" ] || keep+=("$p"); done
    FAULTS_STOPPED=("${keep[@]}")
}

# --- one fault ----------------------------------------------------------------------------------------------------

# fault_run INDEX TOTAL KIND TARGET SECONDS PARAM: injects fault KIND for SECONDS and heals it; logs start and end.
# KIND (TARGET is a donor index where it matters; PARAM is the kind's parameter):
#   sigstop         SIGSTOP donor TARGET, SIGCONT after SECONDS
#   net-loss        netem loss PARAM% on donor TARGET's link
#   net-delay       netem delay PARAMms with PARAM/3 ms jitter
#   net-blackhole   netem loss 100%: donor TARGET unreachable
#   donor-restart   SIGKILL donor TARGET, SECONDS later start it again (same address and arguments: a new instance)
#   client-restart  SIGKILL (PARAM=KILL) or SIGTERM (PARAM=TERM) the client daemon, SECONDS later start it again
#   all-stop        SIGSTOP every donor, SIGCONT after SECONDS
#   backup-full     fill the backup disk's tmpfs, free it after SECONDS
# For the two restarts the fault lasts until the new process is ready (SECONDS + its start-up).
fault_run() {
    local idx="$1" total="$2" kind="$3" target="$4" secs="$5" param="$6" t0 ms what extra="" i
    case "$kind" in
        sigstop | donor-restart | net-*) what="donor=$target" ;;
        client-restart) what="client=pid${VALET_CLIENT_PID} signal=$param" ;;
        all-stop) what="donors=all" ;;
        backup-full) what="backup=$VALET_BACKUP_DISK" ;;
        *) fail "fault_run: unknown fault kind $kind" ;;
    esac
    case "$kind" in
        net-loss) what+=" loss=$param%" ;;
        net-delay) what+=" delay=${param}ms jitter=$((param / 3))ms" ;;
    esac
    t0="$(now_ms)"
    _faults_log "fault $idx/$total start $kind $what planned=${secs}s"
    case "$kind" in
        sigstop)
            faults_stop_donor "$target"
            sleep "$secs"
            faults_cont_donor "$target"
            ;;
        net-loss | net-delay | net-blackhole)
            case "$kind" in
                net-loss) faults_netem "$target" loss "$param%" ;;
                net-delay) faults_netem "$target" delay "${param}ms" "$((param / 3))ms" ;;
                net-blackhole) faults_netem "$target" loss 100% ;;
            esac
            sleep "$secs"
            faults_heal "$target"
            ;;
        donor-restart)
            extra="old_pid=${VALET_DONOR_PIDS[$target]}"
            valet_kill "${VALET_DONOR_PIDS[$target]}"
            sleep "$secs"
            valet_start_donor "$target"
            valet_wait_donor "$target"
            extra+=" new_pid=${VALET_DONOR_PIDS[$target]}"
            ;;
        client-restart)
            extra="old_pid=$VALET_CLIENT_PID"
            if [ "$param" = TERM ]; then valet_stop "$VALET_CLIENT_PID"; else valet_kill "$VALET_CLIENT_PID"; fi
            sleep "$secs"
            valet_start_client
            extra+=" new_pid=$VALET_CLIENT_PID"
            ;;
        all-stop)
            for i in "${!VALET_DONOR_PIDS[@]}"; do faults_stop_donor "$i"; done
            sleep "$secs"
            for i in "${!VALET_DONOR_PIDS[@]}"; do faults_cont_donor "$i"; done
            ;;
        backup-full)
            extra="$(faults_backup_fill)"
            sleep "$secs"
            faults_backup_heal
            ;;
    esac
    ms=$(($(now_ms) - t0))
    _faults_log "fault $idx/$total end   $kind $what lasted_ms=$ms${extra:+ $extra}"
    FAULTS_COUNT[$kind]=$((${FAULTS_COUNT[$kind]:-0} + 1))
    FAULTS_MS[$kind]=$((${FAULTS_MS[$kind]:-0} + ms))
    FAULTS_DONE=$((FAULTS_DONE + 1))
}

# faults_summary: per kind, how many faults ran and their summed length, into FAULTS_LOG and the log; a metric
# faults_KIND for each.
faults_summary() {
    local k
    for k in "${!FAULTS_COUNT[@]}"; do
        _faults_log "kind $k count=${FAULTS_COUNT[$k]} total_ms=${FAULTS_MS[$k]}"
        metric "faults_${k//-/_}" "${FAULTS_COUNT[$k]}"
    done
}

# faults_cleanup: continues stopped donors, heals every link, deletes the namespaces, frees and unmounts the backup
# tmpfs. Safe to call twice; call it before valet_cleanup (a stopped donor cannot obey SIGTERM).
faults_cleanup() {
    local p i
    for p in "${FAULTS_STOPPED[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
    FAULTS_STOPPED=()
    for ((i = 0; i < FAULTS_NETNS_COUNT; i++)); do faults_heal "$i"; done
    [ -z "$FAULTS_FILLER" ] || rm -f "$FAULTS_FILLER"
}

# faults_teardown: what must wait until the donors and the client are gone: the namespaces and the backup tmpfs.
faults_teardown() {
    local i
    for ((i = 0; i < FAULTS_NETNS_COUNT; i++)); do
        ip link del "$FAULTS_NETNS${i}h" 2>/dev/null || true
        ip netns del "$FAULTS_NETNS$i" 2>/dev/null || true
    done
    FAULTS_NETNS_COUNT=0
    if [ -n "$FAULTS_BACKUP_MNT" ] && mountpoint -q "$FAULTS_BACKUP_MNT"; then
        umount "$FAULTS_BACKUP_MNT" || log "cannot unmount $FAULTS_BACKUP_MNT"
    fi
}
