#!/usr/bin/env bash
# The VM test lab: runs kernel-side scenarios (module loading, swap devices, NBD, Soft-RoCE) in one qemu VM that
# boots Debian's 6.1 kernel and uses this machine's root file system read-only over 9p, because this machine's own
# kernel cannot load modules. See setup/vm/README.md.
#
#   setup/vm/lab.sh [--keep] SCENARIO...|all      all = every setup/vm/scenarios/*.sh, in name order, except
#                                                  benchmarks marked "# vm-all: no" (compare), on the guest kernel;
#                                                  and those marked "# vm-kernels: all" also on the second kernel
#                                                  ("# vm-kernels: second": only there)
#   setup/vm/lab.sh SCENARIO@KVER ...              that scenario on that installed kernel (a VM per kernel)
#   setup/vm/lab.sh compare                        the swap comparison: valet (1 and 2 copies), nbd, zram, fio
#   setup/vm/lab.sh --list
#   setup/vm/lab.sh --kver                         print the guest kernel (build valet.ko for it: make KVER=...)
#   setup/vm/lab.sh --kvers                        print the kernels `all` boots: the guest kernel, then the second
#
# --keep: keep every old result directory (by default only the newest $VALET_VM_KEEP_RESULTS are kept).
# Environment: VALET_VM_TIMEOUT (seconds for the whole VM, default 4200), VALET_SCENARIO_TIMEOUT (default per
# scenario, 300; a scenario's "# vm-timeout: N" header wins), VALET_VM_MEM (2G), VALET_VM_CPUS (2),
# VALET_VM_KVER (guest kernel; default Debian's default kernel, the one linux-image-amd64 depends on, else the newest
# in /lib/modules with a /boot/vmlinuz: installing 6.12's headers brings its image, which must not change the lab's
# kernel), VALET_VM_KVER2 (the second kernel; default the newest other installed kernel with an image and modules,
# e.g. Debian 12's 6.12 beside its default 6.1; "none": no second kernel), VALET_VM_KEEP_RESULTS (10),
# VALET_VM_APPEND (extra kernel parameters), VALET_VM_KERNEL_IMAGE (boot this image instead), VALET_VM_PARALLEL
# (VMs side by side for several scenarios: auto = 2 on a machine with 2 or more cores, else 1); VALET_CHAOS_* and
# VALET_COMPARE_* are passed to the scenarios (setup/vm/README.md: chaos, compare). VALET_COMPARE_REF=REV (a commit)
# builds that commit's jar into target/vm/ref/ first: compare then also measures it, beside this checkout's.
# Exit status: 0 only if every scenario passed, the guest kernel log is clean and the VM powered off by itself.
set -euo pipefail

export PATH="$PATH:/usr/sbin:/sbin" # modprobe, for users whose PATH lacks the sbin directories
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
vm_dir="$repo/target/vm"
vm_timeout="${VALET_VM_TIMEOUT:-4200}"
scenario_timeout="${VALET_SCENARIO_TIMEOUT:-300}"
vm_mem="${VALET_VM_MEM:-2G}"
vm_cpus="${VALET_VM_CPUS:-2}"
keep_results="${VALET_VM_KEEP_RESULTS:-10}"
# What fails a run when it appears in the guest kernel log: guest/lib.sh's KERNEL_BUG_PATTERN (scenarios use it too).
bug_pattern="$(sed -n "s/^KERNEL_BUG_PATTERN='\(.*\)'\$/\1/p" "$here/guest/lib.sh")"
[ -n "$bug_pattern" ] || { echo "vm-lab: ERROR: no KERNEL_BUG_PATTERN in $here/guest/lib.sh" >&2; exit 2; }

say() { echo "vm-lab: $*"; }
die() {
    echo "vm-lab: ERROR: $*" >&2
    exit 2
}
now_ms() {
    local us="${EPOCHREALTIME/[.,]/}"
    echo $((us / 1000))
}
secs_since() { # secs_since START_MS -> "1.234"
    local d=$(($(now_ms) - $1))
    printf '%d.%03d' $((d / 1000)) $((d % 1000))
}

