#!/usr/bin/env bash
# fgd_sweep.sh: the FGD paper's evaluation on the OpenB trace: every policy x
# seeds 42-51 through `shardsched replay --protocol fgd`, one metrics file per
# run, one summary CSV, and the table of means (unallocated GPU % at 100 %
# arrived workload) next to the paper's. Prints the sweep's wall time.
#
# usage: scripts/fgd_sweep.sh [BINARY] [OUTDIR] [POLICIES...]
#   BINARY   shardsched (default build/shardsched)
#   OUTDIR   where trace.h5, runs/*.h5 and summary.csv go (default fgd-sweep)
#   POLICIES default: random dotprod gpuclustering gpupacking bestfit fgd fgd-reserve fgd-cpu
#            fgd-fill
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/shardsched}
out=${2:-fgd-sweep}
shift $(( $# > 2 ? 2 : $# ))
policies=${*:-random dotprod gpuclustering gpupacking bestfit fgd fgd-reserve fgd-cpu fgd-fill}
data=${SS_SHARED_DATA_DIR:-$here/../shared/data}/openb
mkdir -p "$out/runs"
if [ ! -s "$out/trace.h5" ]; then
  "$bin" import --openb-nodes "$data/openb_node_list_gpu_node.csv" \
    --openb-pods "$data/openb_pod_list_default.csv" -o "$out/trace.h5"
fi
rm -f "$out/summary.csv"
start=$(date +%s.%N)
for p in $policies; do
  for s in $(seq 42 51); do
    "$bin" replay -i "$out/trace.h5" -o "$out/runs/$p-$s.h5" --protocol fgd --policy "$p" \
      --seed "$s" --summary-csv "$out/summary.csv" > /dev/null
  done
done
end=$(date +%s.%N)
awk -F, 'BEGIN {
    paper["random"] = 13.70; paper["dotprod"] = 9.38; paper["gpuclustering"] = 8.35;
    paper["gpupacking"] = 8.22; paper["bestfit"] = 7.14; paper["fgd"] = 4.77 }
  NR > 1 { n[$2]++; s[$2] += $4; if (!($2 in lo) || $4 < lo[$2]) lo[$2] = $4;
           if (!($2 in hi) || $4 > hi[$2]) hi[$2] = $4; if (!($2 in ord)) ord[$2] = ++k; name[k] = $2 }
  END { printf "%-14s %8s %8s %8s %8s %8s\n", "policy", "measured", "min", "max", "paper", "diff";
        for (i = 1; i <= k; i++) { p = name[i]; m = s[p] / n[p];
          if (p in paper) printf "%-14s %8.2f %8.2f %8.2f %8.2f %+8.2f\n", p, m, lo[p], hi[p], paper[p], m - paper[p];
          else printf "%-14s %8.2f %8.2f %8.2f %8s %8s\n", p, m, lo[p], hi[p], "-", "-" } }' "$out/summary.csv"
awk -v a="$start" -v b="$end" 'BEGIN { printf "sweep wall time: %.1f s\n", b - a }'
