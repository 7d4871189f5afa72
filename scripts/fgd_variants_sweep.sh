#!/usr/bin/env bash
# fgd_variants_sweep.sh: the FGD paper's sensitivity study on our variants of
# the OpenB trace (scripts/fgd_variants.py): every variant x policy x seeds
# 42-51 through `shardsched replay --protocol fgd --seeds 10` (one process per
# variant and policy, the snapshot read once), JOBS of them at a time. Writes
# OUTDIR/variants/*.csv|*.h5, OUTDIR/summary.csv (one row per run), prints the
# table of unallocated GPU % at 100 % arrival (mean, std and min-max over the
# seeds; scripts/fgd_variants_table.py) and the sweep's wall time.
#
# usage: scripts/fgd_variants_sweep.sh [BINARY] [OUTDIR] [POLICIES...]
#   BINARY    shardsched (default build/shardsched)
#   OUTDIR    default fgd-variants
#   POLICIES  default: random dotprod gpuclustering gpupacking bestfit fgd fgd-reserve fgd-cpu
#             fgd-fill
#   JOBS=N    parallel replays (default 2); SEEDS=N seeds from 42 (default 10);
#   VARIANTS="default cpu200 ..." a subset (default: all of fgd_variants.py)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/shardsched}
out=${2:-fgd-variants}
shift $(( $# > 2 ? 2 : $# ))
policies=${*:-random dotprod gpuclustering gpupacking bestfit fgd fgd-reserve fgd-cpu fgd-fill}
data=${SS_SHARED_DATA_DIR:-$here/../shared/data}/openb
jobs=${JOBS:-2}
seeds=${SEEDS:-10}
py=${PYTHON:-python3}
mkdir -p "$out/variants" "$out/parts"
start=$(date +%s.%N)
# shellcheck disable=SC2086
"$py" "$here/scripts/fgd_variants.py" "$data/openb_pod_list_default.csv" \
  "$data/openb_node_list_gpu_node.csv" "$out/variants" ${VARIANTS:+--only $VARIANTS} \
  > "$out/variants/shares.txt"
variants=${VARIANTS:-$(awk '{print $1}' "$out/variants/shares.txt")}
for v in $variants; do
  csv="$out/variants/openb_pod_list_$v.csv" h5="$out/variants/$v.h5"
  if [ ! -s "$h5" ] || [ "$csv" -nt "$h5" ]; then
    rm -f "$h5"
    "$bin" import --openb-nodes "$data/openb_node_list_gpu_node.csv" --openb-pods "$csv" \
      -o "$h5" > /dev/null
  fi
done
rm -f "$out"/parts/*.csv "$out/summary.csv"
for v in $variants; do for p in $policies; do echo "$v $p"; done; done |
  xargs -P "$jobs" -n 2 sh -c '"$0" replay -i "$1/variants/$3.h5" --protocol fgd --policy "$4" \
    --seed 42 --seeds "$2" --summary-csv "$1/parts/$3-$4.csv" -q > /dev/null' \
    "$bin" "$out" "$seeds"
end=$(date +%s.%N)
{ echo "trace,policy,seed,unalloc_pct_at_100,unalloc_pct_at_130,frag_rate_pct_at_90"
  for f in "$out"/parts/*.csv; do tail -n +2 "$f"; done; } > "$out/summary.csv"
"$py" "$here/scripts/fgd_variants_table.py" "$out/summary.csv"
awk -v a="$start" -v b="$end" -v n="$(tail -n +2 "$out/summary.csv" | wc -l)" \
  'BEGIN { printf "sweep wall time: %.1f s for %d runs\n", b - a, n }'
