# shellcheck shell=bash
# Helpers for the Valet scenarios (setup/vm/scenarios/valet-*.sh): load the driver, start donors and the client
# daemon as separate processes on loopback, inside the VM. Source it after lib.sh. Everything is undone by
# valet_cleanup, which the scenarios call from their EXIT trap.
#
# The host builds what runs here before the VM boots (setup/run-tests.sh: Maven, then make -C native/kernel):
# valet-cli/target/valet.jar, native/kernel/build/KVER/valet.ko and native/kernel/tools/valet-nlprobe.

VALET_WORK="/tmp/valet-$SCENARIO"
# The jar the donors and bin/valet run (compare's reference run points it at an older build).
export VALET_JAR="$REPO/valet-cli/target/valet.jar"
# make -C native/kernel KVER=... keeps each kernel's module in build/KVER/
VALET_KO="$REPO/native/kernel/build/$(uname -r)/valet.ko"
VALET_DEV=/dev/valet0
VALET_DONOR_PIDS=()
VALET_CLIENT_PID=""

# cds_flags NAME: JVM flags that map the class archive the host made for this jar (setup/vm/cds.sh), if any; the JVM
# ignores, silently, an archive made from another jar (compare's reference build).
cds_flags() {
    local a="$REPO/target/vm/cds/$1.jsa"
    [ ! -f "$a" ] || echo "-XX:SharedArchiveFile=$a -Xlog:cds=off -Xlog:cds+dynamic=off"
}
# Small, fixed JVMs: the VM has little memory and the client locks all of its own.
# A JVM that crashes writes its report next to the scenario's logs, where lab.sh shows it.
# shellcheck disable=SC2207 # cds_flags prints flags without white space in them
VALET_DONOR_JVM=(-Xms64m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "-XX:ErrorFile=$OUT/$SCENARIO.hs_err-%p.log"
    $(cds_flags donor))
VALET_CLIENT_JAVA_OPTS="-Xms192m -Xmx192m -XX:+AlwaysPreTouch -XX:MaxDirectMemorySize=96m -XX:+UseSerialGC"
export VALET_CLIENT_JAVA_OPTS+=" -XX:ErrorFile=$OUT/$SCENARIO.hs_err-%p.log"
VALET_JAVA_OPTS="${VALET_JAVA_OPTS:-} $(cds_flags engine)" # every JVM bin/valet starts: the client, check, demo
export VALET_JAVA_OPTS
export VALET_NO_BUILD=1
VALET_TRANSPORT="${VALET_TRANSPORT:-tcp}"

# valet_work: makes the work folder with a fresh cluster secret, cluster.secret (donors and clients authenticate
# each other, as in production; valet_start_donors and valet_write_config use it).
valet_work() {
    mkdir -p "$VALET_WORK"
    (umask 077 && head -c 32 /dev/urandom >"$VALET_WORK/cluster.secret") || fail "cannot write the cluster secret"
    # The donors share the VM's 2 GiB with the swap workload whose memory pressure is the point of the test: with the
    # default headroom (evictBelow 512M) they would evict and refuse slabs because of the client's own swapping.
    # transport: VALET_TRANSPORT (tcp; rdma.sh: auto). A JVM probing for RDMA on a VM without it spends ~17 s of
    # emulated CPU (loading libibverbs through jnr-ffi) before it listens or connects: the TCP scenarios skip it; the
    # packaged stack (package-install) and the rdma-* scenarios keep the default, auto.
    if [ -z "$VALET_DONOR_CONFIG" ]; then
        VALET_DONOR_CONFIG="$VALET_WORK/donor.yaml"
        printf 'transport: %s\nheadroom:\n  evictBelow: 64M\n  expandAbove: 128M\n' "$VALET_TRANSPORT" \
            >"$VALET_DONOR_CONFIG"
    fi
}

# valet_setup: checks the host built everything, valet_work, loads valet.ko.
valet_setup() {
    [ -f "$VALET_JAR" ] || fail "$VALET_JAR missing: build on the host first (mvn package)"
    [ -f "$VALET_KO" ] || fail "$VALET_KO missing: build it on the host first (make -C native/kernel KVER=$(uname -r))"
    valet_work
    [ -d /sys/module/valet ] || insmod "$VALET_KO" || fail "insmod $VALET_KO failed"
    log "valet.ko loaded"
}

