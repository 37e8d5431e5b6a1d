#!/usr/bin/env bash
# Side-by-side comparison with R's metafor on the same batch input: checks that every number agrees
# and prints the per-analysis time ratio. Needs Rscript with metafor (Debian: r-cran-metafor).
# evident runs the whole batch (10,000 analyses × 10 studies by default); metafor, being ~1000×
# slower, runs the first COMPARE analyses, and every one of those is compared number by number.
# Usage: benches/compare_metafor.sh [ANALYSES=10000] [K=10] [COMPARE=1000]   (env RUNS=5: evident
# runs timed, the median kept; metafor's one run already averages over COMPARE analyses)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
k=${2:-10}
m=${3:-1000}
command -v Rscript >/dev/null || { echo "Rscript not found: apt-get install r-cran-metafor" >&2; exit 1; }
Rscript -e 'library(metafor)' >/dev/null 2>&1 || { echo "metafor not installed: apt-get install r-cran-metafor" >&2; exit 1; }
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
        print(f"a{a},s{i},{int(p1*n1)},{n1},{int(p2*n2)},{n2}")
PY
cargo build --release -q
# evident's run is short enough for scheduler noise to matter: time it RUNS times, keep the median.
runs=${RUNS:-5}
: > "$work/ev_times"
for _ in $(seq "$runs"); do
  t0=$(date +%s.%N)
  ./target/release/evident batch "$work/in.csv" --measure OR --method REML --test knha -o "$work/evident.csv" || true
  t1=$(date +%s.%N)
  python3 -c "print($t1 - $t0)" >> "$work/ev_times"
done
ev_median=$(python3 -c "import statistics, sys; print(statistics.median(map(float, open(sys.argv[1]))))" "$work/ev_times")
cat > "$work/run.R" <<'R'
suppressMessages(library(metafor))
d <- read.csv(commandArgs(TRUE)[1])
out <- commandArgs(TRUE)[2]
res <- lapply(split(d, factor(d$analysis, levels = unique(d$analysis))), function(s) {
  r <- try(rma(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = s, measure = "OR", method = "REML", test = "knha"), silent = TRUE)
  if (inherits(r, "try-error")) return(data.frame(analysis = s$analysis[1], estimate = NA, se = NA, pval = NA, ci_lb = NA, ci_ub = NA, pi_lb = NA, pi_ub = NA, tau2 = NA, tau2_ci_lb = NA, tau2_ci_ub = NA, I2 = NA, Q = NA))
  p <- predict(r); ci <- confint(r)$random
  data.frame(analysis = s$analysis[1], estimate = c(r$beta), se = r$se, pval = r$pval, ci_lb = r$ci.lb, ci_ub = r$ci.ub,
             pi_lb = p$pi.lb, pi_ub = p$pi.ub, tau2 = r$tau2, tau2_ci_lb = ci[1, 2], tau2_ci_ub = ci[1, 3], I2 = r$I2, Q = r$QE)
})
write.csv(do.call(rbind, res), out, row.names = FALSE)
R
t2=$(date +%s.%N)
head -n $((m * k + 1)) "$work/in.csv" > "$work/in_metafor.csv"
Rscript "$work/run.R" "$work/in_metafor.csv" "$work/metafor.csv"
t3=$(date +%s.%N)
python3 - "$work/evident.csv" "$work/metafor.csv" "$ev_median" "$t2" "$t3" "$n" "$m" "$runs" <<'PY'
import csv, sys, math
ev = {r["analysis"]: r for r in csv.DictReader(open(sys.argv[1]))}
mf = list(csv.DictReader(open(sys.argv[2])))
ev_t, t2, t3, n, m, runs = map(float, sys.argv[3:9])
keys = ["estimate", "se", "pval", "ci_lb", "ci_ub", "pi_lb", "pi_ub", "tau2", "tau2_ci_lb", "tau2_ci_ub", "I2", "Q"]
agree = compared = both_failed = 0
worst = 0.0
for r in mf:
    e = ev[r["analysis"]]
    if r["estimate"] == "NA":
        both_failed += e["error"] != ""
        if e["error"] == "":
            print(f"MISMATCH {r['analysis']}: metafor failed, evident fitted")
        continue
    compared += 1
    ok = True
    for key in keys:
        a, b = float(r[key]), float(e[key])
        tol = 1e-4 if key.startswith("tau2_ci") else 1e-8  # metafor's uniroot tolerance on the tau2 CI
        d = abs(a - b) / max(abs(a), 1e-12) if key not in ("tau2_ci_lb",) else abs(a - b)
        worst = max(worst, abs(a - b) / max(abs(a), 1.0))
        if abs(a - b) > 1e-12 + tol * abs(a):
            ok = False
            print(f"MISMATCH {r['analysis']} {key}: metafor {a!r} evident {b!r}")
    agree += ok
mf_t = t3 - t2
print(f"evident analyses: {int(n)}; metafor analyses: {int(m)}; compared: {compared}; agree: {agree}; both refused (non-convergence): {both_failed}")
print(f"largest relative difference: {worst:.2e}")
print(f"evident: {ev_t:.3f} s ({1e6*ev_t/n:.1f} us/analysis, including process start-up; median of {int(runs)} runs)")
print(f"metafor: {mf_t:.3f} s ({1e3*mf_t/m:.2f} ms/analysis, including R start-up)")
print(f"ratio (metafor / evident, per analysis): {(mf_t/m)/(ev_t/n):.0f}x")
sys.exit(0 if agree == compared else 1)
PY
