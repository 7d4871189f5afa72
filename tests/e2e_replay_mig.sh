#!/usr/bin/env bash
# e2e_replay_mig: `replay --mig` (the MIG what-if of the FGD protocol) through
# the real binary on the OpenB trace: --mig off writes the same bytes as no
# --mig and no MIG columns; every MIG mode gives the same metrics file under
# mpirun -n 1 and -n 2 (h5diff) with its unused-slice columns and
# attributes; the summary CSV gets the MIG columns; bad usage exits 2.
# usage: bash e2e_replay_mig.sh BINARY WORKDIR
set -euo pipefail
bin=$1
work=$2
data=${SS_TEST_DATA_DIR:-$(cd "$(dirname "$0")" && pwd)/data}/openb
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rm -rf "$work" && mkdir -p "$work" && cd "$work"
run() { mpirun --oversubscribe --bind-to none -n "$1" "${@:2}"; }

"$bin" import --openb-nodes "$data/openb_node_list_gpu_node.csv" \
  --openb-pods "$data/openb_pod_list_default.csv" -o trace.h5

# off: byte-identical to the plain replay, no MIG datasets or attributes
"$bin" replay -i trace.h5 -o plain.h5 --policy fgd --seed 43 -q > plain.txt
"$bin" replay -i trace.h5 -o off.h5 --policy fgd --seed 43 -q --mig off > off.txt
cmp plain.h5 off.h5
diff <(sed "s/([0-9.]* s)//" plain.txt) <(sed "s/([0-9.]* s)//" off.txt)
if h5dump -H off.h5 | grep -q 'unused_compute_slices\|"mig"'; then
  echo "--mig off wrote MIG columns" >&2; exit 1
fi

for mode in fixed:all-1g.10gb fixed:half-3g.40gb fixed:trace-mix relayout; do
  f=${mode//[:.]/-}
  for n in 1 2; do
    run "$n" "$bin" replay -i trace.h5 -o "m-$f-$n.h5" --policy fgd --seed 43 -q --mig "$mode" \
      --summary-csv "s-$f-$n.csv" > "out-$f-$n.txt"
  done
  h5diff "m-$f-1.h5" "m-$f-2.h5"
  cmp "s-$f-1.csv" "s-$f-2.csv"
  for ds in unused_compute_slices unused_mem_slices mig_gpus node alloc_gpu_milli; do
    h5dump -d "/metrics/$ds" -H "m-$f-1.h5" > /dev/null
  done
  h5dump -a /mig "m-$f-1.h5" | grep -q "\"$mode\""
  h5dump -a /unused_compute_slices_at_100 "m-$f-1.h5" > /dev/null
  grep -q "MIG $mode (what-if, A100 80GB): unused MIG slices" "out-$f-1.txt"
  head -1 "s-$f-1.csv" | grep -qx 'trace,policy,seed,unalloc_pct_at_100,unalloc_pct_at_130,frag_rate_pct_at_90,mig,unused_compute_slices_at_100,unused_mem_slices_at_100,mig_gpus_at_end,relayouts'
  grep -q "^openb_pod_list_default,fgd,43,.*,$mode," "s-$f-1.csv"
done
# relayout lays out every MIG GPU on demand: mig_gpus_at_end == relayouts > 0
awk -F, 'NR == 2 && !($10 == $11 && $11 > 0) { exit 1 }' s-relayout-1.csv
# fixed layouts lay out nothing on demand
awk -F, 'NR == 2 && !($11 == 0 && $10 > 0) { exit 1 }' s-fixed-all-1g-10gb-1.csv

# bad usage: exit 2, no output
st=0; "$bin" replay -i trace.h5 -o bad.h5 --mig sometimes 2> err.txt || st=$?
test "$st" -eq 2 && grep -q 'sometimes' err.txt && test ! -e bad.h5
st=0; "$bin" replay -i trace.h5 -o bad.h5 --protocol time --mig relayout 2> err.txt || st=$?
test "$st" -eq 2 && grep -q 'needs --protocol fgd' err.txt && test ! -e bad.h5
echo "e2e_replay_mig: ok"