all_scenarios() {
    local f
    for f in "$here"/scenarios/*.sh; do
        [ -e "$f" ] && basename "$f" .sh
    done | LC_ALL=C sort
}
# The scenarios of "all": a benchmark that says "# vm-all: no" in its header runs only when named.
scenarios_of_all() {
    local s
    for s in $(all_scenarios); do
        grep -q '^# *vm-all: *no *$' "$here/scenarios/$s.sh" || echo "$s"
    done
}

# guest_kver: the guest kernel (see VALET_VM_KVER above); empty when none is installed.
guest_kver() {
    local k
    if [ -n "${VALET_VM_KVER:-}" ]; then
        echo "$VALET_VM_KVER"
        return
    fi
    k="$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null | grep -o 'linux-image-[^ ,]*' | head -n 1)"
    k="${k#linux-image-}"
    if [ -n "$k" ] && [ -f "/boot/vmlinuz-$k" ] && [ -f "/lib/modules/$k/modules.dep" ]; then
        echo "$k"
        return
    fi
    for d in /lib/modules/*/; do
        k="$(basename "$d")"
        [ -f "/boot/vmlinuz-$k" ] && [ -f "/lib/modules/$k/modules.dep" ] && echo "$k"
    done | sort -V | tail -n 1
}

# second_kver: the second kernel `all` boots (see VALET_VM_KVER2 above); empty when there is none.
second_kver() {
    local first d k
    if [ -n "${VALET_VM_KVER2:-}" ]; then
        [ "$VALET_VM_KVER2" = none ] || echo "$VALET_VM_KVER2"
        return
    fi
    first="$(guest_kver)"
    for d in /lib/modules/*/; do
        k="$(basename "$d")"
        [ "$k" != "$first" ] && [ -f "/boot/vmlinuz-$k" ] && [ -f "/lib/modules/$k/modules.dep" ] && echo "$k"
    done | sort -V | tail -n 1
}
header_of() { # header_of SCENARIO KEY -> the value of its "# KEY: value" header line, if any
    sed -n "s/^# *$2: *\(.*[^ ]\) *\$/\1/p" "$here/scenarios/$1.sh" | head -n 1
}
# An item is SCENARIO or SCENARIO@KVER; these give its parts (the kernel: the guest kernel when none is named).
name_of() { echo "${1%%@*}"; }
kver_of() { if [[ "$1" == *@* ]]; then echo "${1#*@}"; else echo "$default_kver"; fi; }

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
    echo "Scenarios: $(all_scenarios | tr '\n' ' ')"
}

default_kver="$(guest_kver)" # asked once: kver_of is called for every item, several times
keep=0
scenarios=()
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) keep=1 ;;
        --list) all_scenarios; exit 0 ;;
        --kver) guest_kver; exit 0 ;;
        --kvers) guest_kver; second_kver; exit 0 ;;
        -h | --help) usage; exit 0 ;;
        -*) usage >&2; exit 2 ;;
        all)
            second="$(second_kver)"
            for s in $(scenarios_of_all); do
                on="$(header_of "$s" vm-kernels)"
                [ "$on" = second ] && [ -n "$second" ] || scenarios+=("$s")
                [ "$on" = all ] || [ "$on" = second ] || continue
                [ -z "$second" ] || scenarios+=("$s@$second")
            done
            ;;
        *) scenarios+=("$1") ;;
    esac
    shift
done
[ ${#scenarios[@]} -gt 0 ] || { usage >&2; exit 2; }
for s in "${scenarios[@]}"; do
    [[ "$s" =~ ^[A-Za-z0-9._-]+(@[A-Za-z0-9.+_-]+)?$ ]] || die "bad scenario name '$s'"
    [ -f "$here/scenarios/$(name_of "$s").sh" ] ||
        die "no scenario $(name_of "$s") (have: $(all_scenarios | tr '\n' ' '))"
    [[ "$s" != *@* ]] || [ -f "/boot/vmlinuz-$(kver_of "$s")" ] ||
        die "$s: no kernel $(kver_of "$s") here (/boot/vmlinuz-$(kver_of "$s"); ls /lib/modules)"
done
# The paths go on the kernel command line, which is split at white space.
[[ "$repo" != *[[:space:]]* ]] || die "the checkout path must not contain white space: $repo"
# The guest mounts its own tmpfs on /tmp, /run and /dev/shm (initramfs-init.sh): a checkout there is invisible to it.
case "$repo/" in
    /tmp/* | /run/* | /dev/shm/*)
        die "the checkout is under ${repo%"${repo#/*/}"}, which the guest mounts as its own tmpfs: clone it elsewhere" ;;
esac

