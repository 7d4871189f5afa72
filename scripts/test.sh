#!/bin/bash
# The README's second command: set up, build (warnings are errors), check the
# formatting and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
SS_WERROR=ON bash scripts/setup.sh
bash scripts/check-format.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir build --output-on-failure -j2 "$@"
