#!/bin/bash
# e2e_cli: the command line conventions (issue 9) through the real binary:
# --version, help CMD == CMD --help, an Examples: section in every help,
# two-line usage errors with exit 2, policy validation and --list-policies,
# inspect -i FILE == inspect FILE, bind --input, -o json of verify and
# inspect, a write error on stdout is an error, progress only on a terminal.
# usage: bash e2e_cli.sh BINARY WORKDIR
set -euo pipefail
BIN=$1
WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail() { echo "FAIL: $*" >&2; exit 1; }
COMMANDS="gen schedule verify inspect import replay bind bench"

# --version and version: "shardsched X.Y.Z[ (git describe)]"
$BIN --version > v1.txt
$BIN version > v2.txt
cmp -s v1.txt v2.txt || fail "--version and version differ"
grep -Eqx 'shardsched [0-9]+\.[0-9]+\.[0-9]+( \(.*\))?' v1.txt || fail "version form: $(cat v1.txt)"

# help: top level and per command; help CMD == CMD --help; Examples:; exit 0
$BIN --help > top.txt || fail "--help exited non-zero"
$BIN help > top2.txt && cmp -s top.txt top2.txt || fail "help != --help"
for c in $COMMANDS; do
    $BIN "$c" --help > "h-$c.txt" 2> "h-$c.err" || fail "$c --help exited non-zero"
    [ ! -s "h-$c.err" ] || fail "$c --help wrote to stderr"
    $BIN help "$c" > "hh-$c.txt" || fail "help $c exited non-zero"
    cmp -s "h-$c.txt" "hh-$c.txt" || fail "help $c differs from $c --help"
    grep -q '^Examples:' "h-$c.txt" || fail "$c --help has no Examples:"
    n=$(sed -n '/^Examples:/,$p' "h-$c.txt" | grep -c '^  ')
    [ "$n" -ge 2 ] || fail "$c --help has fewer than 2 examples"
    if grep -Eq 'PRODUCT\.md|fgd-protocol|\.\./shared' "h-$c.txt"; then
        fail "$c --help points outside the repository"
    fi
done
for c in gen schedule replay bench; do
    grep -q 'mpirun' <(sed -n '/^Examples:/,$p' "h-$c.txt") || fail "$c: no mpirun example"
done

# usage errors: exactly two lines on stderr, exit 2, nothing on stdout
usage_error() { # NAME ARGS...: the command must fail with a usage error
    local name=$1 rc=0
    shift
    "$BIN" "$@" > ue.out 2> ue.err || rc=$?
    [ "$rc" -eq 2 ] || fail "$name: exit $rc, want 2 ($(cat ue.err))"
    [ "$(wc -l < ue.err)" -eq 2 ] || fail "$name: stderr is not 2 lines: $(cat ue.err)"
    [ ! -s ue.out ] || fail "$name: wrote to stdout"
    local cmd=${1#-}
    case "$1" in -*|frob|help) cmd="";; esac
    if [ -n "$cmd" ]; then
        head -1 ue.err | grep -q "^shardsched $1: " || fail "$name: first line: $(head -1 ue.err)"
        tail -1 ue.err | grep -qx "see 'shardsched $1 --help'" || fail "$name: second line"
    fi
}
for c in $COMMANDS; do
    usage_error "$c --frob" "$c" --frob
    usage_error "$c stray" "$c" stray-arg stray-arg2
done
usage_error "gen missing -o" gen --nodes 10
usage_error "gen --nodes abc" gen --nodes abc -o x.h5
usage_error "gen --seed -3" gen --seed -3 -o x.h5
usage_error "gen --used 2" gen --used 2 -o x.h5
usage_error "gen --pods (no value)" gen --pods
usage_error "schedule missing -o" schedule -i c.h5
usage_error "schedule --shard-nodes 0" schedule -i c.h5 -o p.h5 --shard-nodes 0
usage_error "verify missing -p" verify -i c.h5
usage_error "verify -o xml" verify -i c.h5 -p p.h5 -o xml
usage_error "inspect no file" inspect
usage_error "import mixed" import --nodes n.json --openb-pods p.csv -o x.h5
usage_error "replay --protocol" replay -i t.h5 -o m.h5 --protocol nope
usage_error "bind both" bind -i c.h5 -p p.h5 --emit x --server http://x
usage_error "bind --concurrency 0" bind -i c.h5 -p p.h5 --emit x --concurrency 0
usage_error "bench no scenario" bench
usage_error "bench --scenario huge" bench --scenario huge
usage_error "unknown command" frob
usage_error "unknown option" --frob
usage_error "help unknown" help frob
rc=0; $BIN > /dev/null 2> ue.err || rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l < ue.err)" -eq 2 ] || fail "no command: exit $rc, $(cat ue.err)"

# --policy: unknown names are usage errors naming the policy; --list-policies
usage_error "schedule --policy" schedule -i c.h5 -o p.h5 --policy nosuch
grep -q "nosuch" ue.err || fail "schedule: unknown policy not named"
usage_error "bench --policy" bench --scenario small --policy nosuch
grep -q "nosuch" ue.err || fail "bench: unknown policy not named"
usage_error "replay --policy" replay -i t.h5 -o m.h5 --policy nosuch
grep -q "nosuch" ue.err || fail "replay: unknown policy not named"
for c in schedule bench replay; do
    $BIN $c --list-policies > "lp-$c.txt" || fail "$c --list-policies exited non-zero"
    grep -q '^least-allocated  *[a-z]' "lp-$c.txt" || fail "$c --list-policies: no name + help"
