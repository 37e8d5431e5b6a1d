#!/usr/bin/env bash
# Three-level REML (rma.mv, random = ~ 1 | cluster/esid) with CR2 cluster-robust inference, side
# by side with R: metafor's rma.mv + robust(clubSandwich = TRUE) on the same simulated data at
# k = 1,000 in 100 clusters and k = 10,000 in 1,000 clusters, one timed run each, with the two
# fits' sigma2, estimate, log-likelihood and CR2 standard error and df printed next to each other.
# Times, two pairs measured alike: fit = R's rma.mv + robust inside the session (system.time;
# at k = 1,000 the median of 3 after one untimed fit, at 10,000 one fit) against evident's fit +
# CR2 in-process (benches/fit_time.rs); cmd = R from its process start to the end of its first
# fit (start-up, library(), read.csv, rma.mv, robust) against evident's whole command (start-up,
# CSV, fit, CR2, JSON; the median of 5 runs). metafor runs with
# sparse = TRUE (its dense algebra at k = 10,000 needs a 10,000 x 10,000 M).
# Needs Rscript with metafor and clubSandwich (Debian: r-cran-metafor r-cran-clubsandwich).
# R_TIMEOUT (seconds, default 3600) bounds each R run; a run cut short prints "timeout".
# Usage: benches/compare_metafor_mv.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v Rscript >/dev/null || { echo "Rscript not found: apt-get install r-cran-metafor" >&2; exit 1; }
Rscript -e 'library(metafor); library(clubSandwich)' >/dev/null 2>&1 || { echo "metafor and clubSandwich needed: apt-get install r-cran-metafor r-cran-clubsandwich" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q
cargo bench --bench fit_time --no-run -q 2>/dev/null
fit_time=$(ls -t target/release/deps/fit_time-* | grep -v '\.d$' | head -1)
printf '%-6s %-8s %11s %11s %13s %13s %11s %11s %12s %12s %8s %8s %9s %9s %9s %8s %7s %7s\n' k clusters ev_sigma2.1 R_sigma2.1 ev_estimate R_estimate ev_loglik R_loglik ev_CR2_se R_CR2_se ev_df R_df R_fit_s ev_fit_s R_cmd_s ev_cmd_s x_fit x_cmd
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
  cmd=(./target/release/evident pool "$work/in.csv" --random "~ 1 | cluster/esid" --method REML
    --robust CR2 --cluster cluster --json)
  "${cmd[@]}" > "$work/ev.json"
  evt=$(python3 benches/median_time.py 5 "${cmd[@]}")
  read -r evfit _ < <("$fit_time" mv "$work/in.csv")
  cat > "$work/run.R" <<'R'
suppressMessages({library(metafor); library(clubSandwich)})
d <- read.csv(commandArgs(TRUE)[1])
fit <- function() {
  m <- rma.mv(yi, vi, random = ~ 1 | cluster/esid, data = d, method = "REML", sparse = TRUE)
  list(m = m, r = robust(m, cluster = d$cluster, clubSandwich = TRUE))
}
t0 <- proc.time()[["elapsed"]]; f <- fit(); end <- proc.time()[["elapsed"]]
ts <- if (nrow(d) <= 1000) sapply(1:3, function(i) system.time(f <<- fit())[["elapsed"]]) else end - t0
m <- f$m; r <- f$r; t <- median(ts)
cat(sprintf("%.10g %.10g %.10g %.10g %.10g %.3f %.3f\n", m$sigma2[1], coef(m)[1], logLik(m), r$se, r$ddf, t, end))
R
  if ! out=$(timeout "${R_TIMEOUT:-3600}" Rscript "$work/run.R" "$work/in.csv"); then
    out="nan nan nan nan nan timeout timeout"
  fi
  read -r rs2 rb rll rse rdf rt rcmd <<<"$out"
  python3 - "$work/ev.json" "$k" "$nc" "$rs2" "$rb" "$rll" "$rse" "$rdf" "$evt" "$evfit" "$rt" "$rcmd" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
k, nc, rs2, rb, rll, rse, rdf, evt, evfit, rt, rcmd = sys.argv[2:]
rc = e["robust"]["coefficients"][0]
ratio_fit = "-" if rt == "timeout" else f"{float(rt) / float(evfit):.0f}x"
ratio = "-" if rt == "timeout" else f"{float(rcmd) / float(evt):.0f}x"
print(f"{k:<6} {nc:<8} {e['sigma2'][0]:11.8f} {float(rs2):11.8f} {e['estimate']:13.10f} {float(rb):13.10f} "
      f"{e['loglik']:11.4f} {float(rll):11.4f} {rc['se']:12.10f} {float(rse):12.10f} {rc['df']:8.3f} "
      f"{float(rdf):8.3f} {rt:>9} {float(evfit):9.5f} {rcmd:>9} {float(evt):8.4f} {ratio_fit:>7} {ratio:>7}")
PY
done