# --- class archives for the guest's JVMs (setup/vm/cds.sh), made once here for every VM ---------------------------
if [ -f "$repo/valet-cli/target/valet.jar" ]; then
    "$here/cds.sh" "$repo/valet-cli/target/valet.jar" "$vm_dir/cds" || say "no class archives: the JVMs start slower"
fi

# --- several VMs at once, one per kernel -------------------------------------------------------------------------
# Single-threaded TCG keeps one host core busy per VM: on a machine with cores to spare, the scenarios are shared
# among VMs run side by side, each a whole lab run of its own (results directory, kernel log check, report). The
# split balances the scenarios' "# vm-seconds: N" headers (about how long each runs; else its vm-timeout), longest
# first, each to the least loaded VM, and keeps a scenario with the ones its "# vm-needs: A B ..." header names in
# one VM (zz-compare reads their metrics). A VM boots one kernel: a share with scenarios for two kernels runs as two
# VMs, one after the other.
vms="${VALET_VM_PARALLEL:-auto}"
[ "$vms" != auto ] || vms="$(($(nproc) >= 2 ? 2 : 1))"
[[ "$vms" =~ ^[1-4]$ ]] || die "VALET_VM_PARALLEL must be auto or 1 to 4, got '$vms'"
# Prints one line per VM: the items it runs, in the order asked.
split_scenarios() {
    local s cost suffix need needs
    for s in "${scenarios[@]}"; do
        cost="$(header_of "$(name_of "$s")" vm-seconds)"
        [ -n "$cost" ] || cost="$(header_of "$(name_of "$s")" vm-timeout)"
        suffix="" needs=""
        [[ "$s" != *@* ]] || suffix="@${s#*@}"
        for need in $(header_of "$(name_of "$s")" vm-needs); do needs+=" $need$suffix"; done
        echo "$s ${cost:-$scenario_timeout}$needs"
    done | awk -v vms="$1" -v dflt="$scenario_timeout" '
        function root(x) { while (up[x] != x) x = up[x]; return x }
        {
            name[NR] = $1; up[$1] = $1; cost[$1] = ($2 ~ /^[0-9]+$/) ? $2 : dflt
            for (i = 3; i <= NF; i++) needs[$1] = needs[$1] " " $i
        }
        END {
            for (k = 1; k <= NR; k++) {
                n = split(needs[name[k]], need, " ")
                for (i = 1; i <= n; i++) if (need[i] in up) up[root(need[i])] = root(name[k])
            }
            for (k = 1; k <= NR; k++) unit[root(name[k])] += cost[name[k]]
            for (u in unit) units[++nu] = u
            for (i = 1; i <= nu; i++)  # longest first
                for (j = i + 1; j <= nu; j++)
                    if (unit[units[j]] > unit[units[i]]) { t = units[i]; units[i] = units[j]; units[j] = t }
            for (i = 1; i <= nu; i++) {
                best = 1
                for (v = 2; v <= vms; v++) if (load[v] < load[best]) best = v
                vm[units[i]] = best; load[best] += unit[units[i]]
            }
            for (k = 1; k <= NR; k++) list[vm[root(name[k])]] = list[vm[root(name[k])]] " " name[k]
            for (v = 1; v <= vms; v++) if (list[v] != "") print substr(list[v], 2)
        }'
}
# run_share VM ITEM...: one VM's share, a lab run per kernel in turn; its output, prefixed, and all of it in the log.
run_share() {
    local vm="$1" kernels=() item kv names rc=0
    shift
    for item; do
        kv="$(kver_of "$item")"
        [[ " ${kernels[*]} " == *" $kv "* ]] || kernels+=("$kv")
    done
    for kv in "${kernels[@]}"; do
        names=()
        for item; do [ "$(kver_of "$item")" != "$kv" ] || names+=("$(name_of "$item")"); done
        VALET_VM_PARALLEL=1 VALET_VM_KVER="$kv" "$0" $([ "$keep" = 0 ] || echo --keep) "${names[@]}" 2>&1 |
            tee -a "$vm_dir/vm$vm.$$.log" | sed -u "s/^/[vm$vm ${kv%%[-+]*}] /" || rc=1
    done
    return "$rc"
}
kernels_asked="$(for s in "${scenarios[@]}"; do kver_of "$s"; done | sort -u | wc -l)"
groups=("${scenarios[*]}")
if [ "$vms" -gt 1 ] && [ ${#scenarios[@]} -gt 1 ]; then
    mapfile -t groups < <(split_scenarios "$vms")
fi
if [ ${#groups[@]} -gt 1 ] || [ "$kernels_asked" -gt 1 ]; then
    say "${#groups[@]} VM(s) side by side (VALET_VM_PARALLEL=$vms, one host core each), kernels: $(
        for s in "${scenarios[@]}"; do kver_of "$s"; done | sort -u | paste -s -d' ')"
    mkdir -p "$vm_dir"
    pids=()
    for k in "${!groups[@]}"; do
        say "vm$((k + 1)): ${groups[$k]}"
        : >"$vm_dir/vm$((k + 1)).$$.log"
        # shellcheck disable=SC2086 # a group is a list of items
        run_share "$((k + 1))" ${groups[$k]} &
        pids+=($!)
        sleep 2 # distinct result directories (they are named by the second)
    done
    trap 'kill "${pids[@]}" 2>/dev/null; pkill -P $$ 2>/dev/null; say "interrupted"; exit 130' INT TERM
    rc=0
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    trap - INT TERM
    passed=0 failed=0
    for k in "${!groups[@]}"; do
        log="$vm_dir/vm$((k + 1)).$$.log"
        # shellcheck disable=SC2086
        runs="$(for s in ${groups[$k]}; do kver_of "$s"; done | sort -u | wc -l)"
        reports="$(grep -cE '^vm-lab: [0-9]+ passed, [0-9]+ failed$' "$log" || true)"
        while read -r _ p _ f _; do
            passed=$((passed + p)) failed=$((failed + f))
        done < <(grep -E '^vm-lab: [0-9]+ passed, [0-9]+ failed$' "$log")
        if [ "$reports" -lt "$runs" ]; then
            failed=$((failed + runs - reports)) # a VM's run ended before its report
            say "vm$((k + 1)): $((runs - reports)) of its $runs runs gave no report: see its lines above"
        fi
        rm -f "$log"
    done
    say "all VMs: $passed passed, $failed failed"
    [ "$rc" = 0 ] && [ "$failed" = 0 ]
    exit
fi
# One VM: the kernel the items name (all the same here), else the guest kernel.
if [[ "${scenarios[0]}" == *@* ]]; then
    export VALET_VM_KVER="${scenarios[0]#*@}"
fi
for k in "${!scenarios[@]}"; do scenarios[k]="$(name_of "${scenarios[$k]}")"; done

# --- prerequisites ----------------------------------------------------------------------------------------------
for cmd in qemu-system-x86_64 modprobe cpio gzip gcc timeout; do
    command -v "$cmd" >/dev/null || die "$cmd not found: run setup/install-deps.sh"
done
busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox not found: install busybox-static (setup/install-deps.sh)"
if command -v readelf >/dev/null && readelf -d "$busybox" 2>/dev/null | grep -q NEEDED; then
    die "$busybox is dynamically linked: install busybox-static (setup/install-deps.sh)"
fi

# The guest kernel is not this machine's kernel (uname -r): guest_kver.
kver="$(guest_kver)"
[ -n "$kver" ] || die "no guest kernel: need /lib/modules/KVER with /boot/vmlinuz-KVER (install linux-image-amd64)"
[ -f "/boot/vmlinuz-$kver" ] || die "/boot/vmlinuz-$kver not found"
[ -r "/boot/vmlinuz-$kver" ] || die "/boot/vmlinuz-$kver is not readable (run as root)"
say "guest kernel $kver, scenarios: ${scenarios[*]}"
mkdir -p "$vm_dir/results"

# --- initramfs: busybox + the modules to reach the host root, rebuilt when any input changes ---------------------
initramfs="$vm_dir/initramfs-$kver.cpio.gz"
build_initramfs() {
    local mods=() m line ko seen=" " key stage
    for m in virtio_pci 9pnet_virtio 9p overlay; do
        # One module per call: further arguments would be taken as module parameters.
        while read -r line; do
            case "$line" in
                insmod\ *)
                    ko="$(echo "$line" | awk '{ print $2 }')"
                    [[ "$seen" == *" $ko "* ]] || { mods+=("$ko"); seen+="$ko "; }
                    ;;
            esac
        done < <(modprobe -S "$kver" --show-depends "$m") || die "modprobe -S $kver --show-depends $m failed"
    done
    [ ${#mods[@]} -gt 0 ] || die "no modules found for virtio/9p/overlay in /lib/modules/$kver"
    # Cache key: build recipe version, kernel, /init, busybox and every module (path, size, mtime).
    key="$({
        echo "initramfs v1 $kver"
        sha256sum "$here/initramfs-init.sh"
        stat -L -c '%n %s %Y' "$busybox" "${mods[@]}"
    } | sha256sum | cut -d' ' -f1)"
    if [ -f "$initramfs" ] && [ "$(cat "$initramfs.key" 2>/dev/null)" = "$key" ]; then
        say "initramfs up to date ($(basename "$initramfs"))"
        return
    fi
    local t0
    t0="$(now_ms)"
    stage="$(mktemp -d "$vm_dir/initramfs.XXXXXX")"
    mkdir -p "$stage"/{bin,dev,proc,sys,mnt,newroot,lib/modules}
    cp "$busybox" "$stage/bin/busybox"
    ln -s busybox "$stage/bin/sh"
    install -m 0755 "$here/initramfs-init.sh" "$stage/init"
    : >"$stage/modules.list"
    for ko in "${mods[@]}"; do
        m="$(basename "$ko")"
        # busybox insmod wants plain .ko files; Debian 6.1 ships them plain, later kernels compress them.
        case "$ko" in
            *.ko.xz) xz -dc "$ko" >"$stage/lib/modules/${m%.xz}"; m="${m%.xz}" ;;
            *.ko.zst) zstd -qdc "$ko" >"$stage/lib/modules/${m%.zst}"; m="${m%.zst}" ;;
            *.ko.gz) gzip -dc "$ko" >"$stage/lib/modules/${m%.gz}"; m="${m%.gz}" ;;
            *) cp "$ko" "$stage/lib/modules/$m" ;;
        esac
        echo "$m" >>"$stage/modules.list"
    done
    # -R 0:0: files owned by root in the guest whoever builds it.
    (cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) |
        gzip -1 -n >"$stage.cpio.gz"
    mv -f "$stage.cpio.gz" "$initramfs" # atomic: a concurrent lab.sh sees the old or the new one
    echo "$key" >"$initramfs.key"
    rm -rf "$stage"
    say "initramfs built in $(secs_since "$t0")s (${#mods[@]} modules, $(du -k "$initramfs" | cut -f1) KiB)"
}
build_initramfs

