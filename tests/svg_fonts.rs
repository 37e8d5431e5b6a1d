//! SVG output embeds subsets of the bundled fonts (issue 15, item 9): each subset is a valid
//! standalone TrueType font with the glyphs, advances, kerning and outlines of the original for
//! every character the SVG draws; resvg given only the subsets draws what it draws with the
//! full fonts; and Chromium accepts the fonts and lays the text out at the measured widths.

mod common;

use base64::Engine as _;
use evident::data::{read_studies, ColumnMap, CsvOptions};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::{rma, RmaOptions};
use evident::render::plot::figure::{Anchor, Color, Figure, SvgFonts};
use evident::render::plot::font_subset::{checksum, FaceChars};
use evident::render::plot::fonts;
use evident::render::plot::forest::{forest, ForestOptions};
use evident::Measure;
use resvg::{tiny_skia, usvg};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use ttf_parser::{Face, GlyphId, OutlineBuilder};

/// Labels that need composite glyphs (accents), kerning pairs (AV, To), bold, the fallback
/// font (emoji), a character no bundled font has (U+E000) and XML-special characters.
const LABELS: [&str; 5] = [
    "Åström & Ødegård 2001 🧪",
    "AVATAR Tower \"quoted\" <b>",
    "Müller-Lüdenscheidt 1999 ✓",
    "Private use \u{E000} ok",
    "Žižek 1987 😀 → ≥ 0.5",
];

fn forest_svg() -> (Figure, String) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/cases/bcg_or/input.csv");
    let mut studies = read_studies(&path, &CsvOptions::default(), &ColumnMap::new()).unwrap();
    for (i, l) in LABELS.iter().enumerate() {
        studies.labels[i] = l.to_string();
    }
    let set = EffectSet::from_studies(&studies, Measure::OR, &EscalcOptions::default()).unwrap();
    let fit = rma(&set, &RmaOptions::default()).unwrap();
    let opts = ForestOptions {
        title: Some("BCG — Tuberculosis, ‘AVAST’ 🌍".into()),
        ..Default::default()
    };
    let fig = forest(&fit, &opts).unwrap();
    let svg = fig.to_svg().unwrap();
    (fig, svg)
}

/// One `@font-face` rule of an SVG: family, weight and the decoded font.
struct Embedded {
    family: String,
    weight: String,
    font: Vec<u8>,
}

fn embedded(svg: &str) -> Vec<Embedded> {
    let style = svg
        .split_once("<style>")
        .and_then(|(_, s)| s.split_once("</style>"))
        .map(|(s, _)| s)
        .expect("the SVG has a <style>");
    style
        .split("@font-face")
        .skip(1)
        .map(|rule| {
            let field = |k: &str| {
                let at = rule.find(&format!("{k}:")).unwrap() + k.len() + 1;
                rule[at..].split(';').next().unwrap().trim().to_string()
            };
            let data = rule
                .split_once("base64,")
                .unwrap()
                .1
                .split_once(')')
                .unwrap()
                .0;
            let font = base64::engine::general_purpose::STANDARD
                .decode(data.split_whitespace().collect::<String>())
                .unwrap();
            Embedded {
                family: field("font-family").trim_matches('"').to_string(),
                weight: field("font-weight"),
                font,
            }
        })
        .collect()
}

/// Every table's checksum in the directory is right, and the file sums to 0xB1B0AFBA.
fn assert_checksums(font: &[u8]) -> BTreeSet<String> {
    let u16_at = |i: usize| u16::from_be_bytes([font[i], font[i + 1]]) as usize;
    let u32_at = |i: usize| u32::from_be_bytes(font[i..i + 4].try_into().unwrap()) as usize;
    let mut tags = BTreeSet::new();
    for t in 0..u16_at(4) {
        let rec = 12 + 16 * t;
        let tag = String::from_utf8(font[rec..rec + 4].to_vec()).unwrap();
        let (sum, off, len) = (u32_at(rec + 4), u32_at(rec + 8), u32_at(rec + 12));
        assert_eq!(off % 4, 0, "{tag} is aligned");
        let mut data = font[off..off + len].to_vec();
        if tag == "head" {
            data[8..12].fill(0);
        }
        assert_eq!(checksum(&data) as usize, sum, "checksum of '{tag}'");
        tags.insert(tag);
    }
    assert_eq!(checksum(font), 0xB1B0_AFBA, "head.checkSumAdjustment");
    tags
}

