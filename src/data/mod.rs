//! Input: CSV files of studies, recognised by their column names.
//!
//! [`Table`] reads text cells with line numbers; [`Studies`] recognises the data type (2×2 tables,
//! means, incidence, proportions, correlations, pre-computed effects, reported ratios with CIs) from
//! metafor's argument names or common aliases, validates every cell, and keeps the remaining
//! columns as moderators. Recognising ([`Layout`], from the header alone) and reading (from any
//! [`Grid`] of text cells) are separate, so `evident batch` recognises a long file once and reads
//! each analysis with the same code that reads a file of its own.

pub(crate) mod records;
pub mod studies;
pub mod table;

pub use studies::{ColumnMap, Data, Grid, Kind, Layout, Moderator, Studies, Value};
pub use table::{CsvOptions, Table};

use crate::error::Result;
use std::path::Path;

/// Reads a CSV file of studies.
pub fn read_studies(path: &Path, csv: &CsvOptions, map: &ColumnMap) -> Result<Studies> {
    let table = Table::from_path(path, csv)?;
    Studies::from_table(&table, map)
}
