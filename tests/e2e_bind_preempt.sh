#!/bin/bash
# End-to-end test of bind's ordered request log (preemption) against
# tests/binder_server.py: `bind --replay LOG --server URL` with victims
# removed by DELETE (after the DisruptionTarget condition) and by Eviction;
# each eviction reply (success, PDB refusal, rate limiting then success, 500
# for several PDBs), a victim that never goes (the preemptor is not bound,
# and the unit is journaled as abandoned), the order of every request (no
# Binding before its node's victims answer 404), a kill -9 half-way and a
# rerun that sends no confirmed request again (exactly once), and logs that
# are refused (malformed line, another log's journal, usage). The log's
# emission from placements is test_bind's (schedule has no victims yet).
# usage: bash e2e_bind_preempt.sh BINARY WORKDIR
set -u
BIN=$1
WORK=$2
SRC=${SS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
SERVER_PID=
BIND_PID=
cleanup() {
    [ -n "$BIND_PID" ] && kill -9 "$BIND_PID" 2>/dev/null
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# mklog OUT MODE WAIT SPEC...: a request log as bind --emit writes it. SPEC is
# "node:preemptor:victim,victim" (a preemptor and its victims; all on node)
# or "node:pod" (a plain Binding); a binding onto a node that has victims
# joins that node's unit.
cat > mklog.py <<'EOF'
import json, sys
out, mode, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
P = "/api/v1/namespaces/team-a/pods/"
units, lines = {}, []
def line(unit, op, method, path, ctype, body, w=None):
    lines.append({"unit": unit, "op": op, "method": method, "path": path, "contentType": ctype,
                  "body": body, "wait": w})
def bind(unit, pod, node):
    line(unit, "bind", "POST", P + pod + "/binding", "application/json",
         {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod, "namespace": "team-a"},
          "target": {"apiVersion": "v1", "kind": "Node", "name": node}})
victim_nodes = {s.split(":")[0] for s in sys.argv[4:] if s.count(":") == 2}
n_units = 0
for spec in sys.argv[4:]:
    f = spec.split(":")
    node = f[0]
    if node in victim_nodes:
        if node not in units:
            units[node] = n_units
            n_units += 1
        u = units[node]
    else:
        u = n_units
        n_units += 1
    if len(f) == 2:
        bind(u, f[1], node)
        continue
    pre, victims = f[1], f[2].split(",")
    line(u, "nominate", "PATCH", P + pre + "/status", "application/merge-patch+json",
         {"status": {"nominatedNodeName": node}})
    for i, v in enumerate(victims):
        w = {"gone": [P + x for x in victims], "timeoutSeconds": wait} if i == len(victims) - 1 else None
        if mode == "evict":
            line(u, "evict", "POST", P + v + "/eviction", "application/json",
                 {"apiVersion": "policy/v1", "kind": "Eviction",
                  "metadata": {"name": v, "namespace": "team-a"}}, w)
        else:
            line(u, "disrupt", "PATCH", P + v + "/status", "application/strategic-merge-patch+json",
                 {"status": {"conditions": [{"type": "DisruptionTarget", "status": "True",
                                             "reason": "PreemptionByScheduler",
                                             "message": "shardsched: preempting"}]}})
            line(u, "delete", "DELETE", P + v, "application/json", None, w)
    bind(u, pre, node)
with open(out, "w") as fo:
    for l in lines:
        fo.write(json.dumps(l) + "\n")
EOF

python3 "$SRC/tests/binder_server.py" --port-file port --state state.json --delay 0.01 \
    --lifetime 300 &
SERVER_PID=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "binder server did not start"
URL="http://127.0.0.1:$(cat port)"
OPTS=(--concurrency 1 --max-backoff 0.2 --timeout 3 --max-attempts 5 --seed 3)
replay() { "$BIN" bind --replay "$@" --server "$URL" "${OPTS[@]}"; }

# --- A: delete mode: nominate, DisruptionTarget + DELETE per victim, wait, bind
python3 mklog.py a.jsonl delete 10 node-0:pa:va-0,slowgone-va-1 node-1:web-a0 node-0:web-a1 \
    node-2:web-a2 || fail "log a"
replay a.jsonl --journal a.journal > a.out 2>&1 || { cat a.out; fail "delete run exit"; }
grep -q "bind summary: 4 to bind: 4 bound" a.out || { cat a.out; fail "delete summary"; }
grep -q "bind preemption: 1 preemptors, 2 victims: 2 removed" a.out || { cat a.out; fail "delete preemption line"; }
python3 - <<'EOF' || fail "delete order"
import json
ev = json.load(open("state.json.events"))
pods = json.load(open("state.json.pods"))
P = "/api/v1/namespaces/team-a/pods/"
seq = [(e["method"], e["path"][len(P):], e["code"]) for e in ev if e["path"].startswith(P)]
def first(m, p, code=None):
    return min(i for i, (mm, pp, c) in enumerate(seq) if mm == m and pp == p and (code is None or c == code))
nom = first("PATCH", "pa/status")
d0, d1 = first("PATCH", "va-0/status"), first("PATCH", "slowgone-va-1/status")
x0, x1 = first("DELETE", "va-0"), first("DELETE", "slowgone-va-1")
g1 = first("GET", "slowgone-va-1", 404)
b = first("POST", "pa/binding", 201)
bl = first("POST", "web-a1/binding")   # after pa on node-0, in its unit
assert nom < d0 < x0 < d1 < x1 < g1 < b < bl, seq
assert any(m == "GET" and p == "slowgone-va-1" and c == 200 for m, p, c in seq), "no wait"
assert pods["team-a/pa"]["nominated"] == "node-0", pods["team-a/pa"]
c = pods["team-a/va-0"]["conditions"]["DisruptionTarget"]
assert c["reason"] == "PreemptionByScheduler" and c["status"] == "True", c
assert pods["team-a/va-0"]["deletes"] == 1 and pods["team-a/slowgone-va-1"]["deletes"] == 1
EOF
# the rerun sends nothing: every line is journaled
n0=$(python3 -c "import json; print(len(json.load(open('state.json.events'))))")
replay a.jsonl --journal a.journal > a2.out 2>&1 || { cat a2.out; fail "rerun exit"; }
grep -q "4 skipped (journal says bound)" a2.out || { cat a2.out; fail "rerun skipped"; }
n1=$(python3 -c "import json; print(len(json.load(open('state.json.events'))))")
[ "$((n1 - n0))" = 0 ] || fail "rerun of a journaled log sent $((n1 - n0)) requests"

# --- B: evict mode: success, rate limited then success, PDB refusal (final),
# several PDBs (500, final), a victim that never goes (preemptor not bound)
python3 mklog.py b.jsonl evict 1.5 node-3:pb-ok:vb-0 node-4:pb-rate:ratelimit-vb-1 \
    node-5:pb-pdb:pdb-vb-2 node-6:pb-multi:multipdb-vb-3 node-7:pb-stuck:stuck-vb-4 \
    node-7:web-b7 node-8:web-b8 || fail "log b"
replay b.jsonl --journal b.journal > b.out 2>&1 && { cat b.out; fail "evict run exit 0"; }
cat b.out
grep -q "team-a/pdb-vb-2: evict: \*\*\* EVICTION REFUSED by a PodDisruptionBudget (final) (HTTP 429 TooManyRequests: Cannot evict pod as it would violate the pod's disruption budget.)" b.out || fail "PDB refusal not reported"
grep -q "team-a/multipdb-vb-3: evict: \*\*\* EVICTION REFUSED .*more than one PodDisruptionBudget" b.out || fail "multi-PDB not reported"
grep -q "team-a/pb-stuck: bind: NOT BOUND: abandoned (1 victim(s) not gone within --evict-wait 1.5 s" b.out || fail "stuck victim not reported"
grep -q "team-a/web-b7: bind: NOT BOUND: abandoned" b.out || fail "binding after a stuck victim on its node not held"
grep -q "bind summary: 7 to bind: 3 bound.* 4 not bound: 4 failed" b.out || fail "evict summary"
grep -q "bind preemption: 5 preemptors, 5 victims: 3 removed (deleted, evicted or already gone), 2 refused by a disruption budget; 2 bindings abandoned" b.out || fail "evict preemption line"
python3 - <<'EOF' || fail "evict outcomes"
import json
pods = json.load(open("state.json"))   # bindings
rec = json.load(open("state.json.pods"))
bound = {k for k, v in pods.items() if v["bound"]}
assert {"team-a/pb-ok", "team-a/pb-rate", "team-a/web-b8"} <= bound, bound
for k in ("pb-pdb", "pb-multi", "pb-stuck", "web-b7"):
    assert "team-a/" + k not in pods, k     # never posted
assert rec["team-a/ratelimit-vb-1"]["eviction_posts"] == 2    # 429 without a cause: retried
assert rec["team-a/pdb-vb-2"]["eviction_posts"] == 1          # final: not retried
assert rec["team-a/multipdb-vb-3"]["eviction_posts"] == 1
EOF
grep -c "^abandoned" b.journal | grep -qx 2 || { cat b.journal; fail "abandoned lines not journaled"; }
# rerun: the abandoned unit is not tried again, the refused evictions are
python3 -c "import json; print(json.dumps(json.load(open('state.json.pods'))))" > pods.before
replay b.jsonl --journal b.journal > b2.out 2>&1 && fail "evict rerun exit 0"
grep -q "team-a/pb-stuck: bind: NOT BOUND: abandoned by an earlier run" b2.out || { cat b2.out; fail "abandoned not remembered"; }
python3 - <<'EOF' || fail "evict rerun"
import json
before, rec = json.load(open("pods.before")), json.load(open("state.json.pods"))
assert rec["team-a/stuck-vb-4"].get("eviction_posts") == before["team-a/stuck-vb-4"].get("eviction_posts")
assert rec["team-a/stuck-vb-4"].get("gets") == before["team-a/stuck-vb-4"].get("gets")   # no new wait
assert rec["team-a/pdb-vb-2"]["eviction_posts"] == 2          # not journaled: tried again
assert rec["team-a/pb-ok"]["patches"] == 1                    # journaled: not sent again
EOF

# --- C: kill -9 half-way, rerun: every request confirmed by the first run is
# not sent again, every pod bound once, every victim deleted once
specs=()
for i in $(seq 0 24); do specs+=("node-c$i:pc-$i:vc-$i"); specs+=("node-d$i:web-c$i"); done
python3 mklog.py c.jsonl delete 10 "${specs[@]}" || fail "log c"
curl -s -X POST -d '{"mode": "normal"}' "$URL/control" > /dev/null
n0=$(python3 -c "import json; print(len(json.load(open('state.json.events'))))")
"$BIN" bind --replay c.jsonl --server "$URL" "${OPTS[@]}" --journal c.journal > c1.out 2>&1 &
BIND_PID=$!
for _ in $(seq 400); do
    n=$(python3 -c "import json; print(len(json.load(open('state.json.events'))))" 2>/dev/null || echo 0)
    [ "$((n - n0))" -ge 60 ] && break
    sleep 0.02
done
kill -9 "$BIND_PID" 2>/dev/null || fail "replay finished before it could be killed"
wait "$BIND_PID" 2>/dev/null
BIND_PID=
cp c.journal c.journal.killed
n1=$(python3 -c "import json; print(len(json.load(open('state.json.events'))))")
[ "$((n1 - n0))" -ge 60 ] || fail "replay made no progress before the kill"
replay c.jsonl --journal c.journal > c2.out 2>&1
rc=$?
cat c2.out
python3 - "$n1" <<'EOF' || fail "not exactly once"
import json, sys, re
n1 = int(sys.argv[1])
lines = [json.loads(l) for l in open("c.jsonl")]
done = set()
for l in open("c.journal.killed"):
    f = l.rstrip("\n").split("\t")
    if f[0] in ("done", "elsewhere") and f[1] == "line":
        done.add(int(f[2]))
assert done, "the first run journaled nothing"
ev = json.load(open("state.json.events"))
second = [(e["method"], e["path"]) for e in ev[n1:]]
for i in done:   # nothing journaled is sent again (a GET of a wait is a check, not a request)
    assert (lines[i]["method"], lines[i]["path"]) not in second, (i, lines[i]["path"])
pods, rec = json.load(open("state.json")), json.load(open("state.json.pods"))
for i in range(25):
    assert pods["team-a/pc-%d" % i]["bound"] == 1, i
    assert pods["team-a/web-c%d" % i]["bound"] == 1, i
    assert rec["team-a/vc-%d" % i]["deletes"] == 1, i
# no Binding of a preemptor before its victim answered 404
P = "/api/v1/namespaces/team-a/pods/"
for i in range(25):
    g = [e["n"] for e in ev if e["path"] == P + "vc-%d" % i and e["method"] == "GET" and e["code"] == 404]
    b = [e["n"] for e in ev if e["path"] == P + "pc-%d/binding" % i and e["method"] == "POST"]
    assert g and b and min(g) < min(b), (i, g, b)
EOF
[ $rc = 0 ] || fail "rerun after the kill: exit $rc"
echo "killed replay after $((n1 - n0)) requests; rerun completed"

# --- D: refusals
printf '{"unit": 0, "op": "bind", "method": "DELETE", "path": "/api/v1/namespaces/a/pods/b/binding", "contentType": "application/json", "body": {}, "wait": null}\n' > bad.jsonl
replay bad.jsonl > d.out 2>&1 && fail "malformed log accepted"
grep -q "bad.jsonl:1: not a request of a shardsched request log: method does not match op" d.out || { cat d.out; fail "malformed message"; }
replay b.jsonl --journal a.journal > d.out 2>&1 && fail "journal of another log accepted"
grep -q "a.journal: journal of another run" d.out || { cat d.out; fail "other journal message"; }
"$BIN" bind --replay a.jsonl > d.out 2>&1; [ $? = 2 ] || fail "--replay without --server not a usage error"
"$BIN" bind --replay a.jsonl --server "$URL" --preempt-with kill > d.out 2>&1; [ $? = 2 ] || fail "--preempt-with kill accepted"

# --- E: the plan says how its victims were chosen (root attribute
# preempt_with): evictions of a plan computed with soft PDBs are refused
# (--server and --emit alike, before any request), unless --allow-soft-pdb;
# a plan of schedule --preempt-with evict is accepted
"$BIN" gen --nodes 200 --pods 3000 --seed 3 -o e.h5 > /dev/null 2>&1 || fail "gen e"
"$BIN" schedule -i e.h5 -o soft.h5 > /dev/null 2>&1 || fail "schedule soft"
"$BIN" schedule -i e.h5 -o hard.h5 --preempt-with evict > /dev/null 2>&1 || fail "schedule hard"
# verify holds such a plan to hard PDBs without being told (the file says so)
"$BIN" verify -i e.h5 -p hard.h5 | grep -q "PDB budget exceeded: .* (hard: violations)" ||
    fail "verify did not read the plan's --preempt-with evict"
"$BIN" inspect soft.h5 | grep -q "^preempt with  delete" || fail "inspect soft: $("$BIN" inspect soft.h5)"
"$BIN" inspect hard.h5 | grep -q "^preempt with  evict" || fail "inspect hard"
"$BIN" inspect soft.h5 | grep -q "^victims       [1-9]" || fail "no victims in the soft plan: gen changed?"
n0=$(python3 -c "import json; print(len(json.load(open('state.json.events'))))")
"$BIN" bind -i e.h5 -p soft.h5 --server "$URL" --preempt-with evict > e.out 2>&1 && fail "soft plan evicted"
n1=$(python3 -c "import json; print(len(json.load(open('state.json.events'))))")
[ "$n1" = "$n0" ] || fail "the refused soft plan sent $((n1 - n0)) requests"
grep -q "soft.h5: refusing to evict [0-9]* preemption victim(s) with --preempt-with evict: the plan was computed with PodDisruptionBudgets best effort" e.out || { cat e.out; fail "soft refusal message"; }
grep -q -- "--allow-soft-pdb" e.out || fail "refusal does not name --allow-soft-pdb"
"$BIN" bind -i e.h5 -p soft.h5 --emit soft.jsonl --preempt-with evict > e.out 2>&1 && fail "soft plan emitted for evict"
[ ! -e soft.jsonl ] || fail "refused log written"
"$BIN" bind -i e.h5 -p soft.h5 --emit soft.jsonl --preempt-with evict --allow-soft-pdb > e.out 2>&1 || { cat e.out; fail "--allow-soft-pdb"; }
grep -q '"op": *"evict"' soft.jsonl || fail "no evictions in the --allow-soft-pdb log"
"$BIN" bind -i e.h5 -p soft.h5 --emit del.jsonl > e.out 2>&1 || { cat e.out; fail "soft plan with delete"; }
"$BIN" bind -i e.h5 -p hard.h5 --emit hard.jsonl --preempt-with evict > e.out 2>&1 || { cat e.out; fail "evict plan refused"; }
grep -q '"op": *"evict"' hard.jsonl || fail "no evictions in the evict plan's log"

curl -s -X POST "$URL/shutdown" > /dev/null
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
echo "e2e_bind_preempt: OK"
