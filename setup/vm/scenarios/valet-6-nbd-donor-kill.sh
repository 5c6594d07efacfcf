#!/bin/bash
# vm-timeout: 900
# vm-seconds: 220
# Scenario 6: the NBD front end as swap, with no valet.ko: 3 donors, `valet client --nbd` on a unix socket (2 copies
# of every slab), the kernel's own nbd driver attached to it by nbd-client, swap on /dev/nbd0, and the workload of
# valet-2-donor-kill with donor 0 SIGKILLed half-way. hog must still verify every page.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../guest/valet.sh
. "$REPO/setup/vm/guest/valet.sh"
trap valet_cleanup EXIT

VALET_NBD_SOCKET="$VALET_WORK/nbd.sock"
valet_work
valet_start_donors 3 512M
valet_write_config 256M 16M 2
valet_start_client
valet_nbd_attach
swap_on "$VALET_NBD_DEV"
kill_donor0() {
    log "SIGKILL donor 0 (pid ${VALET_DONOR_PIDS[0]})"
    kill -KILL "${VALET_DONOR_PIDS[0]}"
}
valet_after_swapout 4000 kill_donor0
killer=$VALET_BG_PID
hog_workload hog-nbd-valet-kill 32M 128 1
wait "$killer" || true
grep -q "is dead" "$OUT/$SCENARIO.client.log" || fail "the client never noticed the killed donor"
metric re_replicated_slabs "$(grep -c 'new copy on .* complete' "$OUT/$SCENARIO.client.log" || true)"
metric nbd_kernel_errors "$(dmesg | grep -c 'nbd0.*\(error\|timed out\)' || true)"
