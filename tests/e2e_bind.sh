#!/bin/bash
# End-to-end test of import -> schedule -> bind against tests/binder_server.py
# (a fault-injecting stand-in for the API server on 127.0.0.1): --emit; then
# --server refusing a server that is not a Kubernetes API (wrong path prefix),
# bad credentials and token files with CR/LF; runs against a server that
# forbids, is down, or answers HTML, none of which may journal anything; a
# journal of another run and a journal in use are refused; a SIGKILL half-way
# and reruns with the journal: every pod bound exactly once, timeouts reported
# as unknown and confirmed by the rerun (409 same node), a pod bound to another
# node reported, gone pods reposted and reported, an elastic gang posted, a
# gang with an unplaced member held back, a gang with a gone member reported
# as partly bound, names escaped in URLs, the summary adding up; and a journal
# that cannot be written stops the run.
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

# 4 nodes; 120 ordinary pods, 2 gone, 1 prebound, 1 bound elsewhere, 1 with a
# dotted name (import refuses a name that is a path, such as a/../../nodes/x,
# as Kubernetes does; its escaping in URLs is test_bind's); gang "big" (one member too large to place: the gang stays
# unplaced and is never posted), gang "mixed" (one member deleted: partly
# bound), gang "elastic" (minMember 2 of 4, one member too large: 3 placed and
# posted). cluster2 differs by one pod (another run's placements).
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
pods += [pod("gone-0"), pod("gone-1"), pod("prebound-0"), pod("elsewhere-0"), pod("web.v2-0")]
pods += [pod("big-0", group="big"), pod("big-1", group="big"), pod("big-2", cpu="1000", group="big")]
pods += [pod("mixed-0", group="mixed"), pod("mixed-1", group="mixed"), pod("gone-mixed-2", group="mixed")]
pods += [pod("elastic-%d" % i, group="elastic") for i in range(3)] + [pod("elastic-3", cpu="1000", group="elastic")]
json.dump({"apiVersion": "v1", "kind": "List", "items": nodes + pods}, open("cluster.json", "w"))
json.dump({"apiVersion": "v1", "kind": "List", "items": nodes + pods[1:]}, open("cluster2.json", "w"))
pg = [{"apiVersion": "scheduling.x-k8s.io/v1alpha1", "kind": "PodGroup",
       "metadata": {"name": g, "namespace": "team-a"}, "spec": {"minMember": m}}
      for g, m in (("big", 3), ("mixed", 3), ("elastic", 2))]
json.dump({"apiVersion": "v1", "kind": "List", "items": pg}, open("pg.json", "w"))
EOF

"$BIN" import --nodes cluster.json --pods cluster.json --podgroups pg.json -o cluster.h5 || fail "import"
"$BIN" schedule -i cluster.h5 -o placements.h5 || fail "schedule"
"$BIN" import --nodes cluster2.json --pods cluster2.json --podgroups pg.json -o cluster2.h5 > /dev/null || fail "import 2"
"$BIN" schedule -i cluster2.h5 -o placements2.h5 2> /dev/null || fail "schedule 2"

# --emit: a v1 List with every placed pod except the held-back gang; the
# elastic gang's 3 placed members are in it
NB=131
"$BIN" bind -i cluster.h5 -p placements.h5 --emit bindings.json || fail "emit"
python3 -c "
import json, sys
d = json.load(open('bindings.json'))
names = {b['metadata']['name'] for b in d['items']}
assert d['kind'] == 'List' and len(d['items']) == $NB, len(d['items'])
assert not any(n.startswith('big-') for n in names)
assert {'elastic-0', 'elastic-1', 'elastic-2'} <= names and 'elastic-3' not in names, names
assert all(b['kind'] == 'Binding' and b['target']['kind'] == 'Node' for b in d['items'])
" || fail "emitted list"
"$BIN" bind -i cluster.h5 -p placements.h5 --emit - --ndjson > bindings.ndjson || fail "emit ndjson"
[ "$(wc -l < bindings.ndjson)" = $NB ] || fail "ndjson lines"

# --server: the binder service serves the API under /k8s and wants a token
python3 "$SRC/tests/binder_server.py" --port-file port --state state.json --delay 0.03 \
    --prefix /k8s --token s3cret-token --hang 5 --lifetime 300 &
SERVER_PID=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "binder server did not start"
ROOT="http://127.0.0.1:$(cat port)"
URL="$ROOT/k8s"
control() { curl -s -X POST -d "$1" "$ROOT/control" > /dev/null || fail "control $1"; }
posts() { python3 -c "import json; print(sum(v['posts'] for v in json.load(open('state.json')).values()))"; }
printf 's3cret-token\n' > token
OPTS=(--token-file token --journal journal.tsv --concurrency 4 --max-backoff 0.4 --timeout 2
      --max-attempts 2 --seed 7)
