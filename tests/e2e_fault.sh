#!/bin/bash
# Allocation fault injection in CI: a seeded sample of the allocation sites a
# tiny 2-rank schedule (and verify, inspect) reaches, each failed once on the
# rank that reached it, must end cleanly within seconds: no hang, no crash,
# exit 1 with one message and no output file (or success when the code
# tolerates the failure). scripts/fault-inject.sh with no sample runs all.
set -euo pipefail
WORK=$2
FBIN=${SS_FAULT_BIN:?SS_FAULT_BIN: the shardsched_fault binary}
SEED=${SS_FAULT_SEED:-$(date +%j)}
echo "e2e_fault: seed $SEED (rerun with SS_FAULT_SEED=$SEED)"
OMP_NUM_THREADS=1 SS_FAULT_TIMEOUT=30 bash "$SS_SOURCE_DIR/scripts/fault-inject.sh" "$FBIN" "$WORK" \
    "${SS_FAULT_SAMPLE:-10}" "$SEED"
echo "e2e_fault: ok"
