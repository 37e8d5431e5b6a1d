//! Scatter plots of sensitivity analyses: the Baujat plot (Baujat et al. 2002, *Stat Med*
//! 21:2641–52) and the GOSH plot (Olkin, Dahabreh & Trikalinos 2012, *Res Synth Methods*
//! 3:214–23). GOSH draws up to 2²⁰ subsets, so beyond [`GOSH_DOTS`] points it draws a density
//! raster of small cells, keeping the SVG small whatever the number of subsets.

use super::axis::Axis;
use super::figure::{Anchor, BoxPx, Color, Figure, Label, Shape};
use super::parts::{self, panel_top, Panel};
use super::style::{ACCENT, MARGIN, MUTED, PANEL_H, PANEL_W, SMALL, STUDY_INK, TEXT};
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
    let pts: Vec<Option<(f64, f64)>> =
        b.x.iter()
            .zip(&b.y)
            .map(|(&x, &y)| (x.is_finite() && y.is_finite()).then(|| (p.mx(x), p.my(y))))
            .collect();
    // Labels avoid the other texts and every point, not only the labels placed before them.
    let mut taken: Vec<BoxPx> = fig.text_boxes().into_iter().map(|(_, b)| b).collect();
    taken.extend(pts.iter().flatten().map(|&(x, y)| BoxPx {
        x0: x - POINT_R,
        y0: y - POINT_R,
        x1: x + POINT_R,
        y1: y + POINT_R,
    }));
    let mut hidden = 0;
    for &(cx, cy) in pts.iter().flatten() {
        fig.shapes.push(Shape::Circle {
            x: cx,
            y: cy,
            r: POINT_R,
            color: POINT_COLOR,
            filled: true,
        });
    }
    // The points farthest out (most heterogeneity, most influence) are labelled first, so that
    // where labels must be left out it is in the crowd near the origin.
    let mut order: Vec<usize> = (0..pts.len()).collect();
    let reach = |i: usize| pts[i].map_or(f64::NEG_INFINITY, |(x, y)| (x - p.px0) + (p.py1 - y));
    order.sort_by(|&a, &b| reach(b).total_cmp(&reach(a)));
    for i in order {
        let Some((cx, cy)) = pts[i] else {
            hidden += 1;
            continue;
        };
        match place_label(&fig, &p, &taken, (cx, cy), (i + 1).to_string()) {
            Some((l, bb, leader)) => {
                taken.push(bb);
                if let Some(end) = leader {
                    fig.line((cx, cy), end, MUTED, 0.75);
                }
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

/// Radius of a Baujat point.
const POINT_R: f64 = 3.0;

/// A placed label: the text, its box, and where its leader line ends (if it has one).
type Placed = (Label, BoxPx, Option<(f64, f64)>);

/// Where the label `text` of the point at (`cx`, `cy`) goes: beside it if there is room, else
/// farther out in one of sixteen directions with a leader line back to the point (its end is
/// returned), clear of every box in `taken` and inside the panel's right and top.
fn place_label(
    fig: &Figure,
    p: &Panel,
    taken: &[BoxPx],
    (cx, cy): (f64, f64),
    text: String,
) -> Option<Placed> {
    let mut tries = vec![
        (cx + 6.0, cy, Anchor::Start),
        (cx - 6.0, cy, Anchor::End),
        (cx, cy - 11.0, Anchor::Middle),
        (cx, cy + 11.0, Anchor::Middle),
    ];
    for dist in [18.0, 28.0, 40.0, 55.0] {
        for k in 0..16 {
            let a = k as f64 * std::f64::consts::PI / 8.0;
            let (dx, dy) = (dist * a.cos(), -dist * a.sin());
            let anchor = if dx > 4.0 {
                Anchor::Start
            } else if dx < -4.0 {
                Anchor::End
            } else {
                Anchor::Middle
            };
            tries.push((cx + dx, cy + dy, anchor));
        }
    }
    let right = fig.width.max(p.px1 + MARGIN) - 2.0;
    tries
        .into_iter()
        .enumerate()
        .find_map(|(n, (lx, ly, anchor))| {
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
            let inside =
                bb.x0 >= p.px0 && bb.x1 <= right && bb.y0 >= p.py0 - 10.0 && bb.y1 <= p.py1;
            let free = !taken.iter().any(|t| t.overlaps(&bb));
            // Leaders end at the label's side nearest the point.
            let leader = (n >= 4).then(|| (lx.clamp(bb.x0, bb.x1), ly.clamp(bb.y0, bb.y1)));
            (inside && free).then_some((l, bb, leader))
        })
}

/// Lays out the GOSH plot: the estimate (x, display scale) against I² (y) of every fitted
/// subset; dots up to [`GOSH_DOTS`] subsets, else a density raster (darker = more subsets).
pub fn gosh_plot(
    g: &Gosh,
    measure: crate::measure::Measure,
    scale: Scale,
    title: Option<&str>,
) -> Result<Figure> {
    gosh_plot_highlight(g, measure, scale, title, None)
}

/// Ink of the subsets holding the highlighted study.
pub const HIGHLIGHT_COLOR: Color = ACCENT;

/// [`gosh_plot`] with the subsets that contain study `highlight` (index, label) in
/// [`HIGHLIGHT_COLOR`], as metafor's `plot(gosh, out = j)`: a study whose presence moves the
/// estimate or I² shows as a separate cloud.
pub fn gosh_plot_highlight(
    g: &Gosh,
    measure: crate::measure::Measure,
    scale: Scale,
    title: Option<&str>,
    highlight: Option<(usize, &str)>,
) -> Result<Figure> {
    let (x0, x1) = range(g.estimate.iter().copied());
    if !x0.is_finite() {
        return Err(Error::invalid("the GOSH plot has no fitted subsets"));
    }
    if let Some((j, _)) = highlight {
        if j >= g.k {
            return Err(Error::invalid(format!(
                "study {} to highlight is not among the {} studies",
                j + 1,
                g.k
            )));
        }
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
    let pts: Vec<(f64, f64, bool)> = (0..g.len())
        .filter(|&r| g.estimate[r].is_finite() && g.i2[r].is_finite())
        .map(|r| {
            let marked = highlight.is_some_and(|(j, _)| g.includes(r, j));
            (p.mx(g.estimate[r]), p.my(g.i2[r]), marked)
        })
        .collect();
    let n = g.len();
    let mut notes = vec![if n <= GOSH_DOTS {
        gosh_dots(&mut fig, &pts);
        format!("{n} subsets, one dot each")
    } else {
        gosh_raster(&mut fig, &p, &pts);
        format!("{n} subsets, shown as density (darker = more subsets per cell)")
    }];
    if let Some((j, label)) = highlight {
        notes.push(format!(
            "Red: subsets containing study {} ({label}); blue: the others",
            j + 1
        ));
    }
    finish(&mut fig, y_end, &notes, p.px0);
    Ok(fig)
}

/// One dot per subset; the highlighted ones drawn last, on top.
fn gosh_dots(fig: &mut Figure, pts: &[(f64, f64, bool)]) {
    for want in [false, true] {
        for &(x, y, marked) in pts.iter().filter(|q| q.2 == want) {
            fig.shapes.push(Shape::Circle {
                x,
                y,
                r: 1.5,
                color: if marked { HIGHLIGHT_COLOR } else { POINT_COLOR },
                filled: true,
            });
        }
    }
}

/// Density cells: darker for more subsets (log scale), redder for a larger share holding the
/// highlighted study. Each cell reaches half a pixel into its right and lower neighbours so
/// that anti-aliased edges of abutting cells leave no pale seams.
fn gosh_raster(fig: &mut Figure, p: &Panel, pts: &[(f64, f64, bool)]) {
    let (nx, ny) = (
        (PANEL_W / CELL).ceil() as usize,
        (PANEL_H / CELL).ceil() as usize,
    );
    let mut count = vec![(0u32, 0u32); nx * ny];
    for &(x, y, marked) in pts {
        let cx = (((x - p.px0) / CELL).max(0.0) as usize).min(nx - 1);
        let cy = (((y - p.py0) / CELL).max(0.0) as usize).min(ny - 1);
        let c = &mut count[cy * nx + cx];
        c.0 += 1;
        c.1 += u32::from(marked);
    }
    let max = count.iter().map(|c| c.0).max().unwrap_or(1).max(1) as f64;
    for (c, &(m, marked)) in count.iter().enumerate() {
        if m == 0 {
            continue;
        }
        let t = (1.0 + m as f64).ln() / (1.0 + max).ln();
        let share = marked as f64 / m as f64;
        let mix = |blue: (u8, u8), red: (u8, u8)| {
            let (lo, hi) = (
                blue.0 as f64 + share * (red.0 as f64 - blue.0 as f64),
                blue.1 as f64 + share * (red.1 as f64 - blue.1 as f64),
            );
            (hi - t * (hi - lo)).round() as u8
        };
        let (i, j) = (c % nx, c / nx);
        fig.shapes.push(Shape::Rect {
            x0: p.px0 + i as f64 * CELL,
            y0: p.py0 + j as f64 * CELL,
            x1: (p.px0 + (i + 1) as f64 * CELL + 0.5).min(p.px1),
            y1: (p.py0 + (j + 1) as f64 * CELL + 0.5).min(p.py1),
            fill: Color(
                mix((0x10, 0xC6), (0x8E, 0xEB)),
                mix((0x25, 0xD4), (0x10, 0xC4)),
                mix((0x45, 0xE6), (0x20, 0xC8)),
            ),
        });
    }
}
