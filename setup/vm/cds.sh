#!/usr/bin/env bash
# Class archives for the VM lab's JVMs (AppCDS): once per build of valet.jar the host runs a donor (serving a short
# `valet check`) and a short `valet demo` with -XX:ArchiveClassesAtExit, and the guest's JVMs map the archives
# (guest/valet.sh, cds_flags) instead of reading, parsing and verifying ~4,000 classes each. Under single-threaded TCG
# a JVM's start is emulated CPU: a donor took 24-26 s to listen without its archive and 14.6-14.9 s with it
# (setup/vm/lab.sh jvm-start); three donors and a client took ~200 s of every scenario in CI-36. The guest mounts this
# machine's root file system: the same java, the same jar path. The JVM ignores an archive made from another jar
# (compare's reference build).
#
#   setup/vm/cds.sh JAR DIR      writes DIR/donor.jsa and DIR/engine.jsa when missing or older than JAR
set -euo pipefail

jar="$1" dir="$2"
[ -f "$jar" ] || { echo "cds: $jar not found (mvn package -DskipTests)" >&2; exit 2; }
mkdir -p "$dir"
fresh() { [ -f "$dir/$1.jsa" ] && [ "$dir/$1.jsa" -nt "$jar" ]; }
fresh donor && fresh engine && exit 0

work="$(mktemp -d "$dir/train.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(umask 077 && head -c 32 /dev/urandom >"$work/secret")
quiet=(-Xlog:cds=off -Xlog:cds+dynamic=off)
t0="$(date +%s)"

# The donor: start, serve a short `valet check` (handshake, slabs, page writes and reads), stop on SIGTERM (the
# archive is written at exit).
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
java "${quiet[@]}" -XX:ArchiveClassesAtExit="$work/donor.jsa" -Xmx128m -XX:+UseSerialGC -jar "$jar" donor \
    --listen "127.0.0.1:$port" --memory 64M --no-lock-memory --secret-file "$work/secret" \
    --ready-file "$work/donor.ready" >"$work/donor.log" 2>&1 &
pid=$!
for _ in $(seq 600); do [ -f "$work/donor.ready" ] || ! kill -0 "$pid" 2>/dev/null && break; sleep 0.1; done
printf '1\n127.0.0.1:%s\n' "$port" >"$work/portal.list"
java -Xmx128m -jar "$jar" check --portal "$work/portal.list" --secret-file "$work/secret" --identity cds-training \
    --pages 2048 --slab-size 4M --no-progress >"$work/check.log" 2>&1 || true
kill "$pid" 2>/dev/null || true
wait "$pid" || true
# The engine, the client's configuration and the tools: a short demo (its donors are JVMs of their own).
java "${quiet[@]}" -XX:ArchiveClassesAtExit="$work/engine.jsa" -Xmx256m -XX:+UseSerialGC -jar "$jar" demo \
    --donors 2 --donor-memory 64M --working-set 8M --no-kill --no-progress --no-lock-memory \
    >"$work/engine.log" 2>&1 || true

for a in donor engine; do
    if [ -s "$work/$a.jsa" ]; then
        mv -f "$work/$a.jsa" "$dir/$a.jsa"
    else
        echo "cds: no $a archive was written (the lab runs without it); log: $(tail -n 3 "$work/$a.log" 2>/dev/null)" >&2
    fi
done
echo "cds: class archives for the guest's JVMs in $(($(date +%s) - t0))s ($dir)"
