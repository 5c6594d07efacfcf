#!/bin/bash
# Guest side of the VM lab (setup/vm/lab.sh): runs as the child of PID 1 after switch_root into the host's root.
# Reads the scenarios from the kernel command line, runs each setup/vm/scenarios/NAME.sh with a time limit, writes
# $OUT/NAME.{result,metrics,log,duration,window}, saves dmesg and powers the VM off. Its own progress goes to the
# console (the host's serial log; lab.sh shows the "vm-runner:" lines live) and to $OUT/runner.log.
# Not -e: a failing scenario must not stop the others.
set -uo pipefail

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

REPO="" OUT="" scenarios="" default_timeout=300
# shellcheck disable=SC2013 # the command line is one line of space-separated words
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        valet.repo=*) REPO="${arg#valet.repo=}" ;;
        valet.out=*) OUT="${arg#valet.out=}" ;;
        valet.scenarios=*) scenarios="${arg#valet.scenarios=}" ;;
        valet.timeout=*) default_timeout="${arg#valet.timeout=}" ;;
        valet.env=VALET_CHAOS_*=* | valet.env=VALET_COMPARE_*=*) # lab.sh checked them
            arg="${arg#valet.env=}" && export "${arg%%=*}=${arg#*=}" ;;
    esac
done
KVER="$(uname -r)"
HOG="$REPO/target/vm/hog"
export REPO OUT KVER HOG

uptime_s() { local up _; read -r up _ </proc/uptime; echo "$up"; }
log() { echo "vm-runner: $*" | tee -a "$OUT/runner.log" >/dev/console; }

power_off() {
    sync
    echo o >/proc/sysrq-trigger
    sleep 30
}

if [ -z "$REPO" ] || [ -z "$OUT" ] || [ ! -d "$OUT" ]; then
    echo "vm-runner: valet.repo= or valet.out= missing on the kernel command line" >/dev/console
    power_off
fi

log "up after $(uptime_s)s, kernel $KVER, scenarios: ${scenarios//,/ }"
echo "boot_to_runner_seconds=$(uptime_s)" >"$OUT/runner.metrics"

# Hostname and loopback; eth0 on qemu's user-mode network (10.0.2.0/24, gateway 10.0.2.2) for scenarios that want
# a real NIC (Soft-RoCE binds to one). No udev in the guest, so the NIC driver is loaded by hand.
echo valet-vm >/proc/sys/kernel/hostname
ip link set lo up || log "warning: cannot bring lo up"
if modprobe virtio_net 2>/dev/null; then
    for _ in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
    if ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2; then
        echo "eth0=10.0.2.15" >>"$OUT/runner.metrics"
    else
        log "warning: eth0 not configured"
    fi
fi
# A task stuck in D state longer than the driver may hold a request by design is a bug worth failing on. The lab's
# devices hold requests up to device.holdTimeout (120 s) plus ioTimeout (30 s), e.g. across a client restart, whose
# JVM start alone takes about a minute under TCG: 60 s here reported such a designed wait as a hung task.
[ -w /proc/sys/kernel/hung_task_timeout_secs ] && echo 180 >/proc/sys/kernel/hung_task_timeout_secs

# A scenario may lower or raise its own limit with a header line "# vm-timeout: SECONDS".
scenario_timeout() {
    local t
    t="$(sed -n 's/^# *vm-timeout: *\([0-9][0-9]*\) *$/\1/p' "$1" | head -n 1)"
    echo "${t:-$default_timeout}"
}

