//! Input tables shared by the analyses of one report run: a long CSV holding 100 analyses is
//! read and parsed once, not once per analysis (a 300k-row file: 28 s became 1.7 s), and each
//! table is dropped as soon as the last analysis that reads it is done.

use crate::data::{CsvOptions, Table};
use crate::error::Result;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One file's parsed table, parsed at most once (the slot's lock makes concurrent readers of
/// the same file wait for the first parse), with how many analyses still need it.
#[derive(Default)]
struct Slot {
    table: Mutex<Option<Arc<Table>>>,
    /// The rows of each value of one column (the `analysis` column of a long CSV), built on the
    /// first selection: a scan of the whole file per analysis made a long CSV's report quadratic.
    groups: Mutex<Option<(usize, Arc<Groups>)>>,
}

/// Row indices by trimmed value, in file order.
type Groups = HashMap<String, Vec<usize>>;

/// A table's origin: its file and, for a workbook, the sheet (`None`: the first), with the
/// delimiter and decimal separator it is read by (analyses reading one file differently get a
/// table each).
type Key = (PathBuf, Option<String>, Option<u8>, Option<bool>);

fn key(file: &Path, csv: &CsvOptions) -> Key {
    (
        file.to_path_buf(),
        csv.sheet.clone(),
        csv.delimiter,
        csv.decimal_comma,
    )
}

/// The cache: a slot per file (and sheet) and the analyses left to read it.
pub struct Tables {
    slots: Mutex<HashMap<Key, (Arc<Slot>, usize)>>,
}

impl Tables {
    /// A cache for analyses reading `files` by their reading options (one entry per analysis,
    /// repeats counted).
    pub fn new<'a>(files: impl IntoIterator<Item = (&'a Path, CsvOptions)>) -> Tables {
        let mut slots: HashMap<Key, (Arc<Slot>, usize)> = HashMap::new();
        for (f, csv) in files {
            slots.entry(key(f, &csv)).or_default().1 += 1;
        }
        Tables {
            slots: Mutex::new(slots),
        }
    }

    /// The table of `file` read by `csv` (its sheet, for a workbook), parsed on first use. A
    /// read error is not kept: each analysis gets its own (the same) error, as if it had read the
    /// file alone.
    pub fn get(&self, file: &Path, csv: &CsvOptions) -> Result<Arc<Table>> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(&slots.entry(key(file, csv)).or_default().0)
        };
        let mut table = slot.table.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = table.as_ref() {
            return Ok(Arc::clone(t));
        }
        let t = Arc::new(Table::from_path(file, csv)?);
        *table = Some(Arc::clone(&t));
        Ok(t)
    }

    /// The rows of `file`'s table whose `column` holds `value`, as [`select`] gives them, through
    /// an index of that column built once per file.
    pub fn select(
        &self,
        file: &Path,
        csv: &CsvOptions,
        column: usize,
        value: &str,
    ) -> Result<Table> {
        let table = self.get(file, csv)?;
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(&slots.entry(key(file, csv)).or_default().0)
        };
        let groups = {
            let mut g = slot.groups.lock().unwrap_or_else(|p| p.into_inner());
            match g.as_ref() {
                Some((c, groups)) if *c == column => Arc::clone(groups),
                _ => {
                    let mut groups = Groups::new();
                    for (i, r) in table.rows.iter().enumerate() {
                        groups
                            .entry(r[column].trim().to_string())
                            .or_default()
                            .push(i);
                    }
                    let groups = Arc::new(groups);
                    *g = Some((column, Arc::clone(&groups)));
                    groups
                }
            }
        };
        Ok(rows_of(
            &table,
            groups.get(value).map_or(&[][..], Vec::as_slice),
        ))
    }

    /// One analysis of `file` (read by `csv`) is done; the table is dropped after the last one.
    pub fn done(&self, file: &Path, csv: &CsvOptions) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let k = key(file, csv);
        if let Some((_, left)) = slots.get_mut(&k) {
            *left = left.saturating_sub(1);
            if *left == 0 {
                slots.remove(&k);
            }
        }
    }

    /// Files whose table is held now (for tests).
    #[cfg(test)]
    fn held(&self) -> usize {
        let slots = self.slots.lock().unwrap();
        slots
            .values()
            .filter(|(s, _)| s.table.lock().unwrap().is_some())
            .count()
    }
}

/// The rows of `table` whose `column` holds `value` (trimmed), as a table of their own with the
/// file's header, line numbers and decimal convention.
pub fn select(table: &Table, column: usize, value: &str) -> Table {
    let keep: Vec<usize> = (0..table.rows.len())
        .filter(|&i| table.rows[i][column].trim() == value)
        .collect();
    rows_of(table, &keep)
}

/// The rows `keep` of `table`, as a table of their own with the file's header, line numbers and
/// decimal convention.
fn rows_of(table: &Table, keep: &[usize]) -> Table {
    Table {
        source: table.source.clone(),
        headers: table.headers.clone(),
        rows: keep.iter().map(|&i| table.rows[i].clone()).collect(),
        lines: keep.iter().map(|&i| table.lines[i]).collect(),
        decimal_comma: table.decimal_comma,
        delimiter: table.delimiter,
        // Reading warnings name their own line; each analysis of the file shows them, as it
        // did when every analysis read the file itself.
        warnings: table.warnings.clone(),
        sheet: table.sheet.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Three analyses of one file parse it once (the same Arc) and release it after the third.
    #[test]
    fn a_file_is_parsed_once_and_released_after_its_last_analysis() {
        let dir = std::env::temp_dir().join(format!("evident-tables-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("long.csv");
        std::fs::write(&f, "analysis,yi,vi\na,1,1\nb,2,1\na,3,1\n").unwrap();
        let no = CsvOptions::default();
        let files = [0; 3].map(|_| (f.as_path(), CsvOptions::default()));
        let tables = Tables::new(files);
        let (t1, t2) = (tables.get(&f, &no).unwrap(), tables.get(&f, &no).unwrap());
        assert!(Arc::ptr_eq(&t1, &t2));
        let a = select(&t1, 0, "a");
        assert_eq!((a.rows.len(), a.lines.clone()), (2, vec![2, 4]));
        // The indexed selection gives the scan's rows, lines and header, and nothing for a
        // value the column does not hold.
        for v in ["a", "b", "c"] {
            let (x, y) = (tables.select(&f, &no, 0, v).unwrap(), select(&t1, 0, v));
            assert_eq!(
                (&x.rows, &x.lines, &x.headers),
                (&y.rows, &y.lines, &y.headers)
            );
        }
        assert_eq!(tables.select(&f, &no, 0, "a").unwrap().rows[1][1], "3");
        assert!(tables.select(&f, &no, 0, "c").unwrap().rows.is_empty());
        tables.done(&f, &no);
        tables.done(&f, &no);
        assert_eq!(tables.held(), 1);
        tables.done(&f, &no);
        assert_eq!(tables.held(), 0);
        // An unreadable file is an error every time, never a cached one.
        let missing = dir.join("missing.csv");
        assert!(tables.get(&missing, &no).is_err() && tables.get(&missing, &no).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
