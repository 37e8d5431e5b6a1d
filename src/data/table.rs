//! Reading a CSV file (or a workbook's sheet, through [`workbook`]) into a rectangular
//! table of text cells, with line numbers kept for errors.

use super::records::{Record, Records};
use super::sheet::Sheet;
use crate::error::{Error, Location, Result};

pub mod workbook;
use std::path::{Path, PathBuf};

/// How to split and read cells.
#[derive(Debug, Clone, Default)]
pub struct CsvOptions {
    /// Field delimiter; `None` detects `,`, `;` or tab from the header line.
    pub delimiter: Option<u8>,
    /// Decimal separator; `None` means `.`, or `,` when the delimiter is `;` and numbers use commas.
    pub decimal_comma: Option<bool>,
    /// The sheet to read from a workbook (`.xlsx`, `.xls`, `.ods`); `None` reads the first.
    pub sheet: Option<String>,
}

/// A CSV file as text cells: a header and rows of equal width.
#[derive(Debug, Clone)]
pub struct Table {
    /// Where the table came from (used in every error message).
    pub source: PathBuf,
    /// Column names from the header line.
    pub headers: Vec<String>,
    /// Data rows of text cells, each as wide as the header.
    pub rows: Vec<Vec<String>>,
    /// 1-based line number in the file of each row.
    pub lines: Vec<usize>,
    /// Numbers in this file use a decimal comma.
    pub decimal_comma: bool,
    /// The field delimiter, as given or detected from the header.
    pub delimiter: u8,
    /// What reading changed, one sentence each naming the cell (characters XML refuses replaced).
    pub warnings: Vec<String>,
    /// The sheet, when the table was read from a workbook (`lines` are then its row numbers).
    pub sheet: Option<Sheet>,
}

impl Table {
    /// Reads a CSV file.
    pub fn from_path(path: &Path, opts: &CsvOptions) -> Result<Table> {
        let bytes = super::source::read_bytes(path)?;
        Table::from_bytes(path, &bytes, opts)
    }

    /// Parses CSV bytes, or a workbook's sheet when the bytes are one; `source` names them in
    /// error messages.
    pub fn from_bytes(source: &Path, bytes: &[u8], opts: &CsvOptions) -> Result<Table> {
        let loc = |line: Option<usize>| Location {
            file: Some(source.to_path_buf()),
            line,
            column: None,
            sheet: None,
        };
        if let Some(format) = workbook::detect(source, bytes)? {
            return workbook::read(source, bytes, format, opts.sheet.as_deref());
        }
        if let Some(name) = &opts.sheet {
            return Err(Error::input(
                loc(None),
                format!("sheet '{name}' asked for, but the file is text (CSV), not a workbook"),
            ));
        }
        // Spreadsheets export Windows-1252 and UTF-16 as often as UTF-8: decode, not refuse.
        let text = super::source::decode(bytes);
        if text.trim().is_empty() {
            return Err(Error::input(
                loc(None),
                "the file is empty: expected a header row and at least one study",
            ));
        }
        let delimiter = opts.delimiter.unwrap_or_else(|| detect_delimiter(&text));
        let mut records = Records::new(std::io::BufReader::new(text.as_bytes()), delimiter);
        let mut rec = Record::default();
        let mut headers: Option<Vec<String>> = None;
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut lines = Vec::new();
        let mut header_line = 1;
        while records
            .next(&mut rec)
            .map_err(|e| Error::input(loc(Some(records.line)), format!("cannot read CSV: {e}")))?
        {
            if rec.is_blank() {
                continue;
            }
            let line = rec.line;
            match &headers {
                None => {
                    header_line = line;
                    let cells = (0..rec.len).map(|i| trim(&rec.text(i)).to_owned());
                    headers = Some(header_names(cells.collect(), loc(Some(line)))?);
                }
                Some(h) => {
                    rec.check_width(h.len(), || loc(Some(line)))?;
                    rows.push(
                        (0..h.len())
                            .map(|i| trim(&rec.text(i)).to_owned())
                            .collect(),
                    );
                    lines.push(line);
                }
            }
        }
        let mut headers = headers.unwrap_or_default();
        if rows.is_empty() {
            return Err(Error::input(
                loc(None),
                "the file has a header but no study rows",
            ));
        }
        let decimal_comma = opts
            .decimal_comma
            .unwrap_or(delimiter == b';' && rows.iter().flatten().any(|c| looks_decimal_comma(c)));
        // Every cell is a piece of `text`: when the text cannot hold a refused character, no cell
        // does, and the pass over every cell is skipped.
        let warnings = if crate::xml::may_hold_xml_illegal(&text) {
            super::sanitize::cells(source, None, &mut headers, &mut rows, &lines, header_line)
        } else {
            Vec::new()
        };
        Ok(Table {
            source: source.to_path_buf(),
            headers,
            rows,
            lines,
            decimal_comma,
            delimiter,
            warnings,
            sheet: None,
        })
    }

