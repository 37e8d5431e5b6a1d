"""Shared helpers of the Python tests: the project's conformance corpus (tests/conformance of
the repository, format in its README.md) and the README's tolerances."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "conformance" / "cases"

# The corpus README's "Suggested tolerances": |got - expected| <= atol + rtol * |expected|.
RTOL = 1e-8
ATOL = 1e-12
PVAL_RTOL = 1e-6
CONVERGED_RTOL = 1e-6


# Numbers parsed to the nearest double: pandas 3's default parser does; older ones need asking.
ROUND_TRIP = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def key_rtol(key: str, base: float) -> float:
    """p-values are never held tighter than 1e-6 (as tests/common/tol.rs says)."""
    return max(base, PVAL_RTOL) if key.endswith("pval") else base


def pending() -> set[tuple[str, str]]:
    """The analyses the Rust harness lists as pending (tests/conformance/cases.rs)."""
    text = (ROOT / "tests" / "conformance" / "cases.rs").read_text()
    return set(re.findall(r'^pending!\(\w+, "([^"]+)", "([^"]+)"\);', text, re.M))


def analyses(kinds: set[str]):
    """(case dir, analysis) for every analysis of `kinds` the Rust harness runs."""
    skip = pending()
    out = []
    for f in sorted(CASES.glob("*/expected.json")):
        case = json.loads(f.read_text())
        for a in case["analyses"]:
            if a["kind"] in kinds and (f.parent.name, a["id"]) not in skip:
                out.append((f.parent, a))
    return out


def read_input(case_dir: Path) -> pd.DataFrame:
    """input.csv as R's read.csv(na.strings="") reads it: only empty cells are missing; numbers
    parsed to the nearest double."""
    return pd.read_csv(
        case_dir / "input.csv",
        keep_default_na=False,
        na_values=[""],
        **ROUND_TRIP,
    )


def compare(path: str, expected, got, rtol: float, misses: list[str]) -> None:
    """Records every difference of `got` from `expected` (recursing into lists), as the Rust
    harness's `compare` does; null is NaN or None."""
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            misses.append(f"{path}: expected {len(expected)} entries, got {got!r}")
            return
        for i, (e, g) in enumerate(zip(expected, got)):
            compare(f"{path}[{i}]", e, g, rtol, misses)
        return
    if expected is None:
        if not (got is None or (isinstance(got, float) and math.isnan(got))):
            misses.append(f"{path}: expected null, got {got!r}")
        return
    if isinstance(expected, bool) or isinstance(expected, str):
        if expected != got:
            misses.append(f"{path}: expected {expected!r}, got {got!r}")
        return
    if isinstance(expected, (int, float)):
        ok = isinstance(got, (int, float)) and not isinstance(got, bool)
        if not ok or not abs(got - expected) <= ATOL + rtol * abs(expected):
            misses.append(f"{path}: expected {expected!r}, got {got!r}")
        return
    if expected != got:
        misses.append(f"{path}: expected {expected!r}, got {got!r}")
