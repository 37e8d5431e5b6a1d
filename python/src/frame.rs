//! Columns handed over from Python (numpy arrays, lists, pandas Series, all turned into lists)
//! as a [`Grid`] of text cells, so that they are read by the library exactly as a CSV file of
//! the same columns would be: the same recognition of metafor's column names and the same
//! validation, with errors naming the row and column.

use evident::data::{ColumnMap, Grid, Layout, Studies};
use evident::Measure;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyString};
use std::path::{Path, PathBuf};

/// What Python passes: (column name, one value per row) in column order.
pub type Columns<'py> = Vec<(String, Vec<Bound<'py, PyAny>>)>;

/// The name data handed over from Python carry in messages, where a file name would stand.
pub const SOURCE: &str = "data";

/// A rectangular table of text cells, row-major; row `r` is "line" `r + 1`, so that a
/// message's line is the 1-based row (the InputError's `row` is 0-based).
pub struct Frame {
    source: PathBuf,
    headers: Vec<String>,
    cells: Vec<String>,
    n_rows: usize,
}

impl Grid for Frame {
    fn source(&self) -> &Path {
        &self.source
    }
    fn headers(&self) -> &[String] {
        &self.headers
    }
    fn n_rows(&self) -> usize {
        self.n_rows
    }
    fn cell(&self, row: usize, col: usize) -> &str {
        &self.cells[row * self.headers.len() + col]
    }
    fn line(&self, row: usize) -> Option<usize> {
        Some(row + 1)
    }
    fn decimal_comma(&self) -> bool {
        false
    }
}

/// A cell's text as a CSV file would hold it: missing (None, NaN) is empty, numbers in the
/// shortest form that reads back to the same double, booleans as R writes them.
fn cell_text(v: &Bound<'_, PyAny>) -> PyResult<String> {
    if v.is_none() {
        return Ok(String::new());
    }
    if v.is_instance_of::<PyBool>() {
        return Ok(if v.is_truthy()? { "TRUE" } else { "FALSE" }.to_owned());
    }
    if v.is_instance_of::<PyString>() {
        return v.extract::<String>();
    }
    if let Ok(i) = v.extract::<i64>() {
        return Ok(i.to_string());
    }
    match v.extract::<f64>() {
        Ok(x) if x.is_nan() => Ok(String::new()),
        // Rust's Display of an f64 is the shortest text that parses back to it; infinities stay
        // "inf" so that the library refuses them naming the cell.
        Ok(x) => Ok(x.to_string()),
        Err(_) => Ok(v.str()?.to_string()),
    }
}

impl Frame {
    /// The columns as text cells; every column must have as many values as the first.
    pub fn new(columns: Columns<'_>) -> PyResult<Frame> {
        let n_rows = columns.first().map_or(0, |c| c.1.len());
        if let Some((name, c)) = columns.iter().find(|c| c.1.len() != n_rows) {
            return Err(crate::errors::InputError::new_err(format!(
                "column '{name}' has {} values, column '{}' has {n_rows}: every column needs one \
                 value per study",
                c.len(),
                columns[0].0
            )));
        }
        let mut cells = vec![String::new(); n_rows * columns.len()];
        for (j, (_, values)) in columns.iter().enumerate() {
            for (i, v) in values.iter().enumerate() {
                cells[i * columns.len() + j] = cell_text(v)?;
            }
        }
        Ok(Frame {
            source: PathBuf::from(SOURCE),
            headers: columns.into_iter().map(|c| c.0).collect(),
            cells,
            n_rows,
        })
    }

    /// The studies, recognised from the column names as the library reads a CSV file (the
    /// column sets of `measure` tried first); the other columns become moderators.
    pub fn studies(&self, measure: Option<Measure>) -> evident::Result<Studies> {
        let layout = Layout::detect_for(&self.headers, &self.source, &ColumnMap::new(), measure)?;
        Studies::read(self, &layout, true)
    }

    /// The frame as CSV text (fields quoted as the library's batch output quotes them), for
    /// the library's streaming batch.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let mut line = |row: &[String]| {
            for (j, cell) in row.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                evident::app::batch::write_text(&mut out, cell);
            }
            out.push('\n');
        };
        line(&self.headers);
        for r in 0..self.n_rows {
            let w = self.headers.len();
            line(&self.cells[r * w..(r + 1) * w]);
        }
        out
    }
}
