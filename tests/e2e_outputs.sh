#!/bin/bash
# e2e_outputs: issue 10's output and placements items through the real binary.
#  - an output that is an input (also as ./x and through a symlink) is refused
#    with exit 2 by schedule, bind (--emit, --journal), replay and import, and
#    the input is untouched (item 5);
#  - verify and bind refuse placements of another snapshot (fingerprint), bind
#    refuses placements the verifier rejects (every node cordoned) (item 6);
#  - inspect's totals never go negative on values the format allows (item 9);
#  - a full disk under schedule (one process and mpirun -n 2), gen -o and
#    gen --emit-kube: exit 1, the errno text, no crash, nothing left behind
#    (item 14; needs root to mount a small tmpfs, skipped otherwise);
#  - SIGINT during a write leaves no temporary file (item 14).
# usage: bash e2e_outputs.sh BINARY WORKDIR
set -uo pipefail
BIN=$1
WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
fail() { echo "FAIL: $*" >&2; exit 1; }
MPIRUN="mpirun -n 2 --oversubscribe --bind-to none"

# expect_refused STATUS PATTERN FILE -- CMD...: CMD exits STATUS, its stderr
# matches PATTERN, FILE is byte-identical afterwards.
expect_refused() {
    local want=$1 pat=$2 keep=$3
    shift 4
    cp "$keep" keep.copy
    "$@" > out.txt 2> err.txt
    local st=$?
    [ "$st" -eq "$want" ] || fail "'$*' exited $st, expected $want: $(cat err.txt)"
    grep -q -- "$pat" err.txt || fail "'$*': message lacks '$pat': $(cat err.txt)"
    cmp -s "$keep" keep.copy || fail "'$*' changed $keep"
}

$BIN gen --nodes 30 --pods 200 --seed 3 -q -o c.h5 --emit-kube k || fail "gen"
$BIN schedule -i c.h5 -o p.h5 -q || fail "schedule"

# ---- item 5: output == input
same="is the input"
expect_refused 2 "output c.h5 $same c.h5" c.h5 -- $BIN schedule -i c.h5 -o c.h5
expect_refused 2 "output c.h5 $same ./c.h5" c.h5 -- $BIN schedule -i ./c.h5 -o c.h5
ln -sf c.h5 link.h5
expect_refused 2 "output link.h5 $same c.h5" c.h5 -- $BIN schedule -i c.h5 -o link.h5
expect_refused 2 "$same" c.h5 -- $MPIRUN $BIN schedule -i c.h5 -o ./c.h5
expect_refused 2 "output ./c.h5 $same c.h5" c.h5 -- $BIN bind -i c.h5 -p p.h5 --emit ./c.h5
expect_refused 2 "output p.h5 $same p.h5" p.h5 -- $BIN bind -i c.h5 -p p.h5 --emit p.h5
expect_refused 2 "output c.h5 $same c.h5" c.h5 -- \
    $BIN bind -i c.h5 -p p.h5 --server http://127.0.0.1:9 --journal c.h5
expect_refused 2 "output c.h5 $same c.h5" c.h5 -- $BIN replay -i c.h5 -o c.h5
expect_refused 2 "output k/nodes.json $same k/nodes.json" k/nodes.json -- \
    $BIN import --nodes k/nodes.json --pods k/pods.json -o k/nodes.json
expect_refused 2 "output k/../k/pods.json $same k/pods.json" k/pods.json -- \
    $BIN import --nodes k/nodes.json --pods k/pods.json -o k/../k/pods.json
grep -q "see 'shardsched import --help'" err.txt || fail "usage error is not two lines"
ls | grep -q '\.tmp\.' && fail "a refused command left a temporary"

# ---- item 6: fingerprint; bind runs the verifier
$BIN gen --nodes 31 --pods 200 --seed 3 -q -o other.h5 || fail "gen other"
expect_refused 2 "p.h5 was computed for another snapshot (fingerprint [0-9a-f]*, this snapshot is" \
    p.h5 -- $BIN verify -i other.h5 -p p.h5
expect_refused 1 "p.h5 was computed for another snapshot" p.h5 -- \
    $BIN bind -i other.h5 -p p.h5 --emit b.json
