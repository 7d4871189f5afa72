#!/bin/bash
# schedule --mig-relayout (issue 15, docs/mig.md "Re-layout"), end to end on
# a hand-made kubectl cluster: gpu-a and gpu-b are idle H100 80GB GPUs not
# in MIG mode, gpu-c is laid out all-1g.10gb with one instance held by a
# running pod, cpu-d has no GPU. Pending: two 3g.40gb pods, one 1g.10gb,
# one 7g.80gb, one cpu pod.
# - Without the option the 3g and 7g pods find no instance (reason 29); the
#   1g pod takes gpu-c's first free instance (#1: #0 is the running pod's).
# - With it: the 1g pod stays on gpu-c (a busy GPU is never re-laid-out);
#   the demand is 2x3g + 1x7g, which needs two GPUs (gpu-c, first in node
#   order, is busy, and gpu-s is single-strategy): gpu-a gets 3g.40gb@0 +
#   3g.40gb@4 (instances 0 and 1: two pods, more than the 7g's one), gpu-b
#   the 7g; every pod is placed,
#   the plan verifies clean, the emitted mig-parted config names both
#   entries, and the files are h5diff-identical for 1, 2, 3 ranks x 1, 2
#   threads.
# - bind against tests/binder_server.py (the MIG manager) sets gpu-a and
#   gpu-b's nvidia.com/mig.config, waits for success, then binds; gpu-c is
#   never patched, nor gpu-s (idle, but single-strategy 2g.20gb: never re-laid-out).
# - Bad usage (--emit-mig-config alone) exits 2 and writes nothing.
set -euo pipefail
BIN=$1
WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
MPIRUN="mpirun --oversubscribe --bind-to none"
fail() { echo "FAIL: $*" >&2; exit 1; }

python3 - <<'PY'
import json
def node(name, gpus, mig=None, single=None):
    labels = {"kubernetes.io/hostname": name}
    alloc = {"cpu": "64", "memory": "512Gi", "pods": "110"}
    if gpus:
        labels.update({"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3",
                       "nvidia.com/gpu.count": str(gpus), "nvidia.com/mig.strategy": "mixed",
                       "nvidia.com/mig.config": "all-1g.10gb" if mig else "all-disabled",
                       "nvidia.com/mig.config.state": "success"})
        alloc.update(mig or {"nvidia.com/gpu": str(gpus)})
    if single:  # the single strategy: nvidia.com/gpu counts MIG devices of one profile
        labels["nvidia.com/gpu.product"] += "-MIG-" + single[0]
        labels["nvidia.com/mig.strategy"] = "single"
        alloc["nvidia.com/gpu"] = str(single[1])
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "status": {"allocatable": alloc}}
def pod(name, res, node=None):
    p = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "ml"},
         "spec": {"containers": [{"name": "c", "resources": {"limits": res,
                                                             "requests": dict(res, cpu="1")}}]},
         "status": {"phase": "Running" if node else "Pending"}}
    if node:
        p["spec"]["nodeName"] = node
    return p
json.dump({"apiVersion": "v1", "kind": "List",
           "items": [node("gpu-s", 1, single=("2g.20gb", 3)),
                     node("gpu-c", 1, {"nvidia.com/mig-1g.10gb": "7"}),
                     node("gpu-a", 1), node("gpu-b", 1), node("cpu-d", 0)]},
          open("nodes.json", "w"))
json.dump({"apiVersion": "v1", "kind": "List",
           "items": [pod("run-1g", {"nvidia.com/mig-1g.10gb": "1"}, "gpu-c"),
                     pod("infer-0", {"nvidia.com/mig-3g.40gb": "1"}),
                     pod("infer-1", {"nvidia.com/mig-3g.40gb": "1"}),
                     pod("small-0", {"nvidia.com/mig-1g.10gb": "1"}),
                     pod("big-0", {"nvidia.com/mig-7g.80gb": "1"}),
                     pod("web-0", {"memory": "1Gi"})]}, open("pods.json", "w"))
PY
$BIN import --nodes nodes.json --pods pods.json -o c.h5 -q > /dev/null

# rows: infer-0, infer-1, small-0, big-0, web-0; nodes gpu-s 0, gpu-c 1, gpu-a 2, gpu-b 3,
# cpu-d 4 (gpu-s, idle but single-strategy, and gpu-c, busy, first: a re-layout that
# ignored either would try them first)
rows() { # FILE -> "node:reason:mask ..." per row
    python3 - "$1" <<'PY'
import subprocess, sys
def col(d):
    out = subprocess.run(["h5dump", "-d", d, "-y", sys.argv[1]], capture_output=True, text=True).stdout
    body = out[out.index("DATA {") + 6:out.rindex("}")]
    return [int(x) for x in body.replace("\n", " ").replace(",", " ").split() if x.lstrip("-").isdigit()]
n, r, m = col("/placements/node"), col("/placements/reason"), col("/placements/gpu_mask")
print(" ".join(f"{a}:{b}:{c}" for a, b, c in zip(n, r, m)))
PY
}
$BIN schedule -i c.h5 -o plain.h5 -q
got=$(rows plain.h5)
[ "$got" = "-1:29:0 -1:29:0 1:0:2 -1:29:0 0:0:0" ] || fail "without --mig-relayout: $got"

