"""Time evident's Python package against PyMARE and statsmodels on 1,000 random-effects
meta-analyses (k = 10 each, seeded synthetic yi/vi). Measures only: prints wall-clock times and
the largest difference of each package's pooled estimate and tau2 from evident's; asserts
nothing. Packages that are not installed are skipped.

    pip install ./python pymare statsmodels
    python benches/compare_python.py [analyses] [k]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

import evident as ev

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
K = int(sys.argv[2]) if len(sys.argv) > 2 else 10


def data() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    vi = rng.uniform(0.01, 0.2, size=(N, K))
    yi = rng.normal(0.3, np.sqrt(vi + 0.05))
    return pd.DataFrame({
        "analysis": np.repeat([f"a{i:05d}" for i in range(N)], K),
        "yi": yi.ravel(),
        "vi": vi.ravel(),
    })


def timed(label: str, f):
    t = time.perf_counter()
    out = f()
    dt = time.perf_counter() - t
    print(f"{label:<44} {dt:8.3f} s  {N / dt:10.0f} analyses/s")
    return out


def per_analysis(df: pd.DataFrame):
    return [(g.yi.to_numpy(), g.vi.to_numpy()) for _, g in df.groupby("analysis", sort=True)]


def rma_or_nan(y, v) -> float:
    try:
        return ev.rma(y, v).beta
    except ev.ConvergenceError:  # Fisher scoring failing as metafor's does
        return float("nan")


def diff(label: str, ref: pd.DataFrame, est, tau2) -> None:
    d = np.abs(np.asarray(est) - ref.estimate.to_numpy())
    dt = np.nanmax(np.abs(np.asarray(tau2) - ref.tau2.to_numpy()))
    print(f"  {label}: max |d estimate| {np.nanmax(d):.2e}, max |d tau2| {dt:.2e}, "
          f"{np.sum(d > 1e-8)} analyses differ by more than 1e-8")


def main() -> None:
    df = data()
    groups = per_analysis(df)
    print(f"{N} analyses of k = {K}\n")
    ref = {}
    for method in ("DL", "REML"):
        ref[method] = timed(f"evident.batch (method={method})",
                            lambda: ev.batch(df, method=method))
    timed("evident.rma, one call per analysis (REML)",
          lambda: [rma_or_nan(y, v) for y, v in groups])
    print(f"  analyses evident refuses (metafor's errors): {ref['REML'].error.notna().sum()}")
    try:
        from pymare import Dataset
        from pymare.estimators import DerSimonianLaird, VarianceBasedLikelihoodEstimator
    except ImportError:
        print("PyMARE: not installed")
    else:
        for method, make in (("DL", DerSimonianLaird),
                             ("REML", lambda: VarianceBasedLikelihoodEstimator(method="REML"))):
            fits = timed(f"PyMARE ({method})",
                         lambda: [make().fit_dataset(Dataset(y, v)).params_ for y, v in groups])
            diff(f"PyMARE {method}", ref[method],
                 [float(np.ravel(p["fe_params"])[0]) for p in fits],
                 [float(np.ravel(p["tau2"])[0]) for p in fits])
    try:
        from statsmodels.stats.meta_analysis import combine_effects
    except ImportError:
        print("statsmodels: not installed")
    else:
        fits = timed("statsmodels combine_effects (DL, chi2)",
                     lambda: [combine_effects(y, v, method_re="chi2") for y, v in groups])
        diff("statsmodels DL", ref["DL"], [f.mean_effect_re for f in fits],
             [f.tau2 for f in fits])


if __name__ == "__main__":
    main()
