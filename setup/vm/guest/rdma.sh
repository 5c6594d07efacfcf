# shellcheck shell=bash
# Soft-RoCE for the rdma-* scenarios: one rxe device on lo, so the client and the donors (separate processes on
# 127.0.0.1, different ports) talk real verbs through the kernel's rdma_rxe. docs/vm-lab.md ("Soft-RoCE") says
# why one device: rxe pairs across namespaces or veths fail on 6.1. Source it after lib.sh and valet.sh.

RDMA_DEV=rxe0

# rdma_setup: loads rdma_rxe and rdma_ucm, adds rxe0 on lo, checks its port is active.
rdma_setup() {
    modprobe rdma_rxe || fail "modprobe rdma_rxe failed"
    modprobe rdma_ucm || fail "modprobe rdma_ucm failed"
    rdma link add "$RDMA_DEV" type rxe netdev lo || fail "rdma link add $RDMA_DEV type rxe netdev lo failed"
    ibv_devinfo -d "$RDMA_DEV" | grep -q PORT_ACTIVE || fail "$RDMA_DEV: port not active"
    log "Soft-RoCE $RDMA_DEV on lo: $(ibv_devinfo -d "$RDMA_DEV" | awk '/state:|active_mtu:/ { printf "%s %s  ", $1, $2 }')"
}

# rdma_cleanup: removes rxe0 (modules stay loaded: unloading rdma_rxe right after use can hang on 6.1).
rdma_cleanup() {
    rdma link delete "$RDMA_DEV" 2>/dev/null || true
}

# rdma_start_donors N MEMORY: valet_start_donors, then checks every donor serves RDMA beside TCP.
rdma_start_donors() {
    mkdir -p "$VALET_WORK"
    valet_start_donors "$@"
    local i
    for ((i = 0; i < $1; i++)); do
        grep -q "RDMA listening on" "$OUT/$SCENARIO.donor-$i.log" ||
            fail "donor $i does not serve RDMA (see $SCENARIO.donor-$i.log)"
    done
    log "$1 donors serve TCP and RDMA"
}

# rdma_valet ARGS...: runs a valet CLI command (a separate JVM) with the scenarios' small JVM flags.
rdma_valet() {
    java "${VALET_DONOR_JVM[@]}" -jar "$VALET_JAR" "$@"
}