bind() { "$BIN" bind -i cluster.h5 -p placements.h5 "$@"; }
jlines() { grep -c -v '^#' journal.tsv; }

# not a Kubernetes API (wrong prefix: every path is a plain-text 404): stop
# before posting anything
bind --server "$ROOT" "${OPTS[@]}" > r.out 2>&1 && fail "wrong prefix accepted"
grep -q "not a Kubernetes API server: HTTP 404" r.out || { cat r.out; fail "wrong prefix message"; }
[ "$(posts)" = 0 ] || fail "posted to a server that is not a Kubernetes API"
# refused credentials, token files with a CR or an inner LF
bind --server "$URL" --journal journal.tsv > r.out 2>&1 && fail "401 accepted"
grep -q "HTTP 401 Unauthorized.*token-file" r.out || { cat r.out; fail "401 message"; }
printf 's3cret-token\r\n' > token.cr
bind --server "$URL" --token-file token.cr > r.out 2>&1 && fail "token with CR accepted"
grep -q "token.cr: byte 12 is a CR" r.out || { cat r.out; fail "CR token message"; }
printf 's3cret-token\nX-Evil: 1\n' > token.lf
bind --server "$URL" --token-file token.lf > r.out 2>&1 && fail "token with LF accepted"
grep -q "token.lf: byte 12 is a line feed" r.out || { cat r.out; fail "LF token message"; }
[ "$(posts)" = 0 ] || fail "posted with bad credentials"

# forbidden, an outage, HTML replies: nothing is bound, nothing journaled, exit 1
for mode in forbidden outage html; do
    control "{\"mode\": \"$mode\"}"
    bind --server "$URL" "${OPTS[@]}" > "$mode.out" 2>&1 && fail "$mode: exit 0"
    [ "$(jlines)" = 0 ] || fail "$mode: failures were journaled"
done
grep -q "bind summary: $NB to bind: 0 bound.* $NB not bound: $NB failed" forbidden.out || fail "forbidden summary"
grep -q "HTTP 503 ServiceUnavailable" outage.out || fail "outage not reported"
grep -q "replies in a row were not Kubernetes objects" html.out || fail "html run not stopped"
[ "$(posts)" = 0 ] || fail "a mode that binds nothing bound"

# a journal of another run (other placements, other server) is refused
control '{"mode": "normal"}'
"$BIN" bind -i cluster2.h5 -p placements2.h5 --server "$URL" "${OPTS[@]}" > r.out 2>&1 && fail "journal of other placements accepted"
grep -q "journal.tsv: journal of another run: it belongs to .*bindings=$NB:.*this run is .*bindings=$((NB - 1)):" r.out || { cat r.out; fail "other placements message"; }
bind --server "http://localhost:$(cat port)/k8s" "${OPTS[@]}" > r.out 2>&1 && fail "journal of another server accepted"
grep -q "server=http://127.0.0.1:.*server=http://localhost:" r.out || { cat r.out; fail "other server message"; }

# kill bind half-way; a second bind on the same journal is refused meanwhile
"$BIN" bind -i cluster.h5 -p placements.h5 --server "$URL" "${OPTS[@]}" > run1.out 2>&1 &
BIND_PID=$!
for _ in $(seq 300); do
    n=$(python3 -c "import json; print(sum(v['bound'] for v in json.load(open('state.json')).values()))" 2>/dev/null || echo 0)
    [ "$n" -ge 40 ] && break
    sleep 0.05
done
bind --server "$URL" "${OPTS[@]}" > r.out 2>&1 && fail "two binds shared a journal"
grep -q "journal.tsv: journal in use by another shardsched bind" r.out || { cat r.out; fail "in-use message"; }
kill -9 "$BIND_PID" 2>/dev/null || fail "bind finished before it could be killed"
wait "$BIND_PID" 2>/dev/null
BIND_PID=
[ "$n" -ge 40 ] || fail "bind made no progress before the kill"
echo "killed bind after $n bindings; journal has $(jlines) records"

# rerun while web-11x hang (bound by the server, never answered): unknown
control '{"mode": "normal", "hang": "web-11"}'
bind --server "$URL" "${OPTS[@]}" --concurrency 10 > run2.out 2>&1 && fail "run with unknown outcomes exited 0"
grep -q "team-a/web-110 -> .*unknown: no reply" run2.out || { cat run2.out; fail "timeout not reported as unknown"; }
grep -q "10 unknown" run2.out || { cat run2.out; fail "unknown count"; }
grep -q "team-a/elsewhere-0 -> .*bound elsewhere: already on node other-node" run2.out || fail "elsewhere not listed"
# rerun: the unknown ones are confirmed (409, same node), the gone reposted
control '{"mode": "normal", "hang": null}'
before=$(jlines)
bind --server "$URL" "${OPTS[@]}" > run3.out 2>&1
rc=$?
cat run3.out
[ $rc -ne 0 ] || fail "bind must exit non-zero when pods are gone"
grep -q "PARTLY BOUND GANG team-a/mixed" run3.out || fail "no partly-bound gang report"
grep -q "team-a/gone-0 -> .*gone" run3.out || fail "gone pod not reported"
grep -q "team-a/elsewhere-0 -> .*bound elsewhere: the journal says it is on node other-node" run3.out || fail "elsewhere not listed on rerun"

