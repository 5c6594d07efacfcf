#!/bin/bash
# vm-timeout: 60
# vm-seconds: 5
# vm-kernels: all
# Smoke test of the lab itself: the guest runs the host's kernel modules, java and the lab's hog, has a writable
# root, cgroup2 with the memory controller, a readable /proc/swaps, and no AVX (lab.sh turns it off: see there).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../guest/lib.sh
. "$REPO/setup/vm/guest/lib.sh"

[ "$(uname -r)" = "$KVER" ] || fail "uname -r says $(uname -r), runner says $KVER"
[ -d "/lib/modules/$KVER/kernel" ] || fail "/lib/modules/$KVER not visible in the guest"

! grep -qw avx /proc/cpuinfo || fail "the guest CPU has AVX (lab.sh's -cpu should turn it off)"

time_it java -version || fail "java -version failed"
metric java_version_seconds "$ELAPSED"

head -n 1 /proc/swaps | grep -q '^Filename' || fail "/proc/swaps not readable"
metric swaps_active $(($(wc -l </proc/swaps) - 1))

grep -qw memory /sys/fs/cgroup/cgroup.controllers || fail "no cgroup2 memory controller"
{ touch /etc/valet-smoke && rm /etc/valet-smoke; } || fail "guest root is not writable (overlay)"

time_it "$HOG" 16 1 || fail "hog 16 1 failed"
metric hog_16mib_seconds "$ELAPSED"
