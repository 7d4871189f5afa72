#!/bin/bash
# The determinism matrix: the same snapshot gives identical placements
# (h5diff, every dataset but the run-dependent /run group) for mpirun -n 1, 2, 4 x OMP_NUM_THREADS 1, 2
# (3 partitions) and -n 1, 2, 3, 4 x 1, 2 threads on 8 partitions; the
# verifier finds no violation in any run; a fault on one rank ends the run
# with one message, a non-zero exit and no output file. With MIG present
# (gen --profile ai), the matrix on 1/2/3/4 ranks x 1/2 threads, plain and
# with --mig-relayout.
set -euo pipefail
BIN=$1
WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
MPIRUN="mpirun --oversubscribe --bind-to none"
fail() { echo "FAIL: $*" >&2; exit 1; }

# A few thousand nodes with every constraint kind (rules the engine does not
# implement yet are generated too: they must be reported, identically).
$BIN gen --nodes 3000 --pods 30000 --seed 11 --spread --anti-affinity -o c.h5
ref=""
for n in 1 2 4; do
    for t in 1 2; do
        out="p-$n-$t.h5"
        OMP_NUM_THREADS=$t $MPIRUN -n $n $BIN schedule -i c.h5 -o "$out" --shard-nodes 256
        $BIN verify -i c.h5 -p "$out" --quiet || fail "violations with -n $n, $t threads"
        if [ -z "$ref" ]; then ref=$out; continue; fi
        h5diff --exclude-path /run "$ref" "$out" || fail "$out differs from $ref"
    done
done
# Eight partitions (spill rounds, gangs across partitions): the matrix
# again, 1/2/3/4 ranks x 1/2 threads, h5diff-identical and verified; and the
# quality floor against one partition (which is --exhaustive's answer,
# tests/e2e_parallel_io.sh): at least 99.5 % as many pods placed.
ref8=""
for n in 1 2 3 4; do
    for t in 1 2; do
        out="p8-$n-$t.h5"
        OMP_NUM_THREADS=$t $MPIRUN -n $n $BIN schedule -i c.h5 -o "$out" --partition-nodes 400 \
            --policy most-allocated -q
        $BIN verify -i c.h5 -p "$out" --quiet || fail "violations with 8 partitions, -n $n x $t"
        if [ -z "$ref8" ]; then ref8=$out; continue; fi
        h5diff --exclude-path /run "$ref8" "$out" || fail "$out differs from $ref8"
    done
done
OMP_NUM_THREADS=2 $MPIRUN -n 1 $BIN schedule -i c.h5 -o p1.h5 --partition-nodes 100000 \
    --policy most-allocated -q
placed() { $BIN verify -i c.h5 -p "$1" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["placed"])'; }
p8=$(placed "$ref8")
p1=$(placed p1.h5)
# With the inter-pod rules (gen's default mix) partitions defer zone-wide
# rules to after the rounds, where lower-priority pods took the room:
# docs/PERFORMANCE.md reports the gap; this guards it at 98 %.
python3 -c "import sys; sys.exit(0 if $p8 >= 0.98 * $p1 else 1)" \
    || fail "rules: 8 partitions place $p8 pods, one partition $p1 (below 98 %)"
echo "e2e_determinism: with the rules, 8 partitions place $p8, one partition $p1"
# MIG present (gen --profile ai: MIG nodes in several layouts, running MIG
# pods, pending MIG pods): the matrix again on 3 partitions, 1/2/3/4 ranks x
# 1/2 threads, plain and with --mig-relayout, h5diff-identical and verified.
$BIN gen --profile ai --nodes 1200 --pods 12000 --seed 5 -o cm.h5 -q
for mode in plain relayout; do
    refm=""
    extra=""
    [ "$mode" = relayout ] && extra="--mig-relayout"
    for n in 1 2 3 4; do
        for t in 1 2; do
            out="m-$mode-$n-$t.h5"
            OMP_NUM_THREADS=$t $MPIRUN -n $n $BIN schedule -i cm.h5 -o "$out" --partition-nodes 400 \
                $extra -q
            $BIN verify -i cm.h5 -p "$out" --quiet || fail "MIG ($mode): violations, -n $n x $t"
            if [ -z "$refm" ]; then refm=$out; continue; fi
            h5diff --exclude-path /run "$refm" "$out" || fail "MIG ($mode): $out differs from $refm"
        done
    done
