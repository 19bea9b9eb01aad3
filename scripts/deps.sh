#!/usr/bin/env bash
# Install the Debian packages the build, tests and benchmarks need - only those that are missing,
# saying which. Safe to run again and again.
set -euo pipefail
want=(cmake make gcc pkg-config libcmocka-dev python3 libuv1-dev clang-format)
missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "conc: installing missing Debian packages: ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
