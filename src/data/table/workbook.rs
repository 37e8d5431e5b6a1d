//! Excel (`.xlsx`, `.xlsb`, `.xls`) and OpenDocument (`.ods`) workbooks read directly with the
//! `calamine` crate: one sheet (the first, or one named) becomes a [`Table`] as a CSV file of the
//! same cells would. Numbers keep every bit (written in Rust's shortest round-trip form, which
//! parses back to the same `f64`, never through a locale), text is text, an empty cell is missing;
//! a logical value, a spreadsheet error or a date is refused naming its cell (`Sheet1!C4`).

use super::{header_names, Table};
use crate::data::sheet::Sheet;
use crate::error::{column_letters, Error, Location, Result, SheetCell};
use calamine::{Data, Ods, Range, Reader, Sheets, Xls, Xlsb, Xlsx};
use std::io::Cursor;
use std::path::Path;

/// The kind of workbook a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Office Open XML (Excel 2007 and later), a zip archive.
    Xlsx,
    /// Excel's binary workbook, a zip archive.
    Xlsb,
    /// Excel 97–2003, an OLE compound file.
    Xls,
    /// OpenDocument spreadsheet (LibreOffice, OpenOffice), a zip archive.
    Ods,
}

impl Format {
    /// The format as a message names it: "Excel (.xlsx)", ...
    pub fn name(self) -> &'static str {
        match self {
            Format::Xlsx => "Excel (.xlsx)",
            Format::Xlsb => "Excel binary (.xlsb)",
            Format::Xls => "Excel 97-2003 (.xls)",
            Format::Ods => "OpenDocument (.ods)",
        }
    }
}

const ZIP: &[u8] = b"PK\x03\x04";
const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

fn at(source: &Path, sheet: Option<SheetCell>, line: Option<usize>) -> Location {
    Location {
        file: Some(source.to_path_buf()),
        line,
        column: None,
        sheet,
    }
}

/// Whether `bytes` are a workbook, from their first bytes (a zip archive or an OLE compound file)
/// and the file's extension; `None` for text. A name ending in `.xlsx`, `.xlsb`, `.xls` or `.ods`
/// whose bytes are not a workbook is an error: reading it as CSV would only report a wrong width.
pub fn detect(source: &Path, bytes: &[u8]) -> Result<Option<Format>> {
    let ext = source
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let by_ext = match ext.as_deref() {
        Some("xlsx" | "xlsm") => Some(Format::Xlsx),
        Some("xlsb") => Some(Format::Xlsb),
        Some("xls") => Some(Format::Xls),
        Some("ods") => Some(Format::Ods),
        _ => None,
    };
    if bytes.starts_with(ZIP) {
        // An OpenDocument archive stores its `mimetype` first and uncompressed.
        let ods = bytes.get(30..38) == Some(b"mimetype")
            && bytes
                .get(38..bytes.len().min(120))
                .is_some_and(|m| m.starts_with(b"application/vnd.oasis.opendocument"));
        return Ok(Some(match by_ext {
            _ if ods => Format::Ods,
            Some(Format::Xlsb) => Format::Xlsb,
            _ => Format::Xlsx,
        }));
    }
    if bytes.starts_with(OLE) {
        return Ok(Some(Format::Xls));
    }
    match by_ext {
        Some(f) => Err(Error::input(
            at(source, None, None),
            format!(
                "the file's name says it is a workbook ({}), but it is not one (its first bytes \
                 are not a workbook's); if it is text saved under that name, rename it .csv",
                f.name()
            ),
        )),
        None => Ok(None),
    }
}

/// Reads sheet `sheet` (the first when `None`) of a workbook into a table: the first non-empty
/// row is the header, blank rows are skipped, and `lines` are the sheet's row numbers.
/// A damaged file that makes the reader panic is an error, not a crash.
pub fn read(source: &Path, bytes: &[u8], format: Format, sheet: Option<&str>) -> Result<Table> {
    let read = std::panic::AssertUnwindSafe(|| read_sheet(source, bytes, format, sheet));
    std::panic::catch_unwind(read).unwrap_or_else(|_| {
        Err(Error::input(
            at(source, None, None),
            format!(
                "the workbook ({}) is damaged: it cannot be read",
                format.name()
            ),
        ))
    })
}

fn read_sheet(source: &Path, bytes: &[u8], format: Format, sheet: Option<&str>) -> Result<Table> {
    let mut book = open(source, bytes, format)?;
    let names = book.sheet_names();
    let name = choose_sheet(source, &names, sheet)?;
    let range = book.worksheet_range(&name).map_err(|e| {
        let here = at(source, Some(sheet_only(&name)), None);
        Error::input(here, format!("cannot read the sheet: {e}"))
    })?;
    let others: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| *n != name)
        .collect();
    let others = match others.is_empty() {
        true => String::new(),
        false => format!(
            " (the workbook's other sheets: {})",
            quoted(others.into_iter())
        ),
    };
    table_of(source, name, &range, &others)
}