done
$BIN verify -i cm.h5 -p m-plain-1-1.h5 | grep -q "^MIG: " || fail "MIG: verify prints no MIG line"
# Sub-groups (gen --subgroups: every gang of 4 pods or more in two halves,
# each required in one rack or block): the matrix on 3 partitions, verified,
# and at least one gang with sub-groups placed.
$BIN gen --nodes 1500 --pods 4000 --seed 9 --used 0.2 --subgroups -o cs.h5 -q
refs=""
for n in 1 2 3 4; do
    for t in 1 2; do
        out="s-$n-$t.h5"
        OMP_NUM_THREADS=$t $MPIRUN -n $n $BIN schedule -i cs.h5 -o "$out" --partition-nodes 500 -q
        $BIN verify -i cs.h5 -p "$out" --quiet || fail "sub-groups: violations, -n $n x $t"
        if [ -z "$refs" ]; then refs=$out; continue; fi
        h5diff --exclude-path /run "$refs" "$out" || fail "sub-groups: $out differs from $refs"
    done
done
h5dump -d /groups/parent cs.h5 | grep -q "(0): -1, 0, 0, " || fail "sub-groups: gen made none"
gp=$($BIN verify -i cs.h5 -p "$refs" | sed -n 's/^gangs: .* with pending members, \([0-9]*\) placed.*/\1/p')
[ "${gp:-0}" -ge 1 ] || fail "sub-groups: no gang placed"
# The same workload without the rules: issue 11's floor, 99.5 %.
$BIN gen --nodes 3000 --pods 30000 --seed 11 --rules none -o c0.h5 > /dev/null || fail "gen --rules none"
OMP_NUM_THREADS=2 $MPIRUN -n 2 $BIN schedule -i c0.h5 -o q8.h5 --partition-nodes 400 \
    --policy most-allocated -q || fail "schedule c0, 8 partitions"
OMP_NUM_THREADS=2 $MPIRUN -n 1 $BIN schedule -i c0.h5 -o q1.h5 --partition-nodes 100000 \
    --policy most-allocated -q || fail "schedule c0, one partition"
placed0() { $BIN verify -i c0.h5 -p "$1" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["placed"])'; }
q8=$(placed0 q8.h5)
q1=$(placed0 q1.h5)
python3 -c "import sys; sys.exit(0 if $q8 >= 0.995 * $q1 else 1)" \
    || fail "no rules: 8 partitions place $q8 pods, one partition $q1 (below 99.5 %)"
echo "e2e_determinism: without the rules, 8 partitions place $q8, one partition $q1"
# Ten partitions: pod groups tried across partitions on ranks that own
# different sets of partitions (3 ranks) must leave the same reasons as on
# one rank (a regression: tentative placements changed the reasons a rank
# later reported).
for n in 1 3; do
    OMP_NUM_THREADS=1 $MPIRUN -n $n $BIN schedule -i c.h5 -o "p10-$n.h5" --partition-nodes 300 -q
done
h5diff --exclude-path /run p10-1.h5 p10-3.h5 || fail "10 partitions: 3 ranks differ from 1"
# Exchange buffers of 2 bytes: every gather grows its buffer (the agreed
# growth path), which must give the same answer.
SS_EXCHANGE_BLOCK=2 OMP_NUM_THREADS=1 $MPIRUN -n 3 $BIN schedule -i c.h5 -o p-over.h5 --shard-nodes 256
h5diff --exclude-path /run "$ref" p-over.h5 || fail "overflowing exchanges changed the result"
# Another way of cutting the work gives the same answer too.
OMP_NUM_THREADS=2 $MPIRUN -n 3 $BIN schedule -i c.h5 -o p-cut.h5 --shard-nodes 1000
for d in node reason gpu_mask; do
    h5diff "$ref" p-cut.h5 "/placements/$d" "/placements/$d" || fail "shard size changed /placements/$d"
done

# A fault on one rank: one clear message, non-zero exit, no hang, no output.
for phase in read schedule engine write; do
    rm -f f.h5
    if SS_FAULT_INJECT="$phase:1" OMP_NUM_THREADS=1 timeout 120 $MPIRUN -n 2 $BIN schedule \
        -i c.h5 -o f.h5 2> err.txt < /dev/null; then
        fail "fault in $phase on rank 1 did not fail the run"
    fi
    [ "$(grep -c 'injected fault' err.txt)" -eq 1 ] || fail "expected one message: $(cat err.txt)"
    grep -q "rank 1" err.txt || fail "message does not name the rank: $(cat err.txt)"
    [ ! -e f.h5 ] || fail "output file left after a fault in $phase"
done
echo "e2e_determinism: ok"