    /// Index of a column by case-insensitive name.
    pub fn column(&self, name: &str) -> Option<usize> {
        column_index(&self.headers, name)
    }
}

/// Checks a header row: a trailing delimiter's empty last names are dropped; an empty or
/// duplicate (case-insensitively) name is an error at `at`.
pub(crate) fn header_names(mut h: Vec<String>, at: Location) -> Result<Vec<String>> {
    while h.last().is_some_and(|c| c.is_empty()) {
        h.pop();
    }
    // One hash lookup per name (the pairwise scan took 20 s for 10⁵ columns); the key is the
    // ASCII-lowercased name, the equivalence `eq_ignore_ascii_case` tests.
    let mut first: std::collections::HashMap<String, usize> =
        std::collections::HashMap::with_capacity(h.len());
    for (i, name) in h.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::input(
                at,
                format!("header cell {} is empty: every column needs a name", i + 1),
            ));
        }
        let key = name.to_ascii_lowercase();
        if let Some(&j) = first.get(&key) {
            return Err(Error::input(
                at,
                format!(
                    "duplicate column '{name}' (columns {} and {})",
                    j + 1,
                    i + 1
                ),
            ));
        }
        first.insert(key, i);
    }
    Ok(h)
}

/// Index of a column among `headers` by case-insensitive name.
pub(crate) fn column_index(headers: &[String], name: &str) -> Option<usize> {
    headers.iter().position(|h| h.eq_ignore_ascii_case(name))
}

/// The delimiter of a file from its start: tab, `;` or `,`, whichever occurs most on the first
/// line that is not blank (`,` on ties).
pub fn detect_delimiter(head: &str) -> u8 {
    let header = head.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let count = |c: char| header.matches(c).count();
    let (commas, semis, tabs) = (count(','), count(';'), count('\t'));
    if tabs > commas && tabs > semis {
        b'\t'
    } else if semis > commas {
        b';'
    } else {
        b','
    }
}

fn looks_decimal_comma(cell: &str) -> bool {
    let mut parts = cell.splitn(2, ',');
    let (a, b) = (parts.next().unwrap_or(""), parts.next());
    match b {
        Some(b) => {
            !b.is_empty()
                && a.trim_start_matches('-')
                    .chars()
                    .all(|c| c.is_ascii_digit())
                && b.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// A parsed numeric cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// An empty or NA cell (`NA`, `.`, `NaN`, `null`, `-`).
    Missing,
    /// A finite number.
    Number(f64),
}

/// `str::trim`, without its Unicode scan for the common cell that starts and ends with a
/// printable ASCII character.
fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_graphic() && l.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Whether a cell's text means "missing": empty, `NA`, `.`, `NaN`, `NULL`, `-`.
pub fn is_missing(s: &str) -> bool {
    let t = trim(s);
    t.is_empty()
        || t.eq_ignore_ascii_case("na")
        || t == "."
        || t.eq_ignore_ascii_case("nan")
        || t.eq_ignore_ascii_case("null")
        || t == "-"
}

/// Parses a numeric cell; infinite values (including overflow such as `1e400`) and text are refused.
pub fn parse_number(s: &str, decimal_comma: bool) -> std::result::Result<Cell, String> {
    let t = trim(s);
    // Counts are most cells: up to 15 digits are exact in an f64, no float parsing needed.
    if !t.is_empty() && t.len() <= 15 && t.bytes().all(|b| b.is_ascii_digit()) {
        let n = t.bytes().fold(0u64, |n, b| 10 * n + u64::from(b - b'0'));
        return Ok(Cell::Number(n as f64));
    }
    if is_missing(t) {
        return Ok(Cell::Missing);
    }
    let owned;
    // A `.` that cannot group thousands (`4.22`) is a decimal point, as before; both marks
    // in one number not grouped as 1.200,5 are refused.
    let t = if decimal_comma && t.contains('.') && (t.contains(',') || thousands_grouped(t)) {
        if !thousands_grouped(t) {
            return Err(format!(
                "'{}' has a decimal point in a file whose decimal mark is ',' (a thousands \
                 separator groups exactly 3 digits: 1.200 or 1.200,5)",
                truncate(s, 40)
            ));
        }
        owned = t.replace('.', "").replace(',', ".");
        owned.as_str()
    } else if decimal_comma && t.contains(',') {
        owned = t.replace(',', ".");
        owned.as_str()
    } else {
        t
    };
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Cell::Number(v)),
        Ok(_) => Err(format!("'{s}' is not a finite number")),
        Err(_) => Err(format!("expected a number, found '{}'", truncate(s, 40))),
    }
}