fn open<'a>(source: &Path, bytes: &'a [u8], format: Format) -> Result<Sheets<Cursor<&'a [u8]>>> {
    let c = Cursor::new(bytes);
    let book = match format {
        Format::Xlsx => Xlsx::new(c).map(Sheets::Xlsx).map_err(|e| e.to_string()),
        Format::Xlsb => Xlsb::new(c).map(Sheets::Xlsb).map_err(|e| e.to_string()),
        Format::Xls => Xls::new(c).map(Sheets::Xls).map_err(|e| e.to_string()),
        Format::Ods => Ods::new(c).map(Sheets::Ods).map_err(|e| e.to_string()),
    };
    book.map_err(|e| {
        Error::input(
            at(source, None, None),
            format!(
                "cannot read the file as a workbook ({}): {e}",
                format.name()
            ),
        )
    })
}

fn sheet_only(name: &str) -> SheetCell {
    SheetCell {
        sheet: name.to_owned(),
        column: None,
    }
}

fn quoted<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sheet asked for (exactly, else the one whose name matches ignoring case), or the first.
fn choose_sheet(source: &Path, names: &[String], wanted: Option<&str>) -> Result<String> {
    let here = at(source, None, None);
    let Some(wanted) = wanted else {
        return names
            .first()
            .cloned()
            .ok_or_else(|| Error::input(here, "the workbook has no sheets"));
    };
    if let Some(n) = names.iter().find(|n| *n == wanted) {
        return Ok(n.clone());
    }
    let folded: Vec<&String> = names
        .iter()
        .filter(|n| n.to_lowercase() == wanted.to_lowercase())
        .collect();
    match folded[..] {
        [n] => Ok(n.clone()),
        _ => Err(Error::input(
            here,
            format!(
                "no sheet named '{wanted}'; the workbook's sheets are {}",
                quoted(names.iter().map(String::as_str))
            ),
        )),
    }
}

/// The text a cell gives a table: a number in its shortest round-trip form, a string trimmed, an
/// empty cell empty; `Err` says what else the cell holds.
fn cell_text(cell: &Data) -> std::result::Result<String, String> {
    match cell {
        Data::Empty => Ok(String::new()),
        Data::String(s) => Ok(s.trim().to_owned()),
        Data::Int(i) => Ok(i.to_string()),
        Data::Float(x) if x.is_finite() => Ok(x.to_string()),
        Data::Float(x) => Err(format!("the cell holds {x}, not a finite number")),
        Data::Bool(b) => Err(format!(
            "the cell holds the logical value {}, not a number or text: write 1 or 0, or text",
            if *b { "TRUE" } else { "FALSE" }
        )),
        Data::Error(e) => Err(format!(
            "the cell holds the spreadsheet error {e}: correct its formula, or leave it empty \
             for a missing value"
        )),
        Data::DateTime(d) if d.is_duration() => Err(format!(
            "the cell holds a duration ({} days), not a number: format it as a number",
            d.as_f64()
        )),
        Data::DateTime(d) => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            Err(date_refused(&format!("{y:04}-{m:02}-{day:02}")))
        }
        Data::DateTimeIso(s) => Err(date_refused(s)),
        Data::DurationIso(s) => Err(format!(
            "the cell holds a duration ({s}), not a number: format it as a number"
        )),
    }
}

fn date_refused(date: &str) -> String {
    format!(
        "the cell holds a date ({date}), not a number or text: a date in a data column is almost \
         always a number the spreadsheet formatted as a date; format the cell as a number (or \
         as text for a label)"
    )
}