# --- kernel image: the uncompressed vmlinux when it has a PVH entry -----------------------------------------------
# qemu boots an ELF vmlinux with a PVH entry point directly: that skips the BIOS boot path and the XZ decompression
# of the bzImage, which under TCG take 2-3 s of every boot. Cached; falls back to the bzImage.
kernel_image="/boot/vmlinuz-$kver"
vmlinux="$vm_dir/vmlinux-$kver"
extract_vmlinux() {
    local src="$1" off key tmp="$vmlinux.tmp.$$"
    key="$(stat -L -c '%n %s %Y' "$src")"
    if [ -f "$vmlinux" ] && [ "$(cat "$vmlinux.key" 2>/dev/null)" = "$key" ]; then return 0; fi
    command -v xz >/dev/null && command -v readelf >/dev/null || return 1
    off="$(LC_ALL=C grep -abo -m 1 $'\xfd7zXZ\x00' "$src" | head -n 1 | cut -d: -f1)"
    [ -n "$off" ] || return 1
    # Not a pipe: xz stops at the end of the stream and pipefail would count tail's SIGPIPE as a failure.
    xz -dc --single-stream <(tail -c "+$((off + 1))" "$src") >"$tmp" 2>/dev/null || return 1
    # XEN_ELFNOTE_PHYS32_ENTRY (type 0x12) is what qemu looks for.
    [[ "$(readelf -n "$tmp" 2>/dev/null)" == *"(0x00000012)"* ]] || return 1
    mv -f "$tmp" "$vmlinux" # temporary name per process: lab.sh runs may overlap
    echo "$key" >"$vmlinux.key"
}
if [ -n "${VALET_VM_KERNEL_IMAGE:-}" ]; then
    kernel_image="$VALET_VM_KERNEL_IMAGE"
