#!/bin/bash
# End-to-end run of consolidate's waves (issue 14): gen --emit-kube a small
# cluster with PodDisruptionBudgets -> import -> consolidate --emit-log ->
# bind --replay against tests/binder_server.py acting as an API server
# (cordon PATCHes on Nodes, Evictions with PDB enforcement, a simulated
# controller that recreates each evicted pod Running after a delay, pod
# lists by label selector, PDB status). Checks: the log is the plan (per
# wave: cordons of its drained nodes, then one Eviction per move); the
# request order (a wave's cordons before its evictions; wave k+1 only after
# wave k's pods answered 404, their replacements were listed Running and the
# next wave's budgets allowed it); the journal; exactly once on a rerun
# (nothing but GETs); a disruption-budget refusal that stops the plan at its
# wave with a message naming the wave and the pod and nothing after it sent,
# then a resume from the journal; the API server's own PDB enforcement
# refusing a log without the replacement/budget waits; a wave wait that
# runs out (the plan stops, nothing of the next wave sent); a kill -9
# half-way and a rerun (every pod evicted exactly once).
# usage: bash e2e_consolidate_bind.sh BINARY WORKDIR
set -u
BIN=$1
WORK=$2
SRC=${SS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
SERVER_PID=
BIND_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; }
trap '[ -n "$BIND_PID" ] && kill -9 "$BIND_PID" 2>/dev/null; cleanup' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# start_server NAME [binder_server options]: state in NAME.state*
start_server() {
    cleanup
    local name=$1
    shift
    rm -f "$name.port"
    python3 "$SRC/tests/binder_server.py" --port-file "$name.port" --state "$name.state" \
        --delay 0 --lifetime 300 --nodes kube/nodes.json --cluster-pods kube/pods.json "$@" &
    SERVER_PID=$!
    for _ in $(seq 100); do [ -s "$name.port" ] && break; sleep 0.1; done
    [ -s "$name.port" ] || fail "binder server $name did not start"
    URL="http://127.0.0.1:$(cat "$name.port")"
}
OPTS=(--max-backoff 0.2 --timeout 5 --max-attempts 5 --seed 3)
replay() { "$BIN" bind --replay "$@" --server "$URL" "${OPTS[@]}"; }

"$BIN" gen --nodes 12 --pods 0 --used 0.3 --seed 3 --emit-kube kube --no-gangs --no-gpu \
    > gen.out 2>&1 || { cat gen.out; fail "gen"; }
"$BIN" import --nodes kube/nodes.json --pods kube/pods.json -o c.h5 -q || fail "import"
"$BIN" consolidate -i c.h5 -o plan.h5 --emit plan.json --emit-log waves.jsonl --wave-wait 30 \
    > cons.out || { cat cons.out; fail "consolidate"; }
cat cons.out
grep -q "wrote [0-9]* requests for [0-9]* waves to waves.jsonl" cons.out || fail "no --emit-log line"
"$BIN" verify -i c.h5 --plan plan.h5 -q > /dev/null || fail "the plan does not verify"

# The log is the plan: per wave its drained nodes' cordons, then its moves'
# Evictions; the wave's last eviction waits (gone, running, budgets).
python3 - <<'EOF' || fail "the log is not the plan"
import json
plan = json.load(open("plan.json"))["waves"]
log = [json.loads(l) for l in open("waves.jsonl")]
assert len(plan) >= 2, "the test cluster should need two waves (a PDB): %d" % len(plan)
assert any(x["wait"] and x["wait"].get("budgets") for x in log), "no budget wait"
pos = 0
for w in plan:
    k = w["wave"]
    lines = [x for x in log if x["wave"] == k]
    assert log[pos:pos + len(lines)] == lines, "wave %d is not contiguous" % k
    pos += len(lines)
    cord = [x["path"].rsplit("/", 1)[1] for x in lines if x["op"] == "cordon"]
    ev = [x["path"].split("/")[6] for x in lines if x["op"] == "evict"]
    assert cord == w["drain"], (k, cord, w["drain"])
    assert ev == [m["name"] for m in w["moves"]], (k, ev)
    assert [x["op"] for x in lines] == ["cordon"] * len(cord) + ["evict"] * len(ev), k
    assert all(x["unit"] == 0 for x in lines)
    assert lines[-1]["wait"] and len(lines[-1]["wait"]["gone"]) == len(ev), k
    assert all(x["wait"] is None for x in lines[:-1]), k
    for x in lines:
        if x["op"] == "cordon":
            assert x["body"] == {"spec": {"unschedulable": True}}, x
        else:
            assert x["body"]["kind"] == "Eviction" and x["body"]["apiVersion"] == "policy/v1", x
