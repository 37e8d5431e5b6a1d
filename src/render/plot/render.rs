//! SVG → PNG (resvg) and SVG → PDF (krilla), with only the bundled font, and atomic file output.

use super::fonts;
use crate::error::{Error, Result};
use resvg::{tiny_skia, usvg};
use std::path::Path;
use std::sync::Arc;

/// Output file formats, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Scalable vector graphics, as laid out.
    Svg,
    /// Raster image rendered from the SVG by resvg.
    Png,
    /// PDF converted from the SVG by krilla.
    Pdf,
}

impl Format {
    /// The format for a file name's extension (`.svg`, `.png`, `.pdf`, any case).
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("svg") => Ok(Format::Svg),
            Some("png") => Ok(Format::Png),
            Some("pdf") => Ok(Format::Pdf),
            _ => Err(Error::invalid(format!(
                "cannot tell the plot format from '{}': the output file must end in .svg, .png or .pdf",
                path.display()
            ))),
        }
    }
}

/// Parses an SVG with a font database holding only the bundled font (no system fonts).
pub fn parse(svg: &str) -> Result<usvg::Tree> {
    let mut opt = usvg::Options {
        font_family: fonts::FAMILY.to_string(),
        ..usvg::Options::default()
    };
    let db = Arc::make_mut(&mut opt.fontdb);
    db.load_font_data(fonts::REGULAR.to_vec());
    db.load_font_data(fonts::BOLD.to_vec());
    // Characters DejaVu lacks (emoji) fall back to the second bundled font, not a box.
    db.load_font_data(fonts::FALLBACK.to_vec());
    db.set_sans_serif_family(fonts::FAMILY);
    usvg::Tree::from_str(svg, &opt).map_err(|e| Error::invalid(format!("invalid SVG: {e}")))
}

/// The most pixels a PNG is rendered with: 50 megapixels (a 200 MB RGBA buffer, about
/// 24 × 24 inches at 300 dpi). A forest plot of 10,000 studies at 150 dpi would need 6 GB; it
/// is refused with [`Error::ImageTooLarge`], which points to SVG and PDF.
pub const MAX_PIXELS: u64 = 50_000_000;

/// Renders an SVG (sized in CSS pixels, 96 per inch) to PNG at `dpi` on a white background.
pub fn svg_to_png(svg: &str, dpi: f64) -> Result<Vec<u8>> {
    if !(dpi.is_finite() && (10.0..=2400.0).contains(&dpi)) {
        return Err(Error::invalid(format!(
            "the PNG resolution must be between 10 and 2400 dpi, got {dpi}"
        )));
    }
    // Refuse from the declared size before parsing: laying out the text of a huge figure
    // costs seconds and hundreds of megabytes on its own.
    if let Some((w, h)) = declared_size(svg) {
        let (w, h) = ((w * dpi / 96.0).ceil(), (h * dpi / 96.0).ceil());
        if w * h > MAX_PIXELS as f64 {
            return Err(Error::ImageTooLarge {
                width: w as u64,
                height: h as u64,
                limit: MAX_PIXELS,
            });
        }
    }
    let tree = parse(svg)?;
    let scale = (dpi / 96.0) as f32;
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let too_large = || Error::ImageTooLarge {
        width: u64::from(w),
        height: u64::from(h),
        limit: MAX_PIXELS,
    };
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(too_large());
    }
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or_else(too_large)?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let png = pixmap
        .encode_png()
        .map_err(|e| Error::invalid(format!("PNG encoding failed: {e}")))?;
    Ok(with_resolution(png, dpi))
}

/// The `width` and `height` (CSS pixels) of the root `<svg>` tag, when given as plain numbers.
fn declared_size(svg: &str) -> Option<(f64, f64)> {
    let start = svg.find("<svg")?;
    let tag = &svg[start..start + svg[start..].find('>')?];
    let attr = |name: &str| -> Option<f64> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        tag[at..at + tag[at..].find('"')?].parse().ok()
    };
    Some((attr("width")?, attr("height")?))
}

