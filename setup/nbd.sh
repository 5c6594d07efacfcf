#!/usr/bin/env bash
# The kernel's nbd driver on Valet's NBD export (docs/nbd.md): the step between `setup/client.sh start -- --nbd ...`
# and `setup/swap.sh on /dev/nbd0`, for machines that cannot load valet.ko.
#
#   setup/nbd.sh attach [ENDPOINT] [DEVICE]   modprobe nbd, then nbd-client attaches DEVICE to the export (root)
#   setup/nbd.sh detach [DEVICE]              nbd-client -d DEVICE (root; swap off first: setup/swap.sh off DEVICE)
#   setup/nbd.sh status [DEVICE]              whether DEVICE is attached
#
# ENDPOINT is what the client serves, unix:/path or tcp:host:port; default: the one the running client wrote to
# /run/valet/client.ready (setup/client.sh start -- --nbd unix:/run/valet/nbd.sock). DEVICE defaults to /dev/nbd0.
# The device gets 4 KiB blocks and no request timeout: a request waits for a slow engine rather than fail (the
# engine has its own: failover, device.ioTimeout). Exit status 0 on success, 1 on failure, 2 for bad usage.
set -euo pipefail

STEP=nbd
# shellcheck source-path=SCRIPTDIR source=step-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/step-lib.sh"

[ $# -ge 1 ] || { usage >&2; exit 2; }
action="$1"
shift
attached() { [ -s "/sys/block/${1#/dev/}/pid" ] || [ "$(cat "/sys/block/${1#/dev/}/size" 2>/dev/null || echo 0)" -gt 0 ]; }

case "$action" in
    attach)
        [ $# -le 2 ] || { usage >&2; exit 2; }
        endpoint="${1:-}" dev="${2:-/dev/nbd0}"
        if [ -z "$endpoint" ]; then
            endpoint="$(cat /run/valet/client.ready 2>/dev/null)" ||
                die "no ENDPOINT given and no /run/valet/client.ready (start the client: setup/client.sh start -- --nbd unix:/run/valet/nbd.sock)"
        fi
        [ "$(id -u)" = 0 ] || die "attach needs root"
        command -v nbd-client >/dev/null || die "nbd-client is missing: apt-get install nbd-client"
        modprobe nbd || die "modprobe nbd failed (does this kernel have CONFIG_BLK_DEV_NBD?)"
        for _ in $(seq 50); do [ -b "$dev" ] && break; sleep 0.1; done
        [ -b "$dev" ] || die "$dev did not appear after modprobe nbd"
        ! attached "$dev" || die "$dev is already attached (setup/nbd.sh detach $dev)"
        case "$endpoint" in
            unix:*) nbd-client -unix "${endpoint#unix:}" "$dev" -b 4096 || die "nbd-client could not attach $endpoint" ;;
            tcp:*)
                hostport="${endpoint#tcp:}"
                nbd-client "${hostport%:*}" "${hostport##*:}" "$dev" -b 4096 || die "nbd-client could not attach $endpoint"
                ;;
            *) die "'$endpoint' is neither unix:/path nor tcp:host:port" ;;
        esac
        say "$dev attached to $endpoint ($(($(cat "/sys/block/${dev#/dev/}/size") / 2048)) MiB); next: setup/swap.sh on $dev"
        ;;
    detach)
        [ $# -le 1 ] || { usage >&2; exit 2; }
        dev="${1:-/dev/nbd0}"
        [ "$(id -u)" = 0 ] || die "detach needs root"
        if awk -v d="$(readlink -f "$dev")" 'NR > 1 && $1 == d { f = 1 } END { exit !f }' /proc/swaps; then
            die "$dev is active swap: setup/swap.sh off $dev first"
        fi
        nbd-client -d "$dev" >/dev/null || die "nbd-client -d $dev failed"
        say "$dev detached"
        ;;
    status)
        [ $# -le 1 ] || { usage >&2; exit 2; }
        dev="${1:-/dev/nbd0}"
        if [ -b "$dev" ] && attached "$dev"; then
            say "$dev attached"
        else
            say "$dev not attached"
            exit 1
        fi
        ;;
    *) usage >&2; exit 2 ;;
esac