assert pos == len(log)
print("waves.jsonl: %d waves, %d requests" % (len(plan), len(log)))
EOF

# order.py STATE [STOP_WAVE [RESENT]]: the order of the requests the server
# saw (at most RESENT lines sent twice, default 0).
cat > order.py <<'EOF'
import json, sys, urllib.parse
state, stop = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
log = [json.loads(l) for l in open("waves.jsonl")]
ev = json.load(open(state + ".events"))
mut = [e for e in ev if e["method"] != "GET" and e["code"] != 429]
req = {(x["method"], x["path"]): x for x in log}
# every mutating request is a line of the log, sent in log order, once
# (a refused eviction, 429, is sent again when the plan resumes)
lines = [log.index(req[(e["method"], e["path"])]) for e in mut]
resent = len(lines) - len(set(lines))  # the line in flight at a kill -9 is sent again
assert lines == sorted(lines) and resent <= (int(sys.argv[3]) if len(sys.argv) > 3 else 0), lines
waves = sorted({x["wave"] for x in log})
for k in waves:
    mine = [i for i, e in enumerate(ev) if e["method"] != "GET" and req[(e["method"], e["path"])]["wave"] == k]
    if stop and k > stop:
        assert not mine, "wave %d sent after the plan stopped at wave %d" % (k, stop)
        continue
    if not mine:
        continue
    cords = [i for i in mine if ev[i]["method"] == "PATCH"]
    evs = [i for i in mine if ev[i]["method"] == "POST"]
    assert not cords or not evs or max(cords) < min(evs), "wave %d: an eviction before a cordon" % k
    nxt = [i for i, e in enumerate(ev) if e["method"] != "GET" and req[(e["method"], e["path"])]["wave"] == k + 1]
    if not nxt:
        continue
    first = min(nxt)
    wait = [x for x in log if x["wave"] == k][-1]["wait"]
    before = ev[:first]
    for g in wait["gone"]:
        assert any(e["method"] == "GET" and e["path"] == g and e["code"] == 404 for e in before), \
            "wave %d+1 before %s answered 404" % (k, g)
    for r in wait.get("running", []):
        assert any(e["path"] == r["pods"] and e.get("count", -1) >= r["count"] for e in before), \
            "wave %d+1 before %s listed %d Running" % (k, r["pods"], r["count"])
    for b in wait.get("budgets", []):
        assert any(e["path"] == b["pdb"] and e.get("disruptionsAllowed", -1) >= b["disruptionsAllowed"]
                   for e in before), "wave %d+1 before %s allowed %d" % (k, b["pdb"], b["disruptionsAllowed"])
    assert max(i for i in mine) < first
print("%s: order OK (%d requests, %d mutating)" % (state, len(ev), len(mut)))
EOF

# --- A: the whole plan, then a rerun that sends nothing
start_server a
replay waves.jsonl --journal a.journal > a.out 2>&1 || { cat a.out; fail "replay exit"; }
cat a.out
N=$(wc -l < waves.jsonl)
W=$(python3 -c "import json; print(len(json.load(open('plan.json'))['waves']))")
grep -q "bind waves: $W waves: $W done;" a.out || fail "waves line"
grep -q "$N of $N requests confirmed this run" a.out || fail "not every request confirmed"
python3 order.py a.state || fail "order of run A"
python3 - <<'EOF' || fail "server state after run A"
import json
plan = json.load(open("plan.json"))["waves"]
pods = json.load(open("a.state.pods"))
nodes = json.load(open("a.state.nodes"))
for w in plan:
    for n in w["drain"]:
        assert nodes[n]["spec"]["unschedulable"] is True, n
    for m in w["moves"]:
        r = pods[m["namespace"] + "/" + m["name"]]
        assert r["evictions"] == 1 and r["eviction_posts"] == 1, (m, r)
