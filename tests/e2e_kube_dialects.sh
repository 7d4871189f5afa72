#!/bin/bash
# End-to-end test of the gang dialects `shardsched import` reads (issue 13,
# docs/kubernetes.md): the same four gangs (tests/data/kube/gangs: a
# required rack, a preferred block, one that cannot fit, one without
# topology) written as coscheduling, Volcano, KAI, upstream PodGroup,
# upstream Workload and Kueue objects import with --strict (nothing left
# unread), in JSON and as YAML documents, and schedule to the same placements (h5diff of /placements, also
# under mpirun -n 2), which are the expected ones; bad forms are refused
# with one message naming the file, the object and the field, and nothing
# written; a topology key that is no level leaves the pods unsupported
# (reason topology) with the key named in the warning.
# usage: bash e2e_kube_dialects.sh BINARY WORKDIR
set -u
BIN=$1
WORK=$2
SRC=${SS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
rm -rf "$WORK" && mkdir -p "$WORK/out" && cd "$WORK" || exit 1
cp -r "$SRC"/tests/data/kube/gangs g || exit 1
fail() { echo "FAIL: $*"; exit 1; }
export OMP_NUM_THREADS=1

for d in coscheduling volcano kai upstream workload kueue; do
    "$BIN" import -q --strict --nodes g/nodes.json --pods g/$d.json -o $d.h5 >$d.imp 2>&1 ||
        fail "$d: import: $(cat $d.imp)"
    grep -q "15 pending pods (.* templates, 4 pod groups)" $d.imp || fail "$d: $(cat $d.imp)"
    "$BIN" schedule -q -i $d.h5 -o $d.p.h5 >/dev/null 2>&1 || fail "$d: schedule"
    # the same objects as YAML (a document marker first: the YAML reader, in flow style)
    { echo "--- # $d as YAML"; cat g/$d.json; } >g/$d.yaml
    "$BIN" import -q --strict --nodes g/nodes.json --pods g/$d.yaml -o $d.y.h5 >$d.yimp 2>&1 ||
        fail "$d (YAML): import: $(cat $d.yimp)"
    "$BIN" schedule -q -i $d.y.h5 -o $d.y.p.h5 >/dev/null 2>&1 || fail "$d (YAML): schedule"
    h5diff $d.p.h5 $d.y.p.h5 /placements /placements >/dev/null ||
        fail "$d: placements from YAML differ from JSON's"
    if [ $d != coscheduling ]; then
        h5diff coscheduling.p.h5 $d.p.h5 /placements /placements >/dev/null ||
            fail "$d: placements differ from coscheduling's"
    fi
done
mpirun --oversubscribe --bind-to none -n 2 "$BIN" schedule -q -i kueue.h5 -o kueue2.p.h5 \
    >/dev/null 2>&1 || fail "kueue: schedule under mpirun -n 2"
h5diff coscheduling.p.h5 kueue2.p.h5 /placements /placements >/dev/null ||
    fail "kueue under mpirun -n 2: placements differ"

# the placements themselves: alpha in the free rack k2, beta in block b2,
# gamma (5 whole nodes) not placed, delta and solo where room is left
got=$(h5dump -d /placements/node_name coscheduling.p.h5 | sed -n '/DATA {/,/}/p' | tr -d ' \n')
want='DATA{(0):"n3","n4","n3","n4","n5","n6","n7","","","","","","n2",(13):"n8","n2"}'
[ "$got" = "$want" ] || fail "placements: got $got, want $want"
"$BIN" explain -i kai.h5 -p kai.p.h5 ml/gamma-0 >explain.txt 2>&1
grep -q "not placed: pod group could not place minMember pods" explain.txt ||
    fail "gamma: $(cat explain.txt)"

# refuse FILE MESSAGE: exit 1, exactly MESSAGE, nothing written
refuse() {
    "$BIN" import -q --nodes g/nodes.json --pods "$1" -o out/c.h5 >stdout.txt 2>stderr.txt
    local rc=$?
    [ $rc -eq 1 ] || fail "$1: exit $rc, want 1: $(cat stderr.txt)"
    [ "$(cat stderr.txt)" = "shardsched import: $2" ] ||
        fail "$1: got '$(cat stderr.txt)', want 'shardsched import: $2'"
    [ -z "$(ls -A out)" ] || fail "$1: left $(ls -A out)"
}
refuse g/bad/volcano_mode.json \
    "g/bad/volcano_mode.json: PodGroup ml/alpha: spec.networkTopology.mode: 'strict' is not hard or soft"
refuse g/bad/workload_policy.json \
    "g/bad/workload_policy.json: Workload ml/train: spec.podGroups[1].policy: exactly one of gang and basic must be set"
refuse g/bad/kueue_count.json \
    "g/bad/kueue_count.json: Pod ml/alpha-1: metadata.annotations.kueue.x-k8s.io/pod-group-total-count: 3, but the group's first member says 4"

# a topology key that is no level: imported, named, never placed
"$BIN" import -q --nodes g/nodes.json --pods g/unmapped_key.json -o key.h5 >key.imp 2>&1 ||
    fail "unmapped key: $(cat key.imp)"
grep -q "^warning: pod group topology keys no node carries .*: 2 (first: 'example.com/nvlink-domain' in PodGroup ml/train-alpha spec.schedulingConstraints.topology\[0\].key)" key.imp ||
    fail "unmapped key: $(cat key.imp)"
"$BIN" schedule -q -i key.h5 -o key.p.h5 >/dev/null 2>&1 || fail "unmapped key: schedule"
"$BIN" explain -i key.h5 -p key.p.h5 ml/alpha-0 >explain.txt 2>&1
grep -q "not placed: unsupported: topology annotation not read" explain.txt ||
    fail "unmapped key: $(cat explain.txt)"
"$BIN" import -q --strict --nodes g/nodes.json --pods g/unmapped_key.json -o out/c.h5 \
    >/dev/null 2>stderr.txt && fail "unmapped key: --strict accepted it"
grep -q "Pod ml/alpha-0: PodGroup ml/train-alpha spec.schedulingConstraints.topology\[0\].key: no node carries the label 'example.com/nvlink-domain'" stderr.txt ||
    fail "unmapped key --strict: $(cat stderr.txt)"
[ -z "$(ls -A out)" ] || fail "unmapped key --strict: left $(ls -A out)"
echo "e2e_kube_dialects: ok"
