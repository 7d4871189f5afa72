#!/bin/bash
# fault-inject.sh: fails each allocation site that a tiny 2-rank `schedule`
# reaches, once, on the rank that reached it, and checks that the job ends
# cleanly: no hang (within TIMEOUT s), no crash, and either success (an
# allocation the code tolerates) or the command's failure status (1; 2 for
# verify and inspect: "unreadable input") with exactly one "shardsched CMD:
# ..." message and no output file. Also covers the rank-0 commands verify,
# inspect and gen at one rank (SS_FAULT_COMMANDS: a subset).
#
# usage: scripts/fault-inject.sh [FAULT_BINARY [WORKDIR [SAMPLE [SEED]]]]
#   FAULT_BINARY  build/tests/shardsched_fault (the --wrap build, tests/fault/)
#   SAMPLE        run only SAMPLE sites per command, drawn with SEED (CI);
#                 0 or absent: every site.
# Prints one line per failed case (site, addr2line location, what went
# wrong) and exits 1 if there was any. docs/RELIABILITY.md has the findings.
set -uo pipefail
FBIN=$(readlink -f "${1:-build/tests/shardsched_fault}")
WORK=${2:-/tmp/ss-fault-inject}
SAMPLE=${3:-0}
SEED=${4:-1}
TIMEOUT=${SS_FAULT_TIMEOUT:-20}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
MPIRUN="mpirun --oversubscribe --bind-to none"
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
cp "$FBIN" ./shardsched_fault && FBIN=$PWD/shardsched_fault || exit 1 # sites: of this build

# Gangs with rack/block topology so the topology code runs; small enough
# that each run takes well under a second.
"$FBIN" gen --nodes 120 --pods 600 --seed 3 -o c.h5 -q || exit 1
# Three partitions of 40 nodes: both ranks place, spill and gather.
$MPIRUN -n 2 "$FBIN" schedule -i c.h5 -o ref.h5 -q --partition-nodes 40 || exit 1

bad=0
# run_case NAME RANKS STATUS RANK SITE OUTPUT CMD... (STATUS: the command's
# documented exit status for a failure)
run_case() {
    local name=$1 ranks=$2 status=$3 rank=$4 site=$5 out=$6
    shift 6
    rm -f "$out" err.txt
    SS_FAIL_SITE=$site SS_FAIL_RANK=$rank timeout -k 5 "$TIMEOUT" \
        $MPIRUN -n "$ranks" "$FBIN" "$@" > /dev/null 2> err.txt < /dev/null
    local rc=$? why=""
    local msgs
    msgs=$(grep -c "^shardsched $name" err.txt)
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        why="hang (killed after ${TIMEOUT}s)"
    elif grep -qE "signal [0-9]|Segmentation|core dumped|MPI_ABORT|Aborted \(" err.txt; then
        why="crash (rc $rc)"
    elif [ $rc -eq 0 ]; then
        [ "$out" = - ] || [ -e "$out" ] || why="exit 0 but no output"
    elif [ $rc -ne "$status" ]; then
        why="exit status $rc, not $status"
    elif [ "$msgs" -ne 1 ]; then
        why="$msgs messages, not 1"
    elif [ "$out" != - ] && [ -e "$out" ]; then
        why="output file left behind"
    fi
    if [ -n "$why" ]; then
        bad=$((bad + 1))
        echo "FAIL $name rank $rank site $site ($(addr2line -f -s -e "$FBIN" "$(printf 0x%x $((site - 1)))" | paste -sd' ')): $why"
        sed 's/^/    /' err.txt | head -8
    fi
}

# list_sites RANKS CMD...: "RANK SITE" for every site each rank reached.
list_sites() {
    local ranks=$1
    shift
    rm -f sites.*
    SS_FAIL_LIST="$WORK/sites" $MPIRUN -n "$ranks" "$FBIN" "$@" > /dev/null 2>&1 < /dev/null
    for f in sites.*; do
        [ -e "$f" ] && sed "s/^/${f#sites.} /" "$f"
    done | sort -u
}

# pick: the sample of "RANK SITE FUNCTION" lines, plus every site in one of
# the functions of $MUST (the places that once left a collective early).
MUST=${SS_FAULT_MUST:-"gather try_level ss_sched_run run_rounds ss_sched_agree run_engine"}
pick() {
    local all
    all=$(cat)
    if [ "$SAMPLE" -gt 0 ]; then
        printf '%s\n' "$all" | awk -v must=" $MUST " 'index(must, " " $3 " ")'
        printf '%s\n' "$all" | awk -v must=" $MUST " '!index(must, " " $3 " ")' |
            shuf -n "$SAMPLE" --random-source=<(yes "$SEED")
    else
        printf '%s\n' "$all"
    fi
}

# with_functions: "RANK SITE" lines -> "RANK SITE FUNCTION".
with_functions() {
    while read -r rank site _; do
        echo "$rank $site $(addr2line -f -e "$FBIN" "$(printf 0x%x $((site - 1)))" | head -1)"
    done
}

total=0
check() { # NAME RANKS STATUS OUTPUT CMD...
    local name=$1 ranks=$2 status=$3 out=$4
    shift 4
    local cases
    cases=$(list_sites "$ranks" "$@" | with_functions | pick)
    local n
    n=$(printf '%s\n' "$cases" | grep -c .)
    echo "$name: $n site(s) at $ranks rank(s)"
    total=$((total + n))
    while read -r rank site _; do
        [ -n "$site" ] && run_case "$name" "$ranks" "$status" "$rank" "$site" "$out" "$@"
    done <<< "$cases"
}

for cmd in ${SS_FAULT_COMMANDS:-schedule verify inspect gen}; do
    case $cmd in
    schedule) check schedule 2 1 out.h5 schedule -i c.h5 -o out.h5 -q --partition-nodes 40 ;;
    verify) check verify 1 2 - verify -i c.h5 -p ref.h5 --quiet ;; # 2: unreadable input
    inspect) check inspect 1 2 - inspect c.h5 ;;
    gen) check gen 1 1 g.h5 gen --nodes 60 --pods 300 --seed 2 -o g.h5 -q ;;
    esac
done
echo "fault-inject: $total case(s), $bad failure(s)"
[ $bad -eq 0 ]
