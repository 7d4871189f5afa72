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

# every policy is listed, one a line: name, then its summary
"$bin" replay --list-policies | awk '{print $1}' > policies.txt
for p in random dotprod gpuclustering gpupacking bestfit fgd fgd-reserve fgd-cpu fgd-fill \
         least-allocated most-allocated balanced; do grep -qx "$p" policies.txt; done

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

# --seeds N without -o: N summary rows, the same as N runs one by one; with -o a usage error
"$bin" replay -i trace.h5 --policy fgd-cpu --seed 43 --seeds 2 --summary-csv seeds.csv -q
for s in 43 44; do
  "$bin" replay -i trace.h5 -o "one-$s.h5" --policy fgd-cpu --seed "$s" --summary-csv one.csv -q
done
cmp seeds.csv one.csv
test "$(wc -l < seeds.csv)" -eq 3
rc=0; "$bin" replay -i trace.h5 -o x.h5 --seeds 2 --summary-csv x.csv 2> err.txt || rc=$?
test "$rc" -eq 2 && grep -q -- "--seeds 2 needs" err.txt && test ! -e x.h5 && test ! -e x.csv
rc=0; "$bin" replay -i trace.h5 2> err.txt || rc=$?
test "$rc" -eq 2 && grep -q -- "-o metrics.h5 is required" err.txt

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
# issue 10, item 19: the five-column pod list (no gpu_spec, qos, phase or
# times), with a BOM and CR LF in both files, imports; with no gpu_spec in the
# default trace, the fgd protocol (which ignores times) gives the same metrics
mkdir -p five
{ printf '\xef\xbb\xbf'; sed 's/$/\r/' "$data/openb_node_list_gpu_node.csv"; } > five/nodes.csv
{ printf '\xef\xbb\xbf'; cut -d, -f1-5 "$data/openb_pod_list_default.csv" | sed 's/$/\r/'; } \
  > five/openb_pod_list_default.csv
head -1 five/openb_pod_list_default.csv | grep -q 'name,cpu_milli,memory_mib,num_gpu,gpu_milli.$'
"$bin" import --openb-nodes five/nodes.csv --openb-pods five/openb_pod_list_default.csv -o five.h5
"$bin" replay -i five.h5 -o m-five.h5 --protocol fgd --policy FGD --seed 43
h5diff m-fgd-1.h5 m-five.h5

# a directory as input says so
if "$bin" import --openb-nodes . --openb-pods bad.csv -o bad.h5 2> err.txt; then exit 1; fi
grep -q "is a directory" err.txt

# issue 10, item 7: every pod is counted at every window (pods shorter than a
# window used to vanish: 2,680 placed + 0 never placed of 8,152 at 3600 s)
for w in 1 60 3600 100000000; do
  "$bin" replay -i trace.h5 -o "m-w$w.h5" --protocol time --batch-window "$w" -q > out.txt
  sum=$(sed -E 's/.* ([0-9]+) placed, ([0-9]+) never placed .*, ([0-9]+) pending at the end.*/\1+\2+\3/' out.txt)
  test "$((sum))" -eq 8152 || { cat out.txt; exit 1; }
done
echo "e2e_replay: OK"
