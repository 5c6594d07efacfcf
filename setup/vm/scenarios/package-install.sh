#!/bin/bash
# vm-timeout: 900
# vm-seconds: 225
# vm-kernels: second
# The Debian package as an operator installs it: `dpkg -i` of the .deb the build made (packaging/target), its
# system user and files, then the stack started by what its systemd units run (the guest has no systemd: each
# unit's ExecStartPre/ExecStart/ExecStartPost lines, read from the installed unit files, as the unit's User, with its
# Environment and LimitMEMLOCK), swap on /dev/valet0 as dev-valet0.swap sets it, a swap workload, and `dpkg --purge`.
# No DKMS here (no network to install it): the lab's valet.ko goes where DKMS would put it, so the unit's
# `modprobe valet` finds it.
set -euo pipefail
. "$REPO/setup/vm/guest/lib.sh"
. "$REPO/setup/vm/guest/valet.sh"
unset VALET_JAVA_OPTS VALET_CLIENT_JAVA_OPTS VALET_JAR VALET_NO_BUILD # the package's launcher, as installed
VALET_TRANSPORT=auto # the packaged default
units=/lib/systemd/system
installed=0
cleanup() {
    valet_cleanup
    if [ "$installed" = 1 ]; then dpkg --purge valet >>"$OUT/$SCENARIO.dpkg.log" 2>&1 || log "dpkg --purge failed"; fi
    rm -f "/lib/modules/$(uname -r)/updates/valet.ko"
}
trap cleanup EXIT

