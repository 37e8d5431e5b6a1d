//! The bundled fonts: DejaVu Sans regular and bold (`assets/fonts/LICENSE-DejaVu.txt`), and Noto
//! Emoji (monochrome outlines, SIL Open Font License, `assets/fonts/LICENSE-NotoEmoji.txt`;
//! subset to its symbol and emoji code points without layout tables) for the characters DejaVu
//! lacks, so that an emoji in a study label is drawn, not a box.
//!
//! Plots never look fonts up on the system: the same bytes measure the text, name it in the SVG,
//! and render it in the PNG and PDF, so the layout computed here is the layout drawn everywhere.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use std::sync::OnceLock;

/// The family name written into the SVG; it is the bundled font's own family name.
pub const FAMILY: &str = "DejaVu Sans";

/// The font-family list written into the SVG after the embedded subsets' families
/// ([`super::font_subset`]): the bundled font; viewers that ignore `@font-face` and lack it fall
/// back to Verdana, whose metrics are close (DejaVu Sans descends from Bitstream Vera), then any
/// sans-serif. PNG and PDF output always use the bundled font.
pub const SVG_FAMILY: &str = "DejaVu Sans, Verdana, sans-serif";

/// DejaVu Sans, regular.
pub static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// DejaVu Sans, bold.
pub static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// The second font's family name: characters missing from [`FAMILY`] fall back to it.
pub const FALLBACK_FAMILY: &str = "Noto Emoji";

/// Noto Emoji, regular (monochrome outlines).
pub static FALLBACK: &[u8] = include_bytes!("../../../assets/fonts/NotoEmoji-Regular.ttf");

fn fallback_face() -> &'static FontRef<'static> {
    static FACE: OnceLock<FontRef<'static>> = OnceLock::new();
    FACE.get_or_init(|| FontRef::try_from_slice(FALLBACK).expect("bundled fallback font parses"))
}

fn faces() -> &'static (FontRef<'static>, FontRef<'static>) {
    static FACES: OnceLock<(FontRef<'static>, FontRef<'static>)> = OnceLock::new();
    FACES.get_or_init(|| {
        (
            FontRef::try_from_slice(REGULAR).expect("bundled regular font parses"),
            FontRef::try_from_slice(BOLD).expect("bundled bold font parses"),
        )
    })
}

/// Registers the bundled faces with plotters' ab_glyph font registry (once per process).
pub fn register_with_plotters() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        use plotters::style::FontStyle;
        for name in [FAMILY, SVG_FAMILY] {
            plotters::style::register_font(name, FontStyle::Normal, REGULAR)
                .unwrap_or_else(|_| panic!("bundled regular font registers"));
            plotters::style::register_font(name, FontStyle::Bold, BOLD)
                .unwrap_or_else(|_| panic!("bundled bold font registers"));
        }
    });
}

/// The widest single text item a plot draws, in pixels (about 10 inches): longer texts are cut
/// with an ellipsis ([`clip`]), so a 10,000-character label cannot make a 282,000-pixel-wide
/// figure. Tables and JSON keep the full text.
pub const MAX_TEXT_WIDTH: f64 = 1000.0;

/// The text as a plot shows it: unchanged up to [`MAX_TEXT_WIDTH`], else its longest prefix that
/// fits with a trailing `…`.
pub fn clip(text: &str, size: f64, bold: bool) -> std::borrow::Cow<'_, str> {
    if raw_width(text, size, bold) <= MAX_TEXT_WIDTH {
        return std::borrow::Cow::Borrowed(text);
    }
    let room = MAX_TEXT_WIDTH - raw_width("…", size, bold);
    let mut end = 0;
    let mut w = 0.0f32;
    advances(text, size, bold, |i, c, kern, adv| {
        w += kern;
        w += adv;
        if (w as f64) > room {
            return false;
        }
        end = i + c.len_utf8();
        true
    });
    std::borrow::Cow::Owned(format!("{}…", &text[..end]))
}

/// Calls `f(byte index, char, kerning before it, advance)` for each character until it returns
/// false. A character the DejaVu face lacks is measured in the fallback face, as resvg draws it.
fn advances(text: &str, size: f64, bold: bool, mut f: impl FnMut(usize, char, f32, f32) -> bool) {
    let (r, b) = faces();
    let font = if bold { b } else { r };
    let scaled = font.as_scaled(PxScale::from(size as f32 * units_to_px_ratio(font)));
    let fb = fallback_face();
    let fb_scaled = fb.as_scaled(PxScale::from(size as f32 * units_to_px_ratio(fb)));
    let mut prev = None;
    for (i, c) in text.char_indices() {
        let id = scaled.glyph_id(c);
        let (kern, adv) = if id.0 == 0 && fb.glyph_id(c).0 != 0 {
            prev = None;
            (0.0, fb_scaled.h_advance(fb.glyph_id(c)))
        } else {
            let kern = prev.map_or(0.0, |p| scaled.kern(p, id));
            prev = Some(id);
            (kern, scaled.h_advance(id))
        };
        if !f(i, c, kern, adv) {
            return;
        }
    }
}

