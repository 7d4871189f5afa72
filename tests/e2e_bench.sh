#!/bin/bash
# bench scenarios at 1 % size (the hidden --scale 0.01) under mpirun -n 1
# and -n 2: the last JSON line(s) carry every key, pods are placed, the
# verifier finds nothing, the placed count does not depend on the rank
# count, collectives are counted, and borg-cell's fast engine places at
# least 99.5 % of what --exhaustive places (issue 11).
set -euo pipefail
BIN=$1
WORK=$2
DATA=${SS_TEST_DATA_DIR:-$(dirname "$0")/data}
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
MPIRUN="mpirun --oversubscribe --bind-to none"
fail() { echo "FAIL: $*" >&2; exit 1; }

for scen in borg-cell growth openb-x100; do
    for n in 1 2; do
        OMP_NUM_THREADS=1 $MPIRUN -n $n $BIN bench --scenario $scen --scale 0.01 \
            --openb-dir "$DATA/openb" > "$scen-$n.out" || fail "bench $scen -n $n failed"
    done
    python3 - "$scen" "$scen-1.out" "$scen-2.out" <<'PY' || fail "bench $scen: bad figures"
import json, sys
scen, outs = sys.argv[1], sys.argv[2:]
steps = 3 if scen == "growth" else 1
keys = ["scenario", "ranks", "threads", "nodes", "pods", "pod_groups", "placed", "schedule_s",
        "total_s", "peak_rss_mib", "collectives", "violations"]
if scen == "borg-cell":
    keys += ["exhaustive_s", "exhaustive_placed"]
runs = []
for ranks, path in zip((1, 2), outs):
    lines = open(path).read().splitlines()
    objs = [json.loads(l) for l in lines[-steps:]]
    for o in objs:
        missing = [k for k in keys if k not in o]
        assert not missing, f"{path}: missing {missing}"
        assert o["scenario"] == scen and o["ranks"] == ranks and o["threads"] == 1, o
        assert o["placed"] > 0, f"{path}: nothing placed"
        assert o["violations"] == 0, f"{path}: {o['violations']} violations"
        assert o["collectives"] > 0, f"{path}: no collectives counted"
        assert o["collectives_agree"], f"{path}: ranks counted different collectives"
        if scen == "borg-cell":
            # the issue's quality floor: the engine places >= 99.5 % of --exhaustive
            assert o["placed"] >= o["exhaustive_placed"] * 0.995, o
    if scen == "growth":
        assert [o["nodes"] for o in objs] == [10, 100, 1000], objs
    runs.append(objs)
for a, b in zip(*runs):
    assert a["placed"] == b["placed"], f"placed differs: -n 1 {a['placed']}, -n 2 {b['placed']}"
    assert (a["nodes"], a["pods"]) == (b["nodes"], b["pods"])
PY
done

# At one rank the schedule phase makes exactly ss_run_schedule's four
# error agreements (no exchange): a hand count of the counter.
c1=$(tail -1 borg-cell-1.out | python3 -c 'import json,sys; print(json.load(sys.stdin)["collectives"])')
[ "$c1" -eq 4 ] || fail "bench -n 1 counted $c1 collectives, expected 4"

# The old names are aliases; --no-exhaustive drops the side run.
OMP_NUM_THREADS=1 $MPIRUN -n 1 $BIN bench --scenario medium --scale 0.01 --no-exhaustive -q > m.out
python3 -c 'import json,sys; o=json.loads(open("m.out").read().splitlines()[-1]); assert o["scenario"]=="borg-cell" and "exhaustive_s" not in o, o' \
    || fail "medium is not borg-cell without --exhaustive"
# A missing trace names the file.
if $BIN bench --scenario openb-x100 --scale 0.01 --openb-dir "$WORK/nope" > /dev/null 2> e.err; then
    fail "openb-x100 ran without its trace"
fi
grep -q "nope" e.err || fail "missing trace not named: $(cat e.err)"
echo "e2e_bench: ok"
