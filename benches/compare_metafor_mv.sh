#!/usr/bin/env bash
# Three-level REML (rma.mv, random = ~ 1 | cluster/esid) and its CR2 cluster-robust inference
# (clubSandwich) side by side with R's metafor: the same simulated data at k = 1,000 in 100
# clusters and k = 10,000 in 1,000 clusters, one timed run each (fit + CR2, process start-up and
# reading included for evident; the fit and robust() calls for R), with the two fits' sigma2,
# estimate, log-likelihood and CR2 SE printed next to each other. metafor runs with sparse = TRUE
# (its dense algebra at k = 10,000 needs a 10,000 x 10,000 M); an R run longer than R_TIMEOUT
# seconds (default 1800) is stopped and reported as NA.
# Needs Rscript with metafor and clubSandwich (Debian: r-cran-metafor, r-cran-clubsandwich).
# Usage: benches/compare_metafor_mv.sh
# One run on a shared 2-core machine (other engineers' builds running), 2026-12-03, fit + CR2:
# k = 1,000 in 100 clusters: evident 0.051 s, metafor + robust(clubSandwich = TRUE) 1.83 s (36x);
# k = 10,000 in 1,000 clusters: evident 3.32 s, metafor 1,441 s (430x); sigma2[1] 0.09492644 vs
# 0.09492631 at k = 1,000 (metafor's nlminb stopping rule) and equal to the 8 decimals shown at
# k = 10,000, estimates to 4e-10, log-likelihoods to the 4 decimals shown, CR2 SEs to 8 decimals.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v Rscript >/dev/null || { echo "Rscript not found: apt-get install r-cran-metafor" >&2; exit 1; }
Rscript -e 'library(metafor)' >/dev/null 2>&1 || { echo "metafor not installed: apt-get install r-cran-metafor" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q
printf '%-8s %-9s %12s %12s %14s %14s %12s %12s %12s %12s %9s %9s\n' k clusters ev_sigma2.1 R_sigma2.1 ev_estimate R_estimate ev_loglik R_loglik ev_CR2_se R_CR2_se ev_s R_s
for spec in "1000 100" "10000 1000"; do
  set -- $spec
  k=$1; nc=$2
  python3 - "$k" "$nc" > "$work/in.csv" <<'PY'
import sys, random
k, nc = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(7)
print("study,yi,vi,cluster,esid")
for c in range(nc):
    u = rng.gauss(0, 0.3)
    for e in range(k // nc):
        vi = rng.uniform(0.01, 0.1)
        print(f"s{c}_{e},{0.2 + u + rng.gauss(0, 0.2) + rng.gauss(0, vi ** 0.5):.6f},{vi:.6f},{c + 1},{e + 1}")
PY
  t0=$(date +%s.%N)
  ./target/release/evident pool "$work/in.csv" --random "~ 1 | cluster/esid" --method REML \
    --robust CR2 --cluster cluster --json > "$work/ev.json"
  t1=$(date +%s.%N)
  cat > "$work/run.R" <<'R'
suppressMessages(library(metafor))
d <- read.csv(commandArgs(TRUE)[1])
t <- system.time({
  m <- rma.mv(yi, vi, random = ~ 1 | cluster/esid, data = d, method = "REML", sparse = TRUE)
  r <- robust(m, cluster = d$cluster, clubSandwich = TRUE)
})[["elapsed"]]
cat(sprintf("%.10g %.10g %.10g %.10g %.3f\n", m$sigma2[1], coef(m)[1], logLik(m), r$se[1], t))
R
  read -r rs2 rb rll rse rt < <(timeout "${R_TIMEOUT:-1800}" Rscript "$work/run.R" "$work/in.csv" || echo NaN NaN NaN NaN NaN)
  python3 - "$work/ev.json" "$k" "$nc" "$rs2" "$rb" "$rll" "$rse" "$(python3 -c "print($t1 - $t0)")" "$rt" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
k, nc, rs2, rb, rll, rse, evt, rt = sys.argv[2:]
ese = e['robust']['coefficients'][0]['se']
print(f"{k:<8} {nc:<9} {e['sigma2'][0]:12.8f} {float(rs2):12.8f} {e['estimate']:14.10f} {float(rb):14.10f} "
      f"{e['loglik']:12.4f} {float(rll):12.4f} {ese:12.8f} {float(rse):12.8f} {float(evt):9.3f} {float(rt):9.3f}")
PY
done
