"""Time evident's Python package against PyMARE, pimeta and statsmodels on the same 1,000
random-effects meta-analyses (k = 10 each, seeded synthetic yi/vi), and measure how far each
package's numbers are from metafor's.

For every package and model (tau2 estimator REML, DL or PM; Wald z or Knapp-Hartung tests) the
script prints the time per analysis, that time as a ratio to one `evident.rma` call (REML, z),
and the largest absolute difference of the pooled estimate, its standard error, tau2 and the
prediction interval bounds (where the package gives them) from metafor's `rma` on the same
analyses. metafor's numbers come from `Rscript` (the analyses are written to a temporary CSV and
fitted one `rma(yi, vi, method=..., test=...)` call each); without Rscript and metafor the
differences are taken from `evident.batch` instead, and the output says so. Analyses a package
fails on (an exception, or no finite estimate) are counted in the `failed` column and left out of
its differences; analyses metafor fails on are counted and left out of every difference.

Measures only: asserts nothing. Packages that are not installed are skipped.

    pip install ./python pymare pimeta statsmodels
    python benches/compare_python.py [analyses] [k]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import pandas as pd

import evident as ev

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
K = int(sys.argv[2]) if len(sys.argv) > 2 else 10

# The models compared: (tau2 estimator, test) as metafor spells them.
MODELS = [("REML", "z"), ("REML", "knha"), ("DL", "z"), ("DL", "knha"), ("PM", "z")]
FIELDS = ["estimate", "se", "tau2", "pi_lb", "pi_ub"]


def data() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    vi = rng.uniform(0.01, 0.2, size=(N, K))
    yi = rng.normal(0.3, np.sqrt(vi + 0.05))
    return pd.DataFrame({
        "analysis": np.repeat([f"a{i:05d}" for i in range(N)], K),
        "yi": yi.ravel(),
        "vi": vi.ravel(),
    })


# --- metafor, through Rscript ------------------------------------------------------------------

R_SCRIPT = r"""
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
dat <- read.csv(args[1], colClasses = c("character", "numeric", "numeric"))
models <- strsplit(strsplit(args[2], ",")[[1]], ":")
groups <- split(dat, dat$analysis)
fit1 <- function(g, m) tryCatch({
  fit <- rma(g$yi, g$vi, method = m[1], test = m[2])
  p <- predict(fit)
  c(fit$beta[1], fit$se, fit$tau2, p$pi.lb, p$pi.ub)
}, error = function(e) rep(NA_real_, 5))
out <- NULL
for (m in models) {
  invisible(fit1(groups[[1]], m))  # warm-up, as for the Python packages
  t0 <- proc.time()[["elapsed"]]
  r <- t(vapply(groups, fit1, numeric(5), m = m))
  secs <- proc.time()[["elapsed"]] - t0
  f <- function(x) sprintf("%.17g", x)
  out <- rbind(out, data.frame(analysis = names(groups), estimate = f(r[, 1]), se = f(r[, 2]),
                               tau2 = f(r[, 3]), pi_lb = f(r[, 4]), pi_ub = f(r[, 5]),
                               method = m[1], test = m[2], seconds = secs))
}
write.csv(out, args[3], row.names = FALSE)
"""


def metafor_reference(df: pd.DataFrame) -> Optional[dict]:
    """metafor's numbers per model, {(method, test): (frame sorted by analysis, seconds)}, or
    None when Rscript or metafor is not available."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, script, dst = (os.path.join(tmp, f) for f in ("data.csv", "fit.R", "metafor.csv"))
        df.to_csv(src, index=False)
        with open(script, "w") as f:
            f.write(R_SCRIPT)
        models = ",".join(f"{m}:{t}" for m, t in MODELS)
        run = subprocess.run(["Rscript", script, src, models, dst],
                             capture_output=True, text=True)
        if run.returncode != 0:
            print(f"Rscript failed ({run.stderr.strip()[-300:]}); differences from evident")
            return None
        out = pd.read_csv(dst)
    refs = {}
    for (m, t), g in out.groupby(["method", "test"]):
        g = g.sort_values("analysis").reset_index(drop=True)
        refs[(m, t)] = (g[FIELDS].apply(pd.to_numeric, errors="coerce"), g.seconds.iloc[0])
    return {m: refs[m] for m in MODELS}


# --- one row of the table ----------------------------------------------------------------------

@dataclass
class Row:
    package: str
    model: tuple
    seconds: float
    values: pd.DataFrame  # one row per analysis, columns FIELDS (NaN where not given)
    given: list = field(default_factory=lambda: list(FIELDS))


def per_analysis(label: str, model: tuple, groups, fit: Callable, given=FIELDS) -> Row:
    """Time `fit(y, v)` once per analysis (after one warm-up call); it returns the values of
    `given` in order. An exception counts as a failed analysis (all NaN)."""
    out = []
    try:
        fit(*groups[0])
    except Exception:  # noqa: BLE001
        pass
    t = time.perf_counter()
    for y, v in groups:
        try:
            out.append(fit(y, v))
        except Exception:  # noqa: BLE001 - a failure is counted, whatever its kind
            out.append([np.nan] * len(given))
    dt = time.perf_counter() - t
    values = pd.DataFrame(out, columns=list(given)).reindex(columns=FIELDS).astype(float)
    return Row(label, model, dt, values, list(given))


def evident_batch(df: pd.DataFrame, model: tuple) -> Row:
    ev.batch(df.head(K), method=model[0], test=model[1])  # warm-up
    t = time.perf_counter()
    res = ev.batch(df, method=model[0], test=model[1])
    dt = time.perf_counter() - t
    res = res.sort_values("analysis").reset_index(drop=True)
    res.loc[res.error.notna(), FIELDS] = np.nan
    return Row("evident.batch", model, dt, res[FIELDS].astype(float))


