#!/usr/bin/env bash
# e2e_variants: the FGD sensitivity-study variants (scripts/fgd_variants.py)
# have the shares they claim, are the same on every run, and the sweep
# (scripts/fgd_variants_sweep.sh) runs them through the binary: its "default"
# variant gives the figures of the original trace.  usage: bash e2e_variants.sh BINARY WORKDIR
set -euo pipefail
bin=$1
work=$2
src=${SS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
data=${SS_TEST_DATA_DIR:-$src/tests/data}
rm -rf "$work" && mkdir -p "$work" && cd "$work"
gen() { python3 "$src/scripts/fgd_variants.py" "$data/openb/openb_pod_list_default.csv" \
          "$data/openb/openb_node_list_gpu_node.csv" "$1"; }
gen a > shares.txt
gen b > /dev/null
for f in a/*.csv; do cmp "$f" "b/$(basename "$f")"; done  # seeded: the same files
test "$(ls a/*.csv | wc -l)" -eq 16
line() { grep "^$1 " shares.txt; }
# 1,088 CPU-only pods of 8,152: x2 adds 1,088, x0.5 drops 544, x2.5 adds 1,632
line default | grep -q 'pods  8152'
line cpu200 | grep -q 'pods  9240'
line cpu050 | grep -q 'pods  7608'
line cpu250 | grep -q 'pods  9784'
line gpushare100 | grep -q 'sharing 100.0 %, multi-GPU  0.0 %'
line multigpu50 | grep -q 'multi-GPU 49.9 %'
line gpuspec33 | grep -q 'model-constrained 33.0 %'
# gpuspec: only GPU pods get a model, and only models of the cluster
awk -F, 'NR > 1 && $6 != "" && $4 == 0 { exit 1 }' a/openb_pod_list_gpuspec33.csv
cut -d, -f5 "$data/openb/openb_node_list_gpu_node.csv" | sort -u > models.txt
tail -n +2 a/openb_pod_list_gpuspec33.csv | cut -d, -f6 | tr '|' '\n' | grep -v '^$' | sort -u |
  while read -r m; do grep -qx "$m" models.txt; done

# the sweep: 2 variants x 2 policies x 2 seeds
SS_SHARED_DATA_DIR=$data VARIANTS="default cpu200" SEEDS=2 \
  bash "$src/scripts/fgd_variants_sweep.sh" "$bin" sweep fgd fgd-cpu > table.txt
test "$(tail -n +2 sweep/summary.csv | wc -l)" -eq 8
grep -q '^default ' table.txt && grep -q '^cpu200 ' table.txt && grep -q 'sweep wall time' table.txt
# the "default" variant (pods renamed, same order) gives the original trace's figures
"$bin" import --openb-nodes "$data/openb/openb_node_list_gpu_node.csv" \
  --openb-pods "$data/openb/openb_pod_list_default.csv" -o trace.h5 > /dev/null
"$bin" replay -i trace.h5 --policy fgd-cpu --seed 42 --seeds 2 --summary-csv orig.csv -q
grep '^openb_pod_list_default,fgd-cpu,' sweep/summary.csv | cut -d, -f2- > got.txt
tail -n +2 orig.csv | cut -d, -f2- | cmp - got.txt
echo "e2e_variants: ok"
