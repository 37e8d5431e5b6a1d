"""Bad input raises evident's exceptions (never a panic), naming the row and column."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import evident as ev
from conftest import CASES, read_input


def test_hierarchy():
    assert issubclass(ev.InputError, ev.EvidentError)
    assert issubclass(ev.ConvergenceError, ev.EvidentError)
    assert issubclass(ev.EvidentError, ValueError)


def test_bad_cell_names_row_and_column():
    df = pd.DataFrame({"ai": [4, "x", 6], "bi": [10, 11, 12], "ci": [3, 4, 5], "di": [9, 9, 9]})
    with pytest.raises(ev.InputError) as e:
        ev.escalc(df, measure="OR")
    assert e.value.row == 1 and e.value.column == "ai"
    assert "row 1" in str(e.value) and "column 'ai'" in str(e.value)


def test_negative_count_names_row_and_column():
    df = pd.DataFrame({"ai": [4, 5, 6], "bi": [10, -11, 12], "ci": [3, 4, 5], "di": [9, 9, 9]})
    with pytest.raises(ev.InputError) as e:
        ev.rma(df, measure="OR")
    assert e.value.row == 1 and e.value.column == "bi"


def test_infinite_value_is_refused():
    with pytest.raises(ev.InputError) as e:
        ev.rma([0.1, np.inf, 0.3], [0.01, 0.02, 0.03])
    assert e.value.row == 1 and e.value.column == "yi"


def test_unknown_options():
    with pytest.raises(ev.InputError, match="unknown method"):
        ev.rma([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], method="XYZ")
    with pytest.raises(ev.InputError, match="unknown measure"):
        ev.escalc("NOPE", ai=[1], bi=[2], ci=[3], di=[4])
    with pytest.raises(ev.InputError, match="level"):
        ev.rma([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], level=150)
    with pytest.raises(ev.InputError, match="control"):
        ev.rma([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], control={"nonsense": 1})


def test_columns_of_different_lengths():
    with pytest.raises(ev.InputError, match="values"):
        ev.rma([0.1, 0.2, 0.3], [0.01, 0.02])


def test_measure_that_does_not_fit_the_data():
    with pytest.raises(ev.InputError):
        ev.rma_mh(yi=[0.1, 0.2], vi=[0.1, 0.2])


def test_unknown_moderator():
    df = pd.DataFrame({"yi": [0.1, 0.2, 0.3, 0.4], "vi": [0.01, 0.02, 0.03, 0.04]})
    with pytest.raises(ev.InputError) as e:
        ev.rma(df, mods="ablat")
    assert e.value.column == "ablat"


def test_nonconvergence_is_a_convergence_error():
    # metafor's own error for REML on this case (expected.json records it).
    case = CASES / "synthetic_reml_nonconvergence"
    exp = json.loads((case / "expected.json").read_text())
    a = next(a for a in exp["analyses"] if a["kind"] == "rma" and "error" in a["expected"])
    o = a["options"]
    with pytest.raises(ev.ConvergenceError):
        ev.rma(read_input(case), measure=o["measure"], method=o["method"])


def test_bias_of_a_metareg_fit_is_refused():
    df = pd.DataFrame({"yi": [0.1, 0.3, 0.2, 0.5], "vi": [0.01, 0.02, 0.03, 0.04],
                       "x": [1, 2, 3, 4]})
    with pytest.raises(ev.InputError, match="without moderators"):
        ev.leave1out(ev.rma(df, mods="x"))