/// Inserts a `pHYs` chunk after `IHDR` so that the image carries its resolution (journals and
/// word processors read it to size the figure).
fn with_resolution(png: Vec<u8>, dpi: f64) -> Vec<u8> {
    // Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC).
    const IHDR_END: usize = 8 + 25;
    if png.len() < IHDR_END || &png[12..16] != b"IHDR" {
        return png;
    }
    let ppm = (dpi / 0.0254).round() as u32;
    let mut chunk = Vec::with_capacity(21);
    chunk.extend_from_slice(&9u32.to_be_bytes());
    chunk.extend_from_slice(b"pHYs");
    chunk.extend_from_slice(&ppm.to_be_bytes());
    chunk.extend_from_slice(&ppm.to_be_bytes());
    chunk.push(1); // unit: metre
    let crc = crc32(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    let mut out = Vec::with_capacity(png.len() + chunk.len());
    out.extend_from_slice(&png[..IHDR_END]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[IHDR_END..]);
    out
}

/// CRC-32 (ISO 3309) as PNG chunks use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Converts an SVG to a one-page PDF of the same physical size, with the font embedded as text.
pub fn svg_to_pdf(svg: &str) -> Result<Vec<u8>> {
    use krilla::geom::Size;
    use krilla::page::PageSettings;
    use krilla_svg::{SurfaceExt, SvgSettings};
    let tree = parse(svg)?;
    // CSS pixels are 1/96 in; PDF points 1/72 in.
    let (w, h) = (tree.size().width() * 0.75, tree.size().height() * 0.75);
    let size = Size::from_wh(w, h).ok_or_else(|| Error::invalid("empty figure"))?;
    let mut doc = krilla::Document::new();
    let mut page = doc.start_page_with(PageSettings::new(size));
    let mut surface = page.surface();
    surface
        .draw_svg(&tree, size, SvgSettings::default())
        .ok_or_else(|| Error::invalid("the figure could not be converted to PDF"))?;
    surface.finish();
    page.finish();
    doc.finish()
        .map_err(|e| Error::invalid(format!("PDF writing failed: {e:?}")))
}

/// The bytes of a figure's SVG in the given format.
pub fn encode(svg: &str, format: Format, dpi: f64) -> Result<Vec<u8>> {
    match format {
        Format::Svg => Ok(svg.as_bytes().to_vec()),
        Format::Png => svg_to_png(svg, dpi),
        Format::Pdf => svg_to_pdf(svg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_png_specification() {
        // The CRC of an IEND chunk's type, as in every PNG file.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn png_carries_its_resolution() {
        let svg = r#"<svg width="20" height="10" viewBox="0 0 20 10" xmlns="http://www.w3.org/2000/svg"><rect x="2" y="2" width="5" height="5"/></svg>"#;
        let png = svg_to_png(svg, 300.0).unwrap();
        let at = png.windows(4).position(|w| w == b"pHYs").unwrap();
        let ppm = u32::from_be_bytes(png[at + 4..at + 8].try_into().unwrap());
        assert_eq!(ppm, 11811); // 300 dpi
        let img = tiny_skia::Pixmap::decode_png(&png).unwrap();
        assert_eq!((img.width(), img.height()), (63, 32));
        assert!(svg_to_png(svg, 0.0).is_err());
    }

    // Beyond MAX_PIXELS the PNG is refused before its buffer is allocated.
    #[test]
    fn huge_rasters_are_refused_with_a_vector_hint() {
        let svg = r#"<svg width="20000" height="10000" viewBox="0 0 20000 10000" xmlns="http://www.w3.org/2000/svg"><rect x="2" y="2" width="5" height="5"/></svg>"#;
        let e = svg_to_png(svg, 96.0).unwrap_err();
        assert!(
            matches!(
                e,
                Error::ImageTooLarge {
                    width: 20000,
                    height: 10000,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("SVG or PDF"), "{e}");
        assert_eq!(declared_size(svg), Some((20000.0, 10000.0)));
        assert_eq!(declared_size("<svg viewBox=\"0 0 1 1\">"), None);
        // Just under the limit at a lower resolution is rendered.
        assert!(svg_to_png(svg, 24.0).is_ok());
    }

    #[test]
    fn format_by_extension() {
        assert_eq!(
            Format::from_path(Path::new("a/b.PNG")).unwrap(),
            Format::Png
        );
        assert_eq!(Format::from_path(Path::new("b.svg")).unwrap(), Format::Svg);
        assert_eq!(Format::from_path(Path::new("b.pdf")).unwrap(), Format::Pdf);
        assert!(Format::from_path(Path::new("b.jpg")).is_err());
        assert!(Format::from_path(Path::new("b")).is_err());
    }
}
