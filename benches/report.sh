#!/usr/bin/env bash
# Times `evident report` on a generated long CSV: ANALYSES analyses of K two-arm binary studies
# each (random event rates, seed 5), written to a fresh directory. Extra arguments are passed to
# `evident report` (e.g. --png).
# Usage: benches/report.sh [ANALYSES=1000] [K=17] [-- REPORT-FLAGS...]   (env RUNS=1: timed runs,
# the median printed; BIN=path: the binary, default target/release/evident, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
k=${2:-17}
shift $(( $# > 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
bin=${BIN:-target/release/evident}
[ -x "$bin" ] || cargo build --release -q
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$n" "$k" > "$work/in.csv" <<'PY'
import sys, random
n, k = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(5)
print("analysis,study,ai,n1i,ci,n2i")
for a in range(n):
    for i in range(k):
        n1 = 40 + int(rng.random() * 200); n2 = 40 + int(rng.random() * 200)
        p2 = 0.1 + 0.3 * rng.random(); p1 = min(0.95, p2 * (0.4 + 0.8 * rng.random()))
        print(f"a{a},Study {i} ({1990 + i}),{int(p1*n1)},{n1},{int(p2*n2)},{n2}")
PY
runs=${RUNS:-1}
TIMEFORMAT='%R %U %S'
: > "$work/times"
for _ in $(seq "$runs"); do
  rm -rf "$work/out"
  # Wall-clock, user and system seconds (CPU time is steadier than wall time on a shared machine).
  { time "$bin" report "$work/in.csv" -o "$work/out" "$@" 2> "$work/log" || { cat "$work/log" >&2; exit 1; }; } 2>> "$work/times"
done
tail -1 "$work/log" >&2
python3 - "$work/times" "$n" "$k" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
wall, user, sys_ = (statistics.median(r[i] for r in rows) for i in range(3))
n = int(sys.argv[2])
print(f"evident report: {n} analyses x k = {sys.argv[3]}: {wall:.2f} s wall ({1000 * wall / n:.1f} ms per analysis), CPU {user:.2f} s user + {sys_:.2f} s system")
PY
