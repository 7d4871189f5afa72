#!/bin/bash
# Mutation check: do the tests pin the scheduling semantics? Copies the tree
# (tracked and untracked, not ignored files of the working tree) to a scratch
# directory, builds it once, then applies each mutation below ALONE (restore
# the file, apply the next, rebuild incrementally in the same build dir),
# runs the cmocka unit tests (ctest -R '^test_', ~15 s; test_golden runs on
# its own in quick mode, SS_GOLDEN_QUICK=1: -n 2 x 2 threads and -n 1) and
# prints `mutation | tests that fail`. Exits non-zero when a mutation is
# caught by no test, when a pattern is not found (the code moved: re-point
# the mutation's `site` lines), or when the unmutated tree fails.
#
# usage: scripts/mutation-check.sh [--keep] [NAME...]   (NAME: only these mutations)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
keep=0
only=()
for a in "$@"; do
    case $a in
    --keep) keep=1 ;;
    -h | --help) sed -n 2,12p "$0"; exit 0 ;;
    *) only+=("$a") ;;
    esac
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=2

# ---- the mutations: `site NAME FILE FIND REPLACE`, literal strings; a
# mutation with several sites changes all of them (fast engine and the
# naive reference alike, so the two still agree). Every FIND must occur.
names=() s_name=() s_file=() s_find=() s_repl=()
site() {
    local n=$1
    [[ " ${names[*]} " == *" $n "* ]] || names+=("$n")
    s_name+=("$n") s_file+=("$2") s_find+=("$3") s_repl+=("$4")
}
site taint-weight-3to1 engine/ss_policy.h '#define SS_WEIGHT_TAINT 3' '#define SS_WEIGHT_TAINT 1'
site affinity-weight-2to1 engine/ss_policy.h '#define SS_WEIGHT_AFFINITY 2' '#define SS_WEIGHT_AFFINITY 1'
# least-allocated computed with most-allocated's per-resource formula
site least-as-most engine/ss_policy.h 'return (ss_policy_least_one_(ca, cf, cr) + ss_policy_least_one_(ma, mf, mr)) / 2;' 'return (ss_policy_most_one_(ca, cf, cr) + ss_policy_most_one_(ma, mf, mr)) / 2;'
site balanced-deviation-halved engine/ss_policy.h 'fabs(fc - fm) / 2.0' 'fabs(fc - fm) / 4.0'
site loosest-gpu engine/ss_state.c '(best < 0 || f < s->gpu_free[b + best])' '(best < 0 || f > s->gpu_free[b + best])'
site ties-highest-index engine/ss_sched_shard.c 'a->score == b->score && a->node < b->node' 'a->score == b->score && a->node > b->node'
site ties-highest-index engine/ss_sched.c '(sa == sb && na < nb)' '(sa == sb && na > nb)'
site ties-highest-index engine/ss_exhaustive.c 'if (best < 0 || score > *best_score) {' 'if (best < 0 || score >= *best_score) {'
site noexecute-ignored engine/ss_match.c '} else if (ok && !tolerated(c, tm, &taint[i])) {' \
    '} else if (ok && taint[i].effect != SS_EFFECT_NO_EXECUTE && !tolerated(c, tm, &taint[i])) {'
site notin-as-in engine/ss_match.c 'return e->val_count > 0 && (!has || !in_values(vals, e->val_count, value));' \
    'return e->val_count > 0 && has && in_values(vals, e->val_count, value);'
site gt-as-lt engine/ss_match.c 'return e->op == SS_OP_GT ? have > want : have < want;' \
    'return e->op == SS_OP_GT ? have < want : have < want;'
site pods-limit-ignored engine/ss_state.c 'if (s->free_pods[node] < 1)' 'if (0 && s->free_pods[node] < 1)'
# the fast engine's inlined fit check for plain (no GPU, no extended) pods
site pods-limit-ignored engine/ss_sched_shard.c 'st->free_pods[i] < 1 ||' '0 ||'
site gpu-model-ignored engine/ss_match.c 'if (tm->req.gpu_count <= 0 || tm->model_count <= 0)' \
    'if (1 || tm->req.gpu_count <= 0 || tm->model_count <= 0)'
