#!/bin/bash
# End to end through the real binary: gen -> schedule (every policy, and the
# exhaustive reference) -> verify under mpirun -n 1; the fast engine and the
# reference must give identical placements; broken input must fail cleanly.
set -euo pipefail
BIN=$1
WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
MPIRUN="mpirun --oversubscribe --bind-to none"
fail() { echo "FAIL: $*" >&2; exit 1; }

$BIN gen --nodes 400 --pods 4000 --seed 7 -o c.h5
for policy in least-allocated most-allocated balanced; do
    OMP_NUM_THREADS=2 $MPIRUN -n 1 $BIN schedule -i c.h5 -o "p-$policy.h5" --policy $policy
    $BIN verify -i c.h5 -p "p-$policy.h5" > "v-$policy.txt" || fail "verify found violations ($policy)"
    OMP_NUM_THREADS=1 $MPIRUN -n 1 $BIN schedule -i c.h5 -o "x-$policy.h5" --policy $policy --exhaustive
    $BIN verify -i c.h5 -p "x-$policy.h5" > /dev/null || fail "verify failed on --exhaustive ($policy)"
    for d in node reason gpu_mask; do
        h5diff -d 0 "p-$policy.h5" "x-$policy.h5" "/placements/$d" "/placements/$d" \
            || fail "fast and exhaustive placements differ in /placements/$d ($policy)"
    done
done
placed=$(grep -ciE "placed" v-least-allocated.txt || true)
[ "$placed" -gt 0 ] || fail "verify printed no summary"

# Broken input: a truncated snapshot gives a clear error, non-zero exit, no output.
head -c 5000 c.h5 > trunc.h5
if $BIN schedule -i trunc.h5 -o bad.h5 2> err.txt; then fail "schedule accepted a truncated file"; fi
grep -q "trunc.h5" err.txt || fail "error does not name the file: $(cat err.txt)"
[ "$(wc -l < err.txt)" -le 2 ] || fail "error is not short: $(cat err.txt)"
[ ! -e bad.h5 ] || fail "an output file was left behind"
if $BIN schedule -i missing.h5 -o bad.h5 2> err.txt; then fail "schedule accepted a missing file"; fi
[ ! -e bad.h5 ] || fail "an output file was left behind"
if $BIN schedule -i c.h5 -o bad.h5 --policy nosuch 2> err.txt; then fail "unknown policy accepted"; fi
grep -q "nosuch" err.txt || fail "unknown policy error is unclear"
echo "e2e_schedule: ok"
