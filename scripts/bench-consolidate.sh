#!/bin/bash
# consolidate's speed and quality (issue 14; docs/PERFORMANCE.md
# "Consolidation plans"), measured side by side on this machine:
#   1. speed: gen --profile fragmented at 10,000 and 100,000 nodes (only
#      running pods, ~40 % of the capacity spread evenly over every node),
#      then `consolidate` at 2 ranks x 1 thread (mpirun -n 2), REPS rounds
#      alternating the planner (--targets tightest, the default) and the
#      node-by-node greedy baseline (--targets least-allocated): wall time
#      (end to end: read, plan, write), CPU seconds, nodes freed, pods moved,
#      waves; min / median / max over the rounds. With BASE=path/to/an/older
#      shardsched its tightest run goes in the same rounds, and its plan must
#      be h5diff-identical (e.g. the scan planner before the free-room index).
#   2. check: verify --plan of every plan of round 1.
#   3. determinism: the 10,000-node plan at 1/2/3/4 ranks x 1/2 threads,
#      h5diff-identical.
# Every figure goes to OUT/summary.txt.
#   usage: bash scripts/bench-consolidate.sh [OUT] [SECTIONS...]
#   sections: speed check determinism (default: all)
#   REPS=3, NODES="10000 100000", SEED=1, BASE= (unset: no A/B)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/build/shardsched}
OUT=${1:-/tmp/shardsched-bench-consolidate}
shift || true
SECTIONS=${*:-speed check determinism}
REPS=${REPS:-3}
NODES=${NODES:-10000 100000}
SEED=${SEED:-1}
BASE=${BASE:-}
mkdir -p "$OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
MPIRUN="mpirun --oversubscribe --bind-to none"
SUM=$OUT/summary.txt
log() { echo "$*" | tee -a "$SUM"; }
: >"$SUM"
log "bench-consolidate: $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

cluster() { # N: the fragmented cluster of N nodes (made once)
    local f=$OUT/frag-$1.h5
    [ -f "$f" ] || "$BIN" gen --profile fragmented --nodes "$1" --pods 0 --seed "$SEED" -o "$f" -q
    echo "$f"
}

# run NAME BINARY N TARGETS: one timed consolidate; appends "wall cpu freed moved waves"
run() {
    local name=$1 bin=$2 n=$3 targets=$4 in
    in=$(cluster "$n")
    local plan=$OUT/plan-$name-$n.h5 t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f "%U %S" -o "$OUT/time.txt" \
        $MPIRUN -n 2 "$bin" consolidate -i "$in" -o "$plan" --targets "$targets" >"$OUT/out.txt"
    t1=$(date +%s.%N)
    local cpu freed moved waves
    cpu=$(awk '{printf "%.2f", $1 + $2}' "$OUT/time.txt")
    read -r freed moved waves < <(sed -n 's/.*: \([0-9]*\) nodes freed.*, \([0-9]*\) pods moved, \([0-9]*\) waves/\1 \2 \3/p' "$OUT/out.txt")
    echo "$(echo "$t1 - $t0" | bc -l | xargs printf '%.2f') $cpu $freed $moved $waves" >>"$OUT/runs-$name-$n.txt"
}

# stats FILE COLUMN: min / median / max of a column
stats() {
    sort -n -k"$2" "$1" | awk -v c="$2" '{v[NR] = $c} END {printf "%s / %s / %s", v[1], v[int((NR + 1) / 2)], v[NR]}'
}

speed() {
    local names=(tightest least-allocated)
    [ -n "$BASE" ] && names+=(base)
    for n in $NODES; do
        cluster "$n" >/dev/null
        rm -f "$OUT"/runs-*-"$n".txt
        for r in $(seq "$REPS"); do
            for name in "${names[@]}"; do
                case $name in
                base) run base "$BASE" "$n" tightest ;;
                *) run "$name" "$BIN" "$n" "$name" ;;
                esac
            done
        done
        log ""
        log "$n nodes (gen --profile fragmented --nodes $n --pods 0 --seed $SEED), 2 ranks x 1 thread, $REPS rounds:"
        log "  planner          wall s (min / median / max)   cpu s (min / median / max)   nodes freed  pods moved  waves"
        for name in "${names[@]}"; do
            local f=$OUT/runs-$name-$n.txt
            log "$(printf '  %-16s %-29s %-28s %-12s %-11s %s' "$name" "$(stats "$f" 1)" "$(stats "$f" 2)" \
                "$(awk 'NR==1{print $3}' "$f")" "$(awk 'NR==1{print $4}' "$f")" "$(awk 'NR==1{print $5}' "$f")")"
        done
        if [ -n "$BASE" ]; then
            h5diff "$OUT/plan-tightest-$n.h5" "$OUT/plan-base-$n.h5" >/dev/null &&
                log "  plan of BASE identical (h5diff)" || log "  plan of BASE DIFFERS"
        fi
    done
}

check() {
    for n in $NODES; do
        for name in tightest least-allocated; do
            local plan=$OUT/plan-$name-$n.h5
            [ -f "$plan" ] || run "$name" "$BIN" "$n" "$name"
            "$BIN" verify -i "$(cluster "$n")" --plan "$plan" >"$OUT/verify.txt" &&
                log "verify --plan ($n nodes, $name): $(tail -1 "$OUT/verify.txt")" ||
                log "verify --plan ($n nodes, $name): FAILED: $(tail -1 "$OUT/verify.txt")"
        done
    done
}

determinism() {
    local n=${NODES%% *} in ref=""
    in=$(cluster "$n")
    local bad=0
    for ranks in 1 2 3 4; do
        for th in 1 2; do
            local p=$OUT/det-$ranks-$th.h5
            OMP_NUM_THREADS=$th $MPIRUN -n "$ranks" "$BIN" consolidate -i "$in" -o "$p" -q
            if [ -z "$ref" ]; then ref=$p; elif ! h5diff "$ref" "$p" >/dev/null; then
                log "determinism: $ranks ranks x $th threads DIFFERS from 1 x 1"
                bad=1
            fi
        done
    done
    [ $bad = 0 ] && log "determinism ($n nodes): 1/2/3/4 ranks x 1/2 threads, plans h5diff-identical"
    return $bad
}

for s in $SECTIONS; do "$s"; done
