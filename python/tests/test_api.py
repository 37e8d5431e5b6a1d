"""The Python API: inputs it accepts, results with metafor's names, the same text and JSON as
the `evident` command line, analyses of a fit, plots."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evident as ev
from conftest import ROOT, ROUND_TRIP

BCG = ROOT / "data" / "bcg.csv"


def bcg() -> pd.DataFrame:
    return pd.read_csv(BCG, **ROUND_TRIP)


def evident_bin():
    """The command-line binary of this checkout (built by the Rust tests), if there is one."""
    path = os.environ.get("EVIDENT_BIN") or str(ROOT / "target" / "release" / "evident")
    return path if Path(path).exists() else shutil.which("evident")


def cli(*args: str) -> str:
    exe = evident_bin()
    if exe is None:
        pytest.skip("the evident binary is not built")
    return subprocess.run([exe, *args], check=True, capture_output=True, text=True).stdout


METAFOR = ["--preset", "metafor", "--measure", "OR", "--method", "REML", "--test", "z"]


def test_summary_and_dict_are_evident_pool():
    res = ev.rma(bcg(), measure="OR")
    assert res.summary() == cli("pool", str(BCG), *METAFOR)
    assert res.to_dict() == json.loads(cli("pool", str(BCG), *METAFOR, "--json"))


def test_mh_summary_is_evident_pool():
    res = ev.rma_mh(bcg(), measure="OR")
    args = ["--preset", "metafor", "--measure", "OR", "--method", "MH"]
    assert res.summary() == cli("pool", str(BCG), *args)
    assert res.to_dict() == json.loads(cli("pool", str(BCG), *args, "--json"))


def test_metafor_names():
    res = ev.rma(bcg(), measure="RR", method="DL")
    d = res.to_dict()
    assert res.beta == d["estimate"] and res.b == d["estimate"]
    assert res.QE == d["Q"] and res.QEp == d["Q_pval"]
    for name in ("se", "zval", "pval", "ci_lb", "ci_ub", "tau2", "se_tau2", "I2", "H2", "k",
                 "pi_lb", "pi_ub"):
        assert getattr(res, name) == d[name]
    assert isinstance(res.weights, np.ndarray) and len(res.weights) == 13
    assert res.to_frame().loc["intrcpt", "estimate"] == d["estimate"]
    with pytest.raises(AttributeError):
        res.no_such_thing


def test_inputs_arrays_lists_series_and_frames_agree():
    df = ev.escalc(bcg(), measure="OR")
    assert {"yi", "vi"} <= set(df.columns) and len(df) == 13
    yi, vi = ev.escalc("OR", ai=bcg().ai.to_numpy(), bi=list(bcg().bi), ci=bcg().ci, di=bcg().di)
    np.testing.assert_array_equal(yi, df.yi.to_numpy())
    np.testing.assert_array_equal(vi, df.vi.to_numpy())
    a = ev.rma(yi, vi).to_dict()
    b = ev.rma(list(yi), pd.Series(vi)).to_dict()
    c = ev.rma(df[["yi", "vi"]]).to_dict()
    d = ev.rma(measure="OR", data=bcg()).to_dict()
    for key in ("estimate", "se", "tau2", "Q", "I2"):
        assert a[key] == b[key] == c[key] == d[key]
    # a column given by name moves from the data to metafor's argument
    e = ev.escalc(bcg().rename(columns={"ai": "events"}), measure="OR", ai="events")
    np.testing.assert_array_equal(e.yi.to_numpy(), df.yi.to_numpy())


def test_missing_values_are_omitted_with_a_warning():
    with pytest.warns(ev.EvidentWarning, match="omitted"):
        res = ev.rma([0.1, None, 0.3, float("nan"), 0.5], [0.01, 0.02, 0.03, 0.04, 0.05],
                     slab=["A", "B", "C", "D", "E"])
    assert res.k == 3


def test_metareg_coefficients():
    res = ev.rma(ev.escalc(bcg(), measure="RR"), mods="ablat")
    assert list(res.coef_names) == ["intrcpt", "ablat"]
    assert res.beta.shape == (2,) and res.se.shape == (2,)
    frame = res.to_frame()
    assert list(frame.index) == ["intrcpt", "ablat"]
    same = ev.rma(ev.escalc(bcg(), measure="RR"), mods=bcg().ablat.to_numpy())
    np.testing.assert_array_equal(same.beta, res.beta)


def test_bias_and_sensitivity():
    res = ev.rma(bcg(), measure="RR")
    l1o = ev.leave1out(res).to_frame()
    assert l1o.shape[0] == 13 and "estimate" in l1o.columns
    assert len(ev.cumul(res).estimate) == 13
    assert len(ev.influence(res).cooks_d) == 13
    assert 0 <= ev.regtest(res).pval <= 1
    assert 0 <= ev.ranktest(res).pval <= 1
    tf = ev.trimfill(res)
    assert tf.k_filled == 13 + tf.k0 and tf.summary()


def test_plots(tmp_path):
    res = ev.rma(bcg(), measure="RR")
    svg = Path(ev.forest(res, tmp_path / "forest.svg", title="BCG"))
    assert b"<svg" in svg.read_bytes()[:500] and b"BCG" in svg.read_bytes()
    png = Path(ev.funnel(res, tmp_path / "funnel.png", dpi=72))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ev.InputError):
        ev.forest(res, tmp_path / "forest.txt")
