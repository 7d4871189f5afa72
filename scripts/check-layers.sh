#!/bin/bash
# Fails when a source file includes across a forbidden arrow of the layering
# (docs/architecture.md): engine <- jobs <- io <- cli; mpi <- io's parallel
# reader; cli -> all. Per folder, the project headers ("...") it may include:
#   engine: engine            jobs: engine, jobs        mpi: engine, mpi
#   io:     engine, jobs, io; plus mpi/ headers and <mpi.h> only in
#           io/ss_snapshot_mpi.{c,h} (the one parallel reader/writer)
#   cli:    anything
# and of the system headers: <mpi.h> only in mpi/, cli/ and
# io/ss_snapshot_mpi.{c,h}; <hdf5.h> (and <H5*.h>) only in io/ and cli/.
# Usage: bash scripts/check-layers.sh [SOURCE_DIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
layers="engine jobs io mpi cli"
bad=0

# The folder a project header lives in ("" if none: generated or system).
home_of() {
    local h=$1 d
    for d in $layers; do
        [ -e "$d/$h" ] && { echo "$d"; return; }
    done
    echo ""
}

allowed() { # allowed FILE FOLDER INCLUDED_FOLDER
    local file=$1 from=$2 to=$3
    case "$from" in
    engine) [ "$to" = engine ] ;;
    jobs) [ "$to" = engine ] || [ "$to" = jobs ] ;;
    mpi) [ "$to" = engine ] || [ "$to" = mpi ] ;;
    io)
        case "$to" in
        engine | jobs | io) true ;;
        mpi) [[ "$file" == io/ss_snapshot_mpi.[ch] ]] ;;
        *) false ;;
        esac
        ;;
    cli) true ;;
    esac
}

for from in $layers; do
    for file in "$from"/*.[ch]; do
        [ -e "$file" ] || continue
        while IFS= read -r line; do
            n=${line%%:*}
            inc=$(sed -E 's/^[0-9]+:[[:space:]]*#[[:space:]]*include[[:space:]]*//' <<<"$line")
            case "$inc" in
            \"*\")
                h=${inc#\"}
                h=${h%\"}
                to=$(home_of "$h")
                [ -z "$to" ] && continue
                if ! allowed "$file" "$from" "$to"; then
                    echo "check-layers: $file:$n includes $to/$h ($from may not depend on $to)" >&2
                    bad=1
                fi
                ;;
            "<mpi.h>")
                if [ "$from" != mpi ] && [ "$from" != cli ] &&
                    [[ "$file" != io/ss_snapshot_mpi.[ch] ]]; then
                    echo "check-layers: $file:$n includes <mpi.h> (only mpi/, cli/ and io/ss_snapshot_mpi.{c,h} may)" >&2
                    bad=1
                fi
                ;;
            "<hdf5.h>" | \<H5*)
                if [ "$from" != io ] && [ "$from" != cli ]; then
                    echo "check-layers: $file:$n includes $inc (only io/ and cli/ may use HDF5)" >&2
                    bad=1
                fi
                ;;
            esac
        done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$file" || true)
    done
done
if [ "$bad" -ne 0 ]; then
    echo "check-layers: forbidden include arrows above (see the rules at the top of scripts/check-layers.sh)" >&2
    exit 1
fi
echo "check-layers: every include of $layers follows the layering" >&2
