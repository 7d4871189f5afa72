#!/usr/bin/env bash
# fgd_mig_sweep.sh: the MIG what-if of the FGD protocol (docs/evaluation.md,
# "MIG what-if"): the arrival sweep of `shardsched replay --protocol fgd`
# with time-slicing (--mig off) and with MIG instances on fixed layouts
# (fixed:all-1g.10gb, fixed:half-3g.40gb, fixed:trace-mix) and on layouts chosen on demand
# (relayout), for each policy x seeds 42..42+SEEDS-1. Writes OUTDIR/runs/
# MODE-POLICY-SEED.h5 (the curves), OUTDIR/MODE.csv (one summary row per
# run), prints the table of means at 100 % arrived workload and the sweep's
# wall time. Plot: scripts/plot_fgd_mig.py OUT.png OUTDIR/runs/*.h5
#
# usage: scripts/fgd_mig_sweep.sh [BINARY] [OUTDIR] [POLICIES...]
#   BINARY    shardsched (default build/shardsched)
#   OUTDIR    default fgd-mig-sweep
#   POLICIES  default: fgd bestfit
#   SEEDS=N   seeds from 42 (default 10)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/shardsched}
out=${2:-fgd-mig-sweep}
shift $(( $# > 2 ? 2 : $# ))
policies=${*:-fgd bestfit}
seeds=${SEEDS:-10}
modes="off fixed:all-1g.10gb fixed:half-3g.40gb fixed:trace-mix relayout"
data=${SS_SHARED_DATA_DIR:-$here/../shared/data}/openb
mkdir -p "$out/runs"
if [ ! -s "$out/trace.h5" ]; then
  "$bin" import --openb-nodes "$data/openb_node_list_gpu_node.csv" \
    --openb-pods "$data/openb_pod_list_default.csv" -o "$out/trace.h5" > /dev/null
fi
start=$(date +%s.%N)
for m in $modes; do
  f=${m//[:.]/-}
  rm -f "$out/$f.csv"
  for p in $policies; do
    for s in $(seq 42 $((41 + seeds))); do
      "$bin" replay -i "$out/trace.h5" -o "$out/runs/$f-$p-$s.h5" --protocol fgd --policy "$p" \
        --seed "$s" --mig "$m" --summary-csv "$out/$f.csv" -q > /dev/null
    done
  done
done
end=$(date +%s.%N)
gpus=$(h5dump -a /gpu_capacity_milli "$out/runs/relayout-${policies%% *}-42.h5" |
  awk '/\(0\)/ { print $2 / 1000 }')
printf "%-20s %-8s %9s %9s %11s %11s %9s %9s\n" mode policy unalloc% "(min-max)" unused_c \
  "unused_c%" unused_m relayouts
for m in $modes; do
  f=${m//[:.]/-}
  awk -F, -v mode="$m" -v gpus="$gpus" '
    NR > 1 { k = $2; if (!(k in n)) ord[++np] = k; n[k]++; u[k] += $4;
             if (!(k in lo) || $4 < lo[k]) lo[k] = $4; if (!(k in hi) || $4 > hi[k]) hi[k] = $4;
             c[k] += $8; mm[k] += $9; r[k] += $11 }
    END { for (i = 1; i <= np; i++) { k = ord[i];
            printf "%-20s %-8s %9.2f %4.2f-%-4.2f %11.1f %10.2f%% %9.1f %9.1f\n", mode, k,
                   u[k] / n[k], lo[k], hi[k], c[k] / n[k], 100 * c[k] / n[k] / 7 / gpus,
                   mm[k] / n[k], r[k] / n[k] } }' "$out/$f.csv"
done
awk -v a="$start" -v b="$end" 'BEGIN { printf "sweep wall time: %.1f s\n", b - a }'
