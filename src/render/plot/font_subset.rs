//! TrueType subsetting for SVG font embedding: a standalone font holding only the glyphs of the
//! characters a figure draws (OpenType spec, "glyf"-outline fonts; the glyph closure over
//! composite glyphs as in fontTools' subsetter).
//!
//! The subset keeps what a browser needs to render the text with the metrics evident measured:
//! `cmap` (formats 4 and 12 for the kept characters), `head`, `hhea`, `hmtx`, `maxp`, `name`
//! (copyright, names, licence URL), `OS/2`, `post` (version 3, no glyph names), `glyf`/`loca`
//! and the format-0 `kern` pairs, which are the kerning the layout applies (ab_glyph reads
//! `kern`, not `GPOS`). Hinting (instructions, `fpgm`, `prep`, `cvt `) and the layout tables
//! (`GSUB`, `GPOS`, `GDEF`) are dropped: the figure is laid out unhinted and without ligatures,
//! as resvg draws the PNG. Glyphs are renumbered in their original order, so the same characters
//! always give byte-identical fonts.

use super::fonts;
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use ttf_parser::{RawFace, Tag};

fn malformed(what: &str) -> Error {
    Error::invalid(format!("bundled font is malformed: {what}"))
}

fn u16_at(d: &[u8], at: usize) -> Result<u16> {
    d.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| malformed("table too short"))
}

fn u32_at(d: &[u8], at: usize) -> Result<u32> {
    d.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| malformed("table too short"))
}

