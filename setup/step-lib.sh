# shellcheck shell=bash
# What the step scripts (module.sh, client.sh, swap.sh) share. Source it after setting STEP, the prefix of their
# messages:  STEP=module; . "$root/setup/step-lib.sh"

# say MESSAGE: one line of progress.
say() { echo "$STEP: $*"; }

# die MESSAGE: the error on stderr, exit 1.
die() {
    echo "$STEP: $*" >&2
    exit 1
}

# usage: the running script's header comment (line 2 up to its `set -euo`), as its help.
usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}