def evident_rma(groups, model: tuple) -> Row:
    def fit(y, v):
        r = ev.rma(y, v, method=model[0], test=model[1])
        return [r.beta, r.se, r.tau2, r.pi_lb, r.pi_ub]
    return per_analysis("evident.rma", model, groups, fit)


def pymare_rows(groups) -> list:
    try:
        from pymare import Dataset
        from pymare.estimators import DerSimonianLaird, VarianceBasedLikelihoodEstimator
    except ImportError:
        print("PyMARE: not installed")
        return []
    correction = {"z": "wald", "knha": "knapp-hartung"}
    make = {"REML": lambda c: VarianceBasedLikelihoodEstimator(method="REML",
                                                               small_sample_correction=c),
            "DL": lambda c: DerSimonianLaird(small_sample_correction=c)}

    def fitter(model):
        def fit(y, v):
            s = make[model[0]](correction[model[1]]).fit_dataset(Dataset(y, v)).summary()
            return [float(np.ravel(s.fe_params)[0]), float(np.ravel(s.fe_se)[0]),
                    float(np.ravel(s.tau2)[0])]
        return fit
    return [per_analysis("PyMARE", m, groups, fitter(m), FIELDS[:3])
            for m in MODELS if m[0] in make]


def pimeta_rows(groups) -> list:
    try:
        import pimeta
    except ImportError:
        print("pimeta: not installed")
        return []

    def fitter(model):
        def fit(y, v):
            r = pimeta.rma(y, v, method=model[0], test=model[1])
            p = r.predict()
            return [r.b[0], r.se[0], r.tau2, p.pi_lb, p.pi_ub]
        return fit
    return [per_analysis("pimeta", m, groups, fitter(m)) for m in MODELS]


def statsmodels_rows(groups) -> list:
    try:
        from statsmodels.stats.meta_analysis import combine_effects
    except ImportError:
        print("statsmodels: not installed")
        return []
    method_re = {"DL": "chi2", "PM": "iterated"}  # statsmodels has no REML

    def fitter(model):
        def fit(y, v):
            f = combine_effects(y, v, method_re=method_re[model[0]])
            se = f.sd_eff_w_re_hksj if model[1] == "knha" else f.sd_eff_w_re
            return [f.mean_effect_re, se, f.tau2]
        return fit
    return [per_analysis("statsmodels", m, groups, fitter(m), FIELDS[:3])
            for m in MODELS if m[0] in method_re]


# --- differences and the table -----------------------------------------------------------------

def max_diff(row: Row, ref: pd.DataFrame, name: str) -> str:
    if name not in row.given:
        return "—"
    d = np.abs(row.values[name].to_numpy() - ref[name].to_numpy())
    return f"{np.nanmax(d):.1e}" if np.isfinite(d).any() else "—"


def table(rows: list, refs: dict, ref_name: str, unit: float) -> None:
    print(f"| package | model | ms / analysis | × evident.rma (REML, z) | failed "
          f"| max \\|Δ est\\| | max \\|Δ se\\| | max \\|Δ τ²\\| | max \\|Δ PI\\| |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        ref = refs[r.model]
        checked = r.given or ["estimate"]  # metafor's own rows: its failures
        failed = int((~np.isfinite(r.values[checked].to_numpy())).any(axis=1).sum())
        ok = ref.estimate.notna().to_numpy() if ref_name == "metafor" else slice(None)
        vals = r.values[ok].reset_index(drop=True)
        refv = ref[ok].reset_index(drop=True)
        rr = Row(r.package, r.model, r.seconds, vals, r.given)
        pi = max((max_diff(rr, refv, f) for f in ("pi_lb", "pi_ub")),
                 key=lambda s: float(s) if s != "—" else -1)
        ms = 1000 * r.seconds / N
        ratio = r.seconds / unit
        print(f"| {r.package} | {r.model[0]}, {r.model[1]} | {ms:.3g} | {ratio:.3g} | {failed} "
              f"| {max_diff(rr, refv, 'estimate')} | {max_diff(rr, refv, 'se')} "
              f"| {max_diff(rr, refv, 'tau2')} | {pi} |")


def main() -> None:
    df = data()
    groups = [(g.yi.to_numpy(), g.vi.to_numpy()) for _, g in df.groupby("analysis", sort=True)]
    print(f"{N} analyses of k = {K}; python {sys.version.split()[0]}, evident {ev.__version__}")

    rows = [evident_batch(df, m) for m in MODELS]
    rows += [evident_rma(groups, m) for m in MODELS]
    rows += pymare_rows(groups) + pimeta_rows(groups) + statsmodels_rows(groups)

    metafor = metafor_reference(df)
    if metafor is None:
        print("no Rscript with metafor: differences are from evident.batch, not metafor")
        refs = {r.model: r.values for r in rows if r.package == "evident.batch"}
        ref_name = "evident.batch"
    else:
        refs = {m: v[0][FIELDS] for m, v in metafor.items()}
        ref_name = "metafor"
        for m, (v, secs) in metafor.items():
            rows.append(Row("metafor (Rscript)", m, secs, v, given=[]))
    unit = next(r.seconds for r in rows if r.package == "evident.rma" and r.model == MODELS[0])
    print(f"differences from {ref_name}; PI = the larger of the two bounds' differences\n")
    table(rows, refs, ref_name, unit)


if __name__ == "__main__":
    main()
