# shellcheck shell=bash
# Soft-RoCE for the rdma-* scenarios: one rxe device on eth0; the client and the donors are separate processes on
# this guest's own eth0 address (10.0.2.15), different ports. Not 127.0.0.1: rdma_cm resolves no route to a
# loopback address on RoCE (ENODEV). docs/vm-lab.md ("Soft-RoCE") says why one device: rxe pairs across namespaces
# or veths fail on 6.1. Source it after lib.sh and valet.sh; call rdma_begin first.

RDMA_DEV=rxe0
RDMA_NETDEV=eth0
RDMA_IP=""
VALET_TRANSPORT=auto # valet_work's donor.yaml: the donors serve RDMA beside TCP

# rdma_begin: rdma_setup, the work folder, and the EXIT trap that undoes everything (donors, rxe0).
rdma_begin() {
    trap rdma_cleanup EXIT
    rdma_setup
    valet_work
}

# rdma_setup: loads rdma_rxe and rdma_ucm, adds rxe0 on eth0, checks its port is active, sets RDMA_IP and makes
# valet_start_donors listen there.
rdma_setup() {
    modprobe rdma_rxe || fail "modprobe rdma_rxe failed"
    modprobe rdma_ucm || fail "modprobe rdma_ucm failed"
    RDMA_IP="$(ip -4 -o addr show dev "$RDMA_NETDEV" | awk '{ sub("/.*", "", $4); print $4; exit }')"
    [ -n "$RDMA_IP" ] || fail "$RDMA_NETDEV has no IPv4 address"
    rdma link add "$RDMA_DEV" type rxe netdev "$RDMA_NETDEV" ||
        fail "rdma link add $RDMA_DEV type rxe netdev $RDMA_NETDEV failed"
    ibv_devinfo -d "$RDMA_DEV" | grep -q PORT_ACTIVE || fail "$RDMA_DEV: port not active"
    export VALET_DONOR_HOST="$RDMA_IP"
    log "Soft-RoCE $RDMA_DEV on $RDMA_NETDEV ($RDMA_IP): $(ibv_devinfo -d "$RDMA_DEV" |
        awk '/state:|active_mtu:/ { printf "%s %s  ", $1, $2 }')"
}

# rdma_cleanup: stops what valet.sh started, removes rxe0 (the modules stay loaded).
rdma_cleanup() {
    (valet_cleanup) || true
    rdma link delete "$RDMA_DEV" 2>/dev/null || true
}

# rdma_start_donors N MEMORY: valet_start_donors on RDMA_IP, then checks every donor serves RDMA beside TCP.
rdma_start_donors() {
    valet_start_donors "$@"
    local i
    for ((i = 0; i < $1; i++)); do
        grep -q "RDMA listening on" "$OUT/$SCENARIO.donor-$i.log" ||
            fail "donor $i does not serve RDMA (see $SCENARIO.donor-$i.log)"
    done
    log "$1 donors serve TCP and RDMA on $RDMA_IP"
}

# rdma_valet ARGS...: runs a valet CLI command (a separate JVM) with the scenarios' small JVM flags.
rdma_valet() {
    java "${VALET_DONOR_JVM[@]}" -jar "$VALET_JAR" "$@"
}

# rdma_demo FLAGS...: `valet demo --transport rdma` with 3 donor processes on RDMA_IP (48M working set, 2 copies of
# every 4M slab, timeouts for emulation) plus FLAGS; its output in $VALET_WORK/demo.out (shown), its log in
# $OUT/$SCENARIO.demo.log. Fails unless it exits 0, ends with lost=0 and reached the 3 donors over RDMA. Sets
# DEMO_LINE to its "demo:" line and ELAPSED to its seconds.
rdma_demo() {
    time_it rdma_valet demo --transport rdma --donor-host "$RDMA_IP" --working-set 48M --donors 3 \
        --donor-memory 128M --slab-size 4M --request-timeout 30s --donor-timeout 15s --no-progress "$@" \
        >"$VALET_WORK/demo.out" 2>"$OUT/$SCENARIO.demo.log" ||
        fail "valet demo --transport rdma $* failed: $(tail -n 5 "$VALET_WORK/demo.out" "$OUT/$SCENARIO.demo.log")"
    cat "$VALET_WORK/demo.out"
    DEMO_LINE="$(grep '^demo:' "$VALET_WORK/demo.out")" || fail "no demo: line"
    [[ "$DEMO_LINE" == *" lost=0 "* ]] || fail "pages lost: $DEMO_LINE"
    [ "$(grep -c 'connected over RDMA' "$OUT/$SCENARIO.demo.log")" -ge 3 ] ||
        fail "the engine did not reach the 3 donors over RDMA"
}

# demo_field NAME: the value of NAME=... in DEMO_LINE.
demo_field() {
    sed -E "s/.* $1=([0-9]+).*/\1/" <<<"$DEMO_LINE"
}