elif extract_vmlinux "$kernel_image"; then
    kernel_image="$vmlinux"
else
    rm -f "$vmlinux.tmp.$$"
    say "booting the bzImage (no PVH vmlinux could be extracted from it)"
fi

# --- hog: the swap workload, static so it runs anywhere -----------------------------------------------------------
hog="$vm_dir/hog"
if [ ! -x "$hog" ] || [ "$here/hog.c" -nt "$hog" ]; then
    if gcc -O2 -Wall -Wextra -Werror -static -o "$hog.tmp.$$" "$here/hog.c" 2>"$vm_dir/hog.build.log"; then
        say "hog built (static)"
    else
        gcc -O2 -Wall -Wextra -Werror -o "$hog.tmp.$$" "$here/hog.c" || die "cannot compile $here/hog.c"
        say "hog built (dynamic: static linking failed, see $vm_dir/hog.build.log)"
    fi
    mv -f "$hog.tmp.$$" "$hog"
fi

# --- reference build: VALET_COMPARE_REF=REV, that commit's jar for compare to measure beside this checkout's ------
if [ -n "${VALET_COMPARE_REF:-}" ]; then
    ref_rev="$(git -C "$repo" rev-parse --verify "${VALET_COMPARE_REF}^{commit}" 2>/dev/null)" ||
        die "VALET_COMPARE_REF=$VALET_COMPARE_REF: not a commit of this repository"
    ref_dir="$vm_dir/ref"
    if [ "$(cat "$ref_dir/rev" 2>/dev/null)" != "$ref_rev" ] || [ ! -f "$ref_dir/valet.jar" ]; then
        say "building the reference jar of ${ref_rev:0:12} (a worktree, mvn package -DskipTests) ..."
        rm -rf "$ref_dir" && mkdir -p "$ref_dir"
        git -C "$repo" worktree add --detach "$ref_dir/src" "$ref_rev" >"$ref_dir/build.log" 2>&1 ||
            die "git worktree add failed (see $ref_dir/build.log)"
        (cd "$ref_dir/src" && mvn -q -B package -DskipTests) >>"$ref_dir/build.log" 2>&1 ||
            die "the reference build failed (see $ref_dir/build.log)"
        cp "$ref_dir/src/valet-cli/target/valet.jar" "$ref_dir/valet.jar"
        git -C "$repo" worktree remove --force "$ref_dir/src" >>"$ref_dir/build.log" 2>&1 || true
        echo "$ref_rev" >"$ref_dir/rev"
    fi
    say "reference build: ${ref_rev:0:12} ($ref_dir/valet.jar)"
