#!/bin/bash
# The layering holds (scripts/check-layers.sh): no engine/ file includes
# mpi.h or hdf5.h, mpi/ includes neither io/ nor HDF5, and io/ss_snapshot_mpi
# is the one io/ file that talks MPI. Also checks that the checker can fail.
set -euo pipefail
WORK=$2
SRC=${SS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
fail() { echo "FAIL: $*" >&2; exit 1; }
bash "$SRC/scripts/check-layers.sh" "$SRC" || fail "forbidden include arrows"

# A copy of the tree with one forbidden arrow must be refused.
rm -rf "$WORK" && mkdir -p "$WORK"
for d in engine jobs io mpi cli; do cp -r "$SRC/$d" "$WORK/"; done
echo '#include <mpi.h>' >> "$WORK/io/ss_snapshot.c"
if bash "$SRC/scripts/check-layers.sh" "$WORK" 2> "$WORK/err.txt"; then
    fail "check-layers accepted io/ss_snapshot.c including mpi.h"
fi
grep -q "io/ss_snapshot.c" "$WORK/err.txt" || fail "message does not name the file: $(cat "$WORK/err.txt")"
sed -i '$d' "$WORK/io/ss_snapshot.c"
echo '#include "ss_snapshot.h"' >> "$WORK/mpi/ss_dist.c"
if bash "$SRC/scripts/check-layers.sh" "$WORK" 2> "$WORK/err.txt"; then
    fail "check-layers accepted mpi/ss_dist.c including an io/ header"
fi
echo "e2e_layers: ok"
