#!/bin/bash
# End-to-end test of `bind --binder godel` and `--write-status` against
# tests/binder_server.py: import -> schedule -> bind --emit of a plan with a
# gang that cannot be placed; the plan's lines (one Gödel annotation patch
# per placed pod, the gang's members not patched, one PodGroup status
# patch); bind --replay with a journal (the PATCHes arrive in the plan's
# order; a 500 is retried; a gone pod is reported, exit 1); a rerun sends
# nothing confirmed twice; --server runs the same plan directly.
# usage: bash e2e_bind_godel.sh BINARY WORKDIR
set -u
BIN=$1
WORK=$2
SRC=${SS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

python3 - <<'EOF' || fail "fixture generation"
import json
nodes = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-%d" % i},
          "status": {"allocatable": {"cpu": "8", "memory": "64Gi", "pods": "110"}}} for i in range(3)]
def pod(name, cpu="100m", group=None, upstream=True):
    md = {"name": name, "namespace": "team-a"}
    spec = {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]}
    if group and upstream:
        spec["schedulingGroup"] = {"podGroupName": group}
    elif group:
        md["labels"] = {"scheduling.x-k8s.io/pod-group": group}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec,
            "status": {"phase": "Pending"}}
for up, suffix in ((True, ""), (False, "-cosched")):
    pods = [pod("web-%02d" % i) for i in range(12)] + [pod("flaky-0"), pod("gone-0")]
    pods += [pod("big-%d" % i, cpu="100" if i == 2 else "100m", group="big", upstream=up)
             for i in range(3)]
    json.dump({"apiVersion": "v1", "kind": "List", "items": nodes + pods},
              open("cluster%s.json" % suffix, "w"))
pg = [{"apiVersion": "scheduling.k8s.io/v1alpha2", "kind": "PodGroup",
       "metadata": {"name": "big", "namespace": "team-a"},
       "spec": {"schedulingPolicy": {"gang": {"minCount": 3}}}}]
json.dump({"apiVersion": "v1", "kind": "List", "items": pg}, open("pg.json", "w"))
pg = [{"apiVersion": "scheduling.x-k8s.io/v1alpha1", "kind": "PodGroup",
       "metadata": {"name": "big", "namespace": "team-a"}, "spec": {"minMember": 3}}]
json.dump({"apiVersion": "v1", "kind": "List", "items": pg}, open("pg-cosched.json", "w"))
EOF
"$BIN" import --nodes cluster.json --pods cluster.json --podgroups pg.json -o cluster.h5 > /dev/null || fail "import"
"$BIN" schedule -i cluster.h5 -o placements.h5 > /dev/null 2>&1 || fail "schedule"
export SOURCE_DATE_EPOCH=1700000000
# the same gang as a coscheduling PodGroup: no upstream object, no status patch
"$BIN" import --nodes cluster-cosched.json --pods cluster-cosched.json \
    --podgroups pg-cosched.json -o cosched.h5 > /dev/null || fail "import cosched"
"$BIN" schedule -i cosched.h5 -o cosched-p.h5 > /dev/null 2>&1 || fail "schedule cosched"
"$BIN" bind -i cosched.h5 -p cosched-p.h5 --binder godel --write-status v1alpha2 \
    --emit cosched.jsonl 2> emit.err || fail "emit cosched: $(cat emit.err)"
grep -q '"podgroup-status"' cosched.jsonl && fail "a coscheduling PodGroup got a status patch"
[ "$(grep -c '"godel"' cosched.jsonl)" = 14 ] || fail "cosched: wrong godel line count"
"$BIN" bind -i cluster.h5 -p placements.h5 --binder godel --godel-scheduler sched-a \
    --write-status v1alpha2 --emit plan.jsonl 2> emit.err || fail "emit: $(cat emit.err)"
python3 - <<'EOF' || fail "plan"
import json
lines = [json.loads(l) for l in open("plan.jsonl")]
godel = [l for l in lines if l["op"] == "godel"]
status = [l for l in lines if l["op"] == "podgroup-status"]
assert len(godel) == 14 and len(status) == 1 and len(lines) == 15, [l["op"] for l in lines]
assert not any("/big-" in l["path"] for l in godel), "a member of a gang below minMember is patched"
for l in godel:
    a = l["body"]["metadata"]["annotations"]
    assert l["method"] == "PATCH" and l["contentType"] == "application/merge-patch+json", l
    assert a["godel.bytedance.com/pod-state"] == "assumed", a
    assert a["godel.bytedance.com/selected-scheduler"] == "sched-a", a
    assert a["godel.bytedance.com/assumed-node"].startswith("node-"), a