# Where donors run. By default every donor is a process on 127.0.0.1 (VALET_DONOR_HOST instead if set), port 7070+I.
# With VALET_DONOR_NETNS=PREFIX, donor I runs in network namespace PREFIXI on its own address, 10.200.I.2 (faults.sh:
# faults_netns_setup makes the namespaces and their links to this one).
VALET_DONOR_NETNS="${VALET_DONOR_NETNS:-}"
VALET_DONOR_MEMORY=""
# A donor.yaml for every donor (--config); empty: valet_work writes the lab's own (see there).
VALET_DONOR_CONFIG="${VALET_DONOR_CONFIG:-}"

# valet_donor_addr I: HOST:PORT of donor I.
valet_donor_addr() {
    if [ -n "$VALET_DONOR_NETNS" ]; then
        echo "10.200.$1.2:$((7070 + $1))"
    else
        echo "${VALET_DONOR_HOST:-127.0.0.1}:$((7070 + $1))"
    fi
}

# valet_start_donor I: starts donor I (again, after a kill: same address, same arguments, a new instance) with
# VALET_DONOR_MEMORY to lend; its log is appended to $SCENARIO.donor-I.log. valet_wait_donor I waits until it listens.
valet_start_donor() {
    local i="$1" wrap=()
    [ -z "$VALET_DONOR_NETNS" ] || wrap=(ip netns exec "$VALET_DONOR_NETNS$i") # execs java: the pid is the JVM's
    rm -f "$VALET_WORK/donor-$i.ready"
    "${wrap[@]}" java "${VALET_DONOR_JVM[@]}" -jar "$VALET_JAR" donor \
        ${VALET_DONOR_CONFIG:+--config "$VALET_DONOR_CONFIG"} --listen "$(valet_donor_addr "$i")" \
        --memory "$VALET_DONOR_MEMORY" --no-lock-memory --secret-file "$VALET_WORK/cluster.secret" \
        --ready-file "$VALET_WORK/donor-$i.ready" >>"$OUT/$SCENARIO.donor-$i.log" 2>&1 &
    VALET_DONOR_PIDS[i]=$!
}
# A JVM starting under TCG while the swap workload runs needs minutes: a donor restarted mid-workload in chaos took
# 225 s in one CI run and 249 s in the next, so the wait is VALET_DONOR_START_SECONDS (480).
valet_wait_donor() {
    wait_for_file "$VALET_WORK/donor-$1.ready" "${VALET_DONOR_START_SECONDS:-480}" ||
        fail "donor $1 did not start within ${VALET_DONOR_START_SECONDS:-480}s (see $SCENARIO.donor-$1.log)"
}

# valet_start_donors N MEMORY: N donor processes (valet_start_donor), and a portal.list naming them.
valet_start_donors() {
    local n="$1" i
    VALET_DONOR_MEMORY="$2"
    echo "$n" >"$VALET_WORK/portal.list"
    for ((i = 0; i < n; i++)); do
        valet_start_donor "$i"
        valet_donor_addr "$i" >>"$VALET_WORK/portal.list"
    done
    for ((i = 0; i < n; i++)); do
        valet_wait_donor "$i"
    done
    log "$n donors up"
}

# valet_write_config SWAP SLAB REPLICAS: the client's valet.yaml in the work folder. VALET_HOLD_TIMEOUT (120s) and
# VALET_IO_TIMEOUT (30s) set device.holdTimeout and device.ioTimeout, VALET_BACKUP_DISK (a path) turns on backupDisk,
# VALET_HOST_TIER (a size, 0: off) sets hostTier.size (unset: the default).
valet_write_config() {
    cat >"$VALET_WORK/valet.yaml" <<YAML
identity: vm-client
portalList: portal.list
transport: $VALET_TRANSPORT
# Software emulation (TCG) is slow: generous timeouts, or live donors get declared dead.
auth:
  secretFile: cluster.secret
connectTimeout: 10s
requestTimeout: 30s
swapSpace: $1
slabSize: $2
placement:
  numReplica: $3
  serverSelectNum: 3
failover:
  heartbeatInterval: 1s
  donorTimeout: 6s
device:
  holdTimeout: ${VALET_HOLD_TIMEOUT:-120s}
  ioTimeout: ${VALET_IO_TIMEOUT:-30s}
YAML
    if [ -n "${VALET_BACKUP_DISK:-}" ]; then echo "backupDisk: $VALET_BACKUP_DISK" >>"$VALET_WORK/valet.yaml"; fi
    if [ -n "${VALET_HOST_TIER:-}" ]; then
        printf 'hostTier:\n  size: %s\n' "$VALET_HOST_TIER" >>"$VALET_WORK/valet.yaml"
    fi
}