fi

# --- results directory ----------------------------------------------------------------------------------------------
stamp="$(date +%Y%m%d-%H%M%S)"
results="$vm_dir/results/$stamp"
[ ! -e "$results" ] || results="$results-$$"
mkdir -p "$results"
ln -sfn "$(basename "$results")" "$vm_dir/results/latest"
if [ "$keep" = 0 ]; then
    # Oldest first by name (timestamps); never the one just made.
    mapfile -t old < <(find "$vm_dir/results" -mindepth 1 -maxdepth 1 -type d -name '20*' | LC_ALL=C sort)
    if [ ${#old[@]} -gt "$keep_results" ]; then
        rm -rf "${old[@]:0:${#old[@]}-keep_results}"
    fi
fi

# --- boot ---------------------------------------------------------------------------------------------------------
serial="$results/serial.log"
scenario_list="$(IFS=,; echo "${scenarios[*]}")"
cmdline="console=ttyS0 panic=-1 loglevel=5 valet.repo=$repo valet.out=$results valet.scenarios=$scenario_list"
cmdline+=" valet.timeout=$scenario_timeout${VALET_VM_APPEND:+ $VALET_VM_APPEND}"
# Scenario settings from the host's environment (VALET_CHAOS_SEED=...): each VALET_CHAOS_* and VALET_COMPARE_*
# variable goes on the command line as valet.env=NAME=VALUE and the runner exports it. Values: letters, digits and
# . _ : - only.
while IFS='=' read -r name value; do
    [[ "$value" =~ ^[A-Za-z0-9._:-]+$ ]] || die "$name: only letters, digits and . _ : - are passed to the guest"
    cmdline+=" valet.env=$name=$value"
done < <(env | grep -E '^VALET_(CHAOS|COMPARE)_[A-Z0-9_]+=' | LC_ALL=C sort)
# TCG, not KVM: KVM does not boot Debian's kernel on this kind of machine.
# thread=single: one host thread runs the vCPUs in turn. With thread=multi, JVMs in the guest crashed now and then
# (SIGSEGV or #GP in JIT-compiled code, e.g. on a "jmp" the JIT had just patched into a method's entry): a vCPU
# translating code that another vCPU is patching can see it half-written. Single-threaded TCG switches vCPUs only
# between translated blocks, so a patch is never seen torn; the guest still has $vm_cpus CPUs, at up to half speed.
# No AVX in the guest either: QEMU 7.2 (Debian 12) is the first release whose TCG emulates AVX/AVX2, and a JVM
# crash was seen in AVX code; SSE4.2 is plenty here.
qemu_cpu="max,avx=off,avx2=off,fma=off,f16c=off,vaes=off,vpclmulqdq=off"
# shellcheck disable=SC2054 # the commas are inside qemu option values
qemu=(qemu-system-x86_64 -accel tcg,thread=single -cpu "$qemu_cpu" -smp "$vm_cpus" -m "$vm_mem"
    -nodefaults -no-user-config -display none -no-reboot
    -kernel "$kernel_image" -initrd "$initramfs" -append "$cmdline"
    -serial "file:$serial"
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
    -virtfs "local,path=$results,mount_tag=results,security_model=none,multidevs=remap"
    -nic user,model=virtio-net-pci)
printf '%q ' timeout "$vm_timeout" "${qemu[@]}" >"$results/qemu.cmd"
echo >>"$results/qemu.cmd"

say "booting the VM (TCG, $vm_cpus CPUs, $vm_mem, timeout ${vm_timeout}s); logs in ${results#"$repo"/}"
# Load beside the VM explains slow runs: TCG needs both cores.
echo "before: $(cat /proc/loadavg)" >"$results/host-load.txt"
t_vm="$(now_ms)"
: >"$serial"
timeout "$vm_timeout" "${qemu[@]}" </dev/null >"$results/qemu.log" 2>&1 &
vm_pid=$!
trap 'kill "$vm_pid" 2>/dev/null; say "interrupted: VM stopped"; exit 130' INT TERM
# Live progress: the runner's own lines from the serial console (tail stops when the VM does); notes when the
# runner came up, as seen from here (qemu start, firmware and kernel boot included).
tail -n +1 -s 0.2 -F --pid="$vm_pid" "$serial" 2>/dev/null | while IFS= read -r line; do
    line="${line%$'\r'}"
    case "$line" in
        "vm-runner: up after"*) secs_since "$t_vm" >"$results/host_boot_seconds" ;;&
        vm-runner:* | vm-scenario:*) echo "  $line" ;;
    esac
