#!/bin/bash
# End-to-end test of sub-groups and topology objects in `shardsched import`
# (issue 13, docs/kubernetes.md "Sub-groups", "Topology objects"): the
# hand-written KAI, Volcano, upstream and Kueue objects of
# tests/data/kube/subgroups import with --strict (nothing left unread) in
# JSON and in YAML, schedule, pass verify, and give the same placements
# whichever form (h5diff); every pod of a gang is placed (the cluster has
# room) and each sub-group that asks for one nvlink domain sits in one; a
# HyperNode tree that does not nest is refused by --strict with the pod named.
# usage: bash e2e_kube_subgroups.sh BINARY WORKDIR
set -u
BIN=$1
WORK=$2
SRC=${SS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
cp -r "$SRC"/tests/data/kube/subgroups s || exit 1
fail() { echo "FAIL: $*"; exit 1; }
export OMP_NUM_THREADS=1

# node of pod ml/NAME: placed SNAPSHOT PLACEMENTS NAME
placed() {
    "$BIN" explain -i "$1" -p "$2" "ml/$3" 2>/dev/null | sed -n 's/^pod .*: placed on node //p'
}

# levels named by node labels and sub-groups are format version 6's
"$BIN" import -q --nodes s/nodes.json --pods s/kai.json -o probe.h5 >/dev/null 2>&1 ||
    fail "probe import"
if "$BIN" inspect probe.h5 | head -1 | grep -q "format_version [1-5])"; then
    echo "e2e_kube_subgroups: skipped (the engine has no sub-groups before format version 6)"
    exit 0
fi

for d in kai volcano upstream kueue; do
    for f in json yaml; do
        "$BIN" import -q --strict --nodes s/nodes.json --pods s/$d.$f -o $d.$f.h5 >$d.$f.imp 2>&1 ||
            fail "$d.$f: import: $(cat $d.$f.imp)"
        "$BIN" schedule -q -i $d.$f.h5 -o $d.$f.p.h5 >/dev/null 2>&1 || fail "$d.$f: schedule"
        "$BIN" verify -q -i $d.$f.h5 -p $d.$f.p.h5 >verify.txt 2>&1 ||
            fail "$d.$f: verify: $(cat verify.txt)"
    done
    h5diff $d.json.p.h5 $d.yaml.p.h5 /placements /placements >/dev/null ||
        fail "$d: JSON and YAML placements differ"
    "$BIN" inspect $d.json.p.h5 >inspect.txt 2>&1 || fail "$d: inspect"
    grep -q "^unschedulable 0" inspect.txt || fail "$d: a pod not placed: $(cat inspect.txt)"
done

# nodes n0,n1 are nvlink nv0, n2,n3 nv1, ...: a required nvlink sub-group in one pair
same_pair() { # DIALECT POD POD
    local a b
    a=$(placed $1.json.h5 $1.json.p.h5 "$2")
    b=$(placed $1.json.h5 $1.json.p.h5 "$3")
    [ -n "$a" ] && [ -n "$b" ] || fail "$1: $2 or $3 not placed"
    [ $((${a#n} / 2)) -eq $((${b#n} / 2)) ] || fail "$1: $2 on $a and $3 on $b: two nvlink domains"
}
same_pair kai d0-a d0-b
same_pair upstream w-0 w-1
same_pair kueue s-0 s-1
same_pair kueue s-2 s-3

"$BIN" import -q --strict --nodes s/nodes.json --pods s/hypernode_not_nested.yaml -o bad.h5 \
    >/dev/null 2>stderr.txt && fail "not nested: --strict accepted it"
grep -q "HyperNode b: node n1 is also in HyperNode a of the same tier" stderr.txt ||
    fail "not nested: $(cat stderr.txt)"
grep -q "ml/g-0.*(--strict)" stderr.txt || fail "not nested: $(cat stderr.txt)"
[ ! -e bad.h5 ] || fail "not nested: wrote bad.h5"
echo "e2e_kube_subgroups: ok"
