#!/bin/bash
# End-to-end test of `shardsched import` on bad Kubernetes JSON (issue 10):
# each file under tests/data/kube/bad is refused with exit 1 and one message
# naming the file, the object and the field, and no snapshot (nor a
# temporary file) is left behind; a directory says so; the same file named
# twice (x and ./x) is read once; a folder is read in name order; pods
# naming a Workload not in the input are imported as unsupported and never
# placed (reason "unsupported: spec.workloadRef"), and refused with
# --strict. The gang dialects' bad forms are in e2e_kube_dialects.sh.
# usage: bash e2e_kube_bad.sh BINARY WORKDIR
set -u
BIN=$1
WORK=$2
SRC=${SS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
rm -rf "$WORK" && mkdir -p "$WORK/bad" && cd "$WORK" || exit 1
cp "$SRC"/tests/data/kube/bad/*.json bad/ || exit 1
fail() { echo "FAIL: $*"; exit 1; }

# refuse NODES PODS MESSAGE: exit 1, exactly MESSAGE on stderr, no output.
refuse() {
    local nodes=$1 pods=$2 want=$3 args=(--nodes "$1")
    [ -n "$pods" ] && args+=(--pods "$pods")
    "$BIN" import -q "${args[@]}" -o out/c.h5 >stdout.txt 2>stderr.txt
    local rc=$?
    [ $rc -eq 1 ] || fail "$nodes $pods: exit $rc, want 1: $(cat stderr.txt)"
    [ "$(cat stderr.txt)" = "shardsched import: $want" ] ||
        fail "$nodes $pods: got '$(cat stderr.txt)', want 'shardsched import: $want'"
    [ -z "$(ls -A out)" ] || fail "$nodes $pods: left $(ls -A out)"
}
mkdir -p out
N=bad/node.json
refuse bad/unschedulable_string.json "" \
    "bad/unschedulable_string.json: Node n1: spec.unschedulable: expected true or false, got a string"
refuse bad/taints_object.json "" \
    "bad/taints_object.json: Node n1: spec.taints: expected an array, got an object"
refuse bad/items_null.json "" "bad/items_null.json: a List whose items is null, not an array"
refuse $N bad/requests_array.json \
    "bad/requests_array.json: Pod team-a/web-0: spec.containers[0].resources.requests: expected an object, got an array"
refuse $N bad/containers_object.json \
    "bad/containers_object.json: Pod team-a/web-0: spec.containers: expected an array, got an object"
refuse $N bad/dup_pods.json \
    "bad/dup_pods.json: items[2]: Pod team-a/web-0 appears twice (first at bad/dup_pods.json: items[0])"
refuse bad/dup_nodes.json "" \
    "bad/dup_nodes.json: items[1]: Node n1 appears twice (first at bad/dup_nodes.json: items[0])"
refuse $N bad/bad_name.json \
    "bad/bad_name.json: items[0]: Pod metadata.name 'a/../../nodes/x': not a valid name (a DNS-1123 subdomain: at most 253 of a-z, 0-9, '-', '.', starting and ending with a letter or digit)"
refuse $N bad/empty_name.json "bad/empty_name.json: items[0]: Pod metadata.name: empty"
refuse $N bad/overflow.json \
    "bad/overflow.json: Pod team-a/big: spec.containers[7]: memory: the pod's total request overflows (over 9223372036854775807 bytes)"
refuse $N bad/gt_not_int.json \
    "bad/gt_not_int.json: Pod team-a/web-0: nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]: 'eight' is not an integer (Gt and Lt compare integers)"
refuse $N bad/empty_terms.json \
    "bad/empty_terms.json: Pod team-a/web-0: nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: must have at least one node selector term"
# a folder is read file by file in name order (the first bad one is named);
# one without an input file says so
mkdir -p empty
refuse empty "" "empty: folder holds no .json, .yaml or .yml file"
refuse $N bad \
    "bad/bad_name.json: items[0]: Pod metadata.name 'a/../../nodes/x': not a valid name (a DNS-1123 subdomain: at most 253 of a-z, 0-9, '-', '.', starting and ending with a letter or digit)"

# the same file as x and ./x is read once
"$BIN" import -q --nodes $N --pods ./$N -o same.h5 >stdout.txt 2>&1 || fail "x and ./x: $(cat stdout.txt)"
grep -q "^imported 1 nodes" stdout.txt || fail "x and ./x: $(cat stdout.txt)"

# gangs naming a group not in the input (Kubernetes keeps them pending):
# imported, never placed, refused with --strict
for f in workload_ref; do
    "$BIN" import -q --nodes $N --pods bad/$f.json -o $f.h5 >stdout.txt 2>&1 || fail "$f: $(cat stdout.txt)"
    grep -q "reported unsupported" stdout.txt || fail "$f: no warning: $(cat stdout.txt)"
    "$BIN" schedule -q -i $f.h5 -o $f.p.h5 >/dev/null 2>&1 || fail "$f: schedule"
    "$BIN" explain -i $f.h5 -p $f.p.h5 team-a/worker-0 >explain.txt 2>&1 || true
    case $f in
    workload_ref) want="not placed: unsupported: spec.workloadRef" ;;
    *) want="not placed: unsupported: pod group label or annotation not read" ;;
    esac
    grep -q "$want" explain.txt || fail "$f: explain says $(cat explain.txt)"
    grep -q "never placed as if the rule were absent; nodes were not tried" explain.txt ||
        fail "$f: explain does not say the rule is unsupported: $(cat explain.txt)"
    "$BIN" import -q --strict --nodes $N --pods bad/$f.json -o out/c.h5 >/dev/null 2>stderr.txt &&
        fail "$f: --strict accepted it"
    grep -q "team-a/worker-0: .*(--strict)" stderr.txt || fail "$f --strict: $(cat stderr.txt)"
    [ -z "$(ls -A out)" ] || fail "$f --strict: left $(ls -A out)"
done
echo "e2e_kube_bad: ok"