done &
tail_pid=$!
vm_rc=0
wait "$vm_pid" || vm_rc=$?
wait "$tail_pid" 2>/dev/null || true
trap - INT TERM
vm_secs="$(secs_since "$t_vm")"
echo "after:  $(cat /proc/loadavg)" >>"$results/host-load.txt"

vm_ok=1
if [ -f "$results/runner.done" ]; then
    boot_s="$(sed -n 's/^boot_to_runner_seconds=//p' "$results/runner.metrics")"
    say "VM done in ${vm_secs}s; runner up ${boot_s:-?}s after kernel start, $(cat "$results/host_boot_seconds" 2>/dev/null || echo ?)s after qemu start"
else
    vm_ok=0
    if [ "$vm_rc" = 124 ]; then
        say "VM did NOT finish: killed after ${vm_timeout}s (VALET_VM_TIMEOUT)"
    else
        say "VM did NOT finish: qemu exited with status $vm_rc after ${vm_secs}s (guest crash or power-off?)"
        [ ! -s "$results/qemu.log" ] || { echo "  qemu.log:"; tail -n 10 "$results/qemu.log" | sed 's/^/    /'; }
    fi
    echo "  last lines of the serial console:"
    tr -d '\r' <"$serial" | tail -n 25 | sed 's/^/    /'
fi

# --- kernel log: any bug line fails the scenario that was running (by printk timestamp) or the run -----------------
bugs="$results/kernel-bugs.txt"
cat "$serial" "$results/dmesg.txt" 2>/dev/null | tr -d '\r' | grep -E "$bug_pattern" | awk '!seen[$0]++' >"$bugs" || true
windows="$results/windows.txt" # "SCENARIO START END" in guest uptime seconds, written by the runner
for s in "${scenarios[@]}"; do
    if [ -f "$results/$s.window" ]; then echo "$s $(cat "$results/$s.window")"; fi
