"""metafor's rma.glmm through Python: every `rma.glmm` analysis of the conformance corpus, held
to the exact optimum of its `converged` block at README_more's converged tolerances (the Rust
harness also accepts metafor's own default-settings numbers; those are lme4's stopping points,
not a precision target); the aliases, the text summary and the refusals."""

from __future__ import annotations

import math

import pytest

import evident as ev
from conftest import analyses, read_input

GLMM = analyses({"rma.glmm"})


def ids(items):
    return [f"{d.name}/{a['id']}" for d, a in items]


def converged_tol(key: str) -> tuple[float, float]:
    """README_more's "Suggested tolerances" for the `converged` block: (rtol, atol)."""
    if key in ("k", "p", "df", "QE_df", "QM_df", "QM_ddf"):
        return 0.0, 0.0
    if key.endswith("pval"):
        return 2e-3, 1e-8
    if key in ("loglik", "deviance", "AIC", "BIC", "AICc"):
        return 1e-5, 1e-4
    if key in ("se", "zval", "tval", "QM") or key.startswith(("ci_", "pi_")):
        return 2e-4, 1e-6
    if key == "tau2":
        return 1e-4, 1e-6
    if key in ("tau", "I2"):
        return 1e-4, 1e-4
    return 1e-4, 1e-8


def skipped(key: str, model: str, measure: str) -> bool:
    """README_more: UM.RS's Wald QE is not a precision target; CM.EL's (OR) comes from metafor's
    numerical Hessian of BiasedUrn's density (the Rust suite holds the exact one to R)."""
    wald = key.startswith("QE_Wld")
    return wald and (model == "UM.RS" or (model == "CM.EL" and measure == "OR"))


def within(path, key, e, g, misses, model, measure):
    if isinstance(e, dict):
        for k, v in e.items():
            within(f"{path}.{k}", k, v, (g or {}).get(k), misses, model, measure)
        return
    if isinstance(e, list):
        if not isinstance(g, list) or len(g) != len(e):
            misses.append(f"{path}: expected {e!r}, got {g!r}")
            return
        for i, (ev_, gv) in enumerate(zip(e, g)):
            within(f"{path}[{i}]", key, ev_, gv, misses, model, measure)
        return
    if e is None:
        if not (g is None or (isinstance(g, float) and math.isnan(g))):
            misses.append(f"{path}: expected null, got {g!r}")
        return
    if isinstance(e, str):
        if e != g:
            misses.append(f"{path}: expected {e!r}, got {g!r}")
        return
    if skipped(key, model, measure):
        return
    rtol, atol = converged_tol(key)
    if not isinstance(g, (int, float)) or not abs(g - e) <= atol + rtol * abs(e):
        misses.append(f"{path}: expected {e!r}, got {g!r}")


def fit(case_dir, a):
    o = a["options"]
    mods = o.get("mods")
    return ev.rma_glmm(
        read_input(case_dir),
        measure=o["measure"],
        model=o.get("model_requested") or o.get("model", "UM.FS"),
        test=o.get("test", "z"),
        level=o.get("level", 95),
        mods=mods.lstrip("~").strip() if mods else None,
    )


@pytest.mark.filterwarnings("ignore::evident.EvidentWarning")
@pytest.mark.parametrize("case_dir,a", GLMM, ids=ids(GLMM))
def test_rma_glmm_matches_metafor_converged(case_dir, a):
    o = a["options"]
    conv = a["expected"]["converged"]
    got = fit(case_dir, a).to_dict()
    misses: list[str] = []
    for key, e in conv.items():
        if key in ("call", "warnings"):
            continue
        within(key, key, e, got.get(key), misses, o.get("model", "UM.FS"), o["measure"])
    assert not misses, f"{len(misses)} misses:\n" + "\n".join(misses)


def test_aliases_summary_and_frame():
    case_dir, a = next((d, a) for d, a in GLMM if a["id"] == "glmm_PLO_z")
    res = fit(case_dir, a)
    d = res.to_dict()
    assert res.beta == d["estimate"] and res.QEp_LRT == d["QE_LRT_pval"]
    assert res.QE_df == 13 and res.QEp_Wld == d["QE_Wld_pval"]
    assert res.summary().startswith("Random-effects GLMM (model UM.FS")
    assert f"{d['tau2']:.4f}" in res.summary()
    assert math.isclose(res.to_frame().loc["intrcpt", "estimate"], d["estimate"])


def test_meta_regression_coefficients_are_arrays():
    case_dir, a = next((d, a) for d, a in GLMM if a["id"] == "glmm_metareg_ablat_CM.AL_t")
    res = fit(case_dir, a)
    assert list(res.coef_names) == ["intrcpt", "ablat"]
    assert len(res.beta) == 2 and len(res.tval) == 2
    assert list(res.to_frame().index) == ["intrcpt", "ablat"]


def test_refusals_are_input_errors():
    with pytest.raises(ev.InputError, match="maximum likelihood"):
        ev.rma_glmm(xi=[3, 5, 2], ni=[10, 12, 8], measure="PLO", method="REML")
    with pytest.raises(ev.InputError, match="separation"):
        ev.rma_glmm(xi=[0, 0, 0], ni=[10, 12, 8], measure="PLO")
    with pytest.raises(ev.InputError, match="k > p"):
        ev.rma_glmm(xi=[3], ni=[10], measure="PLO")
    with pytest.raises(ev.InputError, match="UM.FS, UM.RS, CM.EL or CM.AL"):
        ev.rma_glmm(ai=[1, 2], bi=[9, 8], ci=[3, 4], di=[7, 6], measure="OR", model="UM")
    with pytest.raises(ev.InputError, match="z or t"):
        ev.rma_glmm(xi=[3, 5, 2], ni=[10, 12, 8], measure="PLO", test="knha")


def test_double_zero_study_is_dropped_with_a_warning():
    with pytest.warns(ev.EvidentWarning, match="omitted"):
        res = ev.rma_glmm(
            ai=[0, 0, 2, 4, 1], bi=[10, 12, 8, 20, 30], ci=[0, 1, 3, 9, 5],
            di=[10, 11, 7, 15, 25], measure="OR", model="CM.EL",
        )
    assert res.k == 4