/// A number with `.` as thousands separator (decimal-comma files, as German Excel writes them):
/// an optional sign, 1–3 digits, groups of `.` and exactly 3 digits, an optional `,` fraction.
fn thousands_grouped(t: &str) -> bool {
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (int, frac) = t.split_once(',').unwrap_or((t, "0"));
    let mut groups = int.split('.');
    let digits = |g: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit())
    };
    groups.next().is_some_and(|g| digits(g, 1..=3))
        && groups.all(|g| digits(g, 3..=3))
        && digits(frac, 1..=usize::MAX)
}

/// What the cells of a decimal-comma column say about `.`: whether a value could only be written
/// with `.` grouping thousands (`1.200,5`, `1.234.567`), with `.` as a decimal point (`4.22`),
/// or with `,` as the decimal mark (`1,5`); and the first cell that could be either (`1.234`:
/// one `.` followed by exactly 3 digits).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct DotUse {
    pub thousands: bool,
    pub point: bool,
    pub comma: bool,
    /// Row of the first ambiguous cell.
    pub ambiguous: Option<usize>,
}

impl DotUse {
    /// Reads the cells (row index, text) of one column of a decimal-comma file.
    pub(crate) fn of<'a>(cells: impl Iterator<Item = (usize, &'a str)>) -> DotUse {
        let mut u = DotUse::default();
        for (row, s) in cells {
            let t = trim(s);
            let t = t.strip_prefix(['-', '+']).unwrap_or(t);
            if !t.contains(['.', ','])
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
            {
                continue;
            }
            let one_dot = t.bytes().filter(|&b| b == b'.').count() == 1 && !t.contains(',');
            if !t.contains('.') {
                u.comma = true;
            } else if one_dot && thousands_grouped(t) {
                u.ambiguous = u.ambiguous.or(Some(row));
            } else if thousands_grouped(t) {
                u.thousands = true;
                u.comma |= t.contains(',');
            } else {
                u.point |= !t.contains(',');
            }
        }
        u
    }
}

/// Refuses a value such as `1.234` in a decimal-comma file unless its column proves `.` groups
/// thousands there (`1.200,5`, `1.234.567`) and never serves as a decimal point: in a column that
/// also has decimal commas or decimal points (`4.22`), or in a file with decimal points elsewhere,
/// it could be 1234 or 1.234. `file_has_points` says whether any column of the file has `4.22`.
/// `Err` holds the row of the ambiguous cell and the message.
pub(crate) fn check_ambiguous_dots(
    u: &DotUse,
    file_has_points: bool,
    cell: impl Fn(usize) -> String,
) -> std::result::Result<(), (usize, String)> {
    let Some(row) = u.ambiguous else {
        return Ok(());
    };
    let refused = if u.thousands {
        u.point
    } else {
        u.point || u.comma || file_has_points
    };
    if !refused {
        return Ok(());
    }
    let text = cell(row);
    let (int, frac) = text.trim().split_once('.').unwrap_or((&text, ""));
    Err((
        row,
        format!(
            "'{}' is ambiguous in a file whose decimal mark is ',' but which also writes numbers \
             with a '.': it could be {int}{frac} ('.' grouping thousands) or {int},{frac} (a \
             decimal point); write it as {int}{frac} or {int},{frac}",
            truncate(&text, 40)
        ),
    ))
}