fn put16(d: &mut [u8], at: usize, v: u16) {
    d[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// The tables of the source font that the subset is built from.
struct Source<'a> {
    raw: RawFace<'a>,
    glyf: &'a [u8],
    /// Glyph data offsets into `glyf`, `num_glyphs + 1` of them.
    loca: Vec<usize>,
    hmtx: &'a [u8],
    num_h_metrics: usize,
}

impl<'a> Source<'a> {
    fn parse(font: &'a [u8]) -> Result<Source<'a>> {
        let raw = RawFace::parse(font, 0).map_err(|e| malformed(&e.to_string()))?;
        let table = |t: &[u8; 4]| {
            raw.table(Tag::from_bytes(t))
                .ok_or_else(|| malformed(&format!("no '{}' table", String::from_utf8_lossy(t))))
        };
        let (head, maxp, hhea) = (table(b"head")?, table(b"maxp")?, table(b"hhea")?);
        let long = u16_at(head, 50)? == 1;
        let n = u16_at(maxp, 4)? as usize;
        let loca_data = table(b"loca")?;
        let loca = (0..=n)
            .map(|i| {
                if long {
                    u32_at(loca_data, 4 * i).map(|v| v as usize)
                } else {
                    u16_at(loca_data, 2 * i).map(|v| 2 * v as usize)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Source {
            raw,
            glyf: table(b"glyf")?,
            loca,
            hmtx: table(b"hmtx")?,
            num_h_metrics: u16_at(hhea, 34)?.max(1) as usize,
        })
    }

    fn table(&self, tag: &[u8; 4]) -> Option<&'a [u8]> {
        self.raw.table(Tag::from_bytes(tag))
    }

    fn glyph(&self, gid: u16) -> Result<&'a [u8]> {
        let i = gid as usize;
        match (self.loca.get(i), self.loca.get(i + 1)) {
            (Some(&a), Some(&b)) if a <= b => self
                .glyf
                .get(a..b)
                .ok_or_else(|| malformed("glyph outside 'glyf'")),
            _ => Err(malformed("glyph index outside 'loca'")),
        }
    }

    /// Advance width and left side bearing of a glyph (`hmtx`).
    fn metrics(&self, gid: u16) -> Result<(u16, u16)> {
        let (i, n) = (gid as usize, self.num_h_metrics);
        if i < n {
            Ok((u16_at(self.hmtx, 4 * i)?, u16_at(self.hmtx, 4 * i + 2)?))
        } else {
            Ok((
                u16_at(self.hmtx, 4 * (n - 1))?,
                u16_at(self.hmtx, 4 * n + 2 * (i - n))?,
            ))
        }
    }
}

/// Composite glyph flags (OpenType `glyf`).
const ARG_1_AND_2_ARE_WORDS: u16 = 0x0001;
const WE_HAVE_A_SCALE: u16 = 0x0008;
const MORE_COMPONENTS: u16 = 0x0020;
const WE_HAVE_AN_X_AND_Y_SCALE: u16 = 0x0040;
const WE_HAVE_A_TWO_BY_TWO: u16 = 0x0080;
const WE_HAVE_INSTRUCTIONS: u16 = 0x0100;

/// The components of a composite glyph: (offset of the glyph index, record length, flags).
fn components(glyph: &[u8]) -> Result<Vec<(usize, usize, u16)>> {
    let mut out = Vec::new();
    let mut at = 10;
    loop {
        let flags = u16_at(glyph, at)?;
        let args = if flags & ARG_1_AND_2_ARE_WORDS != 0 {
            4
        } else {
            2
        };
        let scale = if flags & WE_HAVE_A_TWO_BY_TWO != 0 {
            8
        } else if flags & WE_HAVE_AN_X_AND_Y_SCALE != 0 {
            4
        } else if flags & WE_HAVE_A_SCALE != 0 {
            2
        } else {
            0
        };
        let len = 4 + args + scale;
        if glyph.len() < at + len {
            return Err(malformed("composite glyph too short"));
        }
        out.push((at + 2, len, flags));
        at += len;
        if flags & MORE_COMPONENTS == 0 {
            return Ok(out);
        }
    }
}

fn is_composite(glyph: &[u8]) -> bool {
    glyph.len() >= 10 && (glyph[0] & 0x80) != 0
}

/// The glyphs to keep: `.notdef`, the characters' glyphs, and the components of composites.
fn closure(src: &Source<'_>, cmap: &BTreeMap<char, u16>) -> Result<BTreeSet<u16>> {
    let mut keep = BTreeSet::new();
    let mut todo: Vec<u16> = std::iter::once(0).chain(cmap.values().copied()).collect();
    while let Some(g) = todo.pop() {
        if !keep.insert(g) {
            continue;
        }
        let glyph = src.glyph(g)?;
        if is_composite(glyph) {
            for (at, _, _) in components(glyph)? {
                todo.push(u16_at(glyph, at)?);
            }
        }
    }
    Ok(keep)
}

/// One glyph's data without hinting instructions, component indices renumbered by `new_id`.
fn rewrite_glyph(glyph: &[u8], new_id: &BTreeMap<u16, u16>) -> Result<Vec<u8>> {
    if glyph.is_empty() {
        return Ok(Vec::new());
    }
    if is_composite(glyph) {
        let comps = components(glyph)?;
        let mut out = glyph[..10].to_vec();
        for (i, &(at, len, flags)) in comps.iter().enumerate() {
            let mut rec = glyph[at - 2..at - 2 + len].to_vec();
            if i + 1 == comps.len() {
                put16(&mut rec, 0, flags & !WE_HAVE_INSTRUCTIONS);
            }
            let old = u16_at(glyph, at)?;
            put16(&mut rec, 2, new_id[&old]);
            out.extend_from_slice(&rec);
        }
        return Ok(out);
    }
    let contours = u16_at(glyph, 0)? as usize;
    if contours == 0 {
        return Ok(Vec::new());
    }
    let at = 10 + 2 * contours;
    let instructions = u16_at(glyph, at)? as usize;
    let rest = glyph
        .get(at + 2 + instructions..)
        .ok_or_else(|| malformed("simple glyph too short"))?;
    let mut out = glyph[..at].to_vec();
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(rest);
    Ok(out)
}

/// A subset of the TrueType font `font` with the glyphs of `chars` (characters it lacks are
/// left out), as a standalone font file.
pub fn subset(font: &[u8], chars: &BTreeSet<char>) -> Result<Vec<u8>> {
    let src = Source::parse(font)?;
    let face = ttf_parser::Face::parse(font, 0).map_err(|e| malformed(&e.to_string()))?;
    let old_cmap: BTreeMap<char, u16> = chars
        .iter()
        .filter_map(|&c| face.glyph_index(c).map(|g| (c, g.0)))
        .filter(|&(_, g)| g != 0)
        .collect();
    let keep = closure(&src, &old_cmap)?;
    let new_id: BTreeMap<u16, u16> = keep
        .iter()
        .enumerate()
        .map(|(i, &g)| (g, i as u16))
        .collect();
    let (mut glyf, mut loca, mut hmtx) = (Vec::new(), Vec::new(), Vec::new());
    for &g in &keep {
        loca.extend_from_slice(&(glyf.len() as u32).to_be_bytes());
        glyf.extend(rewrite_glyph(src.glyph(g)?, &new_id)?);
        glyf.resize(glyf.len().next_multiple_of(4), 0);
        let (adv, lsb) = src.metrics(g)?;
        hmtx.extend_from_slice(&adv.to_be_bytes());
        hmtx.extend_from_slice(&lsb.to_be_bytes());
    }
    loca.extend_from_slice(&(glyf.len() as u32).to_be_bytes());
    let cmap: BTreeMap<char, u16> = old_cmap.iter().map(|(&c, g)| (c, new_id[g])).collect();
    let required = |t: &[u8; 4]| {
        src.table(t)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| malformed(&format!("no '{}' table", String::from_utf8_lossy(t))))
    };
    let n = keep.len() as u16;
    let mut head = required(b"head")?;
    head[8..12].fill(0);
    put16(&mut head, 50, 1);
    let mut hhea = required(b"hhea")?;
    put16(&mut hhea, 34, n);
    let mut maxp = required(b"maxp")?;
    put16(&mut maxp, 4, n);
    let mut tables: BTreeMap<[u8; 4], Vec<u8>> = BTreeMap::new();
    tables.insert(*b"OS/2", os2(&required(b"OS/2")?, &cmap));
    tables.insert(*b"cmap", cmap_table(&cmap)?);
    tables.insert(*b"glyf", glyf);
    tables.insert(*b"head", head);
    tables.insert(*b"hhea", hhea);
    tables.insert(*b"hmtx", hmtx);
    tables.insert(*b"loca", loca);
    tables.insert(*b"maxp", maxp);
    tables.insert(*b"name", name_table(&required(b"name")?)?);
    tables.insert(*b"post", post_v3(&required(b"post")?)?);
    if let Some(kern) = src.table(b"kern") {
        if let Some(k) = kern_table(kern, &new_id)? {
            tables.insert(*b"kern", k);
        }
    }
    Ok(assemble(&tables))
}

/// `OS/2` with the first and last character indices of the subset.
fn os2(table: &[u8], cmap: &BTreeMap<char, u16>) -> Vec<u8> {
    let mut t = table.to_vec();
    let bmp = |c: &char| (*c as u32).min(0xFFFF) as u16;
    if let (Some(first), Some(last), true) = (cmap.keys().next(), cmap.keys().last(), t.len() >= 68)
    {
        put16(&mut t, 64, bmp(first));
        put16(&mut t, 66, bmp(last));
    }
    t
}

/// `post` version 3: the metrics header, no glyph names.
fn post_v3(table: &[u8]) -> Result<Vec<u8>> {
    let mut t = table
        .get(..32)
        .ok_or_else(|| malformed("'post' too short"))?
        .to_vec();
    t[..4].copy_from_slice(&0x0003_0000u32.to_be_bytes());
    Ok(t)
}

/// Runs of consecutive characters mapped to consecutive glyphs: (first char, last char, glyph).
fn runs(cmap: &BTreeMap<char, u16>) -> Vec<(u32, u32, u16)> {
    let mut out: Vec<(u32, u32, u16)> = Vec::new();
    for (&c, &g) in cmap {
        let c = c as u32;
        match out.last_mut() {
            Some((s, e, g0)) if *e + 1 == c && u32::from(*g0) + (c - *s) == u32::from(g) => *e = c,
            _ => out.push((c, c, g)),
        }
    }
    out
}

/// `cmap` with a format 4 subtable (Windows BMP) and a format 12 one (Windows full repertoire).
fn cmap_table(cmap: &BTreeMap<char, u16>) -> Result<Vec<u8>> {
    let all = runs(cmap);
    // Format 4: the BMP runs (a run crossing U+FFFF cannot occur: U+FFFE/F are no characters).
    let mut segs: Vec<(u16, u16, u16)> = all
        .iter()
        .filter(|r| r.1 < 0xFFFF)
        .map(|&(s, e, g)| (s as u16, e as u16, g.wrapping_sub(s as u16)))
        .collect();
    segs.push((0xFFFF, 0xFFFF, 1));
    let seg_count = segs.len();
    let len4 = 16 + 8 * seg_count;
    let len4 = u16::try_from(len4).map_err(|_| Error::invalid("too many characters to embed"))?;
    let pow = 1u16 << (usize::BITS - 1 - seg_count.leading_zeros());
    let mut f4 = Vec::with_capacity(len4 as usize);
    for v in [
        4,
        len4,
        0,
        2 * seg_count as u16,
        2 * pow,
        pow.trailing_zeros() as u16,
        2 * seg_count as u16 - 2 * pow,
    ] {
        f4.extend_from_slice(&v.to_be_bytes());
    }
    segs.iter()
        .for_each(|s| f4.extend_from_slice(&s.1.to_be_bytes()));
    f4.extend_from_slice(&[0, 0]);
    segs.iter()
        .for_each(|s| f4.extend_from_slice(&s.0.to_be_bytes()));
    segs.iter()
        .for_each(|s| f4.extend_from_slice(&s.2.to_be_bytes()));
    segs.iter().for_each(|_| f4.extend_from_slice(&[0, 0]));
    let mut f12 = Vec::new();
    f12.extend_from_slice(&12u16.to_be_bytes());
    f12.extend_from_slice(&[0, 0]);
    f12.extend_from_slice(&(16 + 12 * all.len() as u32).to_be_bytes());
    f12.extend_from_slice(&[0, 0, 0, 0]);
    f12.extend_from_slice(&(all.len() as u32).to_be_bytes());
    for &(s, e, g) in &all {
        for v in [s, e, u32::from(g)] {
            f12.extend_from_slice(&v.to_be_bytes());
        }
    }
    let mut t = Vec::new();
    // version 0, 2 subtables: (3, 1) → format 4 at 20, (3, 10) → format 12 after it.
    for v in [0u16, 2, 3, 1] {
        t.extend_from_slice(&v.to_be_bytes());
    }
    t.extend_from_slice(&20u32.to_be_bytes());
    t.extend_from_slice(&3u16.to_be_bytes());
    t.extend_from_slice(&10u16.to_be_bytes());
    t.extend_from_slice(&(20 + f4.len() as u32).to_be_bytes());
    t.extend(f4);
    t.extend(f12);
    Ok(t)
}

/// Name IDs kept: copyright, family, subfamily, unique ID, full name, version, PostScript name,
/// licence URL (the licence text itself is in `assets/fonts`).
const KEPT_NAMES: [u16; 8] = [0, 1, 2, 3, 4, 5, 6, 14];

/// `name` reduced to the Windows Unicode records of [`KEPT_NAMES`].
fn name_table(table: &[u8]) -> Result<Vec<u8>> {
    let count = u16_at(table, 2)? as usize;
    let storage = u16_at(table, 4)? as usize;
    if table.len() < 6 + 12 * count {
        return Err(malformed("'name' records outside the table"));
    }
    let mut records = Vec::new();
    let mut strings: Vec<u8> = Vec::new();
    for i in 0..count {
        let r = 6 + 12 * i;
        let [platform, encoding, _, id, len, off] =
            [0, 2, 4, 6, 8, 10].map(|k| u16::from_be_bytes([table[r + k], table[r + k + 1]]));
        if platform != 3 || encoding != 1 || !KEPT_NAMES.contains(&id) {
            continue;
        }
        let start = storage + off as usize;
        let text = table
            .get(start..start + len as usize)
            .ok_or_else(|| malformed("'name' string outside the table"))?;
        let mut rec = table[r..r + 12].to_vec();
        put16(&mut rec, 10, strings.len() as u16);
        strings.extend_from_slice(text);
        records.push(rec);
    }
    let mut t = Vec::new();
    t.extend_from_slice(&0u16.to_be_bytes());
    t.extend_from_slice(&(records.len() as u16).to_be_bytes());
    t.extend_from_slice(&(6 + 12 * records.len() as u16).to_be_bytes());
    records.iter().for_each(|r| t.extend_from_slice(r));
    t.extend(strings);
    Ok(t)
}

/// The first format-0 horizontal `kern` subtable restricted to kept pairs, or `None` when no
/// pair is left (or the font's `kern` is of another kind).
fn kern_table(table: &[u8], new_id: &BTreeMap<u16, u16>) -> Result<Option<Vec<u8>>> {
    if u16_at(table, 0)? != 0 || u16_at(table, 2)? == 0 {
        return Ok(None);
    }
    let (coverage, n) = (u16_at(table, 8)?, u16_at(table, 10)? as usize);
    if coverage >> 8 != 0 || coverage & 0x07 != 0x01 {
        return Ok(None);
    }
    let mut pairs = Vec::new();
    for i in 0..n {
        let at = 18 + 6 * i;
        let (l, r, v) = (
            u16_at(table, at)?,
            u16_at(table, at + 2)?,
            u16_at(table, at + 4)?,
        );
        if let (Some(&l), Some(&r)) = (new_id.get(&l), new_id.get(&r)) {
            pairs.push((l, r, v));
        }
    }
    if pairs.is_empty() {
        return Ok(None);
    }
    pairs.sort_unstable();
    let np = pairs.len();
    let pow = 1usize << (usize::BITS - 1 - np.leading_zeros());
    let sub_len = 14 + 6 * np;
    let sub_len = u16::try_from(sub_len).map_err(|_| malformed("'kern' too long"))?;
    let mut t = Vec::with_capacity(4 + sub_len as usize);
    for v in [
        0,
        1,
        0,
        sub_len,
        coverage,
        np as u16,
        (6 * pow) as u16,
        pow.trailing_zeros() as u16,
        (6 * (np - pow)) as u16,
    ] {
        t.extend_from_slice(&v.to_be_bytes());
    }
    for (l, r, v) in pairs {
        for x in [l, r, v] {
            t.extend_from_slice(&x.to_be_bytes());
        }
    }
    Ok(Some(t))
}

/// OpenType table checksum: the sum of the big-endian 32-bit words, zero-padded.
pub fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, c| {
        let mut w = [0u8; 4];
        w[..c.len()].copy_from_slice(c);
        sum.wrapping_add(u32::from_be_bytes(w))
    })
}

