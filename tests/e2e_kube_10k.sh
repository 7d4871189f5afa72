#!/bin/bash
# End-to-end test of gen --emit-kube -> import -> schedule -> verify -> bind
# at scale: a generated 10,000-node cluster (50,000 pending and ~116,000
# running pods, gangs with rack/block/zone topology) written as Kubernetes
# JSON and imported back must be the same cluster (the same pod groups;
# inspect agrees), schedule to the same placements as the generated snapshot
# (the same pods on the same nodes, under mpirun -n 2; this is what catches a
# lost gang topology or pod group), pass verify, and give one Binding per
# placed pod.
#
# The --server part runs on a smaller cluster made the same way (100 nodes,
# 1,000 pending pods): tests/binder_server.py rewrites its whole state file
# after every request and delays one pod in four by 0.5-1 s (slow reply,
# 429 with Retry-After: 1), so 47,000 bindings through it would take over an
# hour; 1,000 bind in seconds and still meet every injected fault.
# usage: bash e2e_kube_10k.sh BINARY WORKDIR
set -u
BIN=$1
WORK=$2
SRC=${SS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
MPI=(mpirun --oversubscribe -n 2)
SECONDS=0

# ---- 10,000 nodes ----
"$BIN" gen --nodes 10000 --pods 50000 --seed 3 -o gen.h5 --emit-kube kube 2> gen.out || { cat gen.out; fail "gen --emit-kube"; }
cat gen.out
[ -s kube/nodes.json ] && [ -s kube/pods.json ] || fail "gen --emit-kube wrote no JSON"
ls kube | grep -q tmp && fail "temporary files left in kube/"
"$BIN" import --nodes kube/nodes.json --pods kube/pods.json -o imported.h5 > import.out 2>&1 ||
    { cat import.out; fail "import"; }
cat import.out
groups=$(sed -n 's/.* \([0-9]*\) pod groups -> .*/\1/p' gen.out)
[ -n "$groups" ] && [ "$groups" -gt 0 ] || fail "gen made no pod groups: the gang round trip is not tested"
grep -q "^imported 10000 nodes, .* and 50000 pending pods (.*, $groups pod groups)" import.out ||
    fail "import did not read back 10000 nodes, 50000 pending pods and $groups pod groups"

# import(export(c)) is c: inspect agrees on everything but the file name and the
# pools (import keeps labels and affinity terms per template, gen shares them)
"$BIN" inspect gen.h5 | grep -v -e "^pools" -e "cluster snapshot" > gen.inspect || fail "inspect gen.h5"
"$BIN" inspect imported.h5 | grep -v -e "^pools" -e "cluster snapshot" > imp.inspect || fail "inspect imported.h5"
diff gen.inspect imp.inspect || fail "imported snapshot differs from the generated one"
echo "gen, emit, import: ${SECONDS}s"

"${MPI[@]}" "$BIN" schedule -i imported.h5 -o p.h5 2> sched_imp.out || { cat sched_imp.out; fail "schedule imported"; }
"${MPI[@]}" "$BIN" schedule -i gen.h5 -o p_gen.h5 2> sched_gen.out || { cat sched_gen.out; fail "schedule generated"; }
cat sched_imp.out sched_gen.out
placed=$(sed -n 's/.*placed \([0-9]*\) of 50000 pending pods.*/\1/p' sched_imp.out)
placed_gen=$(sed -n 's/.*placed \([0-9]*\) of 50000 pending pods.*/\1/p' sched_gen.out)
[ -n "$placed" ] && [ "$placed" -gt 40000 ] || fail "imported snapshot: '$placed' pods placed"
[ "$placed" = "$placed_gen" ] || fail "imported snapshot places $placed pods, generated one $placed_gen"

"$BIN" verify -i imported.h5 -p p.h5 > verify.out || { cat verify.out; fail "verify"; }
grep -q "verify: OK" verify.out || fail "verify verdict"

"$BIN" bind -i imported.h5 -p p.h5 --emit bindings.json || fail "bind --emit"
"$BIN" bind -i gen.h5 -p p_gen.h5 --emit bindings_gen.json || fail "bind --emit (generated)"
python3 - "$placed" <<'EOF' || fail "bindings"
import json, sys
placed = int(sys.argv[1])
def load(path):
    # a List of Bindings, or (with preemption victims) the ordered request
    # log, one request a line, its Bindings in "bind" steps
    text = open(path).read()
    if text.lstrip().startswith('{"unit"'):
        steps = [json.loads(l) for l in text.splitlines() if l.strip()]
        items = [s["body"] for s in steps if s["op"] == "bind"]
        victims = [s["path"] for s in steps if s["op"] in ("delete", "evict")]
        # every victim is removed before the binding that needs its room
        assert all(s["op"] != "bind" or s["wait"] is None for s in steps), "a bind step waits"
    else:
        d = json.loads(text)
        assert d["kind"] == "List", path
        items, victims = d["items"], []
    out = {}
    for b in items:
        assert b["apiVersion"] == "v1" and b["kind"] == "Binding" and b["target"]["kind"] == "Node", b
        key = b["metadata"]["namespace"] + "/" + b["metadata"]["name"]
        assert key not in out, ("bound twice", key)
        out[key] = b["target"]["name"]
    return out, sorted(victims)
(imp, vi), (gen, vg) = load("bindings.json"), load("bindings_gen.json")
assert vi == vg, "imported and generated snapshots preempt different pods"
# gangs are placed whole or not at all, so no member is held back
assert len(imp) == placed, (len(imp), placed)
assert imp == gen, "imported and generated snapshots place different pods or nodes"
print("%d Bindings, one per placed pod, the same pods on the same nodes as the generated snapshot" % len(imp))
EOF
echo "10k flow: ${SECONDS}s"

# ---- --server against tests/binder_server.py, on 100 nodes ----
"$BIN" gen --nodes 100 --pods 1000 --seed 3 --emit-kube small || fail "gen small"
"$BIN" import --nodes small/nodes.json --pods small/pods.json -o small.h5 || fail "import small"
# Bindings only (no victims): tests/e2e_bind_preempt.sh covers the request log.
"${MPI[@]}" "$BIN" schedule -i small.h5 -o small_p.h5 --preemption off || fail "schedule small"
"$BIN" verify -q -i small.h5 -p small_p.h5 || fail "verify small"
"$BIN" bind -i small.h5 -p small_p.h5 --emit small_bindings.json || fail "bind --emit small"

python3 "$SRC/tests/binder_server.py" --port-file port --state state.json --delay 0.005 --lifetime 100 &
SERVER_PID=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "binder server did not start"
URL="http://127.0.0.1:$(cat port)"
"$BIN" bind -i small.h5 -p small_p.h5 --server "$URL" --journal journal.tsv --concurrency 16 \
    --max-backoff 0.4 --timeout 5 --seed 7 > server.out 2>&1
rc=$?
tail -n 3 server.out
[ $rc -eq 0 ] || fail "bind --server exited $rc"
python3 - <<'EOF' || fail "bindings through the server not exactly once"
import json, re
want = {b["metadata"]["namespace"] + "/" + b["metadata"]["name"]: b["target"]["name"]
        for b in json.load(open("small_bindings.json"))["items"]}
state = json.load(open("state.json"))
assert set(state) == set(want), (len(state), len(want))
for k, v in state.items():
    assert v["bound"] == 1 and v["node"] == want[k], (k, v, want[k])
line = [l for l in open("server.out") if l.startswith("bind summary:")][0]
nums = dict((w, int(n)) for n, w in re.findall(r"(\d+) (to bind|bound|already|gone|failed|skipped)", line))
assert nums["to bind"] == len(want) and nums["bound"] + nums["already"] == len(want), line
assert nums["gone"] == 0 and nums["failed"] == 0 and nums["skipped"] == 0, line
retried = sum(v["posts"] > 1 for v in state.values())
assert retried > 0, "no injected fault was met"
print("%d pods bound exactly once through the binder server (%d after a retry)" % (len(want), retried))
EOF
curl -s -X POST "$URL/shutdown" > /dev/null
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
echo "e2e_kube_10k: OK in ${SECONDS}s"
