#!/usr/bin/env bash
# The client daemon (bin/valet client) in the background, serving /dev/valetN.
#
#   setup/client.sh [--dir DIR] [--config FILE] [--timeout SECONDS] start [-- CLIENT_OPTION...]
#   setup/client.sh [--dir DIR] [--timeout SECONDS] stop
#   setup/client.sh [--dir DIR] status
#
# start: runs `bin/valet client --config FILE --ready-file DIR/client.ready` with its output in DIR/client.log and
#        its pid in DIR/client.pid, and waits (--timeout, default 120s: the first run may build the jars) until the
#        device is ready; then prints the device. Fails, showing the end of the log, if the client exits first.
# stop:  SIGTERM, then waits (--timeout, default 30s) for it to exit: it detaches, and the module holds requests
#        for the next client (an NBD export just closes: nbd-client sees its connection end).
# status: exit status 0 when running, 1 when not.
#
# --dir defaults to /run/valet; --config to $VALET_CONFIG, else the repository's valet.yaml. Options after -- go
# to `valet client` (e.g. --require-mlock). Needs root (the client does). The module must be loaded first
# (setup/module.sh load), except with `-- --nbd ENDPOINT`, which serves an NBD export instead (then setup/nbd.sh
# attach; docs/nbd.md).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir=/run/valet
config="${VALET_CONFIG:-$root/valet.yaml}"
timeout=""

STEP=client
# shellcheck source-path=SCRIPTDIR source=step-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/step-lib.sh"

while [ $# -gt 0 ]; do
    case "$1" in
        --dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; dir="$2"; shift 2 ;;
        --config) [ $# -ge 2 ] || { usage >&2; exit 2; }; config="$2"; shift 2 ;;
        --timeout) [ $# -ge 2 ] || { usage >&2; exit 2; }; timeout="$2"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        -*) usage >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || { usage >&2; exit 2; }
action="$1"
shift
if [ $# -gt 0 ]; then
    if [ "$action" != start ] || [ "$1" != -- ]; then
        usage >&2
        exit 2
    fi
    shift
fi
[[ -z "$timeout" || "$timeout" =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds, got '$timeout'"

pid_file="$dir/client.pid"
ready_file="$dir/client.ready"
log_file="$dir/client.log"

# running: true when the pid file names a live valet client; sets pid.
pid=""
running() {
    [ -f "$pid_file" ] || return 1
    pid="$(cat "$pid_file")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && grep -q valet "/proc/$pid/cmdline" 2>/dev/null
}

case "$action" in
    start)
        [ "$(id -u)" = 0 ] || die "start needs root (the client attaches to the kernel module and locks its memory)"
        if running; then
            say "already running (pid $pid): $(cat "$ready_file" 2>/dev/null || echo "device not ready yet")"
            exit 0
        fi
        [ -f "$config" ] || die "$config does not exist (--config FILE)"
        nbd=0
        for a in "$@"; do [[ "$a" != --nbd && "$a" != --nbd=* ]] || nbd=1; done
        [ "$nbd" = 1 ] || [ -d /sys/module/valet ] || die "the valet module is not loaded (setup/module.sh load)"
        mkdir -p "$dir"
        rm -f "$ready_file" "$pid_file"
        say "starting bin/valet client --config $config (log $log_file)"
        nohup "$root/bin/valet" client --config "$config" --ready-file "$ready_file" "$@" >>"$log_file" 2>&1 \
            </dev/null &
        pid=$!
        echo "$pid" >"$pid_file"
        deadline=$((SECONDS + ${timeout:-120}))
        until [ -s "$ready_file" ]; do
            if ! kill -0 "$pid" 2>/dev/null; then
                rc=0
                wait "$pid" || rc=$?
                rm -f "$pid_file"
                echo "client: the client exited (status $rc) before the device was ready; end of $log_file:" >&2
                tail -n 15 "$log_file" >&2
                exit 1
            fi
            if [ "$SECONDS" -ge "$deadline" ]; then
                die "no device after ${timeout:-120}s; the client (pid $pid) is still starting, see $log_file"
            fi
            sleep 0.2
        done
        if [ "$nbd" = 1 ]; then
            say "serving the NBD export at $(cat "$ready_file") (pid $pid); next: setup/nbd.sh attach"
        else
            say "serving $(cat "$ready_file") (pid $pid); next: setup/swap.sh on $(cat "$ready_file")"
        fi
        ;;
    stop)
        if ! running; then
            rm -f "$pid_file"
            say "not running"
            exit 0
        fi
        say "stopping pid $pid (SIGTERM)"
        served="$(cat "$ready_file" 2>/dev/null || true)" # /dev/valetN, or the NBD endpoint (unix:..., tcp:...)
        kill -TERM "$pid"
        deadline=$((SECONDS + ${timeout:-30}))
        while kill -0 "$pid" 2>/dev/null; do
            [ "$SECONDS" -lt "$deadline" ] ||
                die "pid $pid did not exit within ${timeout:-30}s (see $log_file; kill -KILL $pid detaches it too)"
            sleep 0.2
        done
        rm -f "$pid_file" "$ready_file"
        case "$served" in
            unix:* | tcp:*) say "stopped; the NBD export is gone: its client (nbd-client) sees the connection closed" ;;
            *) say "stopped; requests wait for the next client (device.holdTimeout)" ;;
        esac
        ;;
    status)
        if running; then
            say "running (pid $pid): $(cat "$ready_file" 2>/dev/null || echo "device not ready yet")"
        else
            say "not running"
            exit 1
        fi
        ;;
    *) usage >&2; exit 2 ;;
esac
