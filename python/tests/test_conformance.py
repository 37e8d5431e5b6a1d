"""The metafor conformance corpus through Python: escalc, rma, rma.mh and rma.peto, at the
corpus README's tolerances (the Rust harness tests/conformance.rs runs the same analyses)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import evident as ev
from conftest import CONVERGED_RTOL, RTOL, analyses, compare, key_rtol, read_input

# metafor warns on the same omitted studies; the warnings are tested in test_api.py.
pytestmark = pytest.mark.filterwarnings("ignore::evident.EvidentWarning")

ESCALC = analyses({"escalc"})
RMA = analyses({"rma"})
TABLES = analyses({"rma.mh", "rma.peto"})


def ids(items):
    return [f"{d.name}/{a['id']}" for d, a in items]


def first(v):
    return v[0] if isinstance(v, list) else v


def escalc_kwargs(o: dict) -> dict:
    kw = {}
    if "add" in o:
        kw["add"] = first(o["add"])
    if "to" in o:
        kw["to"] = first(o["to"])
    if "drop00" in o:
        kw["drop00"] = first(o["drop00"])
    if "vtype" in o:
        kw["vtype"] = o["vtype"]
    return kw


def control(o: dict, call: str) -> dict:
    """metafor's control: the numeric settings of `options.control`, then the call's
    control=list(...), as tests/common/mod.rs reads them."""
    c = {}
    for k in ("stepadj", "ll0check", "maxiter", "threshold"):
        v = (o.get("control") or {}).get(k)
        if isinstance(v, (int, float)):
            c[k] = float(v)
    m = re.search(r"control=list\(([^)]*)\)", call)
    if m:
        for part in m.group(1).split(","):
            k, _, v = part.partition("=")
            k, v = k.strip(), v.strip()
            c[k] = 1.0 if v == "TRUE" else 0.0 if v == "FALSE" else float(v)
    return c


def gen_scale(expected: dict):
    for key, scale in (("estimate_exp", "log"), ("estimate_ilogit", "logit"),
                       ("estimate_ztor", "fisherz")):
        if key in expected:
            return scale
    return None


def fit(case_dir, a, call=None):
    o = a["options"]
    return ev.rma(
        read_input(case_dir),
        measure=o["measure"],
        method=o["method"],
        test=o.get("test", "z"),
        level=o.get("level", 95),
        control=control(o, call or a.get("call", "")),
        scale=gen_scale(a["expected"]) if o["measure"] == "GEN" else None,
        **escalc_kwargs(o),
    )


def assert_no_misses(misses):
    assert not misses, f"{len(misses)} misses:\n" + "\n".join(misses)


@pytest.mark.parametrize("case_dir,a", ESCALC, ids=ids(ESCALC))
def test_escalc(case_dir, a):
    o, exp = a["options"], a["expected"]
    df = read_input(case_dir)
    if "error" in exp:
        with pytest.raises(ev.EvidentError):
            ev.escalc(df, measure=o["measure"], **escalc_kwargs(o))
        return
    out = ev.escalc(df, measure=o["measure"], **escalc_kwargs(o))
    misses: list[str] = []
    for key in ("yi", "vi"):
        got = [None if math.isnan(x) else x for x in out[key].to_numpy(dtype=float)]
        compare(key, exp[key], got, RTOL, misses)
    assert_no_misses(misses)


@pytest.mark.parametrize("case_dir,a", RMA, ids=ids(RMA))
def test_rma(case_dir, a):
    exp = a["expected"]
    if "error" in exp:
        with pytest.raises(ev.EvidentError):
            fit(case_dir, a)
        return
    got = fit(case_dir, a).to_dict()
    misses: list[str] = []
    for key, e in exp.items():
        if key.endswith("_precise"):
            # confint(tol = 1e-12): the Rust harness recomputes these with the library's
            # Q-profile search; the binding exposes the fit's own CI only.
            continue
        if key == "converged":
            conv = fit(case_dir, a, call=e["call"]).to_dict()
            for ck, cv in e.items():
                if ck not in ("call", "warnings"):
                    compare(f"converged.{ck}", cv, conv.get(ck), key_rtol(ck, CONVERGED_RTOL),
                            misses)
            continue
        compare(key, e, got.get(key), key_rtol(key, RTOL), misses)
    assert_no_misses(misses)


@pytest.mark.parametrize("case_dir,a", TABLES, ids=ids(TABLES))
def test_mh_peto(case_dir, a):
    o, exp = a["options"], a["expected"]
    df = read_input(case_dir)
    kw = dict(level=o.get("level", 95), add=first(o["add"]), to=first(o["to"]),
              drop00=first(o["drop00"]))

    def run():
        if a["kind"] == "rma.peto":
            return ev.rma_peto(df, **kw)
        return ev.rma_mh(df, measure=o["measure"], correct=o.get("correct", True), **kw)

    if "error" in exp:
        with pytest.raises(ev.EvidentError):
            run()
        return
    got = run().to_dict()
    misses: list[str] = []
    for key, e in exp.items():
        compare(key, e, got.get(key), key_rtol(key, RTOL), misses)
    assert_no_misses(misses)


def test_corpus_is_there():
    # Guards against a corpus path that moved: the parametrized tests would silently vanish.
    assert len(ESCALC) > 20 and len(RMA) > 200 and len(TABLES) > 10 and len(BIAS) > 30
    assert all(isinstance(x, np.ndarray) for x in ev.escalc("OR", ai=[1], bi=[2], ci=[3], di=[4]))


BIAS = analyses({"regtest", "ranktest", "trimfill", "leave1out", "cumul", "influence"})


def bias_run(res, a):
    o = a["options"]
    kind = a["kind"]
    if kind == "regtest":
        return ev.regtest(res, model=o["regtest_model"], predictor=o["predictor"])
    if kind == "trimfill":
        side = o.get("side") if o.get("side") in ("left", "right") else None
        return ev.trimfill(res, estimator=o["estimator"], side=side)
    return {"ranktest": ev.ranktest, "leave1out": ev.leave1out, "cumul": ev.cumul,
            "influence": ev.influence}[kind](res)


@pytest.mark.parametrize("case_dir,a", BIAS, ids=ids(BIAS))
def test_bias_and_sensitivity(case_dir, a):
    o, exp = a["options"], a["expected"]
    res = ev.rma(
        read_input(case_dir),
        measure=o["measure"],
        method=o["method"],
        test=o.get("test", "z"),
        level=o.get("level", 95),
        control=control(o, a.get("call", "")),
        scale=("log" if "estimate_exp" in exp else None) if o["measure"] == "GEN" else None,
        **escalc_kwargs(o),
    )
    if "error" in exp:
        with pytest.raises(ev.EvidentError):
            bias_run(res, a)
        return
    got = bias_run(res, a).to_dict()
    misses: list[str] = []
    for key, e in exp.items():
        if key == "order":  # the text describing the order, which names input.csv
            continue
        compare(key, e, got.get(key), key_rtol(key, RTOL), misses)
    assert_no_misses(misses)
