#!/usr/bin/env bash
# Runs every Valet test: installs what is missing, then the Maven build with all unit, property and process tests
# (real donor processes on loopback). This is the README's test command and what CI runs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

setup/install-deps.sh
mvn -B -ntp verify