/// The font file: table directory (tags in order, with checksums), 4-byte aligned tables, and
/// `head.checkSumAdjustment` set so that the whole file sums to 0xB1B0AFBA.
fn assemble(tables: &BTreeMap<[u8; 4], Vec<u8>>) -> Vec<u8> {
    let n = tables.len();
    let pow = 1usize << (usize::BITS - 1 - n.leading_zeros());
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for v in [n, 16 * pow, pow.trailing_zeros() as usize, 16 * (n - pow)] {
        out.extend_from_slice(&(v as u16).to_be_bytes());
    }
    let mut offset = 12 + 16 * n;
    for (tag, data) in tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        offset += data.len().next_multiple_of(4);
    }
    let mut head_at = 0;
    for (tag, data) in tables {
        if tag == b"head" {
            head_at = out.len();
        }
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    let adjust = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
    out[head_at + 8..head_at + 12].copy_from_slice(&adjust.to_be_bytes());
    out
}

/// The characters of a figure's text, by the bundled face that draws them (as
/// [`fonts::text_width`] measures them: DejaVu Sans of the weight, else the fallback).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaceChars {
    /// Drawn in DejaVu Sans.
    pub regular: BTreeSet<char>,
    /// Drawn in DejaVu Sans Bold.
    pub bold: BTreeSet<char>,
    /// Drawn in the fallback font (Noto Emoji), at any weight.
    pub emoji: BTreeSet<char>,
}