/// Shortens long text for messages.
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Table> {
        Table::from_bytes(Path::new("t.csv"), s.as_bytes(), &CsvOptions::default())
    }

    #[test]
    fn reads_bom_crlf_and_blank_lines() {
        let t = parse("\u{feff}study,yi,vi\r\n\r\nA,1,0.1\r\nB,2,0.2\r\n").unwrap();
        assert_eq!(t.headers, vec!["study", "yi", "vi"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.lines, vec![3, 4]);
    }

    /// Reading skips the per-cell pass when the file's bytes cannot hold a refused character;
    /// a file that holds one still has it replaced, with a warning naming the cell.
    #[test]
    fn refused_characters_are_replaced_on_reading() {
        let t = parse("study,yi,vi\nA\t,1,0.1\n\"Ünal, \u{FF0C}\",2,0.2\n").unwrap();
        assert!(t.warnings.is_empty());
        assert_eq!(t.rows[1][0], "Ünal, \u{FF0C}");
        let t = parse("study,yi,vi\nA,1,0.1\n\"B\u{1}\u{FFFF}\",2,0.2\n").unwrap();
        assert_eq!(t.rows[1][0], "B\u{FFFD}\u{FFFD}");
        assert_eq!(t.warnings.len(), 1);
        assert!(
            t.warnings[0].starts_with("t.csv, line 3, column 'study': control or non-character"),
            "{:?}",
            t.warnings
        );
    }

    #[test]
    fn semicolons_with_decimal_commas() {
        let t = parse("study;yi;vi\nA;1,5;0,1\n").unwrap();
        assert!(t.decimal_comma);
        assert_eq!(
            parse_number(&t.rows[0][1], t.decimal_comma),
            Ok(Cell::Number(1.5))
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("study,yi,vi\nA,1\n").unwrap_err().to_string();
        assert!(
            e.contains("t.csv") && e.contains("line 2") && e.contains("expected 3 fields"),
            "{e}"
        );
        let e = parse("study,yi,YI\nA,1,2\n").unwrap_err().to_string();
        assert!(e.contains("duplicate column"), "{e}");
        assert!(parse("").unwrap_err().to_string().contains("empty"));
        assert!(parse("study,yi,vi\n")
            .unwrap_err()
            .to_string()
            .contains("no study rows"));
    }

    #[test]
    fn thousands_separators_in_decimal_comma_files() {
        assert_eq!(parse_number("1.200", true), Ok(Cell::Number(1200.0)));
        assert_eq!(
            parse_number("-1.234.567,25", true),
            Ok(Cell::Number(-1234567.25))
        );
        assert_eq!(parse_number("1.200", false), Ok(Cell::Number(1.2)));
        assert_eq!(parse_number("4.22", true), Ok(Cell::Number(4.22)));
        for bad in ["1.5,2", "1.2000,5", "1234.567,1", "1,200.5"] {
            let e = parse_number(bad, true).unwrap_err();
            assert!(e.contains("decimal point"), "{bad}: {e}");
        }
        let t = parse("study;ai;n1i;ci;n2i\nA;12;1.200;3,5;800\n").unwrap();
        assert!(t.decimal_comma);
        assert_eq!(parse_number(&t.rows[0][2], true), Ok(Cell::Number(1200.0)));
    }

    /// Issue 16 item 2: in a file that mixes decimal commas and points, `1.234` is refused as
    /// ambiguous; where the column proves `.` groups thousands (or the file never uses a
    /// decimal point) it is 1234.
    #[test]
    fn ambiguous_thousands() {
        let u = |cells: &[&str]| DotUse::of(cells.iter().copied().enumerate());
        let check = |cells: &[&str], points: bool| {
            check_ambiguous_dots(&u(cells), points, |r| cells[r].to_owned())
        };
        assert_eq!(check(&["1.234", "950"], false), Ok(()));
        assert_eq!(check(&["1.234", "1.200,5"], true), Ok(()));
        assert_eq!(check(&["1.234", "2.345.678"], false), Ok(()));
        for (cells, points) in [
            (&["4,5", "1.234"][..], false),
            (&["4.22", "1.234"][..], false),
            (&["1.234", "7"][..], true),
            (&["1.200,5", "4.22", "1.234"][..], false),
        ] {
            let (row, e) = check(cells, points).unwrap_err();
            assert_eq!(cells[row], "1.234");
            assert!(
                e.contains("ambiguous") && e.contains("1234 or 1,234"),
                "{e}"
            );
        }
        let e = parse("study;yi;vi\nA;4.22;0,5\nB;1.234;0,25\n")
            .and_then(|t| crate::data::Studies::from_table(&t, &Default::default()))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.csv, line 3, column 'yi': '1.234' is ambiguous"),
            "{e}"
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("NA", false), Ok(Cell::Missing));
        assert!(parse_number("1e400", false).is_err());
        assert!(parse_number("abc", false).is_err());
        assert_eq!(parse_number(" 007 ", false), Ok(Cell::Number(7.0)));
        assert_eq!(
            parse_number("\u{a0}12\u{a0}", false),
            Ok(Cell::Number(12.0))
        );
        assert_eq!(parse_number("-", false), Ok(Cell::Missing));
        assert_eq!(
            parse_number("9999999999999999", false),
            Ok(Cell::Number(1e16))
        );
    }

    proptest::proptest! {
        /// The digits-only fast path gives what the float parser gives.
        #[test]
        fn integer_cells_parse_as_floats(n in 0u64..10_000_000_000_000_000, zeros in 0usize..3) {
            let t = format!("{}{n}", "0".repeat(zeros));
            proptest::prop_assert_eq!(
                parse_number(&t, false),
                Ok(Cell::Number(t.parse::<f64>().unwrap()))
            );
        }
    }
}