done >"$windows"
# Prints "SCENARIO<TAB>line" (or "-<TAB>line" outside every scenario) for each bug line.
blame() {
    awk -v wfile="$windows" '
        FILENAME == wfile { name[++n] = $1; from[n] = $2; to[n] = $3; next }
        {
            who = "-"
            if (match($0, /^\[ *[0-9]+\.[0-9]+\]/)) {
                t = substr($0, RSTART + 1, RLENGTH - 2) + 0
                for (i = 1; i <= n; i++) if (t >= from[i] && t <= to[i]) who = name[i]
            }
            print who "\t" $0
        }' "$windows" "$bugs"
}
blamed="$(if [ -s "$bugs" ]; then blame; fi)"

# --- report -------------------------------------------------------------------------------------------------------
passed=0 failed=0
width=0
for s in "${scenarios[@]}"; do [ ${#s} -le "$width" ] || width=${#s}; done
echo
for s in "${scenarios[@]}"; do
    if [ -f "$results/$s.result" ]; then
        result="$(head -n 1 "$results/$s.result")"
    elif [ -f "$results/$s.window" ]; then
        result="FAIL: no result (the VM stopped while it ran)"
    else
        result="FAIL: no result (the VM did not get to it)"
    fi
    kernel_lines="$(printf '%s\n' "$blamed" | awk -F'\t' -v s="$s" '$1 == s { sub(/^[^\t]*\t/, ""); print }')"
    if [ "$result" = PASS ] && [ -n "$kernel_lines" ]; then
        result="FAIL: kernel log: $(echo "$kernel_lines" | head -n 1)"
    fi
    dur="-"
    [ ! -f "$results/$s.duration" ] || dur="$(cat "$results/$s.duration")s"
    metrics=""
    [ ! -f "$results/$s.metrics" ] || metrics="$(paste -s -d' ' "$results/$s.metrics")"
    if [ "$result" = PASS ]; then
        passed=$((passed + 1))
        printf 'PASS  %-*s %9s  %s\n' "$width" "$s" "$dur" "$metrics"
    else
        failed=$((failed + 1))
        printf 'FAIL  %-*s %9s  %s\n' "$width" "$s" "$dur" "$metrics"
        printf '      %s\n' "${result#FAIL: }"
        [ -z "$kernel_lines" ] || echo "$kernel_lines" | head -n 20 | sed 's/^/      kernel: /'
        # The scenario's own log, then the logs of what it ran (client, donors, crash reports): CI shows only this.
        for f in "$results/$s.log" "$results/$s".*.log; do
            [ -s "$f" ] || continue
            if grep -q " ERROR " "$f"; then
                # The first errors say what went wrong first; the last lines only how it ended.
                echo "      first errors in ${f#"$repo"/}:"
                grep -m 6 " ERROR " "$f" | cut -c1-400 | sed 's/^/        /'
            fi
            echo "      last lines of ${f#"$repo"/}:"
            tail -n 8 "$f" | cut -c1-240 | sed 's/^/        /'
        done
        [ ! -s "$results/$s.threads.txt" ] || echo "      JVM thread dumps: ${results#"$repo"/}/$s.threads.txt"
    fi
done
outside="$(printf '%s\n' "$blamed" | awk -F'\t' '$1 == "-" { sub(/^[^\t]*\t/, ""); print }')"
if [ -n "$outside" ]; then
    # Not inside any scenario (boot, between scenarios, power-off): fails the run as a pseudo-scenario.
    failed=$((failed + 1))
    echo "FAIL  (kernel log outside scenarios)"
    echo "$outside" | head -n 20 | sed 's/^/      kernel: /'
fi
if [ "$vm_ok" = 0 ] && [ "$failed" = 0 ]; then
    failed=$((failed + 1)) # every scenario ran but the VM still did not power off
    echo "FAIL  (VM did not power off)"
fi
echo
say "logs in $results"
say "$passed passed, $failed failed" | tee "$results/summary.txt"
# A scenario's last words (guest/lib.sh: conclude), e.g. compare's ratio line, end the output.
for s in "${scenarios[@]}"; do
    [ ! -s "$results/$s.conclusion" ] || cat "$results/$s.conclusion"
done
[ "$failed" = 0 ] && [ "$vm_ok" = 1 ]
