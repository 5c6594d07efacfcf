#!/bin/bash
# vm-timeout: 420
# vm-seconds: 25
# Swap on /dev/nbd0 served by nbdkit's memory plugin over loopback TCP (the kernel NBD client, no Valet code): the
# same hog workload as zram-swap. A baseline for a network block device under the lab's TCG emulation.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../guest/devices.sh
. "$REPO/setup/vm/guest/devices.sh"
trap nbd_stop EXIT

nbd_start
swap_on "$NBD_DEV"

hog_workload hog-nbd "${COMPARE_WORKLOAD[@]}"

swap_off "$NBD_DEV"
