//! Characters no XML 1.0 document may hold (C0 controls other than tab, line feed and carriage
//! return; U+FFFE, U+FFFF) have no place in a label: an SVG holding one is malformed and its PNG
//! or PDF cannot be drawn. They are replaced on reading, with a warning naming the cell.

use super::sheet::Sheet;
use crate::error::Location;
use crate::xml::{xml_illegal, xml_safe};
use std::borrow::Cow;
use std::path::Path;

/// Warnings about replaced characters beyond this many cells are summed up in one line.
const MAX_WARNINGS: usize = 10;

/// Replaces refused characters in the header and every cell; one warning per cell changed (the
/// first [`MAX_WARNINGS`], then a count), naming file, line (or sheet cell) and column.
pub(crate) fn cells(
    source: &Path,
    sheet: Option<&Sheet>,
    headers: &mut [String],
    rows: &mut [Vec<String>],
    lines: &[usize],
    header_line: usize,
) -> Vec<String> {
    let mut changed: Vec<(usize, usize, String)> = Vec::new();
    let mut count = 0usize;
    let mut fix = |cell: &mut String, line: usize, col: usize, changed: &mut Vec<_>| {
        if let Cow::Owned(s) = xml_safe(cell) {
            let bad: Vec<String> = cell
                .chars()
                .filter(|&c| xml_illegal(c))
                .map(|c| format!("U+{:04X}", c as u32))
                .collect();
            *cell = s;
            count += 1;
            if changed.len() < MAX_WARNINGS {
                changed.push((line, col, bad.join(", ")));
            }
        }
    };
    for (c, h) in headers.iter_mut().enumerate() {
        fix(h, header_line, c, &mut changed);
    }
    for (row, line) in rows.iter_mut().zip(lines) {
        for (c, cell) in row.iter_mut().enumerate() {
            fix(cell, *line, c, &mut changed);
        }
    }
    let mut out: Vec<String> = changed
        .into_iter()
        .map(|(line, col, bad)| {
            let loc = Location {
                file: Some(source.to_path_buf()),
                line: Some(line),
                column: headers.get(col).cloned(),
                sheet: sheet.map(|s| s.cell(Some(col))),
            };
            format!(
                "{loc}: control or non-character {bad} replaced by U+FFFD (XML, SVG, PNG and \
                 PDF outputs cannot hold it)"
            )
        })
        .collect();
    if count > MAX_WARNINGS {
        out.push(format!(
            "{}: {} more cells had such characters replaced",
            source.display(),
            count - MAX_WARNINGS
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_xml_refuses() {
        for c in [
            '\u{0}', '\u{1}', '\u{8}', '\u{B}', '\u{C}', '\u{1F}', '\u{FFFE}', '\u{FFFF}',
        ] {
            assert!(xml_illegal(c), "{:?}", c);
        }
        for c in [
            '\t',
            '\n',
            '\r',
            ' ',
            'ü',
            '\u{7F}',
            '\u{85}',
            '\u{FFFD}',
            '\u{10000}',
        ] {
            assert!(!xml_illegal(c), "{:?}", c);
        }
        assert!(matches!(xml_safe("Müller 2001"), Cow::Borrowed(_)));
        assert_eq!(xml_safe("a\u{1}b\u{FFFF}"), "a\u{FFFD}b\u{FFFD}");
    }

    #[test]
    fn cells_are_replaced_with_located_warnings() {
        let mut headers = vec!["study".to_string(), "yi".to_string()];
        let mut rows = vec![
            vec!["A".to_string(), "1".to_string()],
            vec!["B\u{7}".to_string(), "2".to_string()],
        ];
        let w = cells(
            Path::new("t.csv"),
            None,
            &mut headers,
            &mut rows,
            &[2, 3],
            1,
        );
        assert_eq!(rows[1][0], "B\u{FFFD}");
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("t.csv, line 3, column 'study': control or non-character U+0007"));
    }
}
