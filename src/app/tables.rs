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

/// The cache: a slot per file and the analyses left to read it.
pub struct Tables {
    slots: Mutex<HashMap<PathBuf, (Arc<Slot>, usize)>>,
}

impl Tables {
    /// A cache for analyses reading `files` (one entry per analysis, repeats counted).
    pub fn new<'a>(files: impl IntoIterator<Item = &'a Path>) -> Tables {
        let mut slots: HashMap<PathBuf, (Arc<Slot>, usize)> = HashMap::new();
        for f in files {
            slots.entry(f.to_path_buf()).or_default().1 += 1;
        }
        Tables {
            slots: Mutex::new(slots),
        }
    }

    /// The table of `file`, parsed on first use. A read error is not kept: each analysis gets
    /// its own (the same) error, as if it had read the file alone.
    pub fn get(&self, file: &Path) -> Result<Arc<Table>> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(&slots.entry(file.to_path_buf()).or_default().0)
        };
        let mut table = slot.table.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = table.as_ref() {
            return Ok(Arc::clone(t));
        }
        let t = Arc::new(Table::from_path(file, &CsvOptions::default())?);
        *table = Some(Arc::clone(&t));
        Ok(t)
    }

    /// The rows of `file`'s table whose `column` holds `value`, as [`select`] gives them, through
    /// an index of that column built once per file.
    pub fn select(&self, file: &Path, column: usize, value: &str) -> Result<Table> {
        let table = self.get(file)?;
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(&slots.entry(file.to_path_buf()).or_default().0)
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

    /// One analysis of `file` is done; the table is dropped after the last one.
    pub fn done(&self, file: &Path) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, left)) = slots.get_mut(file) {
            *left = left.saturating_sub(1);
            if *left == 0 {
                slots.remove(file);
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
        let files = [f.as_path(); 3];
        let tables = Tables::new(files);
        let (t1, t2) = (tables.get(&f).unwrap(), tables.get(&f).unwrap());
        assert!(Arc::ptr_eq(&t1, &t2));
        let a = select(&t1, 0, "a");
        assert_eq!((a.rows.len(), a.lines.clone()), (2, vec![2, 4]));
        // The indexed selection gives the scan's rows, lines and header, and nothing for a
        // value the column does not hold.
        for v in ["a", "b", "c"] {
            let (x, y) = (tables.select(&f, 0, v).unwrap(), select(&t1, 0, v));
            assert_eq!(
                (&x.rows, &x.lines, &x.headers),
                (&y.rows, &y.lines, &y.headers)
            );
        }
        assert_eq!(tables.select(&f, 0, "a").unwrap().rows[1][1], "3");
        assert!(tables.select(&f, 0, "c").unwrap().rows.is_empty());
        tables.done(&f);
        tables.done(&f);
        assert_eq!(tables.held(), 1);
        tables.done(&f);
        assert_eq!(tables.held(), 0);
        // An unreadable file is an error every time, never a cached one.
        let missing = dir.join("missing.csv");
        assert!(tables.get(&missing).is_err() && tables.get(&missing).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
