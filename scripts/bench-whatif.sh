#!/bin/bash
# bench-whatif.sh: times `shardsched whatif --min-nodes` (issue 14) on a
# generated cluster, REPEAT times, and prints one row per run: the wall
# time (mpirun included), the process CPU time, the phases of whatif's
# stderr line, the answer and the volume lower bound. With a second binary
# (BEFORE) the two run alternately, A then B, so that a shared machine's
# load falls on both alike. Figures: docs/PERFORMANCE.md ("whatif").
#
#   scripts/bench-whatif.sh BIN [BEFORE_BIN]
#   env: NODES (100000) PODS (100000) SEED (1) RANKS (2) THREADS (1) REPEAT (3)
#        POOLS (gpu,general,high-memory,spot,system) WORK (/tmp/bench-whatif)
set -euo pipefail
BIN=$(realpath "$1")
BEFORE=${2:+$(realpath "$2")}
NODES=${NODES:-100000} PODS=${PODS:-100000} SEED=${SEED:-1}
RANKS=${RANKS:-2} THREADS=${THREADS:-1} REPEAT=${REPEAT:-3}
POOLS=${POOLS:-gpu,general,high-memory,spot,system}
WORK=${WORK:-/tmp/bench-whatif}
mkdir -p "$WORK" && cd "$WORK"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=$THREADS
SNAP="c-$NODES-$PODS-$SEED.h5"
[ -e "$SNAP" ] || "$BIN" gen --nodes "$NODES" --pods "$PODS" --seed "$SEED" -o "$SNAP" -q

one() { # label binary run
    local label=$1 bin=$2 k=$3 s e
    s=$(date +%s.%N)
    /usr/bin/time -f "%U %S" -o "time-$label-$k" mpirun --oversubscribe --bind-to none -n "$RANKS" \
        "$bin" whatif -i "$SNAP" --min-nodes "$POOLS" --json > "out-$label-$k.json" \
        2> "err-$label-$k" || true
    e=$(date +%s.%N)
    python3 - "$label" "$k" "$(echo "$e - $s" | bc)" "$(cat "time-$label-$k")" \
        "$(grep -m1 '^shardsched whatif: read' "err-$label-$k" || echo none)" \
        "out-$label-$k.json" <<'EOF'
import json, sys
label, k, wall, cpu, line, out = sys.argv[1:7]
u, s_ = (float(x) for x in cpu.split()[-2:])
d = json.load(open(out))
print(f"{label} run {k}: wall {float(wall):.2f} s, cpu {u + s_:.2f} s, answer {d['nodes']} "
      f"{d['added']} (bound {d['lower_bound']}), schedules {d['schedules']}, "
      f"probes {d.get('probes', 0)}, placed {d['placed']}/{d['pending']}")
print(f"  {line}")
EOF
}

echo "bench-whatif: $SNAP, $RANKS rank(s) x $THREADS thread(s), load $(cut -d' ' -f1-3 /proc/loadavg)"
for k in $(seq 1 "$REPEAT"); do
    one after "$BIN" "$k"
    [ -z "$BEFORE" ] || one before "$BEFORE" "$k"
done
