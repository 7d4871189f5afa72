#!/usr/bin/env bash
# e2e_replay: OpenB import + replay through the real binary, under mpirun -n 1
# and -n 2: identical metrics files (h5diff), both protocols; bad input exits
# non-zero and writes nothing.  usage: bash e2e_replay.sh BINARY WORKDIR
set -euo pipefail
bin=$1
work=$2
data=${SS_TEST_DATA_DIR:-$(cd "$(dirname "$0")" && pwd)/data}/openb
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rm -rf "$work" && mkdir -p "$work" && cd "$work"
run() { mpirun --oversubscribe -n "$1" "${@:2}"; }

"$bin" import --openb-nodes "$data/openb_node_list_gpu_node.csv" \
  --openb-pods "$data/openb_pod_list_default.csv" -o trace.h5
test -s trace.h5

# every policy is listed, one a line
"$bin" replay --list-policies > policies.txt
for p in random dotprod gpuclustering gpupacking bestfit fgd fgd-reserve least-allocated \
         most-allocated balanced; do grep -qx "$p" policies.txt; done

for proto in fgd time; do
  for n in 1 2; do
    run "$n" "$bin" replay -i trace.h5 -o "m-$proto-$n.h5" --protocol "$proto" --policy FGD \
      --seed 43 --summary-csv "s-$proto-$n.csv"
  done
  h5diff "m-$proto-1.h5" "m-$proto-2.h5"
done
cmp s-fgd-1.csv s-fgd-2.csv
head -1 s-fgd-1.csv | grep -qx 'trace,policy,seed,unalloc_pct_at_100,unalloc_pct_at_130,frag_rate_pct_at_90'
grep -q '^openb_pod_list_default,fgd,43,' s-fgd-1.csv
h5dump -a /kind m-fgd-1.h5 | grep -q '"metrics"'

# unknown policy: exit 2 on every rank, nothing written
if run 2 "$bin" replay -i trace.h5 -o bad.h5 --policy nope 2> err.txt; then exit 1; fi
grep -q "unknown policy" err.txt
test ! -e bad.h5

# a malformed CSV: error names file, line and column; nothing written
printf 'name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time\np,1,x,0,0,,0,1\n' > bad.csv
if "$bin" import --openb-nodes "$data/openb_node_list_gpu_node.csv" --openb-pods bad.csv \
    -o bad.h5 2> err.txt; then exit 1; fi
grep -q "bad.csv:2: column 3 (memory_mib)" err.txt
test ! -e bad.h5
echo "e2e_replay: OK"
