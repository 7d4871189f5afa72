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
# issue 12's rules: bad spread constraints, pod terms, PDBs, PriorityClasses, start times
refuse $N bad/spread_max_skew_zero.json \
    "bad/spread_max_skew_zero.json: Pod team-a/web-0: spec.topologySpreadConstraints[0].maxSkew: must be an integer >= 1 (got 0)"
refuse $N bad/spread_when_bad.json \
    "bad/spread_when_bad.json: Pod team-a/web-0: spec.topologySpreadConstraints[0].whenUnsatisfiable: 'Never' is not DoNotSchedule or ScheduleAnyway"
refuse $N bad/term_weight_zero.json \
    "bad/term_weight_zero.json: Pod team-a/web-0: spec.affinity.podAntiAffinity.preferred[0].weight: must be an integer >= 1 (got 0)"
refuse $N bad/term_no_key.json \
    "bad/term_no_key.json: Pod team-a/web-0: spec.affinity.podAffinity.required[0].topologyKey: must be a non-empty string"
refuse $N bad/pdb_both.json \
    "bad/pdb_both.json: PodDisruptionBudget team-a/web: spec: minAvailable and maxUnavailable cannot both be set"
refuse $N bad/priority_class_two_defaults.json \
    "bad/priority_class_two_defaults.json: PriorityClass lower: globalDefault: PriorityClass low is already the global default (only one may be)"
refuse $N bad/start_time_bad.json \
    "bad/start_time_bad.json: Pod team-a/web-0: status.startTime: '2021-07-07 11:28:34' is not an RFC 3339 time (2006-01-02T15:04:05Z)"
# --priority-classes and --pdbs: objects without a kind take the flag's kind;
# an unknown class is a warning naming it (an error with --strict)
cat > classes.json <<'EOF2'
[{"metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"}]
EOF2
cat > pdbs.json <<'EOF2'
[{"metadata": {"name": "web", "namespace": "team-a"}, "spec": {"minAvailable": "150%"}}]
EOF2
cat > cpods.json <<'EOF2'
[{"kind": "Pod", "metadata": {"name": "a", "namespace": "team-a"}, "spec": {"priorityClassName": "high", "containers": []}},
 {"kind": "Pod", "metadata": {"name": "b", "namespace": "team-a"}, "spec": {"priorityClassName": "gone", "containers": []}}]
EOF2
"$BIN" import -q --nodes $N --pods cpods.json --priority-classes classes.json -o classes.h5 >stdout.txt 2>&1 ||
    fail "--priority-classes: $(cat stdout.txt)"
grep -q "^warning: pods whose priorityClassName names no PriorityClass in the input .*: 1 (first: 'gone' of cpods.json: Pod team-a/b)" stdout.txt ||
    fail "unknown class: $(cat stdout.txt)"
"$BIN" import -q --nodes $N --pods cpods.json --pdbs pdbs.json -o out/c.h5 >stdout.txt 2>stderr.txt &&
    fail "--pdbs 150% accepted"
[ "$(cat stderr.txt)" = 'shardsched import: pdbs.json: PodDisruptionBudget team-a/web: spec.minAvailable: must be an integer >= 0 or a percentage "N%" (N 0..100)' ] ||
    fail "--pdbs: $(cat stderr.txt)"
[ -z "$(ls -A out)" ] || fail "--pdbs: left $(ls -A out)"
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