done
grep -q '^fgd ' lp-replay.txt || fail "replay --list-policies lacks fgd"

# a cluster and its placements for the rest
$BIN gen --nodes 300 --pods 3000 --seed 4 -o c.h5 2> gen.err
[ "$(wc -l < gen.err)" -eq 1 ] || fail "gen with stderr to a file wrote more than its summary"
if grep -q $'\r' gen.err; then fail "progress drawn although stderr is a file"; fi
$BIN gen --nodes 300 --pods 3000 --seed 4 -o c2.h5 -q 2> genq.err
[ ! -s genq.err ] || fail "gen -q wrote to stderr: $(cat genq.err)"
cmp -s c.h5 c2.h5 || fail "gen -q changed the file"
$BIN schedule -i c.h5 -o p.h5 2> sched.err
[ "$(wc -l < sched.err)" -eq 1 ] || fail "schedule with stderr to a file: $(cat -v sched.err)"
$BIN schedule --input c.h5 --output p2.h5 --quiet 2> schedq.err
[ ! -s schedq.err ] || fail "schedule --quiet wrote to stderr"
h5diff --exclude-path /run p.h5 p2.h5 > /dev/null || fail "long and short spellings gave different placements"

# inspect -i F == inspect F, both kinds
for f in c.h5 p.h5; do
    $BIN inspect "$f" > i1.txt
    $BIN inspect -i "$f" > i2.txt
    $BIN inspect --input "$f" -q > i3.txt
    cmp -s i1.txt i2.txt && cmp -s i1.txt i3.txt || fail "inspect -i $f differs from inspect $f"
done
usage_error "inspect twice" inspect -i c.h5 p.h5

# -o json: one object on stdout, with the figures
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
$BIN verify -i c.h5 -p p.h5 -o json > v.json || fail "verify -o json exited non-zero"
[ "$(json 'd["ok"], d["violations"], d["pending"]' < v.json)" = "True 0 3000" ] \
    || fail "verify json: $(cat v.json)"
placed_text=$($BIN verify -i c.h5 -p p.h5 | sed -n 's/.*placed: \([0-9]*\).*/\1/p')
[ "$(json 'd["placed"]' < v.json)" = "$placed_text" ] || fail "verify json placed != text"
json 'd["utilisation"]["cpu"]["after_pct"], d["unschedulable_by_reason"], d["gangs"]' < v.json \
    > /dev/null || fail "verify json lacks keys"
$BIN verify --input c.h5 --placements p.h5 --output json > v2.json
cmp -s v.json v2.json || fail "verify --output json differs from -o json"
$BIN inspect c.h5 -o json > ic.json
[ "$(json 'd["kind"], d["nodes"], d["pending"]' < ic.json)" = "cluster 300 3000" ] \
    || fail "inspect json (cluster): $(cat ic.json)"
$BIN inspect -i p.h5 -o json > ip.json
[ "$(json 'd["kind"], d["pending"], d["placed"]' < ip.json)" = "placements 3000 $placed_text" ] \
    || fail "inspect json (placements): $(cat ip.json)"

# a verify with violations still gives valid JSON, and exit 1
$BIN gen --nodes 300 --pods 3000 --seed 5 -o other.h5 -q
rc=0; $BIN verify -i other.h5 -p p.h5 -o json > bad.json 2> /dev/null || rc=$?
if [ "$rc" -eq 1 ]; then
    [ "$(json 'd["ok"]' < bad.json)" = "False" ] || fail "violations but ok in json"
fi

# stdout that cannot be written is an error
if $BIN verify -i c.h5 -p p.h5 > /dev/full 2> full.err; then fail "verify > /dev/full exited 0"; fi
grep -q "stdout" full.err || fail "the /dev/full error does not name stdout: $(cat full.err)"
if $BIN inspect c.h5 -o json > /dev/full 2> /dev/null; then fail "inspect > /dev/full exited 0"; fi
if $BIN --version > /dev/full 2> /dev/null; then fail "--version > /dev/full exited 0"; fi

# bind accepts --input and --placements
$BIN bind --input c.h5 --placements p.h5 --emit b1.json -q 2> bind.err || fail "bind --input"
[ ! -s bind.err ] || fail "bind -q wrote to stderr"
$BIN bind -i c.h5 -p p.h5 --emit b2.json 2> /dev/null
cmp -s b1.json b2.json || fail "bind --input differs from -i"

# progress: drawn on a terminal (script gives stderr a pty), erased at the end
if command -v script > /dev/null; then
    script -q -c "$BIN schedule -i c.h5 -o p3.h5" /dev/null > tty.txt < /dev/null || true
    grep -q 'schedule: place' tty.txt || fail "no progress line on a terminal: $(cat -v tty.txt)"
    script -q -c "$BIN schedule -i c.h5 -o p4.h5 -q" /dev/null > ttyq.txt < /dev/null || true
    if grep -q 'schedule: place' ttyq.txt; then fail "progress drawn with -q"; fi
    h5diff --exclude-path /run p.h5 p3.h5 > /dev/null || fail "progress changed the placements"
fi
echo "e2e_cli: ok"
