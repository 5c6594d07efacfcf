#!/usr/bin/env bash
# Runs every Valet test: installs what is missing, then the kernel module's style guard (make -C native/kernel
# check: checkpatch.pl --strict, the module with W=1 and its prober, warnings as errors), then the Maven build with
# all unit, property and process tests (real donor processes on loopback) and its guards (-Xlint:all -Werror,
# Checkstyle, SpotBugs; docs/development.md), then the VM lab (setup/vm/lab.sh all: kernel-side scenarios in a qemu
# VM, since this machine's kernel cannot load modules). This is the README's test command and what CI runs (as
# root). VALET_SKIP_VM_LAB=1 skips the VM lab and its packages.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

setup/install-deps.sh
echo "run-tests: the kernel module's checks (make -C native/kernel check)"
make -s -C native/kernel check
mvn -B -ntp verify

if [ "${VALET_SKIP_VM_LAB:-0}" = 1 ]; then
    echo "run-tests: VM lab skipped (VALET_SKIP_VM_LAB=1)"
    exit 0
fi
echo
echo "run-tests: building the kernel module for each kernel the VM lab boots, and its tools"
mapfile -t kvers < <(setup/vm/lab.sh --kvers) # the guest kernel (Debian 12's 6.1), then the second (6.12)
[ ${#kvers[@]} -gt 0 ] || { echo "run-tests: no guest kernel for the VM lab (setup/install-deps.sh)" >&2; exit 1; }
for kver in "${kvers[@]}"; do
    make -s -C native/kernel KVER="$kver" # native/kernel/build/KVER/valet.ko
done
make -s -C native/kernel tools
echo "run-tests: VM lab: setup/vm/lab.sh all"
setup/vm/lab.sh all
