#!/usr/bin/env bash
# Installs what building and testing Valet needs on Debian 12: a JDK 17, Maven, gcc, make and the verbs headers
# (the build compiles native/verbs), what the kernel module's checks need (make -C native/kernel check: Debian's
# kernel headers of 6.1 and 6.12, and linux-source-6.1 for checkpatch.pl), and the packages of the VM test lab (setup/vm/: qemu,
# Debian's 6.1 guest kernel, busybox, RDMA/NBD user space). Safe to run again: it installs only what is missing and then
# prints one line. Needs root (or sudo) only when something is missing. VALET_SKIP_VM_LAB=1 skips the VM lab
# packages (not the build's).
set -euo pipefail

missing=()
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)

# VM lab: the guest kernel (linux-image-amd64) boots under qemu and loads its modules from this machine's
# /lib/modules, so it must stay installed even though this machine runs another kernel. iproute2 (`ip`, `rdma` in
# the guest) is not guaranteed on a minimal Debian 12 and --no-install-recommends would not pull it in.
vm_packages=(
    qemu-system-x86 linux-image-amd64 busybox-static kmod cpio
    rdma-core ibverbs-providers ibverbs-utils rdmacm-utils perftest
    nbdkit nbd-client fio iproute2
)
# The Maven build compiles the verbs shim (native/verbs: make, libibverbs and librdmacm headers and libraries).
# The kernel module's checks build valet.ko out of tree (make, linux-headers-amd64: the headers of Debian's
# kernel) and the prober (libc6-dev, also the static libc of setup/vm/hog.c), and run checkpatch.pl from
# linux-source-6.1's tarball (perl, xz-utils). A minimal Debian 12 with --no-install-recommends lacks some of them.
# The NBD front end's tests run libnbd's nbdinfo and nbdcopy against the export (libnbd-bin).
# The module must build W=1-clean for both kernels Debian 12 ships: 6.1 (linux-headers-amd64) and 6.12
# (linux-headers-6.12-amd64, which brings its kernel image along: the headers depend on it).
# The dashboard's test drives Debian's headless chromium through Selenium and its chromedriver (chromium,
# chromium-driver).
packages=(make libibverbs-dev librdmacm-dev linux-headers-amd64 linux-headers-6.12-amd64 linux-source-6.1 libc6-dev
    perl xz-utils libnbd-bin chromium chromium-driver)
[ "${VALET_SKIP_VM_LAB:-0}" = 1 ] || packages+=("${vm_packages[@]}")
# One dpkg-query for all of them keeps a second run fast; "ii" = installed and configured.
declare -A installed=()
while read -r status pkg; do
    [ "$status" = ii ] && installed[$pkg]=1
done < <(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${packages[@]}" 2>/dev/null || true)
for pkg in "${packages[@]}"; do
    [ -n "${installed[$pkg]:-}" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
    if [ "${VALET_SKIP_VM_LAB:-0}" != 1 ]; then
        echo "install-deps: java, maven, gcc, the build's packages and the ${#vm_packages[@]} VM lab packages are present"
    else
        echo "install-deps: java, maven, gcc and the build's packages are present (VM lab packages skipped)"
    fi
    exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