/// A bundled face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// DejaVu Sans.
    Regular,
    /// DejaVu Sans Bold.
    Bold,
    /// The fallback font (Noto Emoji), at any weight.
    Fallback,
}

/// The face that draws `c` in text of the given weight, as [`text_width`] measures it: DejaVu
/// Sans of that weight, else the fallback; `None` when no bundled font has it.
pub fn face_for(c: char, bold: bool) -> Option<Face> {
    let (r, b) = faces();
    if bold && b.glyph_id(c).0 != 0 {
        Some(Face::Bold)
    } else if !bold && r.glyph_id(c).0 != 0 {
        Some(Face::Regular)
    } else if fallback_face().glyph_id(c).0 != 0 {
        Some(Face::Fallback)
    } else {
        None
    }
}

/// Whether the bundled fonts can draw `c` (DejaVu Sans, else the fallback).
pub fn has_glyph(c: char) -> bool {
    faces().0.glyph_id(c).0 != 0 || fallback_face().glyph_id(c).0 != 0
}

/// Advance width of `text` as written, unclipped.
fn raw_width(text: &str, size: f64, bold: bool) -> f64 {
    let mut w = 0.0f32;
    advances(text, size, bold, |_, _, kern, adv| {
        w += kern;
        w += adv;
        true
    });
    w as f64
}

/// Advance width in pixels at font size `size` (px per em), with kerning, of `text` as a plot
/// draws it (clipped at [`MAX_TEXT_WIDTH`]).
pub fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    let w = raw_width(text, size, bold);
    if w <= MAX_TEXT_WIDTH {
        w
    } else {
        raw_width(&clip(text, size, bold), size, bold)
    }
}

/// ab_glyph's `PxScale` is the height from descender to ascender; SVG's font-size is one em.
fn units_to_px_ratio(font: &FontRef<'_>) -> f32 {
    let upem = font.units_per_em().unwrap_or(2048.0);
    (font.ascent_unscaled() - font.descent_unscaled()) / upem
}

/// Ascent and descent (both positive) in pixels at font size `size`.
pub fn vertical_metrics(size: f64, bold: bool) -> (f64, f64) {
    let (r, b) = faces();
    let font = if bold { b } else { r };
    let upem = font.units_per_em().unwrap_or(2048.0) as f64;
    (
        font.ascent_unscaled() as f64 / upem * size,
        -font.descent_unscaled() as f64 / upem * size,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_scale_with_size_and_weight() {
        let w12 = text_width("Aronson 1948", 12.0, false);
        assert!((text_width("Aronson 1948", 24.0, false) - 2.0 * w12).abs() < 1e-3);
        assert!(text_width("Aronson 1948", 12.0, true) > w12);
        // DejaVu Sans: 'M' advances 1767 of 2048 units per em.
        assert!((raw_width("M", 2048.0, false) - 1767.0).abs() < 0.5);
        assert_eq!(text_width("", 12.0, false), 0.0);
    }

    // A 10,000-character label is cut to the widest text a plot draws; short ones are untouched.
    #[test]
    fn long_texts_are_clipped_with_an_ellipsis() {
        let long = "Ä".repeat(10_000);
        let shown = clip(&long, 12.0, false);
        assert!(
            shown.ends_with('…') && shown.chars().count() < 200,
            "{shown}"
        );
        let w = text_width(&long, 12.0, false);
        assert!(w <= MAX_TEXT_WIDTH && w > MAX_TEXT_WIDTH - 20.0, "{w}");
        assert_eq!(
            text_width(&long, 12.0, false),
            text_width(&shown, 12.0, false)
        );
        assert!(matches!(
            clip("Aronson 1948", 12.0, false),
            std::borrow::Cow::Borrowed("Aronson 1948")
        ));
    }

    // An emoji DejaVu lacks is measured with the fallback's advance, not DejaVu's .notdef box.
    #[test]
    fn emoji_are_measured_in_the_fallback_font() {
        assert!(faces().0.glyph_id('🧪').0 == 0 && has_glyph('🧪'));
        let fb = fallback_face();
        let want = fb
            .as_scaled(PxScale::from(12.0 * units_to_px_ratio(fb)))
            .h_advance(fb.glyph_id('🧪'));
        assert!((text_width("🧪", 12.0, false) - want as f64).abs() < 1e-6);
        assert!((text_width("\u{E000}", 12.0, false) - text_width("🧪", 12.0, false)).abs() > 0.5);
        assert!(has_glyph('✓') && has_glyph('A'));
    }

    #[test]
    fn metrics_are_those_of_dejavu() {
        let (a, d) = vertical_metrics(2048.0, false);
        assert!(
            (a - 1901.0).abs() < 1.0 && (d - 483.0).abs() < 1.0,
            "{a} {d}"
        );
    }
}
