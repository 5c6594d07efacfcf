#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs the kernel's checkpatch.pl --no-tree --strict -f on the driver's sources (make check; --strict adds the
# checks a new driver gets in review, as "CHECK:" lines, and counts them as failures). Offline: checkpatch.pl,
# spelling.txt and const_structs.checkpatch are extracted once from Debian's linux-source tarball
# (/usr/src/linux-source-*.tar.xz, package linux-source-6.1) into build/checkpatch/.
#
#   ./checkpatch.sh [FILE...]      default: the driver, its header, the prober and the feature tests
# Environment: CHECKPATCH=/path/to/checkpatch.pl uses that one instead; LINUX_SOURCE_TARBALL picks the tarball.
# Exit status: checkpatch's (0 when clean), 2 when checkpatch.pl cannot be found.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache="$here/build/checkpatch"

checkpatch="${CHECKPATCH:-}"
if [ -z "$checkpatch" ]; then
	checkpatch="$cache/checkpatch.pl"
	if [ ! -f "$checkpatch" ] || [ ! -f "$cache/spelling.txt" ] || [ ! -f "$cache/const_structs.checkpatch" ]; then
		tarball="${LINUX_SOURCE_TARBALL:-$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.xz' 2>/dev/null | sort -V | tail -n 1)}"
		if [ -z "$tarball" ] || [ ! -f "$tarball" ]; then
			echo "checkpatch.sh: no /usr/src/linux-source-*.tar.xz: apt-get install linux-source-6.1" \
				"(or set CHECKPATCH=/path/to/checkpatch.pl)" >&2
			exit 2
		fi
		echo "checkpatch.sh: extracting checkpatch.pl from $tarball (once)" >&2
		mkdir -p "$here/build"
		tmp=$(mktemp -d "$here/build/checkpatch.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT
		tar -xJf "$tarball" -C "$tmp" --wildcards --no-anchored \
			'scripts/checkpatch.pl' 'scripts/spelling.txt' 'scripts/const_structs.checkpatch'
		rm -rf "$cache"
		mkdir -p "$cache"
		for f in checkpatch.pl spelling.txt const_structs.checkpatch; do
			src=$(find "$tmp" -path "*/scripts/$f" | head -n 1)
			[ -n "$src" ] || { echo "checkpatch.sh: $f not in $tarball" >&2; exit 2; }
			cp "$src" "$cache/$f"
		done
	fi
fi

cd "$here"
if [ $# -eq 0 ]; then
	set -- valet.c valet_uapi.h tools/valet-nlprobe.c conftest/*.c
fi
# checkpatch.pl finds spelling.txt and const_structs.checkpatch next to itself.
exec perl "$checkpatch" --no-tree --strict --show-types --summary-file -f "$@"
