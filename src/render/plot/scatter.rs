//! Scatter plots of sensitivity analyses: the Baujat plot (Baujat et al. 2002, *Stat Med*
//! 21:2641–52) and the GOSH plot (Olkin, Dahabreh & Trikalinos 2012, *Res Synth Methods*
//! 3:214–23). GOSH draws up to 2²⁰ subsets, so beyond [`GOSH_DOTS`] points it draws a density
//! raster of small cells, keeping the SVG small whatever the number of subsets.

use super::axis::Axis;
use super::figure::{Anchor, BoxPx, Color, Figure, Label, Shape};
use super::parts::{self, panel_top, Panel};
use super::style::{MARGIN, MUTED, PANEL_H, PANEL_W, SMALL, STUDY_INK, TEXT};
use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::sensitivity::{Baujat, Gosh};

/// Above this many subsets the GOSH plot is a density raster instead of dots.
pub const GOSH_DOTS: usize = 4000;
/// Side of a raster cell in pixels.
const CELL: f64 = 4.0;

/// Ink of the points (and how tests find them).
pub const POINT_COLOR: Color = STUDY_INK;

/// Lays out the frame: title, y label above the axis, ticks, x label. Returns the panel and the
/// y position below the x label.
fn frame(
    fig: &mut Figure,
    title: Option<&str>,
    x: Axis,
    y: Axis,
    xlabel: &str,
    ylabel: &str,
) -> (Panel, f64) {
    let (px0, py0, width) = panel_top(fig, title, &y, ylabel);
    let p = Panel::new(x, y, px0, py0, false);
    p.axes(fig, xlabel);
    fig.width = width.max(p.px1 + MARGIN);
    let y_end = p.below();
    (p, y_end)
}

fn range(v: impl Iterator<Item = f64>) -> (f64, f64) {
    v.filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        })
}

fn finish(fig: &mut Figure, y: f64, notes: &[String], x0: f64) {
    let mut width = fig.width;
    let y = parts::notes(fig, x0, y, notes, (MUTED, 16.0), &mut width);
    parts::finish(fig, width, y);
}

/// Lays out the Baujat plot: each study's contribution to Q against its influence on the
/// estimate, labelled with its position in the data (a label that would collide is left out and
/// the notes say how many).
pub fn baujat_plot(b: &Baujat, title: Option<&str>) -> Result<Figure> {
    let (x0, x1) = range(b.x.iter().copied());
    let (y0, y1) = range(b.y.iter().copied());
    if !(x0.is_finite() && y0.is_finite()) {
        return Err(Error::invalid("the Baujat plot has no finite points"));
    }
    let mut fig = Figure::default();
    let (p, y_end) = frame(
        &mut fig,
        title,
        Axis::new(Scale::Identity, 0.0f64.min(x0), x1, false),
        Axis::new(Scale::Identity, 0.0f64.min(y0), y1, false),
        "Squared Pearson residual (contribution to Q)",
        "Influence on the overall estimate",
    );
    let mut taken: Vec<BoxPx> = fig.text_boxes().into_iter().map(|(_, b)| b).collect();
    let mut hidden = 0;
    for (i, (&x, &y)) in b.x.iter().zip(&b.y).enumerate() {
        if !(x.is_finite() && y.is_finite()) {
            hidden += 1;
            continue;
        }
        let (cx, cy) = (p.mx(x), p.my(y));
        fig.shapes.push(Shape::Circle {
            x: cx,
            y: cy,
            r: 3.0,
            color: POINT_COLOR,
            filled: true,
        });
        let text = (i + 1).to_string();
        let tries = [
            (cx + 6.0, cy, Anchor::Start),
            (cx - 6.0, cy, Anchor::End),
            (cx, cy - 11.0, Anchor::Middle),
            (cx, cy + 11.0, Anchor::Middle),
        ];
        let placed = tries.iter().find_map(|&(lx, ly, anchor)| {
            let l = Label {
                x: lx,
                y: ly,
                text: text.clone(),
                size: SMALL,
                bold: false,
                anchor,
                color: TEXT,
            };
            let bb = l.bbox();
            let inside = bb.x0 >= p.px0 && bb.x1 <= fig.width - 2.0 && bb.y0 >= 0.0;
            (inside && !taken.iter().any(|t| t.overlaps(&bb))).then_some((l, bb))
        });
        match placed {
            Some((l, bb)) => {
                taken.push(bb);
                fig.shapes.push(Shape::Text(l));
            }
            None => hidden += 1,
        }
    }
    let mut notes = vec!["Points are labelled with the study's position in the data".to_string()];
    if hidden > 0 {
        notes.push(format!(
            "{hidden} label{} left out where points crowd (or refits failed)",
            if hidden == 1 { "" } else { "s" }
        ));
    }
    finish(&mut fig, y_end, &notes, p.px0);
    Ok(fig)
}