s = status[0]
assert s["path"] == "/apis/scheduling.k8s.io/v1alpha2/namespaces/team-a/podgroups/big/status", s
c = s["body"]["status"]["conditions"][0]
assert c["type"] == "PodGroupScheduled" and c["status"] == "False" and c["reason"] == "Unschedulable", c
assert "placed" in c["message"] and "of minMember 3" in c["message"], c["message"]
assert "insufficient cpu" in c["message"], c["message"]
assert c["lastTransitionTime"] == "2023-11-14T22:13:20Z", c
EOF
python3 "$SRC/tests/binder_server.py" --port-file port --state state.json --delay 0.005 \
    --podgroups team-a/big --lifetime 120 &
SERVER_PID=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "server did not start"
URL="http://127.0.0.1:$(cat port)"
"$BIN" bind --replay plan.jsonl --server "$URL" --journal j --max-backoff 0.2 > run1.out 2>&1
rc=$?
[ "$rc" = 1 ] || fail "run 1 exit $rc (want 1: gone-0 is gone): $(cat run1.out)"
grep -q "team-a/gone-0: godel: gone" run1.out || fail "gone pod not reported: $(cat run1.out)"
grep -q "bind PodGroup status: 1 unplaceable gangs: 1 status patches confirmed (0 of" run1.out \
    || fail "status summary: $(cat run1.out)"
python3 - "$URL" <<'EOF' || fail "run 1 requests"
import json
plan = [json.loads(l) for l in open("plan.jsonl")]
ev = [e for e in json.load(open("state.json.events")) if e["method"] == "PATCH"]
# in the plan's order, a retried request repeated right after itself
seen = [e["path"] for i, e in enumerate(ev) if i == 0 or ev[i - 1]["path"] != e["path"]]
assert seen == [l["path"] for l in plan], (seen, [l["path"] for l in plan])
assert [e["code"] for e in ev if e["path"].endswith("/flaky-0")] == [500, 200], ev
recs = json.load(open("state.json.pods"))
for l in plan:
    if l["op"] != "godel" or "gone-" in l["path"]:
        continue
    r = recs["team-a/" + l["path"].rsplit("/", 1)[1]]
    want = l["body"]["metadata"]["annotations"]["godel.bytedance.com/assumed-node"]
    assert r["annotation_patches"] == 1 and r["annotations"]["godel.bytedance.com/assumed-node"] == want, r
    assert "godel.bytedance.com/nominated-node" not in r["annotations"], r
pg = json.load(open("state.json.podgroups"))["team-a/big"]
c = pg["conditions"]["PodGroupScheduled"]
assert pg["patches"] == 1 and c["status"] == "False" and c["reason"] == "Unschedulable", pg
EOF
N1=$(python3 -c 'import json; print(len(json.load(open("state.json.events"))))')
"$BIN" bind --replay plan.jsonl --server "$URL" --journal j --max-backoff 0.2 > run2.out 2>&1
[ $? = 1 ] || fail "run 2 exit (gone-0 is still gone): $(cat run2.out)"
python3 - "$N1" <<'EOF' || fail "rerun sent a confirmed request again"
import json, sys
ev = json.load(open("state.json.events"))[int(sys.argv[1]):]
sent = [e["path"] for e in ev if e["method"] == "PATCH"]
assert sent == ["/api/v1/namespaces/team-a/pods/gone-0"], sent
EOF
grep -q "13 skipped (journal says bound)" run2.out || fail "rerun summary: $(cat run2.out)"
# --server runs the plan directly (a second journal: everything once more)
"$BIN" bind -i cluster.h5 -p placements.h5 --binder godel --write-status v1alpha2 \
    --server "$URL" --journal j2 > run3.out 2>&1
[ $? = 1 ] || fail "direct run exit: $(cat run3.out)"
python3 - <<'EOF' || fail "direct run"
import json
r = json.load(open("state.json.pods"))["team-a/web-00"]
assert r["annotation_patches"] == 2, r
assert r["annotations"]["godel.bytedance.com/selected-scheduler"] == "shardsched", r
assert json.load(open("state.json.podgroups"))["team-a/big"]["patches"] == 2
EOF
# usage errors
"$BIN" bind -i cluster.h5 -p placements.h5 --binder volcano --emit x.jsonl 2> /dev/null
[ $? = 2 ] || fail "--binder volcano accepted"
"$BIN" bind -i cluster.h5 -p placements.h5 --binder godel --ndjson --emit x.jsonl 2> /dev/null
[ $? = 2 ] || fail "--binder godel --ndjson accepted"
"$BIN" bind -i cluster.h5 -p placements.h5 --write-status v9 --emit x.jsonl 2> /dev/null
[ $? = 2 ] || fail "--write-status v9 accepted"
echo "e2e_bind_godel: ok"