run_scenario() {
    local name="$1" script="$REPO/setup/vm/scenarios/$1.sh"
    local result="" rc=0 t start end scratch
    rm -f "$OUT/$name".{result,metrics,log,duration,window,threads.txt,conclusion}
    touch "$OUT/$name.metrics"
    if [ ! -f "$script" ]; then
        echo "FAIL: no such scenario $script" >"$OUT/$name.result"
        log "$name FAIL (no such scenario)"
        return
    fi
    t="$(scenario_timeout "$script")"
    scratch="$(mktemp -d "/tmp/scenario-$name.XXXXXX")"
    log "$name: start (timeout ${t}s)"
    start="$(uptime_s)"
    # Uptime window, "START END": lab.sh blames kernel bugs on the scenario running then. END is far in the future
    # until the scenario ends, so a crash in it is still blamed on it.
    echo "$start 999999999" >"$OUT/$name.window"
    export VALET_FAIL_FILE="$scratch/.fail" VALET_METRICS="$OUT/$name.metrics" SCENARIO="$name"
    # Own directory as cwd and scratch space; timeout signals the whole process group, -k kills what ignores it.
    # timeout leads its own process group: whatever the scenario started and left running is found by it below.
    (cd "$scratch" && exec timeout -k 15 "$t" bash "$script") >"$OUT/$name.log" 2>&1 </dev/null &
    local group=$!
    # A hang is found by its thread dumps: 20 s before the limit, every JVM the scenario runs prints its threads.
    local dumper=""
    if [ "$t" -gt 60 ]; then
        (
            sleep $((t - 20))
            for pid in $(pgrep -g "$group" -x java); do
                echo "=== $(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-200)"
                timeout 15 jcmd "$pid" Thread.print 2>&1
            done >"$OUT/$name.threads.txt"
            log "$name: near its time limit; JVM thread dumps in $name.threads.txt"
        ) &
        dumper=$!
    fi
    wait "$group" || rc=$?
    if [ -n "$dumper" ]; then
        kill "$dumper" 2>/dev/null || true # its sleep, if still asleep, ends with the VM
        wait "$dumper" 2>/dev/null || true
    fi
    end="$(uptime_s)"
    local elapsed
    elapsed="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')"

    if [ -s "$VALET_FAIL_FILE" ]; then
        result="FAIL: $(head -n 1 "$VALET_FAIL_FILE")"
    elif [ "$rc" = 124 ] || { [ "$rc" = 137 ] && awk -v e="$elapsed" -v t="$t" 'BEGIN { exit !(e >= t) }'; }; then
        result="FAIL: timed out after ${t}s"
    elif [ "$rc" != 0 ]; then
        result="FAIL: exit status $rc; last output: $(grep -v '^[[:space:]]*$' "$OUT/$name.log" | tail -n 1 | cut -c1-200)"
    else
        result="PASS"
    fi
    # The kernel's whole log now, before any cleanup below can hang (a swapoff of a device nobody serves): its
    # hung-task stack traces are printed below the console's log level.
    [ "$result" = PASS ] || dmesg >"$OUT/$name.dmesg.txt" 2>&1 || true
    # Scenarios must clean up: a leftover process, module or swap device changes what the next scenario meets.
    local stray
    stray="$(pgrep -a -g "$group" | cut -c1-120 | paste -s -d';')" || true
    if [ -n "$stray" ]; then
        [ "$result" = PASS ] && result="FAIL: left processes running: $stray"
        log "$name: killing what it left running: $stray"
        pkill -KILL -g "$group" || true
        sleep 1
    fi
    if [ -d /sys/module/valet ]; then
        [ "$result" = PASS ] && result="FAIL: left valet.ko loaded"
        log "$name: rmmod valet (left loaded)"
        rmmod valet || log "warning: rmmod valet failed"
    fi
    if [ "$(wc -l </proc/swaps)" -gt 1 ]; then
        local left
        left="$(awk 'NR > 1 { print $1 }' /proc/swaps | paste -s -d' ')"
        [ "$result" = PASS ] && result="FAIL: left swap active: $left"
        log "$name: swapoff -a (left active: $left)"
        timeout 120 swapoff -a || log "warning: swapoff -a failed"
    fi
    echo "$result" >"$OUT/$name.result"
    echo "$elapsed" >"$OUT/$name.duration"
    echo "$start $end" >"$OUT/$name.window"
    log "$name: ${result%%:*} in ${elapsed}s"
    rm -rf "$scratch"
}

IFS=, read -r -a names <<<"$scenarios"
for name in "${names[@]}"; do
    [ -n "$name" ] && run_scenario "$name"
done

dmesg >"$OUT/dmesg.txt" 2>&1
echo "uptime_seconds=$(uptime_s)" >>"$OUT/runner.metrics"
touch "$OUT/runner.done"
log "done after $(uptime_s)s, powering off"
power_off