/// Lays out the GOSH plot: the estimate (x, display scale) against I² (y) of every fitted
/// subset; dots up to [`GOSH_DOTS`] subsets, else a density raster (darker = more subsets).
pub fn gosh_plot(
    g: &Gosh,
    measure: crate::measure::Measure,
    scale: Scale,
    title: Option<&str>,
) -> Result<Figure> {
    let (x0, x1) = range(g.estimate.iter().copied());
    if !x0.is_finite() {
        return Err(Error::invalid("the GOSH plot has no fitted subsets"));
    }
    let (_, xlabel) = super::forest::effect_names_of(measure, scale);
    let mut fig = Figure::default();
    let (p, y_end) = frame(
        &mut fig,
        title,
        Axis::new(scale, x0, x1, false),
        Axis::new(Scale::Identity, 0.0, 100.0, true),
        &xlabel,
        "I² (%)",
    );
    let pts = g
        .estimate
        .iter()
        .zip(&g.i2)
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    let n = g.len();
    let note = if n <= GOSH_DOTS {
        for (&x, &y) in pts {
            fig.shapes.push(Shape::Circle {
                x: p.mx(x),
                y: p.my(y),
                r: 1.5,
                color: POINT_COLOR,
                filled: true,
            });
        }
        format!("{n} subsets, one dot each")
    } else {
        let (nx, ny) = (
            (PANEL_W / CELL).ceil() as usize,
            (PANEL_H / CELL).ceil() as usize,
        );
        let mut count = vec![0u32; nx * ny];
        for (&x, &y) in pts {
            let cx = (((p.mx(x) - p.px0) / CELL) as usize).min(nx - 1);
            let cy = (((p.my(y) - p.py0) / CELL) as usize).min(ny - 1);
            count[cy * nx + cx] += 1;
        }
        let max = count.iter().copied().max().unwrap_or(1).max(1) as f64;
        for (c, &m) in count.iter().enumerate() {
            if m == 0 {
                continue;
            }
            // Log shading keeps single subsets visible next to dense cores.
            let t = (1.0 + m as f64).ln() / (1.0 + max).ln();
            let shade = |lo: u8, hi: u8| (hi as f64 - t * (hi as f64 - lo as f64)).round() as u8;
            let (i, j) = (c % nx, c / nx);
            fig.shapes.push(Shape::Rect {
                x0: p.px0 + i as f64 * CELL,
                y0: p.py0 + j as f64 * CELL,
                x1: (p.px0 + (i + 1) as f64 * CELL).min(p.px1),
                y1: (p.py0 + (j + 1) as f64 * CELL).min(p.py1),
                fill: Color(shade(0x10, 0xC6), shade(0x25, 0xD4), shade(0x45, 0xE6)),
            });
        }
        format!("{n} subsets, shown as density (darker = more subsets per cell)")
    };
    finish(&mut fig, y_end, &[note], p.px0);
    Ok(fig)
}
