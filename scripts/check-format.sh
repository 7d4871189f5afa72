#!/bin/bash
# Fails when a C file of the tree differs from what the committed
# .clang-format makes of it; 'bash scripts/check-format.sh --fix' rewrites them.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find cli engine io jobs mpi tests -name '*.[ch]')
if [ "${1:-}" = "--fix" ]; then
    clang-format -i "${files[@]}"
    exit 0
fi
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/ss-format.$$; then
    grep -E '^[^ ].*: (error|warning)' /tmp/ss-format.$$ | cut -d: -f1 | sort -u | sed 's/^/  /' >&2
    rm -f /tmp/ss-format.$$
    echo "check-format: the files above do not follow .clang-format; run 'bash scripts/check-format.sh --fix'" >&2
    exit 1
fi
rm -f /tmp/ss-format.$$
echo "check-format: $(printf '%s\n' "${files[@]}" | wc -l) files follow .clang-format" >&2
