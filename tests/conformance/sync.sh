#!/usr/bin/env bash
# Re-copies the shared metafor conformance corpus into the repository.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-"$here/../../../shared/conformance"}
[ -d "$src/cases" ] || { echo "no corpus at $src" >&2; exit 1; }
rm -rf "$here/cases"
cp -r "$src/cases" "$here/cases"
cp "$src/README.md" "$here/README.md"
echo "synced $(ls "$here/cases" | wc -l) cases from $src"
echo "regenerate the test list and COVERAGE.md: EVIDENT_BLESS=1 cargo test --release --test conformance"
