#!/bin/bash
# Installs the Debian packages shardsched needs (only those missing) and
# builds it in ./build. Run as root (or with sudo) on Debian 12.
#   SS_WERROR=ON bash scripts/setup.sh   # warnings are errors (what the tests use)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools
      libcmocka-dev libjansson-dev libyaml-dev libcurl4-openssl-dev libcsv-dev python3
      python3-matplotlib python3-h5py time clang-format coinor-cbc)
# The fuzzers (scripts/fuzz.sh, run by scripts/test.sh in CI) need clang with
# libFuzzer and LLVM's OpenMP runtime: SS_FUZZ_TOOLS=1 adds them.
[ "${SS_FUZZ_TOOLS:-0}" = 1 ] && PKGS+=(clang-14 libclang-rt-14-dev libomp-14-dev)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    echo "setup: installing ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The build's output goes to build/setup.log; on failure its errors are shown.
mkdir -p build
log=build/setup.log
if ! { cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSS_WERROR="${SS_WERROR:-OFF}" &&
       cmake --build build -j"$(nproc)"; } >"$log" 2>&1; then
    echo "setup: the build failed; its errors (whole log: $log):" >&2
    grep -E -A3 'error|Error|warning' "$log" | head -60 >&2 || tail -40 "$log" >&2
    exit 1
fi
echo "setup: built build/shardsched" >&2