site gpu-model-ignored engine/ss_state.c 'if (t->model_count == 0)' 'if (1 || t->model_count == 0)'
site gang-below-min-committed engine/ss_sched.c 'if (group >= 0 && total < c->group_min_member[group]) {' \
    'if (0 && group >= 0 && total < c->group_min_member[group]) {'
site gang-below-min-committed engine/ss_exhaustive.c 'if (group >= 0 && placed < c->group_min_member[group])' \
    'if (0 && group >= 0 && placed < c->group_min_member[group])'

tmp=$(mktemp -d /tmp/ss-mutation.XXXXXX)
cleanup() { [ $keep = 1 ] && echo "scratch kept: $tmp" >&2 || rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -p "$tmp/src" "$tmp/pristine"
(cd "$here" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$tmp/src"
for f in $(printf '%s\n' "${s_file[@]}" | sort -u); do
    [ -f "$tmp/src/$f" ] || { echo "mutation-check: $f: file not found (re-point its sites)" >&2; exit 2; }
    mkdir -p "$tmp/pristine/$(dirname "$f")"
    cp -p "$tmp/src/$f" "$tmp/pristine/$f"
done

build() { cmake --build "$tmp/build" -j2 > "$tmp/build.log" 2>&1; }
# Prints the failing tests: ctest names, test_golden as test_golden(case).
run_tests() {
    local failed=()
    (cd "$tmp/build" && ctest -R '^test_' -E '^test_golden$' -j2 > "$tmp/ctest.log" 2>&1)
    mapfile -t failed < <(sed -En 's/^[[:space:]]*[0-9]+ - (test_[a-z_0-9]+) .*/\1/p' "$tmp/ctest.log")
    if ! (cd "$tmp/build/tests" && SS_GOLDEN_QUICK=1 ./test_golden > "$tmp/golden.log" 2>&1); then
        local cases
        cases=$(sed -n 's/^\[  FAILED  \] \([a-z_0-9]*\)$/\1/p' "$tmp/golden.log" | awk '!seen[$0]++' | paste -sd, -)
        failed+=("test_golden(${cases:-?})")
    fi
    echo "${failed[*]}"
}

echo "mutation-check: building $tmp/src" >&2
cmake -S "$tmp/src" -B "$tmp/build" > "$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; exit 2; }
build || { tail -20 "$tmp/build.log"; exit 2; }
base=$(run_tests)
if [ -n "$base" ]; then
    echo "mutation-check: the unmutated tree fails: $base" >&2
    exit 2
fi

status=0
rows=()
for n in "${names[@]}"; do
    if [ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" $n "* ]]; then continue; fi
    ok=1
    touched=()
    for i in "${!s_name[@]}"; do
        [ "${s_name[$i]}" = "$n" ] || continue
        f=$tmp/src/${s_file[$i]}
        touched+=("${s_file[$i]}")
        if ! FIND=${s_find[$i]} REPL=${s_repl[$i]} perl -0pi -e \
            '$n = s/\Q$ENV{FIND}\E/$ENV{REPL}/g; END { exit($n ? 0 : 3) }' "$f"; then
            echo "mutation-check: $n: pattern not found in ${s_file[$i]}: ${s_find[$i]}" >&2
            ok=0
        fi
    done
    if [ $ok = 0 ]; then
        result="PATTERN NOT FOUND"
        status=1
    elif ! build; then
        result="BUILD FAILED (see $tmp/build.log with --keep)"
        status=1
    else
        echo "mutation-check: $n: testing" >&2
        result=$(run_tests)
        if [ -z "$result" ]; then
            result="NONE (not caught)"
            status=1
        fi
    fi
    rows+=("$n | $result")
    for f in "${touched[@]}"; do # restore; the next build recompiles them
        cp "$tmp/pristine/$f" "$tmp/src/$f" && touch "$tmp/src/$f"
    done
done

echo
echo "mutation | tests that fail"
echo "--- | ---"
printf '%s\n' "${rows[@]}"
exit $status
