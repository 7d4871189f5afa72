#!/bin/bash
# Benchmark: gen + schedule + verify at 1,000, 10,000 and 100,000 nodes (10
# pending pods per node), then strong scaling of schedule (1-2 ranks x 1-2
# threads) at 10,000 and 100,000 nodes. Prints one line per run with the time
# of each phase and peak memory. docs/PERFORMANCE.md records the figures.
#   usage: bash scripts/bench.sh [OUTDIR] [SIZES...]   (default sizes: 1000 10000 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/build/shardsched
OUT=${1:-/tmp/shardsched-bench}
shift || true
SIZES=${*:-1000 10000 100000}
mkdir -p "$OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN="mpirun --oversubscribe --bind-to none"
TIME=/usr/bin/time

echo "== phases (1 rank x 1 thread): gen, schedule (read / schedule / write), verify"
for n in $SIZES; do
    p=$((n * 10))
    f="$OUT/c$n.h5"
    $TIME -f "   peak %M KiB, wall %e s" "$BIN" gen --nodes "$n" --pods "$p" --seed 1 -o "$f" 2>&1 | sed 's/^/  /'
    OMP_NUM_THREADS=1 $TIME -f "   peak %M KiB, wall %e s" "$BIN" schedule -i "$f" -o "$OUT/p$n.h5" 2>&1 | sed 's/^/  /'
    $TIME -f "   peak %M KiB, wall %e s" "$BIN" verify -i "$f" -p "$OUT/p$n.h5" --quiet 2>&1 | sed 's/^/  verify: /'
done

echo "== strong scaling of schedule (same file, identical placements checked with h5diff)"
for n in $SIZES; do
    [ "$n" -ge 10000 ] || continue
    f="$OUT/c$n.h5"
    for r in 1 2; do
        for t in 1 2; do
            OMP_NUM_THREADS=$t OMP_WAIT_POLICY=passive $MPIRUN -n $r "$BIN" schedule -i "$f" -o "$OUT/s$n-$r-$t.h5" 2>&1 | sed 's/^/  /'
            h5diff -q --exclude-path /run "$OUT/p$n.h5" "$OUT/s$n-$r-$t.h5" || echo "  !! placements differ for $r ranks x $t threads"
        done
    done
done
