#!/usr/bin/env bash
# jfr-top.sh DIR|FILE...: what the JFR recordings of a lab run say (VALET_COMPARE_JFR=1 setup/vm/lab.sh compare
# leaves them in target/vm/results/RUN/compare.LABEL.jfr/{client,donors}/): per recording, the Java methods most
# often on top of a sampled stack (self time), the JIT's totals and the deoptimizations by reason.
# Needs `jfr view` (JDK 21 or newer): $JFR, else the first jfr of /usr/lib/jvm/*/bin that has it.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 DIR|FILE... (JFR recordings)" >&2; exit 2; }
jfr="${JFR:-}"
if [ -z "$jfr" ]; then
    for candidate in /usr/lib/jvm/*/bin/jfr; do
        if [[ "$("$candidate" view 2>&1)" == *hot-methods* ]]; then jfr="$candidate"; break; fi
    done
fi
[ -n "$jfr" ] || { echo "$0: no jfr with 'view' (JDK 21+) under /usr/lib/jvm; set JFR=/path/to/jfr" >&2; exit 2; }
mapfile -t files < <(find "$@" -name '*.jfr' -type f | LC_ALL=C sort)
[ ${#files[@]} -gt 0 ] || { echo "$0: no .jfr files in $*" >&2; exit 1; }
for f in "${files[@]}"; do
    echo "=== $f"
    for view in hot-methods compiler-statistics deoptimizations-by-reason; do
        "$jfr" view --width 200 "$view" "$f" | sed '/^$/d' | head -n 40
    done
done