/// Records an outline as text, to compare glyphs of two fonts.
#[derive(Default)]
struct Path2(String);

impl OutlineBuilder for Path2 {
    fn move_to(&mut self, x: f32, y: f32) {
        self.0 += &format!("M{x},{y}");
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.0 += &format!("L{x},{y}");
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        self.0 += &format!("Q{x1},{y1},{x},{y}");
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.0 += &format!("C{x1},{y1},{x2},{y2},{x},{y}");
    }
    fn close(&mut self) {
        self.0 += "Z";
    }
}

fn outline(face: &Face<'_>, g: GlyphId) -> String {
    let mut p = Path2::default();
    face.outline_glyph(g, &mut p);
    p.0
}

fn kerning(face: &Face<'_>, a: GlyphId, b: GlyphId) -> i16 {
    face.tables()
        .kern
        .iter()
        .flat_map(|k| k.subtables)
        .filter(|s| s.horizontal)
        .find_map(|s| s.glyphs_kerning(a, b))
        .unwrap_or(0)
}

/// A subset has every table a browser needs, valid checksums, and for each character of its
/// face the original's advance, side bearing, outline and kerning with every other character.
fn assert_faithful(sub: &[u8], original: &[u8], chars: &BTreeSet<char>) {
    let tags = assert_checksums(sub);
    for t in [
        "OS/2", "cmap", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name", "post",
    ] {
        assert!(tags.contains(t), "no '{t}' in {tags:?}");
    }
    let (s, o) = (
        Face::parse(sub, 0).unwrap(),
        Face::parse(original, 0).unwrap(),
    );
    assert!(s.number_of_glyphs() as usize <= chars.len() + 40);
    assert_eq!(s.units_per_em(), o.units_per_em());
    assert_eq!((s.ascender(), s.descender()), (o.ascender(), o.descender()));
    let family = |f: &Face<'_>| {
        f.names()
            .into_iter()
            .find(|n| n.name_id == ttf_parser::name_id::FAMILY && n.is_unicode())
            .and_then(|n| n.to_string())
    };
    assert!(family(&s).is_some() && family(&s) == family(&o));
    for &c in chars {
        let (gs, go) = (s.glyph_index(c), o.glyph_index(c).unwrap());
        let gs = gs.unwrap_or_else(|| panic!("{c:?} is not in the subset's cmap"));
        assert_eq!(
            s.glyph_hor_advance(gs),
            o.glyph_hor_advance(go),
            "advance of {c:?}"
        );
        assert_eq!(
            s.glyph_hor_side_bearing(gs),
            o.glyph_hor_side_bearing(go),
            "bearing of {c:?}"
        );
        assert_eq!(outline(&s, gs), outline(&o, go), "outline of {c:?}");
        for &d in chars {
            let (hs, ho) = (s.glyph_index(d).unwrap(), o.glyph_index(d).unwrap());
            assert_eq!(
                kerning(&s, gs, hs),
                kerning(&o, go, ho),
                "kerning {c:?}{d:?}"
            );
        }
    }
    // Characters outside the subset are not mapped.
    assert!(s.glyph_index('\u{4E00}').is_none());
}

#[test]
fn forest_svg_embeds_faithful_subsets_of_the_fonts_it_uses() {
    let (fig, svg) = forest_svg();
    let faces = embedded(&svg);
    let texts: Vec<(String, bool)> = fig.labels().map(|l| (l.text.clone(), l.bold)).collect();
    let chars = FaceChars::of(texts.iter().map(|(t, b)| (t.as_str(), *b)));
    assert!(chars.regular.contains(&'Å') && chars.bold.contains(&'‘'));
    assert!(chars.emoji.contains(&'🧪') && chars.emoji.contains(&'🌍'));
    let weights: Vec<&str> = faces.iter().map(|f| f.weight.as_str()).collect();
    assert_eq!(weights, ["normal", "bold", "100 900"]);
    let originals = [fonts::REGULAR, fonts::BOLD, fonts::FALLBACK];
    let sets = [&chars.regular, &chars.bold, &chars.emoji];
    for ((f, original), set) in faces.iter().zip(originals).zip(sets) {
        assert_faithful(&f.font, original, set);
        assert!(f.font.len() < 40_000, "{} bytes", f.font.len());
    }
    // Regular and bold are one family; every text names the embedded families first.
    assert_eq!(faces[0].family, faces[1].family);
    let family = format!(
        "font-family=\"{}, {}, {}\"",
        faces[0].family,
        faces[2].family,
        fonts::SVG_FAMILY
    );
    assert_eq!(svg.matches("<text").count(), svg.matches(&family).count());
    assert!(svg.matches("<text").count() > 20);
    // The same figure gives the same bytes.
    assert_eq!(fig.to_svg().unwrap(), svg);
}

