#!/bin/bash
# End-to-end test of topology levels named by node labels (issue 13, snapshot
# format version 6, docs/gangs-and-topology.md "Topology levels"): a gen
# cluster written as Kubernetes JSON imports twice, once as written and once
# with its block label renamed to a key no option names (example.com/ib-fabric,
# also in the gangs' Kueue annotations). The renamed key becomes a level of
# its own (inspect lists it, between zone and rack), and both imports schedule
# to the same placements, for 1, 2, 3 and 4 ranks x 1 and 2 threads (h5diff of
# node, reason, seq). A key no Node carries leaves the gang unsupported.
# usage: bash e2e_levels.sh BINARY WORKDIR
set -u
BIN=$1
WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
MPI="mpirun --oversubscribe --bind-to none"

"$BIN" gen -q --nodes 400 --pods 4000 --seed 5 -o gen.h5 --emit-kube kube 2>gen.out ||
    fail "gen: $(cat gen.out)"
grep -q 'podset-required-topology":"topology.kubernetes.io/block"' kube/pods.json ||
    fail "gen wrote no gang asking for a block"
mkdir -p ren
sed 's#topology.kubernetes.io/block#example.com/ib-fabric#g' kube/nodes.json >ren/nodes.json
sed 's#topology.kubernetes.io/block#example.com/ib-fabric#g' kube/pods.json >ren/pods.json
"$BIN" import -q --nodes kube/nodes.json --pods kube/pods.json -o orig.h5 2>imp1.txt ||
    fail "import: $(cat imp1.txt)"
"$BIN" import -q --nodes ren/nodes.json --pods ren/pods.json -o ren.h5 2>imp2.txt ||
    fail "import renamed: $(cat imp2.txt)"
"$BIN" inspect ren.h5 >inspect.txt 2>&1 || fail "inspect: $(cat inspect.txt)"
grep -q "^levels        6: topology.kubernetes.io/region > topology.kubernetes.io/zone > topology.kubernetes.io/block > example.com/ib-fabric > topology.kubernetes.io/rack > kubernetes.io/hostname$" inspect.txt ||
    fail "levels: $(grep levels inspect.txt)"
[ "$(h5dump -d /topology/level_key orig.h5 | grep -c '(0)')" = 1 ] || fail "no /topology/level_key"

same() { # A B: identical placements
    for d in node reason seq; do
        h5diff "$1" "$2" /placements/$d /placements/$d >/dev/null || fail "$1 vs $2: /placements/$d differs"
    done
}
OMP_NUM_THREADS=1 "$BIN" schedule -q -i orig.h5 -o p_orig.h5 >/dev/null 2>&1 || fail "schedule orig"
for n in 1 2 3 4; do
    for t in 1 2; do
        OMP_NUM_THREADS=$t $MPI -n $n "$BIN" schedule -q -i ren.h5 -o p_${n}_$t.h5 >/dev/null 2>&1 ||
            fail "schedule -n $n x $t threads"
        same p_orig.h5 p_${n}_$t.h5
    done
done
"$BIN" verify -i ren.h5 -p p_4_2.h5 >verify.txt 2>&1 || fail "verify: $(tail -5 verify.txt)"
placed=$(h5dump -d /placements/node p_orig.h5 | grep -c . )
[ "$placed" -gt 10 ] || fail "nothing scheduled"

# a key no Node carries: the gang's pods are unsupported (reason topology)
sed 's#podset-required-topology":"topology.kubernetes.io/block"#podset-required-topology":"example.com/nowhere"#g' \
    kube/pods.json >ren/pods_nowhere.json
"$BIN" import --nodes kube/nodes.json --pods ren/pods_nowhere.json -o nowhere.h5 >imp3.txt 2>&1 ||
    fail "import nowhere: $(cat imp3.txt)"
grep -q "example.com/nowhere" imp3.txt || fail "no warning naming the key: $(cat imp3.txt)"
"$BIN" import -q --strict --nodes kube/nodes.json --pods ren/pods_nowhere.json -o strict.h5 \
    >imp4.txt 2>&1 && fail "--strict accepted a key no Node carries"
grep -q "no node carries the label 'example.com/nowhere'" imp4.txt ||
    fail "--strict message: $(cat imp4.txt)"
[ ! -e strict.h5 ] || fail "--strict left strict.h5"
echo "e2e_levels: ok"
