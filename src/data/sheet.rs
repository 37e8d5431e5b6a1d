//! Where a table read from a workbook sits in it, for messages that name cells (`Sheet1!C4`).

use crate::error::SheetCell;

/// Where a table read from a workbook sits: its sheet and the sheet column of its first column.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The sheet's name.
    pub name: String,
    /// The 0-based sheet column (A is 0) of the table's first column.
    pub first_column: u32,
}

impl Sheet {
    /// The position of the table's column `col` (or of a whole row) in the sheet.
    pub fn cell(&self, col: Option<usize>) -> SheetCell {
        SheetCell {
            sheet: self.name.clone(),
            column: col.map(|c| self.first_column.saturating_add(c as u32)),
        }
    }
}