impl FaceChars {
    /// Sorts the characters of `(text, bold)` items by face; characters no bundled font has are
    /// left out (a viewer draws them in a font of its own, as it would without embedding).
    pub fn of<'a>(texts: impl IntoIterator<Item = (&'a str, bool)>) -> FaceChars {
        let mut out = FaceChars::default();
        for (text, bold) in texts {
            // XML white space is drawn as a space.
            for c in text.chars() {
                let c = if matches!(c, '\t' | '\n' | '\r') {
                    ' '
                } else {
                    c
                };
                match fonts::face_for(c, bold) {
                    Some(fonts::Face::Bold) => out.bold.insert(c),
                    Some(fonts::Face::Regular) => out.regular.insert(c),
                    Some(fonts::Face::Fallback) => out.emoji.insert(c),
                    None => false,
                };
            }
        }
        out
    }
}

/// The fonts embedded in one SVG: a `<style>` of `@font-face` rules, and the `font-family`
/// list its text names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedFonts {
    /// `<defs><style>…</style></defs>`, or empty when the figure has no text.
    pub style: String,
    /// The `font-family` value: the embedded families first, then the bundled font's own name
    /// and generic fallbacks.
    pub family: String,
}

/// FNV-1a, 64 bits (Fowler, Noll and Vo): names the embedded families after their bytes, so
/// SVGs inlined in one HTML page never take each other's subsets.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    parts
        .iter()
        .flat_map(|p| p.iter())
        .fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// Subsets the bundled fonts to `chars` and writes the `@font-face` rules that carry them.
