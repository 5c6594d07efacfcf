#!/bin/bash
# vm-timeout: 240
# vm-seconds: 15
# The valet block driver without the real daemon (native/kernel): load valet.ko, refuse every hostile netlink message
# (tools/valet-nlprobe), CREATE /dev/valet0 and check its queue, hold a read for HOLD_MS and then fail it with EIO,
# fail a read after IO_TIMEOUT + HOLD at an attached daemon that never answers, serve a read and a write through the
# data area as a minimal daemon that also sends stale, unknown, incomplete and double completions (daemon-probe),
# keep a device's tier area across daemons (one fills it and is SIGKILLed, the next finds the pattern; other processes
# may not map it; DESTROY frees it: tier-probe), refuse DESTROY and rmmod while the device is open, DESTROY it, and
# unload with a device left (module exit removes it). Swap served by the real daemon (valet-client) is tested in its
# own scenarios.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"

src="$REPO/native/kernel"
dev=/dev/valet0
stall_pid=""
tier_pid=""

cleanup() {
    exec 3<&- 2>/dev/null || true
    [ -z "$stall_pid" ] || kill "$stall_pid" 2>/dev/null || true
    [ -z "$tier_pid" ] || kill -9 "$tier_pid" 2>/dev/null || true
    if grep -q '^valet ' /proc/modules; then
        [ ! -x "${probe:-}" ] || "$probe" destroy 0 2>/dev/null || true
        [ ! -x "${probe:-}" ] || "$probe" destroy 1 2>/dev/null || true
        rmmod valet 2>/dev/null || true
    fi
}
trap cleanup EXIT

