#!/bin/bash
# shardsched consolidate (issue 14): a hand-written Kubernetes cluster through
# import -> consolidate -> verify --plan, where the best plan is known: pool
# "spot" has three nodes at half their cpu (their pods fit on two), one with
# a DaemonSet pod (it stays, so that node is kept) and one with an emptyDir
# pod (fixed unless --allow local-storage); two replicas under a PDB that
# allows one disruption take two waves. Then --nodes-from / --drain, the
# --emit JSON (waves, drains, moves, Evictions), the plan h5diff-identical
# for mpirun -n 1, 2, 3, 4 x OMP_NUM_THREADS 1, 2, a plan refused for another
# snapshot, and bad usage (exit 2). Then gen's rule mix on running pods (gen
# --emit-kube, its pending pods placed by schedule and written back as
# running through bind --emit, imported again): the plan moves pods with
# DoNotSchedule spread, required pod anti-affinity and affinity, verifies,
# and is the same for 1-4 ranks x 1-2 threads.
set -euo pipefail
BIN=$1
WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
MPIRUN="mpirun --oversubscribe --bind-to none"
fail() { echo "FAIL: $*" >&2; exit 1; }

python3 - <<'PY'
import json
def node(name, pool, cpu="4"):
    return {"kind": "Node", "metadata": {"name": name, "labels": {"karpenter.sh/nodepool": pool}},
            "status": {"allocatable": {"cpu": cpu, "memory": "16Gi", "pods": "110"}}}
