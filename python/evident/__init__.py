"""evident: meta-analysis as R's metafor computes it, from Python.

Effect sizes (``escalc``), the random- and fixed-effects models (``rma``), Mantel-Haenszel and
Peto pooling (``rma_mh``, ``rma_peto``), GLMMs from the counts (``rma_glmm``), publication-bias tests (``regtest``, ``ranktest``,
``trimfill``), sensitivity analyses (``leave1out``, ``cumul``, ``influence``), forest and funnel
plots, and thousands of analyses at once (``batch``). Every number is computed by the Rust
library evident, which reproduces metafor (Viechtbauer 2010, J Stat Softw 36(3)) to 1e-8;
this module only converts arguments and results.

Data come as pandas DataFrames with metafor's column names (``ai, bi, ci, di``, ``m1i, sd1i,
n1i, m2i, sd2i, n2i``, ``yi, vi``, ...) or as arrays given by those names. Results carry
metafor's names as attributes (``beta``, ``se``, ``zval``, ``pval``, ``ci_lb``, ``tau2``,
``I2``, ``QE``, ``QEp``, ...).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from typing import Any, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import _evident
from ._evident import ConvergenceError, EvidentError, InputError

__version__: str = _evident.__version__

# Where the library names no row or column (and for errors raised here), they are None.
InputError.row = None
InputError.column = None

__all__ = [
    "ConvergenceError",
    "EvidentError",
    "EvidentWarning",
    "InputError",
    "GlmmResult",
    "Result",
    "RmaResult",
    "batch",
    "cumul",
    "escalc",
    "forest",
    "funnel",
    "influence",
    "leave1out",
    "ranktest",
    "regtest",
    "rma",
    "rma_glmm",
    "rma_mh",
    "rma_peto",
    "trimfill",
]

ArrayLike = Union[Sequence[Any], np.ndarray, pd.Series]
Column = Union[ArrayLike, str]


class EvidentWarning(UserWarning):
    """Something reading or fitting the studies left out or changed (metafor's warnings)."""


# metafor's names for the keys of the library's JSON (the conformance corpus's keys).
_ALIASES = {
    "beta": "estimate",
    "b": "estimate",
    "QE": "Q",
    "QEp": "Q_pval",
    "QE_pval": "Q_pval",
    "QE_df": "Q_df",
}
# metareg spells heterogeneity QE/QE_pval already; its coefficients become arrays.
_METAREG_ALIASES = {"beta": "estimate", "b": "estimate", "QEp": "QE_pval", "QMp": "QM_pval"}
# rma.glmm's QE.Wld, QEp.Wld, QE.LRT and QEp.LRT, with R's dots as underscores.
_GLMM_ALIASES = {
    "beta": "estimate",
    "b": "estimate",
    "QEp_Wld": "QE_Wld_pval",
    "QEp_LRT": "QE_LRT_pval",
    "QMp": "QM_pval",
}


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(np.ndim(x) == 0 and pd.isna(x))
    except (TypeError, ValueError):
        return False


def _values(v: Any, name: str) -> list:
    """One column as a list of Python scalars, None where a value is missing."""
    if isinstance(v, pd.Series):
        v = v.to_numpy(dtype=object) if v.dtype.kind not in "fiub" else v.to_numpy()
    a = np.asarray(v, dtype=None if not isinstance(v, (list, tuple)) else object)
    if a.ndim != 1:
        raise TypeError(f"column '{name}' must be one-dimensional, got shape {a.shape}")
    if a.dtype.kind in "fiub":
        return a.tolist()
    return [None if _missing(x) else x for x in a.tolist()]


def _frame_columns(data: Optional[pd.DataFrame]) -> "dict[str, Any]":
    if data is None:
        return {}
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    return {str(c): data[c] for c in data.columns}


def _columns(
    data: Optional[pd.DataFrame], given: Mapping[str, Any], slab: Optional[Column] = None
) -> "list[tuple[str, list]]":
    """The columns handed to the library: the DataFrame's, then those given by metafor's
    argument names (arrays, or names of the DataFrame's columns, which then move)."""
    cols = _frame_columns(data)
    named = dict(given)
    if slab is not None:
        named["slab"] = slab
    for key, v in named.items():
        if v is None:
            continue
        if isinstance(v, str):
            if v not in cols:
                raise InputError(f"{key}='{v}': the data have no column '{v}'")
            cols[key] = cols.pop(v)
        else:
            cols[key] = v
    if not cols:
        raise TypeError("no data: give a DataFrame or columns such as yi=..., vi=...")
    return [(name, _values(v, name)) for name, v in cols.items()]


def _escalc_args(add: Optional[float], to: str, drop00: bool, vtype: str) -> dict:
    return {"add": add, "to": to, "drop00": bool(drop00), "vtype": vtype}


def _rma_args(method, test, level, pi_type, tau2, control, scale) -> dict:
    return {
        "method": method,
        "test": test,
        "level": float(level),
        "pi_type": pi_type,
        "tau2": tau2,
        "control": {k: float(v) for k, v in (control or {}).items()},
        "scale": scale,
    }


def _array(v: Any) -> Any:
    """A JSON value as Python: lists of numbers as float arrays (NaN for null)."""
    if isinstance(v, list) and v and all(x is None or isinstance(x, (int, float)) for x in v):
        if all(isinstance(x, bool) for x in v):
            return np.array(v, dtype=bool)
        return np.array([math.nan if x is None else x for x in v], dtype=float)
    return v


class Result:
    """A result with metafor's names as attributes, ``to_dict()``, ``to_frame()`` and the text
    ``evident`` prints for it (``summary()``, also ``str(result)``)."""

    _aliases: Mapping[str, str] = {}

    def __init__(self, rendered: Tuple[str, str]):
        self._dict: dict = json.loads(rendered[0])
        self._text: str = rendered[1]

    def _attributes(self) -> "dict | None":
        # Read through __dict__: __getattr__ runs before __init__ has set it (copy, pickle).
        return self.__dict__.get("_dict")

    def __getattr__(self, name: str) -> Any:
        d = self._attributes()
        if d is None:
            raise AttributeError(name)
        key = self._aliases.get(name, name)
        if key in d:
            return _array(d[key])
        raise AttributeError(
            f"{type(self).__name__} has no attribute '{name}' (keys: {', '.join(d)})"
        )

    def __dir__(self) -> "list[str]":
        return sorted(set(super().__dir__()) | set(self._dict) | set(self._aliases))

    def to_dict(self) -> dict:
        """The result as the JSON object of ``evident ... --json`` (metafor's names)."""
        return json.loads(json.dumps(self._dict))

    def to_frame(self) -> pd.DataFrame:
        """Per-study arrays as columns (indexed by study label), else the scalars as one row."""
        d = self._dict
        slab = d.get("slab")
        if isinstance(slab, list):
            cols = {k: _array(v) for k, v in d.items() if isinstance(v, list) and k != "slab"}
            cols = {k: v for k, v in cols.items() if len(v) == len(slab)}
            return pd.DataFrame(cols, index=pd.Index(slab, name="slab"))
        return pd.DataFrame([{k: v for k, v in d.items() if not isinstance(v, (list, dict))}])

    def summary(self) -> str:
        """The text ``evident`` prints for this result."""
        return self._text

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"<evident.{type(self).__name__}>\n{self._text}"


class RmaResult(Result):
    """A fitted model (``rma``, ``rma_mh``, ``rma_peto``): ``beta``, ``se``, ``zval`` (or
    ``tval`` and ``df``), ``pval``, ``ci_lb``, ``ci_ub``, ``pi_lb``, ``pi_ub``, ``tau2``,
    ``se_tau2``, ``I2``, ``H2``, ``QE``, ``QEp``, ``k``, ``weights``, ... With moderators
    ``beta``, ``se``, ... are arrays in the order of ``coef_names``. ``summary()`` is the text
    of ``evident pool``; ``to_dict()`` its ``--json``; ``to_frame()`` the coefficient table."""

    def __init__(self, fit: "_evident.Fit"):
        super().__init__(fit.rendered())
        self._fit = fit
        coefs = self._dict.get("coefficients")
        self._flat = dict(self._dict)
        if isinstance(coefs, list):
            self._aliases = _METAREG_ALIASES
            for key in coefs[0] if coefs else []:
                self._flat[key] = [c.get(key) for c in coefs]
            self._flat["coef_names"] = self._flat.pop("name", [])
        else:
            self._aliases = _ALIASES
        for w in fit.warnings():
            warnings.warn(w, EvidentWarning, stacklevel=3)

    def _attributes(self) -> "dict | None":
        # The coefficient table's columns are attributes too (beta, se, ... as arrays).
        return self.__dict__.get("_flat")

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (metafor's ``coef(summary(res))``), one row per coefficient."""
        d = self._flat
        stat = "tval" if "tval" in d else "zval"
        keys = ["estimate", "se", stat, "df", "pval", "ci_lb", "ci_ub"]
        names = d.get("coef_names", ["intrcpt"])
        rows = {k: np.atleast_1d(_array(d[k])) for k in keys if k in d}
        return pd.DataFrame(rows, index=pd.Index(names, name="coef"))


def _with_data(first: Any, data: Optional[pd.DataFrame]) -> Tuple[Any, Optional[pd.DataFrame]]:
    """``f(df, ...)`` is ``f(data=df, ...)``."""
    if isinstance(first, pd.DataFrame):
        if data is not None:
            raise TypeError("data given twice: as the first argument and as data=")
        return None, first
    return first, data


def escalc(
    *args: Union[str, pd.DataFrame],
    measure: Optional[str] = None,
    data: Optional[pd.DataFrame] = None,
    add: Optional[float] = None,
    to: str = "only0",
    drop00: bool = False,
    vtype: str = "LS",
    slab: Optional[Column] = None,
    **columns: Column,
) -> Union[pd.DataFrame, Tuple[np.ndarray, np.ndarray]]:
    """metafor's ``escalc``: effect sizes ``yi`` and sampling variances ``vi``.

    ``escalc("OR", ai=..., bi=..., ci=..., di=...)`` returns ``(yi, vi)`` as numpy arrays (NaN
    where metafor gives NA); ``escalc(df, measure="SMD")`` (or ``escalc("SMD", df)``) returns a
    copy of the DataFrame with ``yi`` and ``vi`` columns added. ``measure`` None takes the data
    type's default; ``add`` None is metafor's default for the measure (1/2, or 0 for the arcsine
    measures); ``to``, ``drop00`` and ``vtype`` are metafor's.
    """
    for a in args:
        if isinstance(a, pd.DataFrame) and data is None:
            data = a
        elif isinstance(a, str) and measure is None:
            measure = a
        else:
            raise TypeError("escalc takes a measure name and a DataFrame as positional arguments")
    m = measure
    cols = _columns(data, columns, slab)
    yi, vi, m, scale = _evident.escalc(cols, m, _escalc_args(add, to, drop00, vtype))
    yi = np.array([math.nan if x is None else x for x in yi], dtype=float)
    vi = np.array([math.nan if x is None else x for x in vi], dtype=float)
    if data is None:
        return yi, vi
    out = data.copy()
    out["yi"], out["vi"] = yi, vi
    # As metafor's escalc object: rma of these yi knows their measure's scale (log for RR).
    out.attrs["evident_measure"], out.attrs["evident_scale"] = m, scale
    return out


def _mods_columns(mods: Any, data: Optional[pd.DataFrame]) -> Tuple[Optional[str], dict]:
    """``mods`` as (formula, extra columns): a formula string names columns of the data; an
    array, dict or DataFrame of moderators adds them (all as linear terms)."""
    if mods is None or isinstance(mods, str):
        return mods, {}
    if isinstance(mods, pd.DataFrame):
        extra = {str(c): mods[c] for c in mods.columns}
    elif isinstance(mods, Mapping):
        extra = {str(k): v for k, v in mods.items()}
    else:
        a = np.asarray(mods)
        if a.ndim == 1:
            extra = {"mods": a}
        elif a.ndim == 2:
            extra = {f"mods{j + 1}": a[:, j] for j in range(a.shape[1])}
        else:
            raise TypeError(f"mods must be a formula, a DataFrame, a dict or 1-2-d, got {a.shape}")
    return " + ".join(extra), extra


def rma(
    yi: Union[Column, pd.DataFrame, None] = None,
    vi: Optional[Column] = None,
    *,
    sei: Optional[Column] = None,
    data: Optional[pd.DataFrame] = None,
    measure: Optional[str] = None,
    method: str = "REML",
    test: str = "z",
    mods: Any = None,
    level: float = 95,
    slab: Optional[Column] = None,
    tau2: Optional[float] = None,
    pi_type: str = "metafor",
    control: Optional[Mapping[str, float]] = None,
    scale: Optional[str] = None,
    add: Optional[float] = None,
    to: str = "only0",
    drop00: bool = False,
    vtype: str = "LS",
    **columns: Column,
) -> RmaResult:
    """metafor's ``rma`` (``rma.uni``): the fixed- or random-effects model.

    ``rma(yi, vi)``, ``rma(yi, sei=...)``, ``rma(df)`` (a DataFrame with yi/vi, or raw data with
    ``measure=``, as ``rma(ai=..., ..., measure="OR")``). ``method`` is the tau2 estimator (FE,
    DL, HE, HS, SJ, ML, REML, EB, PM), ``test`` z, t, knha or adhoc, ``level`` in percent (or a
    proportion), ``mods`` an R formula's right-hand side over the data's columns
    (``"ablat + factor(alloc)"``) or moderator arrays. ``tau2`` fixes tau2; ``control`` takes
    metafor's settings (threshold, maxiter, stepadj, tol, ll0check, tau2.init, tau2.min,
    tau2.max); ``scale`` (identity, log, logit, fisherz) says how given yi are back-transformed.
    """
    yi, data = _with_data(yi, data)
    if measure is None and data is not None and "yi" in data and not columns:
        # Effects already computed (metafor's rma(yi, vi, data=dat)), not the raw counts beside.
        measure = "GEN"
        scale = scale or data.attrs.get("evident_scale")
    formula, extra = _mods_columns(mods, data)
    given = {"yi": yi, "vi": vi, "sei": sei, **columns, **extra}
    cols = _columns(data, given, slab)
    fit = _evident.rma(
        cols,
        measure,
        _escalc_args(add, to, drop00, vtype),
        _rma_args(method, test, level, pi_type, tau2, control, scale),
        formula,
    )
    return RmaResult(fit)


def _tables(data, measure, level, add, to, drop00, correct, slab, peto, columns) -> RmaResult:
    cols = _columns(data, columns, slab)
    esc = _escalc_args(add, to, drop00, "LS")
    return RmaResult(_evident.rma_tables(cols, measure, esc, float(level), bool(correct), peto))


class GlmmResult(RmaResult):
    """A fitted ``rma_glmm``: ``beta``, ``se``, ``zval`` (or ``tval``), ``pval``, ``ci_lb``,
    ``ci_ub``, ``tau2`` (and ``sigma2`` for UM.RS), ``I2``, ``H2``, the Wald and likelihood-ratio
    tests of heterogeneity ``QE_Wld``, ``QEp_Wld``, ``QE_LRT``, ``QEp_LRT`` (metafor's
    ``QE.Wld``, ...), ``loglik``, ``AIC``, ... As :class:`RmaResult`; the bias and sensitivity
    functions take inverse-variance fits only."""

    def __init__(self, fit: "_evident.Fit"):
        super().__init__(fit)
        self._aliases = _GLMM_ALIASES


def rma_glmm(
    data: Optional[pd.DataFrame] = None,
    *,
    measure: str,
    model: str = "UM.FS",
    method: str = "ML",
    test: str = "z",
    mods: Any = None,
    level: float = 95,
    slab: Optional[Column] = None,
    **columns: Column,
) -> GlmmResult:
    """metafor's ``rma.glmm``: the generalized linear mixed model, by maximum likelihood, from
    the counts themselves (Stijnen, Hamza & Oezdemir 2010).

    ``measure`` OR (``ai, bi, ci, di``), IRR (``x1i, t1i, x2i, t2i``), PLO (``xi, ni``) or IRLN
    (``xi, ti``); ``model`` UM.FS, UM.RS, CM.EL or CM.AL (metafor's; ignored for PLO and IRLN);
    ``test`` z or t; ``mods`` a formula's right-hand side or moderator arrays, as for ``rma``.
    Double-zero studies are dropped; complete separation, k <= p and non-integer counts raise
    :class:`InputError`.
    """
    if str(method).upper() != "ML":
        raise InputError(f"rma_glmm fits by maximum likelihood (method='ML'), not '{method}'")
    formula, extra = _mods_columns(mods, data)
    cols = _columns(data, {**columns, **extra}, slab)
    fit = _evident.rma_glmm(cols, measure, model, test, float(level), formula)
    return GlmmResult(fit)


def rma_mh(
    data: Optional[pd.DataFrame] = None,
    *,
    measure: str = "OR",
    level: float = 95,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = True,
    correct: bool = True,
    slab: Optional[Column] = None,
    **columns: Column,
) -> RmaResult:
    """metafor's ``rma.mh``: Mantel-Haenszel pooling of 2x2 tables (OR, RR, RD) or incidence
    (IRR, IRD). ``add``, ``to`` and ``drop00`` apply to the per-study effects behind Q (the
    pooled estimate uses the counts as they are, as metafor); ``correct`` is the continuity
    correction of the CMH test."""
    return _tables(data, measure, level, add, to, drop00, correct, slab, False, columns)


def rma_peto(
    data: Optional[pd.DataFrame] = None,
    *,
    level: float = 95,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = True,
    slab: Optional[Column] = None,
    **columns: Column,
) -> RmaResult:
    """metafor's ``rma.peto``: Peto's one-step odds ratio from 2x2 tables."""
    return _tables(data, None, level, add, to, drop00, True, slab, True, columns)


def regtest(res: RmaResult, model: str = "rma", predictor: str = "sei") -> Result:
    """metafor's ``regtest`` (Egger's test): ``zval`` (or ``tval``, ``df``), ``pval``,
    ``limit_estimate``, ``limit_ci_lb``, ``limit_ci_ub``."""
    return Result(res._fit.regtest(model, predictor))


def ranktest(res: RmaResult) -> Result:
    """metafor's ``ranktest`` (Begg and Mazumdar 1994): Kendall's ``tau`` and ``pval``."""
    return Result(res._fit.ranktest())


def trimfill(res: RmaResult, estimator: str = "L0", side: Optional[str] = None) -> Result:
    """metafor's ``trimfill`` (Duval and Tweedie 2000): ``k0``, ``side``, the filled model's
    ``estimate``, ``se``, ``ci_lb``, ..., and the imputed ``filled_yi``, ``filled_vi``."""
    return Result(res._fit.trimfill(estimator, side))


def leave1out(res: RmaResult) -> Result:
    """metafor's ``leave1out``: entry i is the model without study i; ``to_frame()`` is the
    table."""
    return Result(res._fit.leave1out())


def cumul(res: RmaResult, order: Optional[str] = None, decreasing: bool = False) -> Result:
    """metafor's ``cumul``: entry i is the model of the first i studies, in data order or by the
    column ``order``."""
    return Result(res._fit.cumul(order, decreasing))


def influence(res: RmaResult) -> Result:
    """metafor's ``influence``: ``rstudent``, ``dffits``, ``cooks_d``, ``cov_r``, ``tau2_del``,
    ``QE_del``, ``hat``, ``weight``, ``dfbetas``, ``is_infl``."""
    return Result(res._fit.influence())


def forest(
    res: RmaResult,
    path: Union[str, "os.PathLike[str]"],
    *,
    title: Optional[str] = None,
    xlim: Optional[Tuple[float, float]] = None,
    dpi: float = 300,
) -> str:
    """A forest plot of an ``rma`` fit, as ``evident forest`` draws it: SVG, PNG or PDF by the
    extension of ``path``. Returns the path."""
    res._fit.forest(os.fspath(path), title, xlim, float(dpi))
    return os.fspath(path)


def funnel(
    res: RmaResult,
    path: Union[str, "os.PathLike[str]"],
    *,
    title: Optional[str] = None,
    xlim: Optional[Tuple[float, float]] = None,
    contours: bool = False,
    dpi: float = 300,
) -> str:
    """A funnel plot of an ``rma`` fit (``contours``: significance contours), as ``evident
    funnel`` draws it: SVG, PNG or PDF by the extension of ``path``. Returns the path."""
    res._fit.funnel(os.fspath(path), title, xlim, bool(contours), float(dpi))
    return os.fspath(path)


def batch(
    data: pd.DataFrame,
    analysis: str = "analysis",
    *,
    measure: Optional[str] = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    pi_type: str = "metafor",
    control: Optional[Mapping[str, float]] = None,
    scale: Optional[str] = None,
    add: Optional[float] = None,
    to: str = "only0",
    drop00: bool = False,
    vtype: str = "LS",
) -> pd.DataFrame:
    """Many meta-analyses at once, through the library's parallel batch (``evident batch``):
    the rows of each analysis (the value of column ``analysis``) must be together. Returns one
    row per analysis with ``k``, ``estimate``, ``se``, ``stat``, ``df``, ``pval``, ``ci_lb``,
    ``ci_ub``, ``pi_lb``, ``pi_ub``, ``tau2``, ``tau2_ci_lb``, ``tau2_ci_ub``, ``I2``, ``H2``,
    ``Q``, ``Q_pval`` (and back-transformed ``*_exp`` for ratio measures), and ``error`` where
    an analysis could not be fitted."""
    cols = _columns(data, {})
    header, names, ks, values, errors = _evident.batch(
        cols,
        analysis,
        measure,
        _escalc_args(add, to, drop00, vtype),
        _rma_args(method, test, level, pi_type, None, control, scale),
    )
    numeric = header[2:-1]
    table = np.full((len(names), len(numeric)), math.nan)
    for i, row in enumerate(values):
        if row:
            table[i, :] = row
    out = pd.DataFrame(table, columns=numeric)
    out.insert(0, "k", pd.array(ks, dtype="Int64"))
    out.insert(0, analysis, pd.Series(names, dtype=object))
    out["error"] = pd.Series(errors, dtype=object)
    return out
