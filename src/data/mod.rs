//! Input: CSV files of studies, recognised by their column names.
//!
//! [`Table`] reads text cells with line numbers; [`Studies`] recognises the data type (2×2 tables,
//! means, incidence, proportions, correlations, pre-computed effects, reported ratios with CIs) from
//! metafor's argument names or common aliases, validates every cell, and keeps the remaining
//! columns as moderators. Recognising ([`Layout`], from the header alone) and reading (from any
//! [`Grid`] of text cells) are separate, so `evident batch` recognises a long file once and reads
//! each analysis with the same code that reads a file of its own.

pub mod levels;
pub(crate) mod records;
pub mod revman;
pub mod sanitize;
pub mod sheet;
pub mod source;
pub mod studies;
pub mod table;

pub use sheet::Sheet;
pub use studies::{ColumnMap, Data, Grid, Kind, Layout, Moderator, Studies, Value};
pub use table::{CsvOptions, Table};

use crate::error::Result;
use std::path::Path;

/// Reads a CSV file of studies.
///
/// # Examples
///
/// ```
/// use evident::{read_studies, ColumnMap, CsvOptions, Table};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// assert_eq!(studies.data.kind_name(), "2x2 tables"); // ai, bi, ci, di
/// assert!(studies.moderator("ablat").is_some()); // other columns are kept as moderators
/// // Table::from_path reads the same cells without recognising them: one study per row.
/// let table = Table::from_path(path.as_ref(), &CsvOptions::default())?;
/// assert_eq!(studies.labels.len(), table.rows.len());
/// # Ok::<(), evident::Error>(())
/// ```
pub fn read_studies(path: &Path, csv: &CsvOptions, map: &ColumnMap) -> Result<Studies> {
    let table = Table::from_path(path, csv)?;
    Studies::from_table(&table, map)
}
