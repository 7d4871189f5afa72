#!/bin/bash
# End-to-end test of import -> schedule -> bind against tests/binder_server.py
# (a fault-injecting stand-in for the API server's binding endpoint on
# 127.0.0.1): --emit, then --server with a SIGKILL half-way and a rerun with
# the journal; every pod must be bound exactly once, gone pods reported, a
# gang with an unplaced member held back, a gang with a gone member reported
# as partly bound, and the summary must add up.
# usage: bash e2e_bind.sh BINARY WORKDIR
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

# 4 nodes; 120 ordinary pods, 2 gone, 1 prebound, gang "big" (one member too
# large to place: the gang stays unplaced and is never posted), gang "mixed" (one member deleted: partly bound).
python3 - <<'EOF' || fail "fixture generation"
import json
nodes = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-%d" % i},
          "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"}}} for i in range(4)]
def pod(name, cpu="100m", group=None):
    md = {"name": name, "namespace": "team-a"}
    if group:
        md["labels"] = {"scheduling.x-k8s.io/pod-group": group}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md,
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]},
            "status": {"phase": "Pending"}}
pods = [pod("web-%03d" % i) for i in range(120)]
pods += [pod("gone-0"), pod("gone-1"), pod("prebound-0")]
pods += [pod("big-0", group="big"), pod("big-1", group="big"), pod("big-2", cpu="1000", group="big")]
pods += [pod("mixed-0", group="mixed"), pod("mixed-1", group="mixed"), pod("gone-mixed-2", group="mixed")]
json.dump({"apiVersion": "v1", "kind": "List", "items": nodes + pods}, open("cluster.json", "w"))
pg = [{"apiVersion": "scheduling.x-k8s.io/v1alpha1", "kind": "PodGroup",
       "metadata": {"name": g, "namespace": "team-a"}, "spec": {"minMember": 3}} for g in ("big", "mixed")]
json.dump({"apiVersion": "v1", "kind": "List", "items": pg}, open("pg.json", "w"))
EOF

"$BIN" import --nodes cluster.json --pods cluster.json --podgroups pg.json -o cluster.h5 || fail "import"
"$BIN" schedule -i cluster.h5 -o placements.h5 || fail "schedule"

# --emit: a v1 List with every placed pod except the held-back gang
"$BIN" bind -i cluster.h5 -p placements.h5 --emit bindings.json || fail "emit"
python3 -c "
import json, sys
d = json.load(open('bindings.json'))
names = {b['metadata']['name'] for b in d['items']}
assert d['kind'] == 'List' and len(d['items']) == 126, len(d['items'])
assert not any(n.startswith('big-') for n in names)
assert all(b['kind'] == 'Binding' and b['target']['kind'] == 'Node' for b in d['items'])
" || fail "emitted list"
"$BIN" bind -i cluster.h5 -p placements.h5 --emit - --ndjson > bindings.ndjson || fail "emit ndjson"
[ "$(wc -l < bindings.ndjson)" = 126 ] || fail "ndjson lines"

# --server: start the binder service, kill bind half-way, rerun with the journal
python3 "$SRC/tests/binder_server.py" --port-file port --state state.json --delay 0.03 --lifetime 150 &
SERVER_PID=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "binder server did not start"
URL="http://127.0.0.1:$(cat port)"
OPTS=(--server "$URL" --journal journal.tsv --concurrency 4 --max-backoff 0.4 --timeout 5 --seed 7)

"$BIN" bind -i cluster.h5 -p placements.h5 "${OPTS[@]}" > run1.out 2>&1 &
BIND_PID=$!
for _ in $(seq 300); do
    n=$(python3 -c "import json; print(sum(v['bound'] for v in json.load(open('state.json')).values()))" 2>/dev/null || echo 0)
    [ "$n" -ge 40 ] && break
    sleep 0.05
done
kill -9 "$BIND_PID" 2>/dev/null || fail "bind finished before it could be killed"
wait "$BIND_PID" 2>/dev/null
BIND_PID=
[ "$n" -ge 40 ] || fail "bind made no progress before the kill"
before=$(wc -l < journal.tsv)
echo "killed bind after $n bindings; journal has $before lines"

"$BIN" bind -i cluster.h5 -p placements.h5 "${OPTS[@]}" > run2.out 2>&1
rc=$?
cat run2.out
[ $rc -ne 0 ] || fail "bind must exit non-zero when pods are gone"
grep -q "PARTLY BOUND GANG" run2.out || fail "no partly-bound gang report"
grep -q "team-a/gone-0 -> .*gone" run2.out || fail "gone pod not reported"

python3 - "$before" <<'EOF' || fail "bindings not exactly once"
import json, re, sys
before = int(sys.argv[1])
state = json.load(open("state.json"))
expect = ["team-a/web-%03d" % i for i in range(120)] + ["team-a/mixed-0", "team-a/mixed-1"]
for k in expect:
    assert state.get(k, {}).get("bound") == 1, (k, state.get(k))
for k, v in state.items():
    assert v["bound"] <= 1, (k, v)
    assert not k.startswith("team-a/big-"), k          # held back: never posted
for k in ("team-a/gone-0", "team-a/gone-1", "team-a/gone-mixed-2", "team-a/prebound-0"):
    assert state[k]["bound"] == 0
line = [l for l in open("run2.out") if l.startswith("bind summary:")][0]
nums = dict((w, int(n)) for n, w in re.findall(r"(\d+) (to bind|bound|already|gone|failed|skipped)", line))
total = nums["to bind"]
assert total == 126, line
assert nums["gone"] == 3 and nums["failed"] == 0, line
assert nums["skipped"] == before, line
assert nums["skipped"] + nums["bound"] + nums["already"] + nums["gone"] == total, line
assert nums["already"] >= 1, line                       # prebound-0 (and any pod bound before the kill)
assert "3 pods unplaced" in line, line                  # the engine keeps gang "big" whole: none placed
journal = [l.split("\t") for l in open("journal.tsv") if l.endswith("\n") and l.strip()]
assert len({(j[1], j[2]) for j in journal}) == 126, len(journal)
EOF
curl -s -X POST "$URL/shutdown" > /dev/null
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
echo "e2e_bind: OK"