#[test]
fn figures_without_text_or_emoji_embed_only_what_they_use() {
    let mut fig = Figure {
        width: 100.0,
        height: 50.0,
        ..Default::default()
    };
    fig.line((0.0, 0.0), (10.0, 10.0), Color::BLACK, 1.0);
    let bare = fig.to_svg().unwrap();
    assert!(!bare.contains("<style>") && bare == fig.to_svg_with(SvgFonts::Name).unwrap());
    fig.text(5.0, 20.0, "Tt", 12.0, false, Anchor::Start, Color::BLACK);
    let svg = fig.to_svg().unwrap();
    let faces = embedded(&svg);
    assert_eq!(faces.len(), 1);
    assert_faithful(&faces[0].font, fonts::REGULAR, &['T', 't'].into());
    // .notdef and the two letters.
    assert_eq!(
        Face::parse(&faces[0].font, 0).unwrap().number_of_glyphs(),
        3
    );
    let named = fig.to_svg_with(SvgFonts::Name).unwrap();
    assert!(!named.contains("@font-face") && named.contains(fonts::SVG_FAMILY));
    // Different text, different family name: SVGs inlined in one page keep their own subsets.
    fig.text(5.0, 40.0, "Ab", 12.0, false, Anchor::Start, Color::BLACK);
    assert_ne!(embedded(&fig.to_svg().unwrap())[0].family, faces[0].family);
}

/// Renders an SVG at 2× with a font database of `fonts` only.
fn raster(svg: &str, fonts: &[&[u8]]) -> tiny_skia::Pixmap {
    let mut opt = usvg::Options {
        font_family: fonts::FAMILY.to_string(),
        ..usvg::Options::default()
    };
    let db = Arc::make_mut(&mut opt.fontdb);
    assert_eq!(db.len(), 0, "usvg starts with no fonts");
    for f in fonts {
        db.load_font_data(f.to_vec());
    }
    db.set_sans_serif_family(fonts::FAMILY);
    let tree = usvg::Tree::from_str(svg, &opt).unwrap();
    let size = tree.size();
    let mut pix =
        tiny_skia::Pixmap::new(size.width() as u32 * 2, size.height() as u32 * 2).unwrap();
    pix.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(2.0, 2.0),
        &mut pix.as_mut(),
    );
    pix
}

/// The SVG's text with a zero-width non-joiner inside "ff", "fi" and "fl": the full DejaVu
/// Sans forms ligatures there through GSUB, which the layout does not measure and the subset
/// (without GSUB) does not form.
fn unligated(svg: &str) -> String {
    let at = svg.find("</style>").unwrap();
    let mut out = svg[..at].to_string();
    let (mut prev, mut in_tag) = (' ', false);
    for c in svg[at..].chars() {
        in_tag = (in_tag || c == '<') && c != '>';
        if !in_tag && prev == 'f' && matches!(c, 'f' | 'i' | 'l') {
            out.push('\u{200C}');
        }
        out.push(c);
        prev = c;
    }
    out
}

/// resvg with only the embedded subsets in its font database (usvg reads no `@font-face`; the
/// subsets carry the bundled fonts' names, which the SVG's family list names) draws the same
/// pixels as with the full bundled fonts, ligatures of the full fonts aside.
#[test]
fn subsets_alone_render_like_the_full_fonts() {
    let (_, svg) = forest_svg();
    assert!(svg.contains("effects"), "the figure has an 'ff' to check");
    let faces = embedded(&svg);
    let subsets: Vec<&[u8]> = faces.iter().map(|f| f.font.as_slice()).collect();
    let sub = raster(&svg, &subsets);
    let full = raster(
        &unligated(&svg),
        &[fonts::REGULAR, fonts::BOLD, fonts::FALLBACK],
    );
    let differ = sub
        .pixels()
        .iter()
        .zip(full.pixels())
        .filter(|(a, b)| a != b)
        .count();
    let total = sub.pixels().len();
    assert_eq!(differ, 0, "{differ} of {total} pixels differ");
    // And the text is drawn: without any font the picture differs.
    let none = raster(&svg, &[]);
    assert!(none.pixels() != full.pixels());
}

