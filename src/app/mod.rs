//! Workflows: what the command line runs on top of the library. Many analyses of one long CSV
//! ([`batch`]), the batch report ([`report`], configured by a [`manifest`]), atomic file
//! writing ([`atomic`]) and whole-directory replacement of a report ([`outdir`]); the presets every workflow resolves its options by ([`presets`]). Workflows fit through the analyses and draw through the renderers; they
//! never draw themselves.

pub mod atomic;
pub mod batch;
pub mod forest;
pub mod manifest;
pub mod options;
pub mod outdir;
pub mod pool;
pub mod presets;
pub mod report;
pub mod review;
pub mod revman;
pub mod tables;

use crate::error::Result;
use crate::render::plot::figure::SvgFonts;
use crate::render::plot::{render, Figure, Format};
use std::path::Path;

/// Writes a figure to `path` as SVG, PNG (at `dpi`) or PDF, by the file's extension, atomically.
pub fn save_figure(fig: &Figure, path: &Path, dpi: f64) -> Result<()> {
    let format = Format::from_path(path)?;
    // PNG and PDF are drawn with the bundled fonts themselves: only an SVG file carries them.
    let fonts = match format {
        Format::Svg => SvgFonts::Embed,
        Format::Png | Format::Pdf => SvgFonts::Name,
    };
    let svg = fig.to_svg_with(fonts)?;
    atomic::write_atomic(path, &render::encode(&svg, format, dpi)?)
}
