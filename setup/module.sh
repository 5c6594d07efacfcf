#!/usr/bin/env bash
# The valet kernel module (native/kernel/valet.ko), which provides /dev/valetN and hands its I/O to `valet client`.
#
#   setup/module.sh build     build valet.ko (for which kernel: below; KVER=... for another): through DKMS when dkms
#                             is installed and this is root (registered as valet/VERSION, installed into
#                             /lib/modules/KVER/updates/dkms, rebuilt by DKMS for every kernel installed later),
#                             else make -C native/kernel (VALET_NO_DKMS=1 always uses make)
#   setup/module.sh load      insmod native/kernel/valet.ko when it is built for the running kernel, else modprobe
#                             valet (the DKMS or Debian package's module) (root)
#   setup/module.sh unload    rmmod valet (root; swapoff its devices first: setup/swap.sh off)
#   setup/module.sh status    whether it is loaded, and its devices
#
# Which kernel make builds for without KVER: the running one when its headers are installed, else the newest with
# an image and headers (native/kernel/Makefile; `make -C native/kernel kver` says which).
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
# dkms_build: registers native/kernel's sources as valet/VERSION (a fresh copy in /usr/src/valet-VERSION, so that
# DKMS always builds the tree as it is now), then builds and installs the module for KVER (default: running kernel).
dkms_build() {
    local version kver src
    version="$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' "$root/pom.xml" | head -n 1)-dev"
    kver="${KVER:-$(make -s -C "$root/native/kernel" kver | awk '{ print $1 }')}"
    src="/usr/src/valet-$version"
    say "building valet.ko $version for $kver with DKMS ($src)"
    if dkms status -m valet -v "$version" | grep -q .; then
        dkms remove -m valet -v "$version" --all >/dev/null || die "dkms remove valet/$version failed"
    fi
    rm -rf "$src"
    mkdir -p "$src/conftest"
    (cd "$root/native/kernel" && cp Makefile Kbuild conftest.sh valet.c valet_uapi.h "$src/" \
        && cp conftest/Kbuild conftest/*.c "$src/conftest/") || die "cannot copy the sources to $src"
    sed "s/@dkms.version@/$version/" "$root/native/kernel/dkms.conf" >"$src/dkms.conf"
    dkms add -m valet -v "$version" || die "dkms add valet/$version failed"
    dkms build -m valet -v "$version" -k "$kver" || die "dkms build failed (is linux-headers-$kver installed?)"
    dkms install -m valet -v "$version" -k "$kver" --force || die "dkms install failed"
    say "installed valet.ko for $kver (modprobe valet; setup/module.sh load)"
}
swap_note() {
    awk -v d="$1" 'NR > 1 && $1 == d { found = 1 } END { exit !found }' /proc/swaps 2>/dev/null && echo ", swap on"
    true
}

[ $# -eq 1 ] || { usage >&2; exit 2; }
case "$1" in
    build)
        if [ "${VALET_NO_DKMS:-0}" != 1 ] && command -v dkms >/dev/null && [ "$(id -u)" = 0 ]; then
            dkms_build
        else
            say "building $ko (make -C native/kernel${KVER:+ KVER=$KVER})"
            make -C "$root/native/kernel" || die "build failed (are the kernel's headers installed? setup/install-deps.sh)"
            say "built $ko"
        fi
        ;;
    load)
        need_root load
        if loaded; then
            say "valet is already loaded"
            exit 0
        fi
        vermagic=""
        [ -f "$ko" ] && vermagic="$(modinfo -F vermagic "$ko" 2>/dev/null | awk '{ print $1 }')" || true
        if [ "$vermagic" = "$(uname -r)" ]; then
            insmod "$ko" || die "insmod $ko failed (see dmesg)"
            say "loaded $ko; start the client next (setup/client.sh start)"
        elif modinfo valet >/dev/null 2>&1; then
            modprobe valet || die "modprobe valet failed (see dmesg)"
            say "loaded $(modinfo -F filename valet); start the client next (setup/client.sh start)"
        elif [ -n "$vermagic" ]; then
            die "$ko is built for kernel $vermagic, this is $(uname -r): rebuild with KVER=$(uname -r) setup/module.sh build"
        else
            die "no valet.ko for kernel $(uname -r): build it first (setup/module.sh build)"
        fi
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
