//! Bytes of a data file to text: the one place that opens input files and decides their encoding
//! (UTF-8 with or without BOM, UTF-16 LE/BE by BOM or NUL pattern, else Windows-1252, as the
//! WHATWG Encoding Standard reads "Latin-1" labelled text), so later formats plug in here.

use crate::error::{Error, Result};
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};
use std::borrow::Cow;
use std::path::Path;

/// Reads a whole input file; a missing file, a directory and a permission problem each get
/// their own message ([`Error::ReadFile`]).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|reason| read_error(path, reason))
}

/// Opens an input file to stream it, with [`read_bytes`]'s messages.
pub fn open(path: &Path) -> Result<std::fs::File> {
    let file = std::fs::File::open(path).and_then(|f| match f.metadata()?.is_dir() {
        true => Err(std::io::Error::other("is a directory")),
        false => Ok(f),
    });
    file.map_err(|reason| read_error(path, reason))
}

/// An input file's read error ([`Error::ReadFile`]): missing, a directory, no permission, ...
pub fn read_error(path: &Path, reason: std::io::Error) -> Error {
    Error::ReadFile {
        path: path.to_path_buf(),
        is_dir: path.is_dir(),
        reason,
    }
}

/// Decodes the text of a data file: a BOM decides (UTF-8, UTF-16 LE/BE); without one, NUL bytes
/// at every other position of the start mean UTF-16; valid UTF-8 is UTF-8; anything else is
/// Windows-1252 (0x80–0x9F are curly quotes, dashes, € — not C1 controls as in Latin-1).
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    if let Some((enc, bom)) = Encoding::for_bom(bytes) {
        return enc.decode_without_bom_handling(&bytes[bom..]).0;
    }
    if let Some(enc) = utf16_without_bom(bytes) {
        return enc.decode_without_bom_handling(bytes).0;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => WINDOWS_1252.decode_without_bom_handling(bytes).0,
    }
}

/// UTF-16 without a BOM: in the first (up to) 64 bytes, most bytes at one parity are NUL and
/// none at the other (a data file starts with mostly ASCII column names).
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(64) & !1];
    if head.len() < 4 {
        return None;
    }
    let nul_at = |parity: usize| {
        let nuls = head
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count();
        2 * nuls > head.len() / 2
    };
    let some_at = |parity: usize| head.iter().skip(parity).step_by(2).all(|&b| b != 0);
    if nul_at(1) && some_at(0) {
        Some(UTF_16LE)
    } else if nul_at(0) && some_at(1) {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Bytes that are not UTF-8, read as Windows-1252 (a field of a file read without decoding).
pub(crate) fn windows1252(bytes: &[u8]) -> String {
    WINDOWS_1252
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str, le: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let units = (bom.then_some(0xFEFF)).into_iter().chain(s.encode_utf16());
        for u in units {
            out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        out
    }

    #[test]
    fn encodings() {
        let s = "study,yi,vi\nMüller – “A”,1,2\n";
        for le in [true, false] {
            for bom in [true, false] {
                assert_eq!(decode(&utf16(s, le, bom)), s, "le {le} bom {bom}");
            }
        }
        assert_eq!(decode(b"\xEF\xBB\xBFab"), "ab");
        assert_eq!(decode(b"\x93A\x94 \x96 \x80"), "“A” – €");
        assert!(matches!(decode(s.as_bytes()), Cow::Borrowed(_)));
    }

    #[test]
    fn read_errors_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.csv");
        let e = read_bytes(&missing).unwrap_err().to_string();
        assert_eq!(e, format!("no such file: {}", missing.display()));
        let e = read_bytes(dir.path()).unwrap_err().to_string();
        assert_eq!(e, format!("{} is a directory", dir.path().display()));
        let e = open(&missing).unwrap_err().to_string();
        assert_eq!(e, format!("no such file: {}", missing.display()));
        let e = open(dir.path()).unwrap_err().to_string();
        assert_eq!(e, format!("{} is a directory", dir.path().display()));
    }
}
