"""batch runs the library's parallel batch: one row per analysis, equal to rma of each."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import evident as ev
from test_api import bcg

KEYS = ["estimate", "se", "pval", "ci_lb", "ci_ub", "pi_lb", "pi_ub", "tau2", "tau2_ci_lb",
        "tau2_ci_ub", "I2", "H2", "Q", "Q_pval"]


def long_frame() -> pd.DataFrame:
    """Sixteen analyses of the BCG trials: every subset of 6 to 13 consecutive trials, twice."""
    parts = []
    base = bcg()
    for i, start in enumerate([0, 1, 2, 3, 4, 5, 6, 7] * 2):
        part = base.iloc[start:start + 6 + i % 8].copy()
        part.insert(0, "analysis", f"a{i:02d}")
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("method,test", [("REML", "z"), ("DL", "knha"), ("FE", "z")])
def test_batch_equals_rma_per_analysis(method, test):
    df = long_frame()
    out = ev.batch(df, measure="OR", method=method, test=test)
    assert list(out.analysis) == sorted(set(df.analysis))
    assert out.error.isna().all()
    for _, row in out.iterrows():
        one = df[df.analysis == row.analysis].drop(columns="analysis")
        d = ev.rma(one, measure="OR", method=method, test=test).to_dict()
        assert row.k == d["k"]
        assert row.stat == d.get("zval", d.get("tval"))
        for key in KEYS:
            want = d[key] if d.get(key) is not None else math.nan
            assert row[key] == want or (math.isnan(row[key]) and math.isnan(want)), key
        assert row.estimate_exp == d["estimate_exp"]


def test_batch_error_rows_and_custom_column():
    df = pd.DataFrame({
        "trial": ["x", "x", "x", "y", "z", "z"],
        "yi": [0.1, 0.3, 0.2, 0.5, 0.4, 0.6],
        "vi": [0.01, 0.02, 0.03, 0.04, -1.0, 0.02],
    })
    out = ev.batch(df, analysis="trial")
    assert list(out.trial) == ["x", "y", "z"]
    assert out.error[0] is None and out.k[0] == 3
    assert out.k[1] == 1
    assert isinstance(out.error[2], str) and pd.isna(out.k[2]) and np.isnan(out.estimate[2])


def test_batch_needs_the_analysis_column():
    with pytest.raises(ev.InputError):
        ev.batch(pd.DataFrame({"yi": [0.1], "vi": [0.1]}), analysis="analysis")