def pod(name, node, cpu="1", app="web", owner="ReplicaSet", ns="default", ann=None, vols=None):
    md = {"name": name, "namespace": ns, "labels": {"app": app}}
    if owner:
        md["ownerReferences"] = [{"kind": owner, "name": app, "controller": True}]
    if ann:
        md["annotations"] = ann
    spec = {"nodeName": node, "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}
    if vols:
        spec["volumes"] = vols
    return {"kind": "Pod", "metadata": md, "spec": spec, "status": {"phase": "Running"}}
nodes = [node("spot-a", "spot"), node("spot-b", "spot"), node("spot-c", "spot"),
         node("od-a", "on-demand", "8"), node("od-b", "on-demand", "8")]
pods = [pod("web-1", "spot-a", "1", "web"), pod("web-2", "spot-a", "1", "web"),
        pod("api-1", "spot-b", "2", "api"),
        pod("cache-1", "spot-c", "2", "cache"),
        pod("agent-od-a", "od-a", "0.1", "agent", "DaemonSet"),
        pod("db-1", "od-a", "6", "db", None),
        pod("scratch-1", "od-b", "1", "scratch", vols=[{"name": "s", "emptyDir": {}}]),
        pod("batch-1", "od-b", "6", "batch", None)]
pdbs = [{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
         "metadata": {"name": "web", "namespace": "default"},
         "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
         "status": {"disruptionsAllowed": 1}}]
for f, items in (("nodes.json", nodes), ("pods.json", pods), ("pdbs.json", pdbs)):
    json.dump({"kind": "List", "items": items}, open(f, "w"))
PY
$BIN import --nodes nodes.json --pods pods.json --pdbs pdbs.json -o c.h5 -q

# Every node a candidate (fewest pods first, into the tightest room): od-a
# (DaemonSet) and od-b (emptyDir) stay; the plan verifies.
$BIN consolidate -i c.h5 -o plan.h5 --emit auto.json > out.txt
cat out.txt
grep -q "DaemonSet  *1" out.txt || fail "the DaemonSet pod is not counted fixed"
grep -q "local storage  *1" out.txt || fail "the emptyDir pod is not counted fixed"
grep -q "no controller  *2" out.txt || fail "bare pods are not counted fixed"
$BIN verify -i c.h5 --plan plan.h5 > v.txt || { cat v.txt; fail "the plan does not verify"; }
cat v.txt
grep -q "lower bound 3" v.txt || fail "lower bound: $(cat v.txt)"
python3 - <<'PY' || fail "auto.json"
import json
w = json.load(open("auto.json"))["waves"]
drains = [n for x in w for n in x["drain"]]
assert drains and "od-a" not in drains and "od-b" not in drains, drains
PY
# Draining spot-a: its two web replicas, under a PDB allowing one
# disruption, take two waves.
$BIN consolidate -i c.h5 -o spota.h5 --drain spot-a --emit plan.json -q
$BIN verify -i c.h5 --plan spota.h5 -q > /dev/null || fail "--drain spot-a does not verify"
python3 - <<'PY' || fail "plan.json"
import json
d = json.load(open("plan.json"))
w = d["waves"]
moves = [m for x in w for m in x["moves"]]
drains = [n for x in w for n in x["drain"]]
assert drains == ["spot-a"], drains
web = [(i, m) for i, x in enumerate(w) for m in x["moves"] if m["name"].startswith("web-")]
assert len(web) == 2 and web[0][0] != web[1][0], web            # two waves for the PDB
for x in w:
    assert len(x["evictions"]) == len(x["moves"])
    for e in x["evictions"]:
        assert e["apiVersion"] == "policy/v1" and e["kind"] == "Eviction", e
    for m in x["moves"]:
        assert m["to"] not in drains and m["from"] != m["to"], m
print("plan.json: %d waves, drains %s, %d moves" % (len(w), drains, len(moves)))
PY

# The spot pool: all three spot nodes cannot go (5 cpu of pods, 0.9 free on
# od-a and 1 on od-b), so some are kept; every plan verifies.
$BIN consolidate -i c.h5 -o spot.h5 --nodes-from spot -q
$BIN verify -i c.h5 --plan spot.h5 -q > /dev/null || fail "--nodes-from spot does not verify"
$BIN consolidate -i c.h5 -o spot2.h5 --nodes-from spot --pool-label karpenter.sh/nodepool -q
h5diff spot.h5 spot2.h5 || fail "--pool-label with the default key changed the plan"
# --drain od-b: the emptyDir pod is fixed ...
$BIN consolidate -i c.h5 -o odb.h5 --drain od-b > odb.txt
grep -q "0 nodes freed" odb.txt || fail "od-b freed despite its emptyDir pod: $(cat odb.txt)"
# ... and --max-waves 1 keeps spot-a (its PDB needs two waves)
$BIN consolidate -i c.h5 -o w1.h5 --drain spot-a --max-waves 1 > w1.txt
grep -q "0 nodes freed" w1.txt || fail "spot-a freed in one wave: $(cat w1.txt)"
$BIN consolidate -i c.h5 -o w2.h5 --drain spot-a --max-waves 2 > w2.txt
grep -q "1 nodes freed.*2 waves" w2.txt || fail "spot-a not freed in two waves: $(cat w2.txt)"

# Determinism: every rank and thread count gives the same plan.
for n in 1 2 3 4; do
    for t in 1 2; do
        OMP_NUM_THREADS=$t $MPIRUN -n $n $BIN consolidate -i c.h5 -o "p-$n-$t.h5" -q
        h5diff plan.h5 "p-$n-$t.h5" || fail "p-$n-$t.h5 differs from plan.h5"
    done
done

# A generated cluster: the plan verifies and frees nodes.
$BIN gen --nodes 300 --pods 0 --used 0.3 --seed 5 -o g.h5 -q
OMP_NUM_THREADS=2 $MPIRUN -n 2 $BIN consolidate -i g.h5 -o gp.h5 > g.txt
cat g.txt
$BIN verify -i g.h5 --plan gp.h5 | tail -4
$BIN verify -i g.h5 --plan gp.h5 -q > /dev/null || fail "the generated cluster's plan does not verify"
# gen's rule mix on running pods: gen writes its rules on pending pods only,
# so schedule places them and bind --emit's Bindings make them running.
$BIN gen --nodes 200 --pods 1500 --used 0.15 --seed 3 --emit-kube gk -o g0.h5 -q
$BIN schedule -i g0.h5 -o gpl.h5 -q
$BIN bind -i g0.h5 -p gpl.h5 --emit gb.json -q
python3 - <<'PY' || fail "writing the placed pods back as running"
import json
bound, gone = {}, set()
text = open("gb.json").read()
try:
    objs = json.loads(text)["items"]  # a List of Bindings
except ValueError:
    objs = [json.loads(l) for l in text.splitlines() if l.strip()]  # a request log
for d in objs:
    if d.get("kind") == "Binding":
        bound[(d["metadata"]["namespace"], d["metadata"]["name"])] = d["target"]["name"]
    elif "op" in d:
        ns, name = d["path"].split("/")[4], d["path"].split("/")[6]
        if d["op"] == "bind":
            bound[(ns, name)] = d["body"]["target"]["name"]
        elif d["op"] == "delete":
            gone.add((ns, name))
doc = json.load(open("gk/pods.json"))
items = []
for it in doc["items"]:
    if it["kind"] == "Pod":
        key = (it["metadata"]["namespace"], it["metadata"]["name"])
        if key in gone or (key not in bound and not it["spec"].get("nodeName")):
            continue  # a victim, or still pending
        if key in bound:
            it["spec"]["nodeName"] = bound[key]
            it["status"] = {"phase": "Running", "startTime": "2026-01-01T00:00:00Z"}
    items.append(it)
doc["items"] = items
json.dump(doc, open("gk/running.json", "w"))
assert len(bound) > 1000, len(bound)
PY
$BIN import --nodes gk/nodes.json --pods gk/running.json -o gr.h5 -q
$BIN consolidate -i gr.h5 -o grp.h5 --emit grp.json > gr.txt
cat gr.txt
grep -q "inter-pod rules not checked" gr.txt && fail "pods kept for their inter-pod rules"
$BIN verify -i gr.h5 --plan grp.h5 > grv.txt || { cat grv.txt; fail "the rules cluster's plan does not verify"; }
tail -4 grv.txt
python3 - <<'PY' || fail "the rules cluster's plan moves no pod with the rules"
import json
pods = {(p["metadata"]["namespace"], p["metadata"]["name"]): p
        for p in json.load(open("gk/running.json"))["items"] if p["kind"] == "Pod"}
def rules(s):
    a = s.get("affinity") or {}
    req = "requiredDuringSchedulingIgnoredDuringExecution"
    return (any(c.get("whenUnsatisfiable") == "DoNotSchedule"
                for c in s.get("topologySpreadConstraints") or []),
            bool((a.get("podAntiAffinity") or {}).get(req)),
            bool((a.get("podAffinity") or {}).get(req)))
have = [sum(r) for r in zip(*(rules(p["spec"]) for p in pods.values()))]
moves = [m for x in json.load(open("grp.json"))["waves"] for m in x["moves"]]
moved = [sum(r) for r in zip(*(rules(pods[(m["namespace"], m["name"])]["spec"]) for m in moves))]
print("rules cluster: running pods with DoNotSchedule spread, required anti-affinity, "
      "required affinity: %s; moved: %s of %d moves" % (have, moved, len(moves)))
assert all(h > 0 for h in have) and all(m > 0 for m in moved), (have, moved)
PY
for n in 1 2 3 4; do
    for t in 1 2; do
        OMP_NUM_THREADS=$t $MPIRUN -n $n $BIN consolidate -i gr.h5 -o "gr-$n-$t.h5" -q
        h5diff grp.h5 "gr-$n-$t.h5" || fail "gr-$n-$t.h5 differs from grp.h5"
    done
done

# A plan is refused for another snapshot.
if $BIN verify -i g.h5 --plan plan.h5 2> other.err; then fail "plan accepted for another snapshot"; fi
grep -q "another snapshot" other.err || fail "unexpected message: $(cat other.err)"

# Bad usage: exit 2 with a message.
for args in "-i c.h5" "-o x.h5" "-i c.h5 -o x.h5 --drain nope" "-i c.h5 -o x.h5 --allow nope" \
    "-i c.h5 -o x.h5 --drain spot-a --nodes-from spot" "-i c.h5 -o c.h5" \
    "-i c.h5 -o x.h5 --nodes-from nope" "-i c.h5 -o x.h5 --max-waves 0"; do
    set +e
    $BIN consolidate $args > /dev/null 2> err.txt
    rc=$?
    set -e
    [ $rc -eq 2 ] || fail "consolidate $args: exit $rc, expected 2"
    [ -s err.txt ] || fail "consolidate $args: no message"
done
[ ! -e x.h5 ] || fail "a failed run left x.h5"
echo "e2e_consolidate: OK"