python3 - "$before" $NB <<'EOF' || fail "bindings not exactly once"
import json, re, sys
before, nb = int(sys.argv[1]), int(sys.argv[2])
state = json.load(open("state.json"))
stray = open("state.json.stray").read().splitlines()
expect = ["team-a/web-%03d" % i for i in range(120)] + ["team-a/mixed-0", "team-a/mixed-1",
          "team-a/elastic-0", "team-a/elastic-1", "team-a/elastic-2", "team-a/web.v2-0"]
for k in expect:
    assert state.get(k, {}).get("bound") == 1, (k, state.get(k))
for k, v in state.items():
    assert v["bound"] <= 1, (k, v)
    assert not k.startswith("team-a/big-") and k != "team-a/elastic-3", k   # never posted
for k in ("team-a/gone-0", "team-a/gone-1", "team-a/gone-mixed-2", "team-a/prebound-0", "team-a/elsewhere-0"):
    assert state[k]["bound"] == 0
for k in ("team-a/gone-0", "team-a/gone-1"):
    assert state[k]["posts"] >= 2, (k, state[k])   # not journaled: posted again by the rerun
assert state["team-a/elsewhere-0"]["posts"] == 1, state["team-a/elsewhere-0"]   # final
assert stray and not [p for p in stray if p.startswith("POST")], stray   # only the wrong-prefix GET /api
line = [l for l in open("run3.out") if l.startswith("bind summary:")][0]
nums = dict((w, int(n)) for n, w in re.findall(
    r"(\d+) (to bind|bound|already|skipped|gone|not bound|failed|unknown|elsewhere)", line))
assert nums["to bind"] == nb, line
assert nums["gone"] == 3 and nums["failed"] == 0 and nums["unknown"] == 0, line
assert nums["elsewhere"] == 1 and nums["not bound"] == 1, line
assert nums["skipped"] == before - 1, line     # the elsewhere record is counted as elsewhere
assert nums["already"] >= 10, line             # web-11x, bound while their replies were lost
assert nums["skipped"] + nums["bound"] + nums["already"] + nums["gone"] + nums["not bound"] == nb, line
assert "4 pods unplaced" in line, line         # gang "big" kept whole (none placed) + elastic-3
journal = [l.rstrip("\n").split("\t") for l in open("journal.tsv") if not l.startswith("#")]
assert len(journal) == len({(j[1], j[2]) for j in journal}) == nb - 3, len(journal)
assert all(j[0] in ("bound", "already", "elsewhere") for j in journal)
EOF

# a journal that cannot be written stops the run (exit 1, errno named): the
# journal is padded to the file size limit (8 MiB: Open MPI needs room for its
# own files), so that the first record written fails with EFBIG
python3 - <<'EOF' || fail "padding"
with open("journal.tsv") as f:
    head = f.readline()
with open("full.tsv", "w") as f:
    f.write(head)
    left = 8 * 1024 * 1024 - len(head)
    while left > 0:
        line = ("# padding" + " " * 70)[:min(80, left) - 1] + "\n"
        f.write(line)
        left -= len(line)
EOF
[ "$(stat -c %s full.tsv)" = 8388608 ] || fail "padding size"
bind --server "$URL" "${OPTS[@]/journal.tsv//dev/null}" > r.out 2>&1 && fail "a device accepted as journal"
grep -q "/dev/null: a journal must be a regular file" r.out || { cat r.out; fail "device journal message"; }
(trap '' XFSZ; ulimit -f 8192; bind --server "$URL" "${OPTS[@]/journal.tsv/full.tsv}" 2>&1) | cat > full.out
rc=${PIPESTATUS[0]}
[ "$rc" = 1 ] || { cat full.out; fail "journal write failure: exit $rc"; }
grep -q "full.tsv: journal write failed (File too large): stopped" full.out || { cat full.out; fail "journal write failure not fatal"; }
grep -q "bind summary" full.out || fail "no summary when stopped"
[ "$(grep -c 'journal write failed' full.out)" = 1 ] || fail "journal failure reported more than once"

curl -s -X POST "$ROOT/shutdown" > /dev/null
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
echo "e2e_bind: OK"
