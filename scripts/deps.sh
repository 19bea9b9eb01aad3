#!/usr/bin/env bash
# Install the Debian packages the build, tests and benchmarks need - only those that are missing,
# saying which. Safe to run again and again.
set -euo pipefail
# `deps.sh test` adds what only the test suite needs: an aarch64 cross compiler and qemu-user, so
# the aarch64 context switch is built and run too; Open MPI, so the MPI pool (conc-mpi) is built
# and its tests run under mpirun.
want=(cmake make gcc pkg-config libcmocka-dev python3 libuv1-dev clang-format
    libsodium-dev libmsgpuck-dev)
# `deps.sh bench` adds uvloop for Debian's python3 (bench/echo's uvloop row).
if [ "${1:-}" = bench ]; then
    want+=(python3-uvloop)
fi
if [ "${1:-}" = test ]; then
    want+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libopenmpi-dev openmpi-bin)
fi
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
