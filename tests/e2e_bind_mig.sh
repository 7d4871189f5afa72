#!/bin/bash
# End-to-end test of bind with MIG re-layouts (issue 15, docs/mig.md "bind")
# against tests/binder_server.py, which plays NVIDIA's MIG manager: a
# hand-made cluster (kubectl JSON: two idle H100 80GB nodes, a CPU node,
# pending MIG pods and a CPU pod) is imported; the plan gives gpu-a 2x
# 3g.40gb and gpu-b 7x 1g.10gb (made by tests/bind_mig_plan, since the
# placements file does not carry re-layouts yet); bind --replay sets each
# node's nvidia.com/mig.config through the request log, waits for
# state=success and the new allocatable, and only then binds the node's
# pods. gpu-b's entry fails (--mig-fail): its pod is not bound, with the
# reason; the others are. A rerun after success does not patch again; a
# MIG manager slower than --mig-wait leaves the pods unbound.
# usage: bash e2e_bind_mig.sh BINARY WORKDIR
set -u
BIN=$1
WORK=$2
SRC=${SS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
PLAN=${SS_BIND_MIG_PLAN:-$(dirname "$BIN")/tests/bind_mig_plan}
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$PLAN" ] || fail "no plan maker at $PLAN (set SS_BIND_MIG_PLAN)"

python3 - <<'PY' || fail "cluster"
import json
def node(name, gpus):
    labels = {"kubernetes.io/hostname": name}
    alloc = {"cpu": "64", "memory": "512Gi", "pods": "110"}
    if gpus:
        labels.update({"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3",
                       "nvidia.com/gpu.count": str(gpus), "nvidia.com/mig.strategy": "mixed",
                       "nvidia.com/mig.config": "all-disabled",
                       "nvidia.com/mig.config.state": "success"})
        alloc["nvidia.com/gpu"] = str(gpus)
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "status": {"allocatable": alloc}}
def pod(name, res):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "ml"},
            "spec": {"containers": [{"name": "c", "resources": {"limits": res,
                                                                "requests": dict(res, cpu="1")}}]},
            "status": {"phase": "Pending"}}
json.dump({"apiVersion": "v1", "kind": "List",
           "items": [node("gpu-a", 1), node("gpu-b", 1), node("cpu-c", 0)]},
          open("nodes.json", "w"), indent=1)
json.dump({"apiVersion": "v1", "kind": "List",
           "items": [pod("infer-0", {"nvidia.com/mig-3g.40gb": "1"}),
                     pod("infer-1", {"nvidia.com/mig-3g.40gb": "1"}),
                     pod("small-0", {"nvidia.com/mig-1g.10gb": "1"}),
                     pod("web-0", {"memory": "1Gi"})]}, open("pods.json", "w"), indent=1)
PY
"$BIN" import --nodes nodes.json --pods pods.json -o cluster.h5 -q > import.out 2>&1 || { cat import.out; fail "import"; }
"$PLAN" cluster.h5 plan.jsonl mig.yaml 20 "gpu=gpu-a/0:3g.40gb=2" "gpu=gpu-b/0:1g.10gb=7" \
    "pod=ml/infer-0@gpu-a:1" "pod=ml/web-0@cpu-c" "pod=ml/small-0@gpu-b:1" \
    "pod=ml/infer-1@gpu-a:2" > plan.out 2>&1 || { cat plan.out; fail "plan"; }
