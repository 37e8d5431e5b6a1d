//! The library's [`evident::Error`] as Python exceptions, and the guard that keeps a panic from
//! crossing into Python.

use evident::error::Location;
use evident::Error;
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

create_exception!(
    evident,
    EvidentError,
    PyValueError,
    "Every error evident raises: the analysis cannot be run on these data or options."
);
create_exception!(
    evident,
    InputError,
    EvidentError,
    "Bad input data or options; `row` (0-based) and `column` say where when known."
);
create_exception!(
    evident,
    ConvergenceError,
    EvidentError,
    "An iterative estimator (Fisher scoring, a root search) did not converge."
);

/// An `InputError` with its `row` and `column` attributes (None when unknown).
fn input_error(py: Python<'_>, msg: String, row: Option<usize>, column: Option<&str>) -> PyErr {
    let err = InputError::new_err(msg);
    let value = err.value(py);
    // Setting attributes on a fresh exception object cannot fail but for memory exhaustion.
    let _ = value.setattr("row", row);
    let _ = value.setattr("column", column);
    err
}

/// "row 3, column 'ai'": the location in the data handed over, rows counted from 0 as in
/// pandas' `iloc` (a frame's line is its 1-based row).
fn place(loc: &Location) -> (String, Option<usize>) {
    let row = loc.line.map(|l| l.saturating_sub(1));
    let mut parts = Vec::new();
    if let Some(r) = row {
        parts.push(format!("row {r}"));
    }
    if let Some(c) = &loc.column {
        parts.push(format!("column '{c}'"));
    }
    (parts.join(", "), row)
}

/// The Python exception for a library error.
pub fn to_py(py: Python<'_>, e: Error) -> PyErr {
    match e {
        Error::Input { location, message } => {
            let (at, row) = place(&location);
            let msg = if at.is_empty() {
                message
            } else {
                format!("{at}: {message}")
            };
            input_error(py, msg, row, location.column.as_deref())
        }
        Error::MissingMeasure { ref location } => {
            let (_, row) = place(location);
            let column = location.column.clone();
            input_error(py, e.to_string(), row, column.as_deref())
        }
        Error::UnknownColumn { ref column, .. } => {
            let column = column.clone();
            input_error(py, e.to_string(), None, Some(&column))
        }
        Error::NotConverged { .. } | Error::IterationLimit { .. } => {
            ConvergenceError::new_err(e.to_string())
        }
        Error::UnknownLayout { .. }
        | Error::UnknownField { .. }
        | Error::MappedColumnMissing { .. }
        | Error::MixedRatios { .. }
        | Error::InvalidLevel { .. }
        | Error::Invalid(_) => input_error(py, e.to_string(), None, None),
        other => EvidentError::new_err(other.to_string()),
    }
}

/// Runs `f` without the GIL (the library is pure Rust), turning a library error into its
/// Python exception and a panic, should one ever happen, into an `EvidentError` rather than a
/// `PanicException` that `except Exception` would not catch.
pub fn run<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> evident::Result<T> + Send,
{
    let out = py.detach(|| catch_unwind(AssertUnwindSafe(f)));
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py(py, e)),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Err(EvidentError::new_err(format!(
                "internal error in evident (please report it): {what}"
            )))
        }
    }
}
