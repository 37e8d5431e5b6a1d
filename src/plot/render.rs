//! SVG → PNG (resvg) and SVG → PDF (krilla), with only the bundled font, and atomic file output.

use super::fonts;
use crate::error::{Error, Result};
use resvg::{tiny_skia, usvg};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Output file formats, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
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
    db.set_sans_serif_family(fonts::FAMILY);
    usvg::Tree::from_str(svg, &opt).map_err(|e| Error::invalid(format!("invalid SVG: {e}")))
}

/// Renders an SVG (sized in CSS pixels, 96 per inch) to PNG at `dpi` on a white background.
pub fn svg_to_png(svg: &str, dpi: f64) -> Result<Vec<u8>> {
    if !(dpi.is_finite() && (10.0..=2400.0).contains(&dpi)) {
        return Err(Error::invalid(format!(
            "the PNG resolution must be between 10 and 2400 dpi, got {dpi}"
        )));
    }
    let tree = parse(svg)?;
    let scale = (dpi / 96.0) as f32;
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or_else(|| {
        Error::invalid(format!(
            "a {w}×{h} pixel image is too large to render; lower the dpi"
        ))
    })?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| Error::invalid(format!("PNG encoding failed: {e}")))
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

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then a rename,
/// so a reader never sees half a plot and a failed run leaves any old file intact.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid(format!("'{}' is not a file name", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}
