#!/bin/busybox sh
# /init of the VM lab's initramfs (copied in by setup/vm/lab.sh; runs as PID 1 under busybox sh).
# Makes the host's root file system the guest's root: read-only 9p share "hostroot" with a tmpfs overlay on top
# (the guest can write anywhere, the changes vanish at power-off), plus the read-write 9p share "results" at the
# host path given as valet.out=. Then switch_root into it and run the guest runner as PID 1's child.
# Everything else (which scenarios, timeouts) is read by the runner from /proc/cmdline.

/bin/busybox mkdir -p /proc /sys /dev /usr/bin /sbin /usr/sbin
/bin/busybox mount -t proc proc /proc # --install finds busybox through /proc/self/exe
/bin/busybox --install -s

die() {
    echo "init: FATAL: $*"
    # Power off at once so the host does not sit until its timeout; lab.sh then reports "VM did not finish".
    echo o >/proc/sysrq-trigger
    sleep 30
}

mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The cpio has no /dev/console (making device nodes needs root on the build host): attach stdio now.
exec </dev/console >/dev/console 2>&1

# Modules for virtio-pci, 9p and overlay, in dependency order (from modprobe --show-depends at build time).
while read -r ko; do
    insmod "/lib/modules/$ko" || die "insmod $ko failed"
done </modules.list

repo="" out=""
# shellcheck disable=SC2013 # one line of space-separated words
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        valet.repo=*) repo="${arg#valet.repo=}" ;;
        valet.out=*) out="${arg#valet.out=}" ;;
    esac
done
{ [ -n "$repo" ] && [ -n "$out" ]; } || die "valet.repo= and valet.out= must be on the kernel command line"

mkdir -p /mnt/lower /mnt/rw /newroot
# cache=loose: the host files do not change during a run, and uncached 9p makes java start several times slower.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /mnt/lower ||
    die "cannot mount the host root over 9p"
mount -t tmpfs -o mode=0755 tmpfs /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work overlay /newroot ||
    die "cannot mount the overlay root"

n=/newroot
mount -t proc proc $n/proc
mount -t sysfs sysfs $n/sys
mount -t cgroup2 cgroup2 $n/sys/fs/cgroup
mount -t devtmpfs devtmpfs $n/dev
mkdir -p $n/dev/pts $n/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $n/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $n/dev/shm
# devtmpfs lacks these links; bash process substitution needs /dev/fd.
ln -sf /proc/self/fd $n/dev/fd
ln -sf /proc/self/fd/0 $n/dev/stdin
ln -sf /proc/self/fd/1 $n/dev/stdout
ln -sf /proc/self/fd/2 $n/dev/stderr
mount -t tmpfs -o mode=1777 tmpfs $n/tmp
mount -t tmpfs -o mode=0755 tmpfs $n/run
mkdir -p "$n$out"
# No cache on the results share: what the guest writes is on the host at once, even if the guest dies later.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results "$n$out" || die "cannot mount the results share"

runner="$repo/setup/vm/guest/runner.sh"
[ -f "$n$runner" ] || die "$runner not found in the guest"

# Lazy: our stdio still points into /dev.
umount -l /dev /sys /proc 2>/dev/null
# switch_root, not chroot: the kernel runs /sbin/modprobe from the root of PID 1 to autoload modules, and that must
# be the host's modprobe with the host's /lib/modules. PID 1 (bash) runs the runner and powers off if it dies.
# shellcheck disable=SC2016 # $1 and $? belong to the bash that becomes PID 1
exec switch_root /newroot /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8 \
    /bin/bash -c '/bin/bash "$1"; echo "vm-init: runner exited with status $?, powering off"; sync;
        echo o >/proc/sysrq-trigger; sleep 30' vm-init "$runner"