# unit_value UNIT KEY: the values of KEY= in an installed unit and its drop-ins (/etc/systemd/system/UNIT.d/), one
# per line.
unit_value() {
    [ -f "$units/$1" ] || fail "$units/$1 not installed"
    local f
    for f in "$units/$1" /etc/systemd/system/"$1".d/*.conf; do
        [ ! -f "$f" ] || sed -n "s/^$2=//p" "$f"
    done
}
# unit_env UNIT: its Environment= assignments, as words for env(1), in the array ENV (systemd's quoting of them is the
# shell's for what these units hold).
unit_env() {
    local line
    ENV=()
    while IFS= read -r line; do
        eval "set -- $line"
        ENV+=("$@")
    done < <(unit_value "$1" Environment)
}
# drop_in UNIT LINE...: what an operator adds with `systemctl edit UNIT`.
drop_in() {
    local unit="$1"
    shift
    mkdir -p "/etc/systemd/system/$unit.d"
    printf '[Service]\n' >"/etc/systemd/system/$unit.d/small-machine.conf"
    printf '%s\n' "$@" >>"/etc/systemd/system/$unit.d/small-machine.conf"
}

deb="$(ls "$REPO"/packaging/target/valet_*_amd64.deb 2>/dev/null | head -n 1)"
[ -n "$deb" ] || fail "no packaging/target/valet_*_amd64.deb: mvn package builds it"
log "dpkg -i $(basename "$deb")"
dpkg -i "$deb" >>"$OUT/$SCENARIO.dpkg.log" 2>&1 || fail "dpkg -i failed (see $SCENARIO.dpkg.log)"
installed=1
for f in /usr/bin/valet /usr/share/valet/valet.jar /etc/valet/valet.yaml /etc/valet/donor.yaml /etc/valet/portal.list \
    "$units/valet-donor.service" "$units/valet-client.service" "$units/dev-valet0.swap"; do
    [ -e "$f" ] || fail "the package did not install $f"
done
getent passwd valet >/dev/null || fail "the package did not create the system user valet"
[ "$(stat -c '%U:%G %a' /etc/valet)" = "root:valet 750" ] || fail "/etc/valet is $(stat -c '%U:%G %a' /etc/valet)"

# The operator's part (docs/operations.md): a cluster secret, the donor's memory, the client's donors and swap space.
(umask 077 && head -c 32 /dev/urandom >/etc/valet/cluster.secret)
chown valet:valet /etc/valet/cluster.secret
sed -i -e 's/^listen: .*/listen: 127.0.0.1:7070/' -e 's/^memory: .*/memory: 320M/' \
    -e 's|^  secretFile: none|  secretFile: /etc/valet/cluster.secret|' \
    -e 's/^  evictBelow: .*/  evictBelow: 64M/' -e 's/^  expandAbove: .*/  expandAbove: 128M/' /etc/valet/donor.yaml
valet_work
valet_write_config 256M 16M 1
sed -e 's|^portalList: .*|portalList: /etc/valet/portal.list|' \
    -e 's|^  secretFile: .*|  secretFile: /etc/valet/cluster.secret|' "$VALET_WORK/valet.yaml" >/etc/valet/valet.yaml
printf '1\n127.0.0.1:7070\n' >/etc/valet/portal.list
# A 2 GiB machine that is donor and client at once: smaller JVMs than the launcher's defaults (the client's 512m heap,
# locked; a donor JVM sized by the JVM from the machine's memory), or the machine's own memory runs short and the
# kernel swaps the donor's heap to the very device it serves.
drop_in valet-donor.service 'Environment="VALET_JAVA_OPTS=-Xms64m -Xmx128m -XX:+UseSerialGC"'
drop_in valet-client.service \
    'Environment="VALET_CLIENT_JAVA_OPTS=-Xms192m -Xmx192m -XX:+AlwaysPreTouch -XX:MaxDirectMemorySize=96m -XX:+UseSerialGC"'

# valet.ko where DKMS installs it, for `modprobe valet`.
mkdir -p "/lib/modules/$(uname -r)/updates"
cp "$VALET_KO" "/lib/modules/$(uname -r)/updates/valet.ko"
depmod -a "$(uname -r)"

# valet-donor.service: ExecStart as User=, with LimitMEMLOCK=infinity.
user="$(unit_value valet-donor.service User)"
[ "$(unit_value valet-donor.service LimitMEMLOCK)" = infinity ] || fail "valet-donor.service: LimitMEMLOCK is not infinity"
read -r -a donor_cmd <<<"$(unit_value valet-donor.service ExecStart)"
log "valet-donor.service as $user: ${donor_cmd[*]}"
unit_env valet-donor.service
(ulimit -l unlimited && exec env "${ENV[@]}" \
    setpriv --reuid="$user" --regid="$user" --init-groups -- "${donor_cmd[@]}") >>"$OUT/$SCENARIO.donor-0.log" 2>&1 &
VALET_DONOR_PIDS=($!)
deadline=$(($(now_ms) + ${VALET_DONOR_START_SECONDS:-480} * 1000))
until grep -q "valet-donor listening" "$OUT/$SCENARIO.donor-0.log"; do
    valet_alive "${VALET_DONOR_PIDS[0]}" || fail "the donor exited (see $SCENARIO.donor-0.log)"
    [ "$(now_ms)" -lt "$deadline" ] || fail "the donor did not listen in time (see $SCENARIO.donor-0.log)"
    sleep 0.5
done
grep -q "must prove the cluster secret" "$OUT/$SCENARIO.donor-0.log" || fail "the donor did not require the secret"
[ "$(stat -c %U "/proc/${VALET_DONOR_PIDS[0]}")" = "$user" ] || fail "the donor does not run as $user"
log "donor up as $user"

# valet-client.service: ExecStartPre (modprobe, stale ready file), ExecStart, ExecStartPost (waits, mkswap).
mkdir -p -m 0700 /run/valet-client # RuntimeDirectory=valet-client
while read -r -a pre; do
    log "ExecStartPre: ${pre[*]}"
    "${pre[@]}" || fail "valet-client.service ExecStartPre failed: ${pre[*]}"
done < <(unit_value valet-client.service ExecStartPre)
[ -d /sys/module/valet ] || fail "modprobe valet did not load the module"
read -r -a client_cmd <<<"$(unit_value valet-client.service ExecStart)"
log "valet-client.service: ${client_cmd[*]}"
unit_env valet-client.service
(ulimit -l unlimited && exec env "${ENV[@]}" "${client_cmd[@]}") \
    >>"$OUT/$SCENARIO.client.log" 2>&1 &
VALET_CLIENT_PID=$!
read -r -a post <<<"$(unit_value valet-client.service ExecStartPost)"
MAINPID="$VALET_CLIENT_PID" timeout 300 "${post[@]}" || fail "ExecStartPost failed: ${post[*]} (see $SCENARIO.client.log)"
log "client ready: $(cat /run/valet-client/ready)"

# dev-valet0.swap: What= with Priority=.
what="$(unit_value dev-valet0.swap What)"
swapon -p "$(unit_value dev-valet0.swap Priority)" "$what" || fail "swapon $what failed"
log "swap on $what"
hog_workload hog-package 64M 128 1
metric package_pswpout "$(vmstat_get pswpout)"

valet_cleanup # swap off, client and donor stopped (SIGTERM, as systemctl stop), valet.ko unloaded
dpkg --purge valet >>"$OUT/$SCENARIO.dpkg.log" 2>&1 || fail "dpkg --purge failed (see $SCENARIO.dpkg.log)"
installed=0
[ ! -e /usr/bin/valet ] && [ ! -e /etc/valet/valet.yaml ] || fail "dpkg --purge left the package's files"
log "package purged"
