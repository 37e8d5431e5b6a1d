#!/usr/bin/env bash
# Re-copies the shared metafor conformance corpus into the repository.
# `sync.sh [SRC]` replaces every case; `sync.sh --mv [SRC]` only (re)copies the multilevel cases
# (`*_mv_*`, kinds rma.mv and robust) and README_mv.md, leaving the other cases as they are.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mv_only=0
if [ "${1:-}" = "--mv" ]; then mv_only=1; shift; fi
src=${1:-"$here/../../../shared/conformance"}
[ -d "$src/cases" ] || { echo "no corpus at $src" >&2; exit 1; }
if [ "$mv_only" = 0 ]; then
  rm -rf "$here/cases"
  cp -r "$src/cases" "$here/cases"
  cp "$src/README.md" "$here/README.md"
else
  for d in "$src"/cases/*_mv_*; do
    rm -rf "$here/cases/$(basename "$d")"
    cp -r "$d" "$here/cases/"
  done
fi
for extra in README_mv.md README_more.md; do
  [ -f "$src/$extra" ] && cp "$src/$extra" "$here/$extra"
done
echo "synced $(ls "$here/cases" | wc -l) cases from $src"
echo "regenerate the test list and COVERAGE.md: EVIDENT_BLESS=1 cargo test --release --test conformance"
