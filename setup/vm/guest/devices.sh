# shellcheck shell=bash
# The reference swap devices of the VM lab, beside /dev/valet0: zram and nbd to nbdkit's memory plugin, and fio
# runs on any block device. Source it after lib.sh. zram_stop and nbd_stop are safe to call twice (cleanup traps).

ZRAM_DEV=/dev/zram0
NBD_DEV=/dev/nbd0
NBD_PORT=10809
NBD_PIDFILE="/tmp/nbdkit-$SCENARIO.pid"

# zram_start SIZE: /dev/zram0 of SIZE bytes (e.g. 512M), not yet used as swap.
zram_start() {
    modprobe zram num_devices=1 || fail "modprobe zram failed"
    wait_for_file /sys/block/zram0/disksize 5 || fail "zram0 did not appear"
    echo "$1" >/sys/block/zram0/disksize || fail "cannot size zram0"
    wait_for_file "$ZRAM_DEV" 5 || fail "$ZRAM_DEV did not appear"
}
zram_stop() {
    (swap_off "$ZRAM_DEV") || true # a subshell: a failing swap_off must not skip the rest
    [ -w /sys/block/zram0/reset ] && echo 1 >/sys/block/zram0/reset
    modprobe -r zram 2>/dev/null || true
}

# nbd_start: /dev/nbd0 attached by the kernel's nbd client to nbdkit's memory plugin (1 GiB) on loopback TCP.
nbd_start() {
    modprobe nbd || fail "modprobe nbd failed"
    wait_for_file "$NBD_DEV" 5 || fail "$NBD_DEV did not appear"
    # nbdkit forks into the background once it listens, so the client can connect right after it returns.
    nbdkit -p "$NBD_PORT" -i 127.0.0.1 -P "$NBD_PIDFILE" memory 1G || fail "nbdkit did not start"
    nbd-client 127.0.0.1 "$NBD_PORT" "$NBD_DEV" -b 4096 || fail "nbd-client could not connect"
    [ "$(cat /sys/block/nbd0/size)" -gt 0 ] || fail "$NBD_DEV has size 0 after connect"
}
nbd_stop() {
    (swap_off "$NBD_DEV") || true
    [ -e "$NBD_DEV" ] && nbd-client -d "$NBD_DEV" >/dev/null 2>&1
    if [ -s "$NBD_PIDFILE" ]; then
        kill "$(cat "$NBD_PIDFILE")" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$(cat "$NBD_PIDFILE")" 2>/dev/null || break; sleep 0.1; done
        rm -f "$NBD_PIDFILE"
    fi
    modprobe -r nbd 2>/dev/null || true
}

# The fio runs of the comparison: 4 KiB random I/O, O_DIRECT, on the first FIO_SIZE of a device.
FIO_SIZE=16M

# fio_iops NAME DEV RW DEPTH: prints the IOPS of one fio run (RW randwrite or randread) at queue depth DEPTH, with
# verification: randwrite writes every block of FIO_SIZE once and then reads all back and checks them; randread
# reads them all (written by a randwrite run before it) and checks each. A mismatch or an I/O error fails the
# scenario. fio's own output goes to $OUT/$SCENARIO.fio-NAME.txt.
fio_iops() {
    local name="$1" dev="$2" rw="$3" depth="$4" out="$OUT/$SCENARIO.fio-$1.txt" field
    case "$rw" in
        randwrite) field=49 ;; # terse v3: write IOPS
        randread) field=8 ;;   # terse v3: read IOPS
        *) fail "fio_iops: bad mode $rw" ;;
    esac
    fio --name="$name" --filename="$dev" --direct=1 --ioengine=libaio --bs=4k --size="$FIO_SIZE" \
        --rw="$rw" --iodepth="$depth" --verify=crc32c --do_verify=1 --verify_fatal=1 \
        --output-format=terse --terse-version=3 >"$out" 2>&1 || fail "fio $name on $dev failed (see ${out##*/})"
    awk -F';' -v f="$field" 'NF > 100 && $5 == 0 { printf "%d\n", $f; ok = 1 } END { exit !ok }' "$out" ||
        fail "fio $name on $dev: no result line (see ${out##*/})"
}
