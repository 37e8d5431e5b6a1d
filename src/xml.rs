//! Which characters an XML 1.0 document may hold (§2.2 `Char`): the reader replaces the others in
//! every cell, and the SVG writer replaces them again so that no figure is ever malformed.

use std::borrow::Cow;

/// What replaces a character XML 1.0 does not allow.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Whether XML 1.0 (§2.2 `Char`) refuses `c`. Rust strings hold no surrogates, so the C0
/// controls and the two non-characters U+FFFE and U+FFFF are all there is to refuse.
pub fn xml_illegal(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Whether `s` may hold a character XML 1.0 refuses (a byte scan, no decoding): U+FFFE/U+FFFF
/// are encoded EF BF BE/BF, every other refused character is a byte below 0x20 other than tab,
/// line feed and carriage return.
pub fn may_hold_xml_illegal(s: &str) -> bool {
    s.bytes()
        .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF)
}

/// `s` with every character XML 1.0 refuses replaced by U+FFFD (borrowed when there is none).
pub fn xml_safe(s: &str) -> Cow<'_, str> {
    if !may_hold_xml_illegal(s) || !s.chars().any(xml_illegal) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if xml_illegal(c) { REPLACEMENT } else { c })
            .collect(),
    )
}
