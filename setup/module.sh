#!/usr/bin/env bash
# The valet kernel module (native/kernel/valet.ko), which provides /dev/valetN and hands its I/O to `valet client`.
#
#   setup/module.sh build     make -C native/kernel (against the newest /lib/modules/*/build; KVER=... for another)
#   setup/module.sh load      insmod native/kernel/valet.ko (root)
#   setup/module.sh unload    rmmod valet (root; swapoff its devices first: setup/swap.sh off)
#   setup/module.sh status    whether it is loaded, and its devices
#
# Exit status 0 on success (load when already loaded and unload when not loaded are successes), 1 on failure,
# 2 for bad usage.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ko="$root/native/kernel/valet.ko"

STEP=module
# shellcheck source-path=SCRIPTDIR source=step-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/step-lib.sh"
loaded() { [ -d /sys/module/valet ]; }
need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root"; }

devices() {
    local d found=0
    for d in /sys/block/valet*; do
        [ -e "$d" ] || continue
        found=1
        echo "  /dev/$(basename "$d"): $(($(cat "$d/size") * 512)) bytes$(swap_note "/dev/$(basename "$d")")"
    done
    [ "$found" = 1 ] || echo "  no devices (valet client creates one)"
}
swap_note() {
    awk -v d="$1" 'NR > 1 && $1 == d { found = 1 } END { exit !found }' /proc/swaps 2>/dev/null && echo ", swap on"
    true
}

[ $# -eq 1 ] || { usage >&2; exit 2; }
case "$1" in
    build)
        say "building $ko (make -C native/kernel)"
        make -C "$root/native/kernel" || die "build failed (is linux-headers-\$(uname -r) installed? setup/install-deps.sh)"
        say "built $ko"
        ;;
    load)
        need_root load
        if loaded; then
            say "valet is already loaded"
            exit 0
        fi
        [ -f "$ko" ] || die "$ko is missing: build it first (setup/module.sh build)"
        vermagic="$(modinfo -F vermagic "$ko" 2>/dev/null | awk '{ print $1 }')" || true
        if [ -n "$vermagic" ] && [ "$vermagic" != "$(uname -r)" ]; then
            die "$ko is built for kernel $vermagic, this is $(uname -r): rebuild with KVER=$(uname -r) setup/module.sh build"
        fi
        insmod "$ko" || die "insmod $ko failed (see dmesg)"
        say "loaded valet.ko; start the client next (setup/client.sh start)"
        ;;
    unload)
        need_root unload
        if ! loaded; then
            say "valet is not loaded"
            exit 0
        fi
        rmmod valet || die "rmmod valet failed: is a device still in use? (setup/swap.sh off; setup/client.sh stop)"
        say "unloaded valet"
        ;;
    status)
        if loaded; then
            say "valet is loaded"
            devices
        else
            say "valet is not loaded (setup/module.sh load)"
        fi
        ;;
    -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
esac