[ ! -e b.json ] || fail "bind wrote bindings for another snapshot's placements"
$BIN verify -i c.h5 -p p.h5 -q > /dev/null || fail "verify of good placements"
# every node cordoned: same identity (names), so the fingerprint matches
$BIN import --nodes k/nodes.json --pods k/pods.json -o a.h5 -q || fail "import"
$BIN schedule -i a.h5 -o pa.h5 -q || fail "schedule a"
sed 's/"spec":{}/"spec":{"unschedulable":true}/; s/"spec":{"taints"/"spec":{"unschedulable":true,"taints"/' \
    k/nodes.json > cordoned.json
$BIN import --nodes cordoned.json --pods k/pods.json -o cordoned.h5 -q || fail "import cordoned"
expect_refused 1 "pa.h5: refusing to bind: the verifier finds [0-9]* violation(s) against cordoned.h5, the first: pod .* node cordoned" \
    pa.h5 -- $BIN bind -i cordoned.h5 -p pa.h5 --emit b.json
[ ! -e b.json ] || fail "bind wrote bindings the verifier rejects"
$BIN bind -i a.h5 -p pa.h5 --emit b.json -q || fail "bind of verified placements: $(cat err.txt)"
[ -s b.json ] || fail "bind wrote nothing"

# ---- item 9: inspect totals on 130 nodes of 64 PiB (the sum is beyond int64)
python3 - > fat.json <<'EOF'
import json
items = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "fat-%03d" % i},
          "status": {"allocatable": {"cpu": "1000000", "memory": "64Pi", "pods": "110"}}}
         for i in range(130)]
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
EOF
$BIN import --nodes fat.json -o fat.h5 -q || fail "import fat nodes"
$BIN inspect fat.h5 > fat.txt || fail "inspect fat"
grep -q -- '-[0-9]' fat.txt && fail "inspect printed a negative figure: $(cat fat.txt)"
$BIN inspect fat.h5 -o json > fat.jsn || fail "inspect -o json"
python3 -c 'import json,sys; c=json.load(open("fat.jsn"))["capacity"]; sys.exit(0 if min(c.values())>=0 else 1)' ||
    fail "inspect -o json: negative capacity: $(cat fat.jsn)"

# ---- item 14: SIGINT during a write leaves no temporary (20 tries)
$BIN gen --nodes 20000 --pods 300000 -q -o big.h5 || fail "gen big"
left=0
for i in $(seq 1 20); do
    rm -rf int && mkdir int
    # a background job of a script ignores SIGINT; give the child the default
    python3 -c 'import os,signal,sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
        $BIN gen --nodes 20000 --pods 300000 -q -o int/g.h5 &
    pid=$!
    # wait until the write has begun (its temporary exists), then a random
    # moment of it
    for _ in $(seq 1 1000); do
        ls int | grep -q '\.tmp\.' && break
        kill -0 $pid 2> /dev/null || break
        sleep 0.01
    done
    sleep "0.0$((RANDOM % 10))"
    kill -INT $pid 2> /dev/null
    wait $pid
    n=$(ls int | grep -c '\.tmp\.')
    left=$((left + n))
done
[ "$left" -eq 0 ] || fail "SIGINT left $left temporary file(s) in 20 tries"

# ---- item 14: disk full (a 200 KiB tmpfs; root only)
mkdir -p full
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=200k tmpfs full 2> /dev/null; then
    trap 'umount "$WORK/full" 2> /dev/null' EXIT
    check_full() { # WHAT STATUS: exit 1, errno text, no crash, full/ empty
        [ "$2" -eq 1 ] || fail "$1 on a full disk exited $2: $(cat err.txt)"
        grep -q "No space left on device" err.txt || fail "$1: no errno text: $(cat err.txt)"
        grep -qi "segmentation\|signal" err.txt && fail "$1 crashed: $(cat err.txt)"
        [ -z "$(ls -A full)" ] || fail "$1 left $(ls -A full) behind"
    }
    $BIN schedule -i big.h5 -o full/p.h5 > /dev/null 2> err.txt
    check_full "schedule" $?
    $MPIRUN $BIN schedule -i big.h5 -o full/p.h5 > /dev/null 2> err.txt
    check_full "mpirun -n 2 schedule" $?
    $BIN gen --nodes 20000 --pods 300000 -q -o full/c.h5 2> err.txt
    check_full "gen -o" $?
    $BIN gen --nodes 20000 --pods 300000 -q --emit-kube full/kube 2> err.txt
    check_full "gen --emit-kube" $?
    umount full
else
    echo "SKIP: disk-full checks need root and tmpfs"
fi
echo "e2e_outputs: OK"