ref=""
for n in 1 2 3; do
    for t in 1 2; do
        out="r-$n-$t.h5"
        OMP_NUM_THREADS=$t $MPIRUN -n $n $BIN schedule -i c.h5 -o "$out" --mig-relayout \
            --emit-mig-config "mig-$n-$t.yaml" 2> "log-$n-$t"
        grep -q "2 GPUs re-laid-out (2 chosen, 0 unused and undone), placed 2 -> 5" "log-$n-$t" ||
            fail "summary line, -n $n x $t: $(cat "log-$n-$t")"
        $BIN verify -i c.h5 -p "$out" > "verify-$n-$t" || fail "violations, -n $n x $t: $(cat "verify-$n-$t")"
        if [ -z "$ref" ]; then ref=$out; continue; fi
        h5diff --exclude-path /run "$ref" "$out" || fail "$out differs from $ref"
        cmp "mig-1-1.yaml" "mig-$n-$t.yaml" || fail "mig-$n-$t.yaml differs"
    done
done
got=$(rows "$ref")
[ "$got" = "2:0:1 2:0:2 1:0:2 3:0:1 0:0:0" ] || fail "with --mig-relayout: $got"
grep -q "MIG: 4 GPUs in MIG mode, 13 instances (5 held after the run)" verify-1-1 ||
    fail "verify's MIG line: $(cat verify-1-1)"
python3 - <<'PY' || fail "the emitted mig-parted config"
import re
text = open("mig-1-1.yaml").read()
entries = re.findall(r"^  (shardsched-[0-9a-f]{16}):$", text, re.M)
assert len(entries) == 2, text
assert '"7g.80gb": 1' in text and '"3g.40gb": 2' in text, text
assert "# nodes: gpu-a" in text and "# nodes: gpu-b" in text, text
assert "gpu-c" not in text and "gpu-s" not in text, text
PY
$BIN inspect "$ref" | grep -q "GPU 2        H100-80GB 3g.40gb@0 3g.40gb@4" ||
    fail "inspect: $($BIN inspect "$ref")"
h5dump -d /mig_relayout/gpu "$ref" | grep -q "(0): 2, 3" || fail "the re-laid-out GPUs are not gpu-a's and gpu-b's"

# schedule -> bind against the test API server playing the MIG manager
# (tests/binder_server.py): each re-laid-out node's label is set to its
# entry of the emitted config and bound only once the manager reports
# success with the new allocatable.
SRC=${SS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
[ -f "$SRC/tests/binder_server.py" ] || SRC=$(cd "$(dirname "$BIN")/.." && pwd)
python3 "$SRC/tests/binder_server.py" --port-file port --state state.json --delay 0.01 \
    --lifetime 120 --nodes nodes.json --mig-config mig-1-1.yaml --mig-pending-gets 2 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "binder server did not start"
URL="http://127.0.0.1:$(cat port)"
$BIN bind -i c.h5 -p "$ref" --server "$URL" --max-backoff 0.2 --timeout 3 --max-attempts 5 \
    --mig-wait 20 > bind.out 2>&1 || { cat bind.out; fail "bind"; }
grep -q "bind MIG: 2 nodes to re-lay out (nvidia.com/mig.config): 2 ready" bind.out ||
    fail "bind's MIG line: $(cat bind.out)"
python3 - <<'PY' || fail "bind: the order of label, wait and bindings"
import json
ev = json.load(open("state.json.events"))
P = "/api/v1/namespaces/ml/pods/"
def idx(m, p, **kw):
    return [e["n"] for e in ev if e["method"] == m and e["path"] == p and all(e.get(k) == v for k, v in kw.items())]
for node, pods in (("gpu-a", ["infer-0", "infer-1"]), ("gpu-b", ["big-0"])):
    patch = idx("PATCH", "/api/v1/nodes/" + node)
    ok = [e for e in idx("GET", "/api/v1/nodes/" + node, state="success") if patch and e > patch[0]]
    binds = [b for p in pods for b in idx("POST", P + p + "/binding")]
    assert len(patch) == 1 and ok and len(binds) == len(pods), (node, patch, ok, binds)
    assert patch[0] < min(ok) < min(binds), (node, patch, ok, binds)
assert not idx("PATCH", "/api/v1/nodes/gpu-c"), "the busy node was patched"
assert not idx("PATCH", "/api/v1/nodes/gpu-s"), "the single-strategy node was patched"
assert idx("POST", P + "small-0/binding") and idx("POST", P + "web-0/binding")
PY
curl -s -X POST "$URL/shutdown" > /dev/null || true
wait "$SERVER_PID" 2>/dev/null || true

# bad usage: exit 2, nothing written
set +e
$BIN schedule -i c.h5 -o bad.h5 --emit-mig-config bad.yaml 2> bad.err
rc=$?
set -e
[ $rc -eq 2 ] || fail "--emit-mig-config without --mig-relayout: exit $rc"
grep -q "needs --mig-relayout" bad.err || fail "message: $(cat bad.err)"
[ ! -e bad.h5 ] && [ ! -e bad.yaml ] || fail "bad usage wrote a file"
echo "e2e_mig_relayout: OK"