pub fn embed(chars: &FaceChars) -> Result<EmbeddedFonts> {
    use base64::Engine as _;
    let sub = |font: &[u8], set: &BTreeSet<char>| -> Result<Option<Vec<u8>>> {
        if set.is_empty() {
            Ok(None)
        } else {
            subset(font, set).map(Some)
        }
    };
    let regular = sub(fonts::REGULAR, &chars.regular)?;
    let bold = sub(fonts::BOLD, &chars.bold)?;
    let emoji = sub(fonts::FALLBACK, &chars.emoji)?;
    let all: Vec<&[u8]> = [&regular, &bold, &emoji]
        .into_iter()
        .flatten()
        .map(Vec::as_slice)
        .collect();
    let hash = fnv1a(&all);
    let (sans, symbols) = (
        format!("evident-sans-{hash:016x}"),
        format!("evident-emoji-{hash:016x}"),
    );
    let mut style = String::new();
    let mut family = Vec::new();
    let faces = [
        (&regular, &sans, "normal"),
        (&bold, &sans, "bold"),
        (&emoji, &symbols, "100 900"),
    ];
    for (font, name, weight) in faces {
        let Some(font) = font else { continue };
        style.push_str(&format!(
            // White space may open and close url( ), never split the address: the data on a
            // line of its own.
            "@font-face {{ font-family: \"{name}\"; font-weight: {weight}; src: url(\ndata:font/ttf;base64,{}\n) format(\"truetype\"); }}\n",
            base64::engine::general_purpose::STANDARD.encode(font)
        ));
        if !family.contains(&name) {
            family.push(name);
        }
    }
    let mut family: Vec<&str> = family.into_iter().map(String::as_str).collect();
    family.push(fonts::SVG_FAMILY);
    Ok(EmbeddedFonts {
        style: if style.is_empty() {
            style
        } else {
            format!("<defs><style>\n{style}</style></defs>\n")
        },
        family: family.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttf_parser::Face;

    fn set(s: &str) -> BTreeSet<char> {
        s.chars().collect()
    }

    /// The glyph `c` maps to in every cmap subtable of `font`, by subtable format.
    fn lookups(font: &[u8], c: char) -> Vec<(u16, Option<u16>)> {
        let face = Face::parse(font, 0).unwrap();
        face.tables()
            .cmap
            .unwrap()
            .subtables
            .into_iter()
            .map(|s| {
                let format = match s.format {
                    ttf_parser::cmap::Format::SegmentMappingToDeltaValues(_) => 4,
                    ttf_parser::cmap::Format::SegmentedCoverage(_) => 12,
                    _ => 0,
                };
                (format, s.glyph_index(u32::from(c)).map(|g| g.0))
            })
            .collect()
    }

    // Both subtables map every kept character, including runs and a character beyond the BMP
    // (format 12 only); others map to nothing.
    #[test]
    fn cmap_formats_4_and_12_map_the_kept_characters() {
        let full = Face::parse(fonts::FALLBACK, 0).unwrap();
        let bmp = ['☕', '⌚', '⭐', '❤']
            .into_iter()
            .find(|&c| full.glyph_index(c).is_some())
            .expect("the fallback has a BMP symbol");
        let sub = subset(fonts::FALLBACK, &BTreeSet::from(['🧪', '😀', '😁', bmp])).unwrap();
        let face = Face::parse(&sub, 0).unwrap();
        let g = |c| face.glyph_index(c).unwrap().0;
        assert_eq!(lookups(&sub, bmp), [(4, Some(g(bmp))), (12, Some(g(bmp)))]);
        assert_eq!(lookups(&sub, '😁'), [(4, None), (12, Some(g('😁')))]);
        assert_eq!(lookups(&sub, 'A'), [(4, None), (12, None)]);
        let sub = subset(fonts::REGULAR, &set("abcdxyz019")).unwrap();
        for c in "abcdxyz019".chars() {
            let l = lookups(&sub, c);
            assert!(l[0].1 == l[1].1 && l[0].1.is_some(), "{c}: {l:?}");
        }
        assert_eq!(
            runs(&[('a', 1), ('b', 2), ('c', 3), ('e', 4), ('f', 6)].into()),
            [(97, 99, 1), (101, 101, 4), (102, 102, 6)]
        );
    }

    // DejaVu draws many accented letters as composites of a letter and an accent: the closure
    // keeps the components (renumbered, unmapped) and the outlines are the original's.
    #[test]
    fn composites_keep_their_components_and_outlines() {
        let src = Source::parse(fonts::REGULAR).unwrap();
        let full = Face::parse(fonts::REGULAR, 0).unwrap();
        let composite: BTreeSet<char> = ('\u{C0}'..='\u{17F}')
            .filter(|&c| {
                full.glyph_index(c)
                    .is_some_and(|g| is_composite(src.glyph(g.0).unwrap()))
            })
            .collect();
        assert!(composite.len() > 20, "{composite:?}");
        let sub = subset(fonts::REGULAR, &composite).unwrap();
        let face = Face::parse(&sub, 0).unwrap();
        assert!(face.number_of_glyphs() as usize > composite.len() + 1);
        let bbox = |f: &Face<'_>, c| {
            let g = f.glyph_index(c).unwrap();
            f.outline_glyph(g, &mut Sink).unwrap()
        };
        for &c in &composite {
            assert_eq!(bbox(&face, c), bbox(&full, c), "{c}");
        }
        assert!(!composite.contains(&'A') && face.glyph_index('A').is_none());
    }

    struct Sink;
    impl ttf_parser::OutlineBuilder for Sink {
        fn move_to(&mut self, _: f32, _: f32) {}
        fn line_to(&mut self, _: f32, _: f32) {}
        fn quad_to(&mut self, _: f32, _: f32, _: f32, _: f32) {}
        fn curve_to(&mut self, _: f32, _: f32, _: f32, _: f32, _: f32, _: f32) {}
        fn close(&mut self) {}
    }

    // DejaVu's hinting instructions are dropped from simple glyphs, and so are its hinting tables.
    #[test]
    fn hinting_is_dropped() {
        let instructions = |font: &[u8], c: char| {
            let src = Source::parse(font).unwrap();
            let g = Face::parse(font, 0).unwrap().glyph_index(c).unwrap().0;
            let glyph = src.glyph(g).unwrap();
            u16_at(glyph, 10 + 2 * u16_at(glyph, 0).unwrap() as usize).unwrap()
        };
        let sub = subset(fonts::REGULAR, &set("A")).unwrap();
        assert!(instructions(fonts::REGULAR, 'A') > 0);
        assert_eq!(instructions(&sub, 'A'), 0);
        let raw = RawFace::parse(&sub, 0).unwrap();
        for t in [b"fpgm", b"prep", b"cvt ", b"GSUB", b"GPOS"] {
            assert!(raw.table(Tag::from_bytes(t)).is_none());
        }
    }

    #[test]
    fn subsets_are_deterministic_and_bad_fonts_are_errors() {
        let a = subset(fonts::BOLD, &set("Study 1948")).unwrap();
        assert_eq!(a, subset(fonts::BOLD, &set("1948 Study")).unwrap());
        assert!(subset(b"not a font", &set("a")).is_err());
        assert!(subset(&fonts::REGULAR[..4000], &set("a")).is_err());
        // The subset's checksums hold (the whole file sums to the magic number).
        assert_eq!(checksum(&a), 0xB1B0_AFBA);
    }
}
