# shellcheck shell=bash
# Helpers for the Valet scenarios (setup/vm/scenarios/valet-*.sh): load the driver, start donors and the client
# daemon as separate processes on loopback, inside the VM. Source it after lib.sh. Everything is undone by
# valet_cleanup, which the scenarios call from their EXIT trap.
#
# The host builds what runs here before the VM boots (setup/run-tests.sh: Maven, then make -C native/kernel):
# valet-cli/target/valet.jar, native/kernel/valet.ko and native/kernel/tools/valet-nlprobe.

VALET_WORK="/tmp/valet-$SCENARIO"
VALET_JAR="$REPO/valet-cli/target/valet.jar"
VALET_KO="$REPO/native/kernel/valet.ko"
VALET_DEV=/dev/valet0
VALET_DONOR_PIDS=()
VALET_CLIENT_PID=""

# Small, fixed JVMs: the VM has little memory and the client locks all of its own.
VALET_DONOR_JVM=(-Xms64m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1)
export VALET_CLIENT_JAVA_OPTS="-Xms192m -Xmx192m -XX:+AlwaysPreTouch -XX:MaxDirectMemorySize=96m -XX:+UseSerialGC"
export VALET_NO_BUILD=1

# valet_setup: checks the host built everything, makes the work folder, loads valet.ko.
valet_setup() {
    [ -f "$VALET_JAR" ] || fail "$VALET_JAR missing: build on the host first (mvn package)"
    [ -f "$VALET_KO" ] || fail "$VALET_KO missing: build on the host first (setup/module.sh build)"
    mkdir -p "$VALET_WORK"
    [ -d /sys/module/valet ] || insmod "$VALET_KO" || fail "insmod $VALET_KO failed"
    log "valet.ko loaded"
}

# valet_start_donors N MEMORY: N donor processes on 127.0.0.1:7070.., and a portal.list naming them.
valet_start_donors() {
    local n="$1" memory="$2" i port
    echo "$n" >"$VALET_WORK/portal.list"
    for ((i = 0; i < n; i++)); do
        port=$((7070 + i))
        rm -f "$VALET_WORK/donor-$i.ready"
        java "${VALET_DONOR_JVM[@]}" -jar "$VALET_JAR" donor --listen "127.0.0.1:$port" --memory "$memory" \
            --no-lock-memory --ready-file "$VALET_WORK/donor-$i.ready" >"$OUT/$SCENARIO.donor-$i.log" 2>&1 &
        VALET_DONOR_PIDS[i]=$!
        echo "127.0.0.1:$port" >>"$VALET_WORK/portal.list"
    done
    for ((i = 0; i < n; i++)); do
        wait_for_file "$VALET_WORK/donor-$i.ready" 240 || fail "donor $i did not start (see $SCENARIO.donor-$i.log)"
    done
    log "$n donors up"
}

# valet_write_config SWAP SLAB REPLICAS: the client's valet.yaml in the work folder.
valet_write_config() {
    cat >"$VALET_WORK/valet.yaml" <<YAML
identity: vm-client
portalList: portal.list
# Software emulation (TCG) is slow: generous timeouts, or live donors get declared dead.
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
  holdTimeout: 120s
YAML
}

# valet_start_client: starts 'valet client' and waits until /dev/valet0 is ready.
valet_start_client() {
    rm -f "$VALET_WORK/client.ready"
    "$REPO/bin/valet" client --config "$VALET_WORK/valet.yaml" --ready-file "$VALET_WORK/client.ready" \
        >>"$OUT/$SCENARIO.client.log" 2>&1 &
    VALET_CLIENT_PID=$!
    wait_for_file "$VALET_WORK/client.ready" 240 || fail "valet client did not get ready (see $SCENARIO.client.log)"
    [ -b "$VALET_DEV" ] || fail "$VALET_DEV missing after the client said ready"
    log "valet client ready (pid $VALET_CLIENT_PID): $(cat "$VALET_WORK/client.ready")"
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
    VALET_BG_PID=$!
}

# valet_kill PID: SIGKILL and reap.
valet_kill() {
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# valet_donor_status: the donors' view (lent bytes, page ops) into the scenario's log.
valet_donor_status() {
    java "${VALET_DONOR_JVM[@]}" -jar "$VALET_JAR" status --portal "$VALET_WORK/portal.list" || true
}

# valet_cleanup: swap off, client and donors stopped, module unloaded. Safe to call twice.
valet_cleanup() {
    (swap_off "$VALET_DEV") || true
    if [ -n "$VALET_CLIENT_PID" ]; then
        kill -TERM "$VALET_CLIENT_PID" 2>/dev/null || true
        wait "$VALET_CLIENT_PID" 2>/dev/null || true
        VALET_CLIENT_PID=""
    fi
    local p
    for p in "${VALET_DONOR_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    VALET_DONOR_PIDS=()
    if [ -d /sys/module/valet ]; then
        rmmod valet || log "rmmod valet failed"
    fi
}
