#!/usr/bin/env bash
# Swap on a valet device.
#
#   setup/swap.sh on  [DEVICE]    mkswap DEVICE, then swapon -p 10 DEVICE (root)
#   setup/swap.sh off [DEVICE]    swapoff DEVICE (root): every page comes back from the donors first
#   setup/swap.sh status [DEVICE] whether DEVICE is active swap
#
# DEVICE defaults to /dev/valet0, the device the client serves (setup/client.sh start prints it). Priority 10 puts
# it ahead of disk swap, which usually has a negative priority. Exit status 0 on success (on when already on and off
# when already off are successes), 1 on failure, 2 for bad usage.
set -euo pipefail

STEP=swap
# shellcheck source-path=SCRIPTDIR source=step-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/step-lib.sh"
active() {
    local dev
    dev="$(readlink -f "$1")"
    awk -v d="$dev" 'NR > 1 && $1 == d { found = 1 } END { exit !found }' /proc/swaps
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    usage >&2
    exit 2
fi
action="$1"
dev="${2:-/dev/valet0}"
case "$action" in
    on)
        [ "$(id -u)" = 0 ] || die "on needs root"
        [ -b "$dev" ] || die "$dev is not a block device: is the client running? (setup/client.sh start)"
        if active "$dev"; then
            say "$dev is already swap"
            exit 0
        fi
        mkswap "$dev" >/dev/null || die "mkswap $dev failed"
        swapon -p 10 "$dev" || die "swapon -p 10 $dev failed"
        say "swapping to $dev (priority 10)"
        ;;
    off)
        [ "$(id -u)" = 0 ] || die "off needs root"
        if ! active "$dev"; then
            say "$dev is not swap"
            exit 0
        fi
        say "swapoff $dev: reading every swapped page back ..."
        swapoff "$dev" || die "swapoff $dev failed (not enough memory for the pages it holds?)"
        say "$dev is no longer swap"
        ;;
    status)
        if active "$dev"; then
            say "$dev is swap"
        else
            say "$dev is not swap"
        fi
        ;;
    -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
esac
