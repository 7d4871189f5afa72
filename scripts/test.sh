#!/bin/bash
# The README's second command (what CI runs, through .ci/run): set up, build
# (warnings are errors), check the formatting and run the whole test suite;
# then, in CI, the same suite under ASan + UBSan (scripts/sanitize.sh,
# build-asan/) and every fuzz harness for 30 s (scripts/fuzz.sh, build-fuzz/).
#
#   bash scripts/test.sh [CTEST ARGS...]   ctest args apply to the first suite
#
# CI=true (set by .ci/run when the runner does not) turns the two extra steps
# on; locally they are off, so that the default run stays a few minutes.
# Either way:
#   SS_SANITIZE=1|0       the sanitizer suite on/off
#   SS_FUZZ_SECONDS=N     fuzz each harness N s (0: no fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
ci=0
case "${CI:-}" in true | 1 | yes) ci=1 ;; esac
SAN=${SS_SANITIZE:-$ci}
FUZZ=${SS_FUZZ_SECONDS:-$((ci ? 30 : 0))}
fuzz_tools=0
[ "$FUZZ" -gt 0 ] && fuzz_tools=1
SS_WERROR=ON SS_FUZZ_TOOLS=$fuzz_tools bash scripts/setup.sh
bash scripts/check-format.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
t0=$(date +%s)
ctest --test-dir build --output-on-failure -j2 "$@"
echo "test: suite took $(($(date +%s) - t0)) s" >&2
if [ "$SAN" = 1 ]; then
    bash scripts/sanitize.sh
fi
if [ "$FUZZ" -gt 0 ]; then
    t0=$(date +%s)
    bash scripts/fuzz.sh "$FUZZ"
    echo "test: fuzzing (build + runs) took $(($(date +%s) - t0)) s" >&2
fi
