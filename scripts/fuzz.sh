#!/bin/bash
# Fuzzes shardsched's input readers with libFuzzer (clang): the quantity
# parser, the Kubernetes JSON importer, the OpenB CSV importer, the snapshot
# reader (contents of a valid HDF5 file, see tests/fuzz/fuzz_snapshot.c) and
# the bind journal reader. Harnesses are in tests/fuzz/, built in build-fuzz/
# with -fsanitize=fuzzer,address,undefined.
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]   each harness SECONDS (default 30)
#
# Seeds: tests/fuzz/corpus/<h>/, tests/fuzz/regressions/<h>/ and, for kube,
# the JSON and YAML of tests/data/kube/. What libFuzzer finds goes to
# build-fuzz/corpus/<h>/ (kept between runs, never committed). Exit status 1
# when a harness crashed, leaked, timed out or broke one of its properties:
# the input is build-fuzz/artifacts/<h>/crash-*; copy it to
# tests/fuzz/regressions/<h>/ so that the normal build's ctest fuzz_<h>
# replays it from then on. A summary table (harness, seconds, executions,
# crashes) is printed at the end, ready for docs/RELIABILITY.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-30}
shift || true
ALL=(quantity kube openb snapshot journal)
HARNESSES=("${ALL[@]}")
[ "$#" -eq 0 ] || HARNESSES=("$@")
B=${SS_FUZZ_BUILD:-$ROOT/build-fuzz}
CC=${CC_FUZZ:-clang-14}

command -v "$CC" >/dev/null ||
    { echo "fuzz.sh: $CC missing: apt-get install clang-14 libclang-rt-14-dev libomp-14-dev" >&2; exit 2; }
rt=$("$CC" -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a
[ -e "$rt" ] || { echo "fuzz.sh: $rt missing: apt-get install libclang-rt-14-dev" >&2; exit 2; }

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
mkdir -p "$B/logs"
echo "== build ($CC, libFuzzer + ASan + UBSan, $B)"
if ! { cmake -S "$ROOT" -B "$B" -DCMAKE_C_COMPILER="$CC" -DSS_FUZZ=ON \
           -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link $SAN" \
           -DCMAKE_EXE_LINKER_FLAGS="$SAN" &&
       cmake --build "$B" -j"${SS_JOBS:-2}" --target "${HARNESSES[@]/#/fuzz_}"; } \
       >"$B/logs/build.log" 2>&1; then
    echo "fuzz.sh: the build failed (whole log: $B/logs/build.log):" >&2
    grep -E -A3 'error' "$B/logs/build.log" | head -40 >&2 || tail -30 "$B/logs/build.log" >&2
    exit 2
fi

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export OMP_NUM_THREADS=1
fail=0
rows=()
for h in "${HARNESSES[@]}"; do
    bin=$B/tests/fuzz/fuzz_$h
    seeds=("$ROOT/tests/fuzz/corpus/$h" "$ROOT/tests/fuzz/regressions/$h")
    [ "$h" = kube ] && seeds+=("$ROOT/tests/data/kube")
    extra=()
    [ -e "$ROOT/tests/fuzz/$h.dict" ] && extra=(-dict="$ROOT/tests/fuzz/$h.dict")
    # snapshot: a few hundred runs in 30 s, so start with inputs long enough
    # for several edits instead of libFuzzer's slowly growing length limit
    [ "$h" = snapshot ] && extra+=(-len_control=0 -max_len=256)
    mkdir -p "$B/corpus/$h" "$B/artifacts/$h"
    log=$B/logs/$h.log
    echo "== fuzz_$h for $SECS s (log: $log)"
    set +e
    "$bin" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 "${extra[@]}" -artifact_prefix="$B/artifacts/$h/" \
        "$B/corpus/$h" "${seeds[@]}" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    crashes=0
    if [ "$rc" -ne 0 ]; then
        crashes=1
        fail=1
        echo "FAIL fuzz_$h: exit $rc; the input: $(grep -o "Test unit written to .*" "$log" | sed 's/Test unit written to //' | tail -1)"
        grep -m1 -A25 -E '^==[0-9]+==ERROR|runtime error|fuzz property failed|deadly signal|timeout after' "$log" | head -40
    fi
    rows+=("| fuzz_$h | $SECS | ${execs:-?} | $crashes |")
done
echo
echo "| harness | seconds | executions | crashes |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
if [ "$fail" -ne 0 ]; then
    echo "fuzz.sh: FAILED (copy each crash input to tests/fuzz/regressions/<harness>/)"
    exit 1
fi
echo "fuzz.sh: no crash"