python3 - <<'PY' || fail "the request log"
import json
lines = [json.loads(l) for l in open("plan.jsonl")]
ops = [(l["op"], l["path"].rsplit("/", 2)[-2] if l["op"] == "bind" else l["path"]) for l in lines]
mig = [l for l in lines if l["op"] == "mig-config"]
assert [l["path"] for l in mig] == ["/api/v1/nodes/gpu-a", "/api/v1/nodes/gpu-b"], ops
a, b = mig
assert a["body"]["metadata"]["labels"]["nvidia.com/mig.config"].startswith("shardsched-"), a
assert a["wait"]["migConfig"]["allocatable"] == {"nvidia.com/gpu": "0", "nvidia.com/mig-3g.40gb": "2"}, a
assert b["wait"]["migConfig"]["allocatable"] == {"nvidia.com/gpu": "0", "nvidia.com/mig-1g.10gb": "7"}, b
assert a["wait"]["timeoutSeconds"] == 20, a
unit = {l["path"]: l["unit"] for l in lines}
P = "/api/v1/namespaces/ml/pods/"
assert unit[P + "infer-0/binding"] == unit[P + "infer-1/binding"] == a["unit"]
assert unit[P + "small-0/binding"] == b["unit"] and unit[P + "web-0/binding"] not in (a["unit"], b["unit"])
open("fail.entry", "w").write(b["body"]["metadata"]["labels"]["nvidia.com/mig.config"])
open("a.entry", "w").write(a["body"]["metadata"]["labels"]["nvidia.com/mig.config"])
PY
grep -q "^  $(cat a.entry):" mig.yaml || { cat mig.yaml; fail "the mig-parted config lacks gpu-a's entry"; }
# the server reads mig.yaml with python3-yaml when it is there: the fallback must agree
python3 - "$SRC/tests" <<'PY' || fail "the YAML subset reader"
import sys
sys.path.insert(0, sys.argv[1])
import binder_server as bs
t = open("mig.yaml").read()
sub = bs.parse_yaml_subset(t)
assert sub["mig-configs"][open("a.entry").read()][0] == {"devices": [0], "mig-enabled": True, "mig-devices": {"3g.40gb": 2}}, sub
try:
    import yaml
    assert yaml.safe_load(t) == sub, (yaml.safe_load(t), sub)
    print("YAML: python3-yaml and the subset reader agree")
except ImportError:
    print("YAML: python3-yaml not installed; the subset reader is used")
PY

start_server() {
    rm -f port
    python3 "$SRC/tests/binder_server.py" --port-file port --state state.json --delay 0.01 \
        --lifetime 300 --nodes nodes.json --mig-config mig.yaml "$@" &
    SERVER_PID=$!
    for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
    [ -s port ] || fail "binder server did not start"
    URL="http://127.0.0.1:$(cat port)"
}
stop_server() {
    curl -s -X POST "$URL/shutdown" > /dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
}
OPTS=(--max-backoff 0.2 --timeout 3 --max-attempts 5 --seed 3)
start_server --mig-fail "$(cat fail.entry)" --mig-pending-gets 3

# --- A: gpu-a re-laid out then bound; gpu-b fails: small-0 not bound; web-0 bound
"$BIN" bind --replay plan.jsonl --server "$URL" "${OPTS[@]}" --journal a.journal > a.out 2>&1 \
    && { cat a.out; fail "run with a failed node exit 0"; }
cat a.out
grep -q "bind summary: 4 to bind: 3 bound" a.out || fail "summary"
grep -q "bind MIG: 2 nodes to re-lay out (nvidia.com/mig.config): 1 ready (0 already so: not patched again), 1 not ready" a.out || fail "MIG summary"
grep -q "bind: node gpu-b: mig-config: \*\*\* MIG RE-LAYOUT NOT READY: the node's pods are not bound (node gpu-b: nvidia.com/mig.config=$(cat fail.entry): the MIG manager reports state failed (nvidia.com/mig.config=$(cat fail.entry), nvidia.com/mig.config.state=failed" a.out || fail "the failure is not reported with the node, the label and what was seen"
grep -q "ml/small-0: bind: NOT BOUND: its node's MIG layout is not ready (node gpu-b" a.out || fail "small-0 not reported"
grep -q "^failed	line	" a.journal || { cat a.journal; fail "the failure is not journaled"; }
python3 - <<'PY' || fail "order"
import json
ev = json.load(open("state.json.events"))
pods = json.load(open("state.json"))
nodes = json.load(open("state.json.nodes"))
P = "/api/v1/namespaces/ml/pods/"
def idx(m, p, **kw):
    return [e["n"] for e in ev if e["method"] == m and e["path"] == p and all(e.get(k) == v for k, v in kw.items())]
