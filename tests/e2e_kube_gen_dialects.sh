#!/bin/bash
# End-to-end test of `gen --emit-kube DIR --gang-dialect D` (issue 13,
# docs/kubernetes.md "gen --gang-dialect"): the same generated gangs written
# as coscheduling, Volcano, KAI, upstream Workload, upstream PodGroup and
# Kueue objects (and gen's default output) import with --strict to the same
# pod groups (minimum, level, mode), schedule under mpirun -n 2 to the same
# placements (h5diff of /placements/node, reason and seq) in every dialect,
# and to the same nodes and order as scheduling gen's own snapshot, whose
# reasons differ only where import turns a GPU model list into node
# affinity (docs/kubernetes.md "Without a cluster"). Two clusters: gen's
# default mix (gangs present, none placed: their members have inter-pod
# rules or find no domain) and an AI one without inter-pod rules where
# gangs land, in one rack and across racks. Every dialect's `bind --emit`
# gives the same Bindings, and the KAI ones are bound through
# tests/binder_server.py (exactly once each).
# usage: bash e2e_kube_gen_dialects.sh BINARY WORKDIR
set -u
BIN=$1
WORK=$2
SRC=${SS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
export OMP_NUM_THREADS=1
MPI=(mpirun --oversubscribe --bind-to none -n 2)
# the values of an integer dataset, one a line
ds() { h5dump -y -w0 -d "$2" "$1" | sed -n '/DATA {/,/}/p' | grep -o -- '-\?[0-9]\+'; }
# a cluster's pod groups, one "min level mode parent" line each, sorted (the
# level only where the mode is not none: gen keeps the level it drew)
groups_of() {
    paste <(ds $1 /groups/min_member) <(ds $1 /groups/topo_level) <(ds $1 /groups/topo_mode) \
        <(ds $1 /groups/parent) | awk '{ if ($3 == 0) $2 = "-"; print }' | sort
}

DIALECTS="default coscheduling volcano kai workload podgroup kueue"
declare -A CODE=([default]=1 [coscheduling]=1 [volcano]=2 [kai]=3 [workload]=4 [podgroup]=5 [kueue]=7)
# what marks each dialect in pods.json (the gangs were written that way)
declare -A MARK=(
    [default]='"apiVersion":"scheduling.x-k8s.io/v1alpha1","kind":"PodGroup"'
    [coscheduling]='"scheduling.x-k8s.io/pod-group":'
    [volcano]='"apiVersion":"scheduling.volcano.sh/v1beta1","kind":"PodGroup"'
    [kai]='"topologyConstraint":{"re'
    [workload]='"workloadRef":{"name":'
    [podgroup]='"schedulingConstraints":{"topology":\[{"key":'
    [kueue]='"kueue.x-k8s.io/pod-group-total-count":'
)

run_cluster() { # NAME GEN-OPTIONS...
    local name=$1
    shift
    "$BIN" gen -q "$@" -o $name.gen.h5 || fail "$name: gen"
    "${MPI[@]}" "$BIN" schedule -q $SCHED -i $name.gen.h5 -o $name.gen.p.h5 >/dev/null 2>&1 ||
        fail "$name: schedule gen's snapshot"
    local groups
    groups=$(ds $name.gen.h5 /groups/min_member | wc -l)
    [ "$groups" -gt 0 ] || fail "$name: gen made no pod groups"
    for d in $DIALECTS; do
        local k=$name.$d
        "$BIN" gen -q "$@" --emit-kube $k --gang-dialect $d || fail "$k: gen --emit-kube"
        grep -q -- "${MARK[$d]}" $k/pods.json || fail "$k: pods.json has no ${MARK[$d]}"
        "$BIN" import -q --strict --nodes $k/nodes.json --pods $k/pods.json -o $k.h5 >$k.imp 2>&1 ||
            fail "$k: import --strict: $(cat $k.imp)"
        grep -q "pending pods (.* templates, $groups pod groups)" $k.imp ||
            fail "$k: import did not read $groups pod groups: $(cat $k.imp)"
        # import numbers groups by their first member: compare them as a set
        [ "$(groups_of $k.h5)" = "$(groups_of $name.gen.h5)" ] ||
            fail "$k: pod groups (min_member, topo_level, topo_mode, parent) differ from gen's"
        # /groups/dialect: where each group came from (bind --write-status uses it)
        [ "$(ds $k.h5 /groups/dialect | sort -u)" = "${CODE[$d]}" ] ||
            fail "$k: /groups/dialect is $(ds $k.h5 /groups/dialect | sort -u | tr '\n' ' '), want ${CODE[$d]}"
        "${MPI[@]}" "$BIN" schedule -q $SCHED -i $k.h5 -o $k.p.h5 >/dev/null 2>&1 || fail "$k: schedule"
        for f in node seq; do
            h5diff $name.gen.p.h5 $k.p.h5 /placements/$f /placements/$f >/dev/null ||
                fail "$k: /placements/$f differs from gen's snapshot's"
        done
        for f in node reason seq gpu_mask; do
            h5diff $name.default.p.h5 $k.p.h5 /placements/$f /placements/$f >/dev/null ||
                fail "$k: /placements/$f differs from the default dialect's"
        done
    done
    # gen's snapshot keeps GPU model lists (reason 5, no allowed GPU model);
    # import reads them as nvidia.com/gpu.product node affinity (reason 4)
    paste <(ds $name.gen.p.h5 /placements/reason) <(ds $name.default.p.h5 /placements/reason) |
        awk '$1 != $2 && !($1 == 5 && $2 == 4) { bad++ } END { exit bad > 0 }' ||
        fail "$name: reasons differ from gen's snapshot's beyond GPU model lists"
    # gangs placed: members and their nodes (counted on gen's snapshot)
    paste <(ds $name.gen.p.h5 /placements/pod) <(ds $name.gen.p.h5 /placements/node) >$name.pn
    ds $name.gen.h5 /pods/group >$name.grp
    GANG_PODS_PLACED=$(awk 'NR == FNR { g[NR - 1] = $1; next } g[$1] >= 0 && $2 >= 0 { n++ }
        END { print n + 0 }' $name.grp $name.pn)
    echo "$name: $groups pod groups, $GANG_PODS_PLACED gang members placed, the same in $DIALECTS"
}

# kube-scheduler's default spreading is a scheduler setting, not in the
# objects: import assumes system, gen --rules none makes none (say it)
SCHED=
run_cluster mix --nodes 200 --pods 2000 --seed 7
SCHED="--default-spreading none"
run_cluster ai --nodes 200 --pods 1000 --seed 1 --profile ai --mig none --rules none --used 0.05
[ "$GANG_PODS_PLACED" -ge 16 ] || fail "ai: only $GANG_PODS_PLACED gang members placed"

# ---- bind: every dialect's plan is the same Bindings; KAI's go through ----
# ---- tests/binder_server.py                                              ----
"$BIN" verify -q -i ai.kai.h5 -p ai.kai.p.h5 || fail "verify ai.kai"
"$BIN" bind -i ai.kai.h5 -p ai.kai.p.h5 --emit bindings.json >/dev/null 2>&1 || fail "bind --emit"
for d in $DIALECTS; do
    "$BIN" bind -i ai.$d.h5 -p ai.$d.p.h5 --emit bindings.$d.json >/dev/null 2>&1 ||
        fail "ai.$d: bind --emit"
    cmp -s bindings.json bindings.$d.json || fail "ai.$d: its Bindings differ from KAI's"
done
python3 "$SRC/tests/binder_server.py" --port-file port --state state.json --delay 0.005 \
    --lifetime 100 &
SERVER_PID=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "binder server did not start"
URL="http://127.0.0.1:$(cat port)"
"$BIN" bind -i ai.kai.h5 -p ai.kai.p.h5 --server "$URL" --journal journal.tsv --concurrency 8 \
    --max-backoff 0.4 --timeout 5 --seed 7 >server.out 2>&1 || fail "bind --server: $(tail -3 server.out)"
python3 - ai.grp ai.pn <<'EOF' || fail "bindings through the server"
import json, sys
want = {b["metadata"]["namespace"] + "/" + b["metadata"]["name"]: b["target"]["name"]
        for b in json.load(open("bindings.json"))["items"]}
state = json.load(open("state.json"))
assert set(state) == set(want), (len(state), len(want))
for k, v in state.items():
    assert v["bound"] == 1 and v["node"] == want[k], (k, v, want[k])
gang = [k for k in want if k.split("/")[1].startswith("train-")]
assert gang, "no gang member bound"
print("%d pods bound exactly once (%d gang members)" % (len(want), len(gang)))
EOF
curl -s -X POST "$URL/shutdown" >/dev/null
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
echo "e2e_kube_gen_dialects: ok"
