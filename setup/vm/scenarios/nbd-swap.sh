#!/bin/bash
# vm-timeout: 420
# Swap on /dev/nbd0 served by nbdkit's memory plugin over loopback TCP (the kernel NBD client, no Valet code): the
# same hog workload as zram-swap. A baseline for a network block device under the lab's TCG emulation.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"

dev=/dev/nbd0 port=10809 pidfile="$PWD/nbdkit.pid"
cleanup() {
    (swap_off "$dev") || true # a subshell: a failing swap_off must not skip the rest
    [ -e "$dev" ] && nbd-client -d "$dev" >/dev/null 2>&1
    if [ -s "$pidfile" ]; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
    fi
    modprobe -r nbd 2>/dev/null || true
}
trap cleanup EXIT

modprobe nbd || fail "modprobe nbd failed"
wait_for_file "$dev" 5 || fail "$dev did not appear"
# nbdkit forks into the background once it listens, so the client can connect right after it returns.
nbdkit -p "$port" -i 127.0.0.1 -P "$pidfile" memory 1G || fail "nbdkit did not start"
nbd-client 127.0.0.1 "$port" "$dev" -b 4096 || fail "nbd-client could not connect"
[ "$(cat /sys/block/nbd0/size)" -gt 0 ] || fail "$dev has size 0 after connect"
swap_on "$dev"

hog_workload hog-nbd "${COMPARE_WORKLOAD[@]}"

swap_off "$dev"
nbd-client -d "$dev" || fail "nbd-client -d failed"
