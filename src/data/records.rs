//! CSV records with the line each starts on, for every reader of CSV in the crate.
//!
//! csv-core parses (RFC 4180: quotes, doubled quotes, line breaks inside quotes); this module
//! steps over blank lines and the line breaks of CRLF files itself, so that the line it reports
//! is the line an editor shows, whatever the file's line ends.

use crate::error::{Error, Location, Result};
use std::io::{BufRead, BufReader, Read};

/// One CSV record: its fields' bytes and where each ends, with the line it starts on.
#[derive(Default)]
pub(crate) struct Record {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Number of fields.
    pub len: usize,
    /// Line the record starts on (1-based).
    pub line: usize,
}

impl Record {
    pub(crate) fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }
    /// Field `i` as text: UTF-8 as it is, and a field that is not UTF-8 read as Windows-1252
    /// (spreadsheets export it).
    pub(crate) fn text(&self, i: usize) -> std::borrow::Cow<'_, str> {
        let f = self.field(i);
        match std::str::from_utf8(f) {
            Ok(s) => s.into(),
            Err(_) => super::source::windows1252(f).into(),
        }
    }
    /// A field with nothing but white space in it (Unicode white space, as `str::trim`).
    fn is_blank_field(&self, i: usize) -> bool {
        let f = self.field(i);
        f.iter().all(u8::is_ascii_whitespace) || (!f.is_ascii() && self.text(i).trim().is_empty())
    }

    /// A line with nothing but white space (and delimiters) on it.
    pub(crate) fn is_blank(&self) -> bool {
        (0..self.len).all(|i| self.is_blank_field(i))
    }

    /// Checks that the record has `width` fields, as its header: blank fields beyond `width` (a
    /// trailing delimiter leaves them) do not count.
    /// `at` locates the error (built only when there is one: this runs on every record).
    pub(crate) fn check_width(&self, width: usize, at: impl FnOnce() -> Location) -> Result<()> {
        let mut n = self.len;
        while n > width && self.is_blank_field(n - 1) {
            n -= 1;
        }
        if n == width {
            Ok(())
        } else {
            Err(Error::input(
                at(),
                format!("expected {width} fields as in the header, found {n}"),
            ))
        }
    }
}

/// RFC 4180 records from a byte stream (csv-core), each with the exact line it starts on: blank
/// lines and the line breaks of CRLF files are stepped over here, before the parser sees them,
/// so a message's line is the line an editor shows.
pub(crate) struct Records<R> {
    input: BufReader<R>,
    core: csv_core::Reader,
    /// Line of the next unread byte.
    pub line: usize,
}

impl<R: Read> Records<R> {
    pub(crate) fn new(input: BufReader<R>, delimiter: u8) -> Self {
        Records {
            input,
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            line: 1,
        }
    }

    /// Reads the next record into `rec`; `false` at the end of the input.
    pub(crate) fn next(&mut self, rec: &mut Record) -> std::io::Result<bool> {
        use csv_core::ReadRecordResult::*;
        loop {
            let buf = self.input.fill_buf()?;
            let n = buf
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            let all = n == buf.len();
            self.line += buf[..n].iter().filter(|&&b| b == b'\n').count();
            self.input.consume(n);
            if !all || n == 0 {
                break;
            }
        }
        rec.line = self.line;
        if rec.bytes.is_empty() {
            rec.bytes.resize(256, 0);
            rec.ends.resize(16, 0);
        }
        let (mut nout, mut nend) = (0, 0);
        loop {
            let input = self.input.fill_buf()?;
            let (res, i, o, e) =
                self.core
                    .read_record(input, &mut rec.bytes[nout..], &mut rec.ends[nend..]);
            self.line += input[..i].iter().filter(|&&b| b == b'\n').count();
            self.input.consume(i);
            nout += o;
            nend += e;
            match res {
                InputEmpty => {}
                OutputFull if rec.bytes.len() >= MAX_RECORD_BYTES => {
                    return Err(too_long(format!(
                        "a row longer than {} MiB (an endless input, or a quote never closed?)",
                        MAX_RECORD_BYTES >> 20
                    )));
                }
                OutputEndsFull if rec.ends.len() >= MAX_RECORD_FIELDS => {
                    return Err(too_long(format!(
                        "a row with more than {MAX_RECORD_FIELDS} fields"
                    )));
                }
                OutputFull => rec.bytes.resize(2 * rec.bytes.len(), 0),
                OutputEndsFull => rec.ends.resize(2 * rec.ends.len(), 0),
                Record => {
                    rec.len = nend;
                    return Ok(true);
                }
                End => return Ok(false),
            }
        }
    }
}