/// Measures every `<text>` of the page's SVGs in Chromium once the fonts are in, and lists the
/// page's fonts with their load status, one result per line of the `<pre>`.
const PROBE: &str = r#"<pre id="out"></pre>
<script>
document.fonts.ready.then(function () {
  var lines = [];
  document.fonts.forEach(function (f) { lines.push('FONT ' + f.family + ' ' + f.weight + ' ' + f.status); });
  document.querySelectorAll('svg').forEach(function (s, i) {
    s.querySelectorAll('text').forEach(function (t) { lines.push('TEXT ' + i + ' ' + t.getComputedTextLength()); });
  });
  document.getElementById('out').textContent = lines.join('\n');
});
</script>"#;

/// Headless Chromium (its font sanitiser, OTS, refuses malformed fonts) loads every embedded
/// font, and lays each text out at the width evident measured; the same SVG without the fonts,
/// falling back to monospace, does not. Skipped (with a message) without Chromium.
#[test]
fn chromium_accepts_the_fonts_and_draws_the_measured_widths() {
    let Some(chromium) = common::chromium::find() else {
        return;
    };
    let (fig, svg) = forest_svg();
    let faces = embedded(&svg);
    // No system font may stand in: after the embedded families only monospace.
    let fallback = format!(", {}\"", fonts::SVG_FAMILY);
    let with = svg.replace(&fallback, ", monospace\"");
    let body = &svg[svg.find("</style></defs>").unwrap() + 15..];
    let without = format!("<svg>{}", body.replace(&faces[0].family, "no-such-font"))
        .replace(&faces[2].family, "no-such-font")
        .replace(&fallback, ", monospace\"");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("fonts.html");
    std::fs::write(
        &page,
        format!("<!DOCTYPE html><html><body>\n{with}\n{without}\n{PROBE}</body></html>\n"),
    )
    .unwrap();
    let o = common::chromium::dump_dom(
        chromium,
        &page,
        120,
        &["--font-render-hinting=none", "--virtual-time-budget=10000"],
    );
    let dom = String::from_utf8_lossy(&o.stdout);
    let out = dom
        .split_once("<pre id=\"out\">")
        .and_then(|(_, r)| r.split_once("</pre>"))
        .map(|(r, _)| r.to_string())
        .unwrap_or_else(|| panic!("no results: {}", String::from_utf8_lossy(&o.stderr)));
    let fonts_loaded: Vec<&str> = out.lines().filter(|l| l.starts_with("FONT ")).collect();
    assert_eq!(fonts_loaded.len(), faces.len(), "{out}");
    for (f, line) in faces.iter().zip(&fonts_loaded) {
        assert!(
            line.contains(&f.family) && line.ends_with(" loaded"),
            "{line}"
        );
    }
    let widths = |svg: usize| -> Vec<f64> {
        out.lines()
            .filter_map(|l| l.strip_prefix(&format!("TEXT {svg} ")))
            .map(|w| w.parse().unwrap())
            .collect()
    };
    let (embedded_w, bare_w) = (widths(0), widths(1));
    let labels: Vec<_> = fig.labels().collect();
    assert_eq!(embedded_w.len(), labels.len());
    let mut checked = 0;
    let mut off = 0;
    for ((l, got), bare) in labels.iter().zip(&embedded_w).zip(&bare_w) {
        if !l.text.chars().all(fonts::has_glyph) {
            continue; // drawn partly in a font of the viewer's
        }
        // Chromium's width is in the SVG's user units, 4 per pixel.
        let want = fonts::text_width(&l.text, l.size, l.bold) * 4.0;
        assert!(
            (got - want).abs() <= 0.002 * want + 0.5,
            "{:?}: Chromium {got}, evident {want}",
            l.text
        );
        checked += 1;
        off += usize::from((bare - want).abs() > 0.05 * want);
    }
    assert!(checked > 20, "{checked} texts checked");
    assert!(
        off * 2 > checked,
        "without the fonts only {off} widths differ"
    );
}