/// The cells of one sheet as a table (see [`read`]).
/// `others` ends the message of an empty sheet (the workbook's other sheets, if any).
fn table_of(source: &Path, name: String, range: &Range<Data>, others: &str) -> Result<Table> {
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let cell_at = |row: usize, col: usize, column: Option<&String>| Location {
        column: column.cloned(),
        ..at(
            source,
            Some(SheetCell {
                sheet: name.clone(),
                column: Some(c0 + col as u32),
            }),
            Some(r0 as usize + row + 1),
        )
    };
    let text = |row: usize, col: usize, cell: &Data, column: Option<&String>| {
        cell_text(cell).map_err(|m| Error::input(cell_at(row, col, column), m))
    };
    let blank = |r: &[Data]| r.iter().all(|c| matches!(c, Data::Empty));
    let mut rows_in = range.rows().enumerate().filter(|(_, r)| !blank(r));
    let Some((header_row, header)) = rows_in.next() else {
        return Err(Error::input(
            at(source, Some(sheet_only(&name)), None),
            format!("the sheet is empty: expected a header row and at least one study{others}"),
        ));
    };
    let lead = header
        .iter()
        .take_while(|c| matches!(c, Data::Empty))
        .count();
    let cells = header[lead..]
        .iter()
        .enumerate()
        .map(|(j, c)| text(header_row, lead + j, c, None))
        .collect::<Result<Vec<_>>>()?;
    let header_at = at(
        source,
        Some(sheet_only(&name)),
        Some(r0 as usize + header_row + 1),
    );
    let mut headers = header_names(cells, header_at)?;
    let width = headers.len();
    let (mut rows, mut lines) = (Vec::new(), Vec::new());
    for (i, r) in rows_in {
        if let Some(j) =
            (0..r.len()).find(|&j| (j < lead || j >= lead + width) && !blank(&r[j..=j]))
        {
            let span = format!(
                "{} to {}",
                column_letters(c0 + lead as u32),
                column_letters(c0 + (lead + width - 1) as u32)
            );
            return Err(Error::input(
                cell_at(i, j, None),
                format!(
                    "the cell holds a value outside the table: the header (row {}) names \
                     columns {span} only",
                    r0 as usize + header_row + 1
                ),
            ));
        }
        let row = (lead..lead + width)
            .map(|j| text(i, j, &r[j], headers.get(j - lead)))
            .collect::<Result<Vec<_>>>()?;
        rows.push(row);
        lines.push(r0 as usize + i + 1);
    }
    if rows.is_empty() {
        return Err(Error::input(
            at(source, Some(sheet_only(&name)), None),
            "the sheet has a header but no study rows",
        ));
    }
    let sheet = Sheet {
        name,
        first_column: c0 + lead as u32,
    };
    let header_line = r0 as usize + header_row + 1;
    let warnings = crate::data::sanitize::cells(
        source,
        Some(&sheet),
        &mut headers,
        &mut rows,
        &lines,
        header_line,
    );
    Ok(Table {
        source: source.to_path_buf(),
        headers,
        rows,
        lines,
        decimal_comma: false,
        warnings,
        sheet: Some(sheet),
        // A workbook has no delimiter; `,` is what a CSV saved from it would use.
        delimiter: b',',
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_every_bit() {
        for x in [
            0.1 + 0.2,
            1.0 / 3.0,
            1e-300,
            123456789.123456789,
            -2.5e17,
            5e-324,
        ] {
            let t = cell_text(&Data::Float(x)).unwrap();
            assert_eq!(t.parse::<f64>().unwrap().to_bits(), x.to_bits(), "{t}");
        }
        assert_eq!(cell_text(&Data::Float(12.0)).unwrap(), "12");
        assert_eq!(cell_text(&Data::Int(-7)).unwrap(), "-7");
        assert!(cell_text(&Data::Bool(true)).unwrap_err().contains("TRUE"));
    }

    #[test]
    fn detects_by_bytes_and_name() {
        let p = |s: &str| Path::new(s).to_path_buf();
        assert_eq!(detect(&p("a.csv"), b"study,yi\n").unwrap(), None);
        assert_eq!(
            detect(&p("-"), b"PK\x03\x04rest").unwrap(),
            Some(Format::Xlsx)
        );
        assert_eq!(detect(&p("a.dat"), OLE).unwrap(), Some(Format::Xls));
        let e = detect(&p("a.xlsx"), b"study,yi\n").unwrap_err().to_string();
        assert!(
            e.starts_with("a.xlsx: ") && e.contains("rename it .csv"),
            "{e}"
        );
    }

    #[test]
    fn sheet_names_and_cell_references() {
        let names = vec!["Sheet1".to_owned(), "Data 2".to_owned()];
        let p = Path::new("b.xlsx");
        assert_eq!(choose_sheet(p, &names, None).unwrap(), "Sheet1");
        assert_eq!(choose_sheet(p, &names, Some("data 2")).unwrap(), "Data 2");
        let e = choose_sheet(p, &names, Some("x")).unwrap_err().to_string();
        assert_eq!(
            e,
            "b.xlsx: no sheet named 'x'; the workbook's sheets are 'Sheet1', 'Data 2'"
        );
        let loc = Location {
            file: Some(p.to_path_buf()),
            line: Some(7),
            column: Some("yi".into()),
            sheet: Some(SheetCell {
                sheet: "Data 2".into(),
                column: Some(27),
            }),
        };
        assert_eq!(loc.to_string(), "b.xlsx, 'Data 2'!AB7, column 'yi'");
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }
}
