#!/bin/bash
# Parallel HDF5 in `schedule`: each rank reads only its own nodes' capacity
# and the placements are written collectively. The same snapshot gives the
# same placements file (h5diff) with -n 1, 2 and 3; a snapshot corrupted in
# a node row that only the last rank reads fails the run with exactly one
# message, from that rank, naming the file and the dataset, a non-zero exit,
# no hang and no output file; so does a failing write.
set -euo pipefail
BIN=$1
WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
MPIRUN="timeout 120 mpirun --oversubscribe --bind-to none"
export OMP_NUM_THREADS=1
fail() { echo "FAIL: $*" >&2; exit 1; }

# Debian's python3-h5py is installed for /usr/bin/python3 (a pyenv python3
# first on PATH does not see it).
PY=python3
$PY -c 'import h5py' 2>/dev/null || PY=/usr/bin/python3
$PY -c 'import h5py' 2>/dev/null || fail "python3-h5py is not installed (scripts/setup.sh)"

$BIN gen --nodes 2000 --pods 20000 --seed 5 --spread --anti-affinity -o c.h5 2>/dev/null
ref=""
for n in 1 2 3; do
    out="p-$n.h5"
    $MPIRUN -n $n $BIN schedule -i c.h5 -o "$out" --quiet < /dev/null
    $BIN verify -i c.h5 -p "$out" --quiet || fail "violations with -n $n"
    if [ -z "$ref" ]; then ref=$out; continue; fi
    h5diff -c --exclude-path /run "$ref" "$out" || fail "$out differs from $ref"
done
# The naive reference reads serially and writes in parallel; it places
# exactly as the engine does on one partition (only the root attribute
# `exhaustive` differs), every inter-pod rule and preemption included. The
# reference counts domains from scratch for every pod: a smaller cluster.
$BIN gen --nodes 300 --pods 3000 --seed 5 -o small.h5 > /dev/null
$MPIRUN -n 2 $BIN schedule -i small.h5 -o exh.h5 --exhaustive --quiet < /dev/null
$MPIRUN -n 2 $BIN schedule -i small.h5 -o one.h5 --partition-nodes 100000000 --quiet < /dev/null
h5diff -c one.h5 exh.h5 /placements /placements || fail "--exhaustive wrote other placements"
h5diff -c one.h5 exh.h5 /victims /victims || fail "--exhaustive chose other victims"
# The run's time reaches the file (/run, the one part h5diff skips above) and inspect.
$BIN inspect p-2.h5 | grep -q '^schedule time .* on 2 rank(s) x' || fail "inspect shows no schedule time"

# Expect a failed run: $1 = what, $2 = message pattern, $3 = rank; rest = args.
expect_failure() {
    local what=$1 pattern=$2 rank=$3
    shift 3
    rm -f out.h5
    local rc=0
    $MPIRUN "$@" > out.txt 2> err.txt < /dev/null || rc=$?
    [ $rc -ne 0 ] || fail "$what: the run succeeded"
    [ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "$what: hung (timeout)"
    [ "$(grep -c '^shardsched' err.txt)" -eq 1 ] || fail "$what: expected one message: $(cat err.txt)"
    grep -q "rank $rank: .*$pattern" err.txt || fail "$what: wrong message: $(cat err.txt)"
    [ ! -e out.h5 ] || fail "$what: output file left"
    ! ls out.h5.tmp.* > /dev/null 2>&1 || fail "$what: temporary file left"
}

# A negative cpu in the last node row: only the last rank reads that row,
# so the message comes from it (the lowest rank that saw a cause speaks: a
# rank reading every row would be rank 0).
cp c.h5 bad-cpu.h5
$PY - <<'EOF' || fail "corrupting bad-cpu.h5"
import h5py
with h5py.File("bad-cpu.h5", "r+") as f:
    d = f["/nodes/cpu_milli"]
    d[d.shape[0] - 1] = -5
EOF
expect_failure "negative cpu on the last rank" "bad-cpu.h5: /nodes/cpu_milli row 1999" 2 \
    -n 3 $BIN schedule -i bad-cpu.h5 -o out.h5
expect_failure "negative cpu on the last rank (-n 2)" "bad-cpu.h5: /nodes/cpu_milli row 1999" 1 \
    -n 2 $BIN schedule -i bad-cpu.h5 -o out.h5

# A bad GPU capacity. The generator puts GPU nodes in the first rows of each
# of its 3 zones (~667 nodes each); with 20 shards of ~100 nodes over 4 ranks,
# rank 1 owns nodes ~500..1000, so the last GPU node of the second zone.
cp c.h5 bad-gpu.h5
$PY - <<'EOF2' > gpu-row.txt || fail "corrupting bad-gpu.h5"
import h5py
with h5py.File("bad-gpu.h5", "r+") as f:
    begin, count = f["/nodes/gpu_begin"][:], f["/nodes/gpu_count"][:]
    last = max(i for i in range(min(len(count), 1000)) if count[i] > 0)
    f["/gpus/milli"][begin[last]] = 0
    print(last, begin[last])
EOF2
read -r gnode grow < gpu-row.txt
[ "$gnode" -ge 600 ] && [ "$gnode" -lt 900 ] || fail "the second zone's last GPU node is $gnode now: adjust"
expect_failure "bad GPU capacity" "bad-gpu.h5: /gpus/milli row $grow" 1 \
    -n 4 $BIN schedule -i bad-gpu.h5 -o out.h5 --shard-nodes 100

# A write that fails after every rank wrote its slab: the output path is a
# directory, so the final rename fails; the temporary is removed.
mkdir -p out.h5.dir
expect_failure "failing rename" "cannot rename" 0 -n 3 $BIN schedule -i c.h5 -o out.h5.dir
! ls out.h5.dir.tmp.* > /dev/null 2>&1 || fail "temporary left after a failed rename"

echo "e2e_parallel_io: ok"