# --- valet.ko and valet-nlprobe: the host's build when it is up to date, else built here from a copy ------------------
ko="$src/build/$KVER/valet.ko" # make -C native/kernel KVER=... keeps each kernel's there
probe="$src/tools/valet-nlprobe"
fresh=1
for f in "$src/valet.c" "$src/valet_uapi.h" "$src/Kbuild" "$src/Makefile" "$src/conftest.sh" "$src"/conftest/*; do
    [ -f "$ko" ] && [ "$ko" -nt "$f" ] || fresh=0
done
[ "$fresh" = 1 ] && [ "$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)" = "$KVER" ] || fresh=0
[ -x "$probe" ] && [ "$probe" -nt "$src/tools/valet-nlprobe.c" ] && [ "$probe" -nt "$src/valet_uapi.h" ] || fresh=0
if [ "$fresh" = 0 ]; then
    log "building valet.ko and valet-nlprobe in the guest (the host's build is missing or stale)"
    mkdir -p build/tools
    cp -r "$src"/{Kbuild,Makefile,valet.c,valet_uapi.h,conftest.sh,conftest} build/
    cp "$src/tools/valet-nlprobe.c" build/tools/
    time_it make -s -C build KVER="$KVER" modules tools >build.log 2>&1 || { cat build.log; fail "build failed"; }
    metric build_seconds "$ELAPSED"
    ko="$PWD/build/valet.ko"
    probe="$PWD/build/tools/valet-nlprobe"
fi

# status_field NAME [INDEX]: a field of valetINDEX's line (default valet0) in "valet-nlprobe status".
status_field() {
    "$probe" status "${2:-0}" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# vmalloc_kb: the kernel's vmalloc'd memory (where the driver's areas are), in KiB.
vmalloc_kb() {
    awk '$1 == "VmallocUsed:" { print $2 }' /proc/meminfo
}

# --- load; the prober with no device and no daemon --------------------------------------------------------------------
insmod "$ko" || fail "insmod $ko failed"
dmesg | grep 'valet: loaded' >/dev/null || fail "no 'valet: loaded' in the kernel log"
[ -z "$("$probe" status)" ] || fail "a fresh module has devices"
"$probe" probe || fail "valet-nlprobe (no daemon): a hostile message was accepted"

# --- CREATE and the queue ---------------------------------------------------------------------------------------------
index="$("$probe" create 64M --hold-ms 2000 --io-timeout-ms 1000)" || fail "CREATE failed"
[ "$index" = 0 ] || fail "CREATE returned index '$index', expected 0"
wait_for_file "$dev" 10 || fail "$dev did not appear"
q=/sys/block/valet0/queue
[ "$(blockdev --getsize64 "$dev")" = $((64 << 20)) ] || fail "size $(blockdev --getsize64 "$dev"), expected 64 MiB"
[ "$(cat $q/logical_block_size)" = 4096 ] || fail "logical_block_size $(cat $q/logical_block_size)"
[ "$(cat $q/physical_block_size)" = 4096 ] || fail "physical_block_size $(cat $q/physical_block_size)"
[ "$(cat $q/rotational)" = 0 ] || fail "rotational"
[ "$(cat $q/max_hw_sectors_kb)" = 512 ] || fail "max_hw_sectors_kb $(cat $q/max_hw_sectors_kb), expected 512"
[ "$(cat $q/write_cache)" = "write back" ] || fail "write_cache: $(cat $q/write_cache)"
hwq="$(find /sys/block/valet0/mq -mindepth 1 -maxdepth 1 | wc -l)"
possible="$(cat /sys/devices/system/cpu/possible)" # e.g. 0-1: nr_cpu_ids is the last one + 1
[ "$hwq" = $((${possible##*[-,]} + 1)) ] || fail "$hwq hardware queues, CPUs $possible"
metric max_hw_sectors_kb "$(cat $q/max_hw_sectors_kb)"
[ "$(status_field queue_depth)" = 256 ] || fail "queue depth $(status_field queue_depth), expected the default 256"

# --- no daemon: a read is held for HOLD_MS (2 s), then fails ------------------------------------------------------------
t0="$(now_ms)"
if dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null; then
    fail "a read succeeded with no daemon attached"
fi
held_ms=$(($(now_ms) - t0))
metric no_daemon_eio_ms "$held_ms"
[ "$held_ms" -ge 1900 ] || fail "the read failed after ${held_ms} ms, before HOLD_MS (2000)"
[ "$held_ms" -le 15000 ] || fail "the read failed only after ${held_ms} ms"
[ "$(status_field errors)" = 1 ] || fail "STAT_ERRORS $(status_field errors), expected 1"

# --- an attached daemon that never answers: timeouts until IO_TIMEOUT + HOLD, then EIO ---------------------------------
"$probe" stall 60 >stall.log 2>&1 &
stall_pid=$!
for _ in $(seq 50); do [ "$(status_field attached)" = 1 ] && break; sleep 0.1; done
[ "$(status_field attached)" = 1 ] || fail "the stalling daemon did not attach"
"$probe" probe || fail "valet-nlprobe (daemon attached): a hostile message was accepted"
t0="$(now_ms)"
if dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null; then
    fail "a read succeeded at a daemon that never answers"
fi
stalled_ms=$(($(now_ms) - t0))
metric stalled_daemon_eio_ms "$stalled_ms"
[ "$stalled_ms" -ge 2900 ] || fail "the read failed after ${stalled_ms} ms, before IO_TIMEOUT + HOLD_MS (3000)"
[ "$(status_field timeouts)" -ge 1 ] || fail "no timeout counted"
kill "$stall_pid"
wait "$stall_pid" 2>/dev/null || true
stall_pid=""
for _ in $(seq 50); do [ "$(status_field attached)" = 0 ] && break; sleep 0.1; done
[ "$(status_field attached)" = 0 ] || fail "the daemon's socket closed but it is still attached"

# --- the daemon's side of version 2: the data area, tag + generation cookies -----------------------------------------
"$probe" daemon-probe 0 || fail "valet-nlprobe daemon-probe: the data area or a completion check failed"
[ "$(status_field attached)" = 0 ] || fail "daemon-probe detached, but a daemon is still attached"

# --- the tier area (version 3): driver memory that outlives its daemon, freed by DESTROY ------------------------------
[ "$(status_field tier_bytes)" = 0 ] || fail "valet0 was created without a tier, STATUS says $(status_field tier_bytes)"
vm_before="$(vmalloc_kb)"
tier="$("$probe" create 16M --data-bytes 1M --tier-bytes 32M)" || fail "CREATE with a 32 MiB tier failed"
wait_for_file "/dev/valet$tier" 10 || fail "/dev/valet$tier did not appear"
[ "$(status_field tier_bytes "$tier")" = $((32 << 20)) ] || fail "STATUS tier_bytes $(status_field tier_bytes "$tier")"
vm_created="$(vmalloc_kb)"
# Both areas are vmalloc'd: 1 MiB of data area and 32 MiB of tier.
metric areas_vmalloc_kb $((vm_created - vm_before))
[ $((vm_created - vm_before)) -ge $((33 << 10)) ] ||
    fail "vmalloc grew by $((vm_created - vm_before)) KiB for 33 MiB of areas"
# The first daemon finds zeros, fills the tier and is SIGKILLed while attached and mapping it.
"$probe" tier-probe "$tier" --expect zero --fill 7 --hang >tier1.log 2>&1 &
tier_pid=$!
for _ in $(seq 300); do grep -q 'waiting to be killed' tier1.log && break; sleep 0.1; done
cat tier1.log
grep -q 'waiting to be killed' tier1.log || fail "tier-probe (first daemon) did not get to fill the tier"
! grep -q FAIL tier1.log || fail "tier-probe (first daemon) failed a check"
kill -9 "$tier_pid"
wait "$tier_pid" 2>/dev/null || true
tier_pid=""
for _ in $(seq 50); do [ "$(status_field attached "$tier")" = 0 ] && break; sleep 0.1; done
[ "$(status_field attached "$tier")" = 0 ] || fail "the SIGKILLed daemon is still attached"
# The next daemon finds the pattern, and leaves another; the one after finds that.
"$probe" tier-probe "$tier" --expect 7 --fill 9 || fail "tier-probe: the tier lost what a SIGKILLed daemon left"
"$probe" tier-probe "$tier" --expect 9 || fail "tier-probe: the tier lost what a detached daemon left"
"$probe" destroy "$tier" || fail "DESTROY of the device with a tier failed"
[ ! -e "/dev/valet$tier" ] || fail "/dev/valet$tier still exists after DESTROY"
vm_destroyed="$(vmalloc_kb)"
[ $((vm_created - vm_destroyed)) -ge $((33 << 10)) ] ||
    fail "vmalloc shrank by only $((vm_created - vm_destroyed)) KiB when the device with 33 MiB of areas went"

# --- open: DESTROY and rmmod refused ------------------------------------------------------------------------------------
exec 3<"$dev"
if "$probe" destroy 0 2>/dev/null; then fail "DESTROY succeeded while the device is open"; fi
if rmmod valet 2>/dev/null; then fail "rmmod succeeded while the device is open"; fi
exec 3<&-

# --- DESTROY; then unload with a device left ---------------------------------------------------------------------------
"$probe" destroy 0 || fail "DESTROY failed"
[ ! -e "$dev" ] || fail "$dev still exists after DESTROY"
index="$("$probe" create 16M)" || fail "second CREATE failed"
wait_for_file "/dev/valet$index" 10 || fail "/dev/valet$index did not appear"
rmmod valet || fail "rmmod with a closed device failed"
[ ! -e "/dev/valet$index" ] || fail "/dev/valet$index still exists after rmmod"
dmesg | grep 'valet' | tail -n 20
