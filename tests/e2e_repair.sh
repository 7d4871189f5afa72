#!/bin/bash
# schedule --repair (engine/ss_repair.c): the repaired plan verifies clean in
# commit order, places at least as many pods as the greedy plan, and is
# h5diff-identical for mpirun -n 1, 2, 3 x OMP_NUM_THREADS 1, 2 over three
# partitions (every rank reads the whole snapshot and repairs alike); a
# snapshot where repair adds nothing gives exactly the plain schedule's file.
set -euo pipefail
BIN=$1
WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
MPIRUN="mpirun --oversubscribe --bind-to none"
fail() { echo "FAIL: $*" >&2; exit 1; }
placed() { $BIN verify -i "$1" -p "$2" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["placed"])'; }

$BIN gen --nodes 600 --pods 6000 --seed 3 -o c.h5 -q
OMP_NUM_THREADS=2 $MPIRUN -n 2 $BIN schedule -i c.h5 -o plain.h5 --partition-nodes 200 -q
ref=""
for n in 1 2 3; do
    for t in 1 2; do
        out="r-$n-$t.h5"
        OMP_NUM_THREADS=$t $MPIRUN -n $n $BIN schedule -i c.h5 -o "$out" --partition-nodes 200 \
            --repair 2> "log-$n-$t"
        grep -q "repair placed" "log-$n-$t" || fail "no repair line: $(cat "log-$n-$t")"
        $BIN verify -i c.h5 -p "$out" --quiet || fail "violations with --repair, -n $n x $t"
        if [ -z "$ref" ]; then ref=$out; continue; fi
        h5diff --exclude-path /run "$ref" "$out" || fail "$out differs from $ref"
    done
done
pg=$(placed c.h5 plain.h5)
pr=$(placed c.h5 "$ref")
[ "$pr" -ge "$pg" ] || fail "--repair placed $pr < greedy $pg"
echo "e2e_repair: greedy $pg, --repair $pr ($(grep 'repair placed' log-1-1))"

# Nothing to add (the pods fit as they come): the plain schedule's file.
$BIN gen --nodes 200 --pods 100 --seed 4 --rules none -o s.h5 -q
OMP_NUM_THREADS=2 $MPIRUN -n 2 $BIN schedule -i s.h5 -o s-plain.h5 --partition-nodes 64 -q
OMP_NUM_THREADS=2 $MPIRUN -n 2 $BIN schedule -i s.h5 -o s-rep.h5 --partition-nodes 64 --repair \
    2> s.log
grep -q "repair placed 0 more" s.log || fail "expected nothing to add: $(cat s.log)"
h5diff --exclude-path /run s-plain.h5 s-rep.h5 || fail "--repair changed a plan it could not improve"
echo "e2e_repair: OK"
