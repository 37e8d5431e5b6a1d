#!/usr/bin/env bash
# Side-by-side comparison with R's metafor rma.glmm on the same simulated 2x2 tables and
# proportions: fits each dataset with evident and with metafor, checks the estimate, se and tau2
# against README_more's tolerances for metafor's default keys, and prints the time per fit.
# Models: UM.FS, UM.RS and CM.EL for OR, the binomial-normal model for PLO.
# Times, two pairs measured alike:
#  - fit: R's rma.glmm inside a session that has already loaded metafor, lme4 and BiasedUrn and
#    fitted the same data once (the median of 3 timed fits when one takes under 5 s, else that
#    one), against evident's library call in-process (benches/fit_time.rs, the median of
#    repetitions filling 0.5 s);
#  - cmd: one analysis as a command, R's from its process start to the end of its first fit
#    (start-up, library(), read.csv, rma.glmm), against evident's whole command (the median of
#    5 runs: start-up, CSV, fit, JSON).
# Usage: benches/compare_metafor_glmm.sh [DATASETS=5] [K values="10 100"] [models="UM.FS UM.RS CM.EL PLO"]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5}
ks=${2:-"10 100"}
models=${3:-"UM.FS UM.RS CM.EL PLO"}
command -v Rscript >/dev/null || { echo "Rscript not found" >&2; exit 1; }
Rscript -e 'library(metafor); library(lme4); library(BiasedUrn)' >/dev/null 2>&1 || { echo "metafor, lme4 and BiasedUrn are needed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q
cargo bench --bench fit_time --no-run -q 2>/dev/null
fit_time=$(ls -t target/release/deps/fit_time-* | grep -v '\.d$' | head -1)
for k in $ks; do
  python3 - "$n" "$k" "$work" <<'PY'
import sys, random, math
n, k, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(7)
for a in range(n):
    with open(f"{work}/or_{k}_{a}.csv", "w") as f, open(f"{work}/plo_{k}_{a}.csv", "w") as g:
        f.write("study,ai,n1i,ci,n2i\n"); g.write("study,xi,ni\n")
        for i in range(k):
            n1 = 30 + int(rng.random() * 150); n2 = 30 + int(rng.random() * 150)
            lo = math.log(0.15 / 0.85) + rng.gauss(0, 0.6); th = -0.4 + rng.gauss(0, 0.3)
            p1 = 1 / (1 + math.exp(-(lo + th))); p2 = 1 / (1 + math.exp(-lo))
            a1 = sum(rng.random() < p1 for _ in range(n1)); c1 = sum(rng.random() < p2 for _ in range(n2))
            f.write(f"s{i},{a1},{n1},{c1},{n2}\n"); g.write(f"s{i},{c1},{n2}\n")
PY
done
cat > "$work/run.R" <<'R'
suppressMessages({library(metafor); library(lme4); library(BiasedUrn)})
a <- commandArgs(TRUE); d <- read.csv(a[1]); model <- a[2]
fit <- function() if (model == "PLO") rma.glmm(xi = xi, ni = ni, data = d, measure = "PLO") else
  suppressWarnings(rma.glmm(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, measure = "OR", model = model))
timed <- function() {
  t0 <- proc.time()[["elapsed"]]; r <- fit(); t1 <- proc.time()[["elapsed"]]
  list(r = r, t = t1 - t0, end = t1)
}
first <- timed()
ts <- if (first$t < 5) sapply(1:3, function(i) timed()$t) else first$t
r <- first$r
cat(c(r$beta), r$se, r$tau2, median(ts), first$end, "\n")
R
printf "%-6s %4s %3s  %12s %12s  %9s %9s %9s %9s  %7s %7s  %s\n" model k set "metafor b" "evident b" "R fit s" "ev fit s" "R cmd s" "ev cmd s" "x fit" "x cmd" "agree"
for k in $ks; do
  for model in $models; do
    for a in $(seq 0 $((n - 1))); do
      if [ "$model" = PLO ]; then f="$work/plo_${k}_${a}.csv"; args=(--measure PLO); else f="$work/or_${k}_${a}.csv"; args=(--measure OR); fi
      read -r rb rse rtau rt rcmd < <(Rscript "$work/run.R" "$f" "$model" 2>/dev/null)
      cmd=(./target/release/evident pool "$f" "${args[@]}" --method ML --glmm "${model/PLO/UM.FS}" --json)
      ev=$("${cmd[@]}")
      tcmd=$(python3 benches/median_time.py 5 "${cmd[@]}")
      read -r tfit _ < <("$fit_time" glmm "$f" "${args[1]}" "${model/PLO/UM.FS}")
      python3 - "$model" "$k" "$a" "$rb" "$rse" "$rtau" "$rt" "$tcmd" "$tfit" "$rcmd" "$ev" <<'PY'
import sys, json
model, k, a = sys.argv[1:4]
rb, rse, rtau, rt, tcmd, tfit, rcmd = map(float, sys.argv[4:11])
e = json.loads(sys.argv[11])
# README_more, default keys: UM.FS 1e-1 (atol 1e-3); CM.EL se 5e-2 (2e-2); others 5e-3 (1e-6).
tol = {"UM.FS": (1e-1, 1e-3), "UM.RS": (5e-3, 1e-6), "CM.EL": (5e-3, 1e-6), "PLO": (5e-3, 1e-6)}[model]
stol = (5e-2, 2e-2) if model == "CM.EL" else tol
ok = lambda x, y, t: abs(x - y) <= t[1] + t[0] * abs(y)
agree = ok(e["estimate"], rb, tol) and ok(e["se"], rse, stol) and ok(e["tau2"], rtau, (tol[0], 1e-6 if model != "UM.FS" else 1e-3))
print(f"{model:<6} {k:>4} {a:>3}  {rb:12.6f} {e['estimate']:12.6f}  {rt:9.4f} {tfit:9.5f} {rcmd:9.3f} {tcmd:9.4f}  {rt / tfit:6.0f}x {rcmd / tcmd:6.0f}x  {'yes' if agree else 'NO'}")
PY
    done
  done
done