# With VALET_NBD_SOCKET set (a path), valet_start_client serves the swap space as an NBD export on that unix socket
# (`valet client --nbd`) instead of /dev/valet0, and valet_nbd_attach gives it to the kernel's nbd driver.
VALET_NBD_SOCKET="${VALET_NBD_SOCKET:-}"
VALET_NBD_DEV=/dev/nbd0
VALET_NBD_ATTACHED=0

# valet_start_client: starts 'valet client' and waits until /dev/valet0 (or the NBD export) is ready.
valet_start_client() {
    local nbd=()
    [ -z "$VALET_NBD_SOCKET" ] || nbd=(--nbd "unix:$VALET_NBD_SOCKET")
    rm -f "$VALET_WORK/client.ready"
    "$REPO/bin/valet" client --config "$VALET_WORK/valet.yaml" --ready-file "$VALET_WORK/client.ready" "${nbd[@]}" \
        >>"$OUT/$SCENARIO.client.log" 2>&1 &
    VALET_CLIENT_PID=$!
    local deadline=$(($(now_ms) + 240000))
    until [ -e "$VALET_WORK/client.ready" ]; do
        valet_alive "$VALET_CLIENT_PID" || fail "valet client exited before it was ready (see $SCENARIO.client.log)"
        [ "$(now_ms)" -lt "$deadline" ] || fail "valet client not ready after 240s (see $SCENARIO.client.log)"
        sleep 0.1
    done
    [ -n "$VALET_NBD_SOCKET" ] || [ -b "$VALET_DEV" ] || fail "$VALET_DEV missing after the client said ready"
    log "valet client ready (pid $VALET_CLIENT_PID): $(cat "$VALET_WORK/client.ready")"
    log "memory: $(awk '/^(MemAvailable|Mlocked|SwapFree):/ { printf "%s %d MiB  ", $1, $2 / 1024 }' /proc/meminfo)"
}

# valet_start_stack [SWAP]: the standard stack of the valet-* scenarios: valet.ko, 3 donors lending 512M each, a
# client with a swap space of SWAP (default 256M) in 16M slabs, 2 copies of each, and /dev/valet0 as swap.
# shellcheck disable=SC2120 # SWAP is optional
valet_start_stack() {
    valet_setup
    valet_start_donors 3 512M
    valet_write_config "${1:-256M}" 16M 2
    valet_start_client
    swap_on "$VALET_DEV"
}

# valet_nbd_attach: the kernel's nbd driver on the client's NBD export: /dev/nbd0 through nbd-client (4 KiB blocks,
# no timeout: a request waits for a slow engine rather than fail).
valet_nbd_attach() {
    modprobe nbd || fail "modprobe nbd failed"
    wait_for_file "$VALET_NBD_DEV" 5 || fail "$VALET_NBD_DEV did not appear"
    nbd-client -unix "$VALET_NBD_SOCKET" "$VALET_NBD_DEV" -b 4096 || fail "nbd-client could not attach the export"
    VALET_NBD_ATTACHED=1
    [ "$(cat /sys/block/nbd0/size)" -gt 0 ] || fail "$VALET_NBD_DEV has size 0 after nbd-client"
    log "$VALET_NBD_DEV attached to unix:$VALET_NBD_SOCKET ($(($(cat /sys/block/nbd0/size) / 2048)) MiB)"
}