/// The longest row read, in bytes: the buffer doubles up to it, so an endless line (no line
/// end, or an unclosed quote) is an error instead of an allocation that aborts.
pub const MAX_RECORD_BYTES: usize = 64 << 20;
/// The most fields in one row (8 bytes each in the buffer): 16.7 million.
pub const MAX_RECORD_FIELDS: usize = 1 << 24;

fn too_long(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An endless stream of one byte.
    struct Endless(u8);

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(self.0);
            Ok(buf.len())
        }
    }

    // An endless line (or endless delimiters) used to double the buffer until a 4 GB allocation
    // aborted; it is an error at the stated size.
    #[test]
    fn endless_rows_are_an_error_not_an_abort() {
        let mut rec = Record::default();
        let mut r = Records::new(BufReader::new(Endless(b'x')), b',');
        let e = r.next(&mut rec).unwrap_err();
        assert!(e.to_string().contains("longer than 64 MiB"), "{e}");
        assert!(rec.bytes.len() <= MAX_RECORD_BYTES);
        let mut r = Records::new(BufReader::new(Endless(b',')), b',');
        let e = r.next(&mut rec).unwrap_err();
        assert!(e.to_string().contains("fields"), "{e}");
        assert!(rec.ends.len() <= MAX_RECORD_FIELDS);
    }

    /// (line, fields) of every record, read through a buffer of `cap` bytes.
    fn read(input: &[u8], cap: usize) -> Vec<(usize, Vec<String>)> {
        let mut r = Records::new(BufReader::with_capacity(cap, input), b',');
        let mut rec = Record::default();
        let mut out = Vec::new();
        while r.next(&mut rec).unwrap() {
            out.push((
                rec.line,
                (0..rec.len).map(|i| rec.text(i).into_owned()).collect(),
            ));
        }
        out
    }

    #[test]
    fn lines_are_the_lines_an_editor_shows() {
        let cases: [(&[u8], Vec<usize>); 5] = [
            (b"h,a\nx,1\ny,2\n", vec![1, 2, 3]),
            (b"h,a\r\nx,1\r\ny,2", vec![1, 2, 3]),
            (b"\n\nh,a\n\n\nx,1\r\n\r\ny,2\n", vec![3, 6, 8]),
            (b"h,a\nx,\"1\n\n2\"\ny,2\n", vec![1, 2, 5]),
            (b"h,a\r\nx,\"1\r\n2\"\r\ny,2\r\n", vec![1, 2, 4]),
        ];
        for (input, lines) in cases {
            for cap in [1, 3, 8192] {
                let got: Vec<usize> = read(input, cap).iter().map(|r| r.0).collect();
                assert_eq!(got, lines, "{:?} cap {cap}", String::from_utf8_lossy(input));
            }
        }
    }

    #[test]
    fn long_and_wide_records_grow_the_buffers() {
        let long = "x".repeat(1000);
        let wide: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let input = format!("{long},\"a,\"\"b\"\"\"\n{}\n", wide.join(","));
        for cap in [1, 7, 8192] {
            let got = read(input.as_bytes(), cap);
            assert_eq!(got.len(), 2);
            assert_eq!(got[0].1, vec![long.clone(), "a,\"b\"".to_owned()]);
            assert_eq!(got[1].1, wide);
        }
    }

    #[test]
    fn latin1_is_decided_per_field() {
        let got = read(b"x\xC3,\xA9y,M\xc3\xbcller\n", 8192);
        assert_eq!(got[0].1, vec!["x\u{c3}", "\u{a9}y", "Müller"]);
    }
}