patch = idx("PATCH", "/api/v1/nodes/gpu-a")
ok = idx("GET", "/api/v1/nodes/gpu-a", state="success", config=open("a.entry").read())
pend = idx("GET", "/api/v1/nodes/gpu-a", state="pending")
b0, b1 = idx("POST", P + "infer-0/binding"), idx("POST", P + "infer-1/binding")
assert len(patch) == 1 and pend and ok and b0 and b1, (patch, pend, ok, b0, b1)
pre = [e for e in idx("GET", "/api/v1/nodes/gpu-a") if e < patch[0]]
assert pre, "no GET of the node before its PATCH"
assert patch[0] < min(pend) < min(ok) < min(b0) < min(b1), (patch, pend, ok, b0, b1)   # label, wait, then bind
assert not idx("POST", P + "small-0/binding"), "small-0 was posted onto a failed node"
assert len(idx("PATCH", "/api/v1/nodes/gpu-b")) == 1
assert pods["ml/web-0"]["bound"] == 1 and pods["ml/infer-0"]["node"] == "gpu-a", pods
al = nodes["gpu-a"]["status"]["allocatable"]
assert al["nvidia.com/mig-3g.40gb"] == "2" and al["nvidia.com/gpu"] == "0", al
assert nodes["gpu-b"]["metadata"]["labels"]["nvidia.com/mig.config.state"] == "failed"
print("order: PATCH #%d, pending GET #%d, success GET #%d, bindings #%d #%d" % (patch[0], min(pend), min(ok), b0[0], b1[0]))
PY
n0=$(python3 -c "import json; print(len(json.load(open('state.json.events'))))")

# --- B: the rerun with its journal: nothing confirmed is sent again; gpu-b
# (its PATCH journaled, state failed) fails again at once, without a PATCH
"$BIN" bind --replay plan.jsonl --server "$URL" "${OPTS[@]}" --journal a.journal > b.out 2>&1 \
    && { cat b.out; fail "rerun exit 0"; }
grep -q "3 skipped (journal says bound)" b.out || { cat b.out; fail "rerun skipped"; }
grep -q "bind: node gpu-b: mig-config: \*\*\* MIG RE-LAYOUT NOT READY.*the MIG manager reports state failed" b.out || { cat b.out; fail "rerun: gpu-b"; }
python3 - "$n0" <<'PY' || fail "rerun sent requests"
import json, sys
ev = json.load(open("state.json.events"))[int(sys.argv[1]):]
sent = [(e["method"], e["path"]) for e in ev if e["method"] != "GET"]
assert sent == [], sent
PY

# --- C: a new journal (the plan bound again): gpu-a already shows its entry,
# success and the allocatable: confirmed without a PATCH; its pods answer 409
n0=$(python3 -c "import json; print(len(json.load(open('state.json.events'))))")
"$BIN" bind --replay plan.jsonl --server "$URL" "${OPTS[@]}" --journal c.journal > c.out 2>&1
grep -q "1 ready (1 already so: not patched again), 1 not ready" c.out || { cat c.out; fail "rerun: gpu-a not recognised as ready"; }
grep -q "the label is already set and the MIG manager reports state failed; fix the node, then rerun" c.out || { cat c.out; fail "rerun: gpu-b (label already set, failed) not refused at once"; }
python3 - "$n0" <<'PY' || fail "rerun patched again"
import json, sys
ev = json.load(open("state.json.events"))[int(sys.argv[1]):]
assert not [e for e in ev if e["method"] == "PATCH" and e["path"] == "/api/v1/nodes/gpu-a"], ev
PY
stop_server

# --- D: a MIG manager slower than --mig-wait: not ready in time, pods not bound
rm -f state.json*
start_server --mig-pending-gets 1000
"$PLAN" cluster.h5 slow.jsonl slow.yaml 1.5 "gpu=gpu-a/0:3g.40gb=2" "pod=ml/infer-0@gpu-a:1" \
    > plan2.out 2>&1 || { cat plan2.out; fail "plan 2"; }
"$BIN" bind --replay slow.jsonl --server "$URL" "${OPTS[@]}" > d.out 2>&1 && { cat d.out; fail "slow exit 0"; }
grep -q "not ready within --mig-wait 1.5 s: last seen nvidia.com/mig.config=shardsched-[0-9a-f]*, nvidia.com/mig.config.state=pending; allocatable nvidia.com/gpu=1 (want 0), nvidia.com/mig-3g.40gb=0 (want 2)" d.out || { cat d.out; fail "timeout reason"; }
python3 -c "
import json; ev = json.load(open('state.json.events'))
assert not [e for e in ev if e['path'].endswith('/binding')], 'bound before the layout was ready'
gets = [e for e in ev if e['method'] == 'GET' and e['path'] == '/api/v1/nodes/gpu-a']
assert 3 <= len(gets) <= 10, len(gets)   # polled, but not hammered
" || fail "slow: bound, or polled wrongly"
stop_server
echo "e2e_bind_mig: OK"