EOF
[ "$(grep -c '^done	line	' a.journal)" -eq "$N" ] || fail "the journal does not hold every line"
n0=$(python3 -c "import json; print(sum(e['method'] != 'GET' for e in json.load(open('a.state.events'))))")
replay waves.jsonl --journal a.journal > a2.out 2>&1 || { cat a2.out; fail "rerun exit"; }
grep -q "0 of $N requests confirmed this run" a2.out || { cat a2.out; fail "rerun confirmed lines"; }
n1=$(python3 -c "import json; print(sum(e['method'] != 'GET' for e in json.load(open('a.state.events'))))")
[ "$n0" -eq "$n1" ] || fail "the rerun sent $((n1 - n0)) mutating requests (exactly once)"

# --- B: a disruption-budget refusal of wave 2's first eviction stops the
# plan there; resuming (the refusal lifted) continues from the journal.
REF=$(python3 -c "
import json
w = json.load(open('plan.json'))['waves'][1]['moves'][0]
print(w['namespace'] + '/' + w['name'])")
start_server b --refuse-evict "$REF"
replay waves.jsonl --journal b.journal > b.out 2>&1 && { cat b.out; fail "refused plan exit 0"; }
cat b.out
grep -q "wave 2: $REF: evict: \*\*\* EVICTION REFUSED by a PodDisruptionBudget" b.out ||
    fail "no refusal line naming wave 2 and $REF"
grep -q "PLAN STOPPED at wave 2 of $W" b.out || fail "no stop line"
grep -q "bind waves: $W waves: 1 done (STOPPED" b.out || fail "waves line of the stopped run"
python3 order.py b.state 2 || fail "order of run B"
python3 - "$REF" <<'EOF' || fail "requests after the refusal"
import json, sys
ev = json.load(open("b.state.events"))
mut = [e for e in ev if e["method"] != "GET"]
assert mut[-1]["method"] == "POST" and mut[-1]["code"] == 429, mut[-1]
assert mut[-1]["path"].endswith("/" + sys.argv[1].split("/")[1] + "/eviction"), mut[-1]
EOF
curl -s -X POST -d '{"refuse": []}' "$URL/control" > /dev/null || fail "control"
replay waves.jsonl --journal b.journal > b2.out 2>&1 || { cat b2.out; fail "resume exit"; }
cat b2.out
grep -q "bind waves: $W waves: $W done;" b2.out || fail "resume did not finish the plan"
python3 order.py b.state || fail "order after the resume"
python3 - "$REF" <<'EOF' || fail "exactly once across the stop"
import json, sys
plan = json.load(open("plan.json"))["waves"]
pods = json.load(open("b.state.pods"))
for w in plan:
    for m in w["moves"]:
        key = m["namespace"] + "/" + m["name"]
        r = pods[key]
        assert r["evictions"] == 1, (key, r)
        assert r["eviction_posts"] == (2 if key == sys.argv[1] else 1), (key, r)
EOF

# --- C: without the replacement and budget waits (only "gone"), the API
# server's own PDB enforcement refuses wave 2 (its replacements are slow).
python3 - <<'EOF' || fail "log c"
import json
with open("c.jsonl", "w") as f:
    for l in open("waves.jsonl"):
        x = json.loads(l)
        if x["wait"]:
            x["wait"] = {"gone": x["wait"]["gone"], "timeoutSeconds": 30}
        f.write(json.dumps(x) + "\n")
EOF
start_server c --recreate-delay 20
replay c.jsonl --journal c.journal > c.out 2>&1 && { cat c.out; fail "log c exit 0"; }
grep -q "wave 2: .*EVICTION REFUSED by a PodDisruptionBudget" c.out || { cat c.out; fail "no PDB refusal"; }
grep -q "PLAN STOPPED at wave 2" c.out || fail "log c did not stop at wave 2"

# --- D: a wave wait that runs out stops the plan: nothing of wave 2 is sent.
"$BIN" consolidate -i c.h5 -o plan2.h5 --emit-log d.jsonl --wave-wait 1 -q || fail "consolidate d"
cmp -s <(python3 -c "
import json
for l in open('d.jsonl'):
    x = json.loads(l)
    if x['wait']: x['wait']['timeoutSeconds'] = 30.0
    print(json.dumps(x, sort_keys=True))") <(python3 -c "
import json
for l in open('waves.jsonl'): print(json.dumps(json.loads(l), sort_keys=True))") ||
    fail "--wave-wait changed more than timeoutSeconds"
start_server d --recreate-delay 60
replay d.jsonl --journal d.journal > d.out 2>&1 && { cat d.out; fail "timed-out plan exit 0"; }
grep -q "PLAN STOPPED at wave 1 of $W: the wave's pods not gone, replaced and budgets recovered within 1 s" d.out ||
    { cat d.out; fail "no timeout stop"; }
python3 - <<'EOF' || fail "wave 2 sent after the wait ran out"
import json
log = [json.loads(l) for l in open("d.jsonl")]
w2 = {(x["method"], x["path"]) for x in log if x["wave"] >= 2}
ev = json.load(open("d.state.events"))
assert not [e for e in ev if (e["method"], e["path"]) in w2]
EOF

# --- F: kill -9 half-way through wave 1's evictions, then rerun with the
# journal: every pod is evicted exactly once (the one request that may have
# been in flight is sent again and answers as done), the plan finishes.
start_server f --delay 0.05
"$BIN" bind --replay waves.jsonl --journal f.journal --server "$URL" "${OPTS[@]}" > f.out 2>&1 &
BIND_PID=$!
for _ in $(seq 200); do
    n=$(python3 -c "import json; print(sum(e['method'] == 'POST' for e in json.load(open('f.state.events'))))" 2>/dev/null || echo 0)
    [ "$n" -ge 10 ] && break
    sleep 0.05
done
kill -9 $BIND_PID 2>/dev/null
wait $BIND_PID 2>/dev/null
[ "$n" -ge 10 ] || fail "run F did not get to 10 evictions"
replay waves.jsonl --journal f.journal > f2.out 2>&1 || { cat f2.out; fail "rerun after kill -9"; }
grep -q "bind waves: $W waves: $W done;" f2.out || fail "the rerun after kill -9 did not finish"
python3 order.py f.state 0 1 || fail "order across the kill"
python3 - <<'EOF2' || fail "exactly once across kill -9"
import json
plan = json.load(open("plan.json"))["waves"]
pods = json.load(open("f.state.pods"))
again = []
for w in plan:
    for m in w["moves"]:
        key = m["namespace"] + "/" + m["name"]
        assert pods[key]["evictions"] == 1, (key, pods[key])
        if pods[key]["eviction_posts"] > 1:
            again.append(key)
assert len(again) <= 1, again
print("kill -9: %d eviction(s) sent again (in flight at the kill)" % len(again))
EOF2

# --- E: malformed wave logs are refused, naming the line.
python3 - <<'EOF'
import json
log = [json.loads(l) for l in open("waves.jsonl")]
bad = dict(log[0], body={"spec": {"unschedulable": False}})
open("e1.jsonl", "w").write(json.dumps(bad) + "\n")
bad = dict(log[0], unit=3)
open("e2.jsonl", "w").write(json.dumps(bad) + "\n")
open("e3.jsonl", "w").write("".join(json.dumps(x) + "\n" for x in reversed(log)))
EOF
for f in e1 e2 e3; do
    replay $f.jsonl > $f.out 2>&1 && fail "$f accepted"
    grep -q "$f.jsonl:[0-9]*: not a request of a shardsched request log" $f.out || { cat $f.out; fail "$f message"; }
done
echo "e2e_consolidate_bind: OK"