# valet_after_swapout PAGES CMD...: runs CMD (in the background) once PAGES more pages have been swapped out, so a
# fault lands in the middle of the workload whatever the VM's speed. Sets VALET_BG_PID.
valet_after_swapout() {
    local pages="$1" start
    shift
    start="$(vmstat_get pswpout)"
    (
        while [ $(($(vmstat_get pswpout) - start)) -lt "$pages" ]; do sleep 0.2; done
        "$@"
    ) &
    # shellcheck disable=SC2034 # read by the scenarios
    VALET_BG_PID=$!
}

# valet_restart_client [CMD...]: SIGKILLs the client daemon, runs CMD (if any) while none runs, and starts a new
# one. Meant for valet_after_swapout's background job, whose VALET_CLIENT_PID the scenario's shell does not see:
# valet_restarted_client sets it there afterwards.
valet_restart_client() {
    log "SIGKILL valet client (pid $VALET_CLIENT_PID)"
    valet_kill "$VALET_CLIENT_PID"
    if [ $# -gt 0 ]; then "$@"; fi
    sleep 2
    valet_start_client
    echo "$VALET_CLIENT_PID" >"$VALET_WORK/client2.pid"
}

# valet_restarted_client: after valet_restart_client ran in the background, sets VALET_CLIENT_PID to the new client.
valet_restarted_client() {
    VALET_CLIENT_PID="$(cat "$VALET_WORK/client2.pid")" || fail "no restarted client recorded"
}

# valet_alive PID: true while PID runs (a zombie counts as gone). Works for processes that are not this shell's
# children, such as a client restarted from a background subshell.
valet_alive() {
    local state
    state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# _valet_wait_gone PID SECONDS: waits until PID is gone (and reaps it if it is a child); 1 if it still runs.
_valet_wait_gone() {
    local pid="$1" deadline
    deadline=$(($(now_ms) + $2 * 1000))
    while valet_alive "$pid"; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
    wait "$pid" 2>/dev/null || true
}

# valet_kill PID: SIGKILL, and waits until it is gone.
valet_kill() {
    kill -KILL "$1" 2>/dev/null || true
    _valet_wait_gone "$1" 30 || log "pid $1 still there 30s after SIGKILL"
}

# valet_stop PID: SIGTERM, up to 60s to exit, then SIGKILL. The next step (the next scenario, rmmod) must not
# meet a process that is still shutting down.
valet_stop() {
    kill -TERM "$1" 2>/dev/null || return 0
    _valet_wait_gone "$1" 60 && return 0
    log "pid $1 ignored SIGTERM for 60s: SIGKILL"
    valet_kill "$1"
}

# valet_status: `valet status` (one line per donor: lent bytes, page ops, ...) with the scenario's generous
# timeouts (valet.yaml), under its own identity.
valet_status() {
    java "${VALET_DONOR_JVM[@]}" -jar "$VALET_JAR" status --config "$VALET_WORK/valet.yaml" --identity vm-status
}

# valet_tier_stat KEY: the value of KEY in the client's last "tier:" line (logged when it stops), e.g. hits.
valet_tier_stat() {
    grep -o "tier: slots=.*" "$OUT/$SCENARIO.client.log" | tail -1 | grep -o "\b$1=[0-9.]*" | cut -d= -f2
}

# valet_cleanup: swap off, /dev/nbd0 detached, client and donors stopped, module unloaded. Safe to call twice.
valet_cleanup() {
    (swap_off "$VALET_DEV") || true
    if [ "$VALET_NBD_ATTACHED" = 1 ]; then
        (swap_off "$VALET_NBD_DEV") || true
        nbd-client -d "$VALET_NBD_DEV" >/dev/null 2>&1 || log "nbd-client -d $VALET_NBD_DEV failed"
        VALET_NBD_ATTACHED=0
        modprobe -r nbd 2>/dev/null || true
    fi
    if [ -n "$VALET_CLIENT_PID" ]; then
        valet_stop "$VALET_CLIENT_PID"
        VALET_CLIENT_PID=""
    fi
    local p
    for p in "${VALET_DONOR_PIDS[@]}"; do
        valet_stop "$p"
    done
    VALET_DONOR_PIDS=()
    if [ -d /sys/module/valet ]; then
        rmmod valet || log "rmmod valet failed"
    fi
}
