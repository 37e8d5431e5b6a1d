//! Funnel plots (Light & Pillemer 1984; Sterne & Egger 2001, *J Clin Epidemiol* 54:1046–55), with
//! optional significance contours (Peters et al. 2008, *J Clin Epidemiol* 61:991–6).
//!
//! Effects on the x axis (back-transformed labels), standard errors on an inverted y axis, a
//! pseudo confidence region around the pooled estimate of the fit (or the trim-and-fill adjusted
//! estimate, when one is given).

use super::axis::{null_position, Axis};
use super::figure::{Anchor, Color, Figure, Shape};
use super::fonts::text_width;
use super::format::num;
use super::parts::{self, tick_label_width, Panel};
use super::style::{ACCENT, MARGIN, MUTED, SMALL, TEXT};
use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::model::RmaFit;
use crate::stats::qnorm_upper;

/// Ink of the study points.
pub const POINT_COLOR: Color = TEXT;
const REGION: Color = Color(0xEE, 0xEE, 0xEE);
const LINE: Color = MUTED;
/// Contour shading as metafor's example (`shade = c("white", "gray55", "gray75")`, lightgray back).
const CONTOURS: [(f64, Color, &str); 3] = [
    (0.01, Color(0xBF, 0xBF, 0xBF), "0.01 < p ≤ 0.05"),
    (0.05, Color(0x8C, 0x8C, 0x8C), "0.05 < p ≤ 0.10"),
    (0.10, Color::WHITE, "p > 0.10"),
];
const CONTOUR_BACK: Color = Color(0xD3, 0xD3, 0xD3);

/// Funnel plot options.
#[derive(Debug, Clone, Default)]
pub struct FunnelOptions {
    /// Title above the plot, if any.
    pub title: Option<String>,
    /// Shade the regions where a study would be significant at p < 0.01, 0.05, 0.10 (against no
    /// effect) instead of drawing the pseudo confidence region.
    pub contours: bool,
    /// x limits on the display scale.
    pub xlim: Option<(f64, f64)>,
    /// Extra studies drawn hollow, as (yi, vi): e.g. those imputed by trim-and-fill.
    pub filled: Vec<(f64, f64)>,
    /// The estimate adjusted for the filled studies (analysis scale): drawn as a dashed line, and
    /// the pseudo confidence region is centred on it (as metafor's `funnel` of a `trimfill` fit:
    /// the filled funnel is symmetric about the adjusted estimate, not the original one).
    pub adjusted: Option<f64>,
    /// Estimates adjusted by other methods (a selection model, PET-PEESE): each a marked
    /// vertical line with its legend entry; the region stays where it is.
    pub lines: Vec<AdjustedLine>,
}

/// An adjusted estimate drawn as a marked vertical line.
#[derive(Debug, Clone, PartialEq)]
pub struct AdjustedLine {
    /// The method as the legend names it ("3PSM", "PET-PEESE (PEESE)").
    pub label: String,
    /// The estimate (analysis scale).
    pub estimate: f64,
}

/// Inks and dashes of the adjusted lines, in order (then again).
const LINE_STYLES: [(Color, (f64, f64)); 2] = [
    (Color(0x1B, 0x6E, 0x3A), (1.5, 2.5)),
    (Color(0x5E, 0x3C, 0x99), (8.0, 3.0)),
];

/// Ink of the adjusted (trim-and-fill) estimate line.
pub const ADJUSTED_COLOR: Color = ACCENT;

/// The points of the wedge `c ± z·se` for se in [0, se_max], clipped to x in [lo, hi], in
/// (x, se) coordinates.
fn wedge(c: f64, z: f64, se_max: f64, lo: f64, hi: f64) -> Vec<(f64, f64)> {
    let c = c.clamp(lo, hi);
    let mut pts = vec![(c, 0.0)];
    // Right edge downwards.
    if c + z * se_max > hi {
        pts.push((hi, (hi - c) / z));
        pts.push((hi, se_max));
    } else {
        pts.push((c + z * se_max, se_max));
    }
    // Left edge upwards.
    if c - z * se_max < lo {
        pts.push((lo, se_max));
        pts.push((lo, (c - lo) / z));
    } else {
        pts.push((c - z * se_max, se_max));
    }
    pts
}

/// Lays out the funnel plot of `fit`.
pub fn funnel(fit: &RmaFit, opts: &FunnelOptions) -> Result<Figure> {
    let pts = points(fit, opts)?;
    let z = fit.options.level.z();
    let se_top = pts.iter().map(|p| p.1).fold(0.0, f64::max);
    // A little room under the largest SE, so that its point is not half hidden by the axis.
    let yaxis = Axis::new(
        Scale::Identity,
        0.0,
        if se_top > 0.0 { se_top * 1.04 } else { 1.0 },
        false,
    );
    let null = match null_position(fit.effects.measure, fit.effects.scale) {
        Some(n) => n,
        None if opts.contours => {
            return Err(Error::invalid(
                "significance contours need a value of no effect; proportions have none",
            ))
        }
        None => f64::NAN,
    };
    let xaxis = x_axis(
        fit,
        opts,
        &pts,
        z * yaxis.hi,
        null,
        qnorm_upper(0.005) * yaxis.hi,
    )?;

    let mut fig = Figure::default();
    let mut y = MARGIN;
    let title_end = fig.title(MARGIN, &mut y, opts.title.as_deref());
    // Y axis title above the axis, tick labels left of it.
    let ytitle = "Standard error";
    let px0 = MARGIN + tick_label_width(&yaxis).max(text_width(ytitle, SMALL, false) / 2.0) + 10.0;
    fig.text(px0, y + 7.0, ytitle, SMALL, false, Anchor::Middle, TEXT);
    // Standard errors grow downwards from 0 at the top.
    let p = Panel::new(xaxis, yaxis, px0, y + 22.0, true);
    if opts.contours {
        contours(&mut fig, &p, null);
    } else {
        region(&mut fig, &p, centre(fit, opts), z);
    }
    guides(&mut fig, &p, fit, opts, null);
    for &(yv, se, real) in &pts {
        if yv < p.x.lo || yv > p.x.hi {
            beyond_limits(&mut fig, &p, yv, se);
            continue;
        }
        fig.shapes.push(Shape::Circle {
            x: p.mx(yv),
            y: p.my(se),
            r: 3.5,
            color: POINT_COLOR,
            filled: real,
        });
    }
    p.axes(&mut fig, &super::forest::effect_names(fit).1);
    let (y, width) = legend(&mut fig, &p, fit, opts);
    parts::finish(&mut fig, width.max(title_end + MARGIN), y);
    Ok(fig)
}

/// A study beyond the user's x limits: an arrow at the panel's edge, at its SE, pointing out.
fn beyond_limits(fig: &mut Figure, p: &Panel, yv: f64, se: f64) {
    let (tip, dir) = if yv < p.x.lo {
        (p.px0 + 1.0, -1.0)
    } else {
        (p.px1 - 1.0, 1.0)
    };
    let y = p.my(se);
    fig.shapes.push(Shape::Polygon {
        points: vec![
            (tip, y),
            (tip - dir * 8.0, y - 4.0),
            (tip - dir * 8.0, y + 4.0),
        ],
        fill: Some(POINT_COLOR),
        stroke: None,
    });
}

/// The studies as (yi, se, real): those of the fit, then the filled-in ones (not real).
fn points(fit: &RmaFit, opts: &FunnelOptions) -> Result<Vec<(f64, f64, bool)>> {
    let mut pts: Vec<(f64, f64, bool)> = fit
        .effects
        .yi
        .iter()
        .zip(&fit.effects.vi)
        .map(|(&y, &v)| (y, v.sqrt(), true))
        .collect();
    for &(y, v) in &opts.filled {
        if !(y.is_finite() && v.is_finite() && v >= 0.0) {
            return Err(Error::invalid(
                "a filled-in study has no finite effect and variance",
            ));
        }
        pts.push((y, v.sqrt(), false));
    }
    Ok(pts)
}

/// Where the pseudo confidence region is centred: the adjusted estimate if there is one.
fn centre(fit: &RmaFit, opts: &FunnelOptions) -> f64 {
    opts.adjusted
        .filter(|a| a.is_finite())
        .unwrap_or(fit.estimate)
}

/// The x axis: the user's limits, or room for the points, the pseudo confidence region (half
/// width `half` at the bottom) and, with contours, the p = 0.01 wedge around no effect (half
/// width `half99`).
fn x_axis(
    fit: &RmaFit,
    opts: &FunnelOptions,
    pts: &[(f64, f64, bool)],
    half: f64,
    null: f64,
    half99: f64,
) -> Result<Axis> {
    let scale = fit.effects.scale;
    if let Some((a, b)) = opts.xlim {
        return Axis::from_limits(scale, a, b);
    }
    let centre = centre(fit, opts);
    let (mut lo, mut hi) = (
        fit.estimate.min(centre) - half,
        fit.estimate.max(centre) + half,
    );
    for p in pts {
        lo = lo.min(p.0);
        hi = hi.max(p.0);
    }
    let lines = opts.lines.iter().map(|l| l.estimate);
    for a in opts
        .adjusted
        .into_iter()
        .chain(lines)
        .filter(|a| a.is_finite())
    {
        lo = lo.min(a);
        hi = hi.max(a);
    }
    if opts.contours {
        lo = lo.min(null - half99);
        hi = hi.max(null + half99);
    }
    Ok(Axis::new(scale, lo, hi, false))
}

/// The significance contours around no effect (Peters et al. 2008).
fn contours(fig: &mut Figure, p: &Panel, null: f64) {
    fig.shapes.push(Shape::Rect {
        x0: p.px0,
        y0: p.py0,
        x1: p.px1,
        y1: p.py1,
        fill: CONTOUR_BACK,
    });
    for (pv, color, _) in CONTOURS {
        let w = wedge(null, qnorm_upper(pv / 2.0), p.y.hi, p.x.lo, p.x.hi);
        fig.shapes.push(Shape::Polygon {
            points: w.into_iter().map(|(x, s)| (p.mx(x), p.my(s))).collect(),
            fill: Some(color),
            stroke: None,
        });
    }
}

/// The pseudo confidence region `centre ± z·se`, shaded, with dashed edges.
fn region(fig: &mut Figure, p: &Panel, centre: f64, z: f64) {
    let (se_max, lo, hi) = (p.y.hi, p.x.lo, p.x.hi);
    let w = wedge(centre, z, se_max, lo, hi);
    fig.shapes.push(Shape::Polygon {
        points: w.into_iter().map(|(x, s)| (p.mx(x), p.my(s))).collect(),
        fill: Some(REGION),
        stroke: None,
    });
    // The edges of the pseudo confidence region (not the clipped sides).
    for side in [1.0, -1.0] {
        let end = centre + side * z * se_max;
        let (xe, se) = if end > hi {
            (hi, (hi - centre) / z)
        } else if end < lo {
            (lo, (centre - lo) / z)
        } else {
            (end, se_max)
        };
        fig.shapes.push(Shape::Line {
            points: vec![(p.mx(centre), p.my(0.0)), (p.mx(xe), p.my(se))],
            color: LINE,
            width: 1.0,
            dash: Some((4.0, 3.0)),
        });
    }
}

/// Vertical lines: the pooled estimate, no effect (with contours) and the adjusted estimate.
fn guides(fig: &mut Figure, p: &Panel, fit: &RmaFit, opts: &FunnelOptions, null: f64) {
    let inside = |v: f64| v >= p.x.lo && v <= p.x.hi;
    let est = fit.estimate;
    if inside(est) {
        fig.line((p.mx(est), p.py0), (p.mx(est), p.py1), LINE, 1.0);
    }
    if opts.contours && inside(null) {
        fig.shapes.push(Shape::Line {
            points: vec![(p.mx(null), p.py0), (p.mx(null), p.py1)],
            color: TEXT,
            width: 1.0,
            dash: Some((2.0, 2.0)),
        });
    }
    if let Some(a) = opts.adjusted.filter(|&a| inside(a)) {
        fig.shapes.push(Shape::Line {
            points: vec![(p.mx(a), p.py0), (p.mx(a), p.py1)],
            color: ADJUSTED_COLOR,
            width: 1.5,
            dash: Some((5.0, 3.0)),
        });
    }
    for (l, (color, dash)) in opts.lines.iter().zip(LINE_STYLES.iter().cycle()) {
        if !(l.estimate.is_finite() && inside(l.estimate)) {
            continue;
        }
        let x = p.mx(l.estimate);
        fig.shapes.push(Shape::Line {
            points: vec![(x, p.py0), (x, p.py1)],
            color: *color,
            width: 1.5,
            dash: Some(*dash),
        });
        line_marker(fig, x, p.py0, *color);
    }
}

/// The mark of an adjusted line: a small triangle pointing down onto it.
fn line_marker(fig: &mut Figure, x: f64, y: f64, color: Color) {
    fig.shapes.push(Shape::Polygon {
        points: vec![(x - 4.5, y - 7.0), (x + 4.5, y - 7.0), (x, y)],
        fill: Some(color),
        stroke: None,
    });
}

/// The key to the contours' shading, in a line at `y` from `x`; returns where it ends.
fn contour_key(fig: &mut Figure, mut x: f64, y: f64) -> f64 {
    let items = [(CONTOUR_BACK, "p ≤ 0.01")]
        .into_iter()
        .chain(CONTOURS.iter().map(|(_, c, l)| (*c, *l)));
    for (c, l) in items {
        fig.shapes.push(Shape::Polygon {
            points: vec![
                (x, y - 5.0),
                (x + 10.0, y - 5.0),
                (x + 10.0, y + 5.0),
                (x, y + 5.0),
            ],
            fill: Some(c),
            stroke: Some(LINE),
        });
        fig.text(x + 15.0, y, l, SMALL, false, Anchor::Start, TEXT);
        x += 15.0 + text_width(l, SMALL, false) + 16.0;
    }
    x
}

/// The legend under the x label: the shading (or the region), imputed studies and the adjusted
/// estimate. Returns the y under it and the width it needs.
fn legend(fig: &mut Figure, p: &Panel, fit: &RmaFit, opts: &FunnelOptions) -> (f64, f64) {
    let px0 = p.px0;
    let mut y = p.below();
    let mut width = p.px1 + MARGIN;
    if opts.contours {
        width = width.max(contour_key(fig, px0, y) + MARGIN);
    } else {
        let lab = format!(
            "Dashed: pseudo {}% confidence region around the {} estimate",
            num(fit.options.level.percent(), 0),
            if opts.adjusted.is_some_and(f64::is_finite) {
                if opts.lines.is_empty() {
                    "adjusted"
                } else {
                    "trim-and-fill"
                }
            } else {
                "pooled"
            }
        );
        width = width.max(px0 + text_width(&lab, SMALL, false) + MARGIN);
        fig.text(px0, y, lab, SMALL, false, Anchor::Start, TEXT);
    }
    y += 20.0;
    if !opts.filled.is_empty() {
        fig.shapes.push(Shape::Circle {
            x: px0 + 5.0,
            y,
            r: 3.5,
            color: POINT_COLOR,
            filled: false,
        });
        fig.text(
            px0 + 15.0,
            y,
            "Imputed studies",
            SMALL,
            false,
            Anchor::Start,
            TEXT,
        );
        y += 20.0;
    }
    if let Some(a) = opts.adjusted {
        fig.shapes.push(Shape::Line {
            points: vec![(px0, y), (px0 + 18.0, y)],
            color: ADJUSTED_COLOR,
            width: 1.5,
            dash: Some((5.0, 3.0)),
        });
        let scale = fit.effects.scale;
        // Beside other adjusted estimates the trim-and-fill one says which it is.
        let lab = format!(
            "{} estimate: {} (pooled: {})",
            if opts.lines.is_empty() {
                "Adjusted"
            } else {
                "Trim-and-fill"
            },
            num(scale.back(a), 2),
            num(scale.back(fit.estimate), 2)
        );
        width = width.max(px0 + 24.0 + text_width(&lab, SMALL, false) + MARGIN);
        fig.text(px0 + 24.0, y, lab, SMALL, false, Anchor::Start, TEXT);
        y += 20.0;
    }
    let scale = fit.effects.scale;
    for (l, (color, dash)) in opts.lines.iter().zip(LINE_STYLES.iter().cycle()) {
        fig.shapes.push(Shape::Line {
            points: vec![(px0, y), (px0 + 18.0, y)],
            color: *color,
            width: 1.5,
            dash: Some(*dash),
        });
        line_marker(fig, px0 + 9.0, y - 1.0, *color);
        let lab = if l.estimate.is_finite() {
            format!("{} estimate: {}", l.label, num(scale.back(l.estimate), 2))
        } else {
            format!("{} estimate: not available", l.label)
        };
        width = width.max(px0 + 24.0 + text_width(&lab, SMALL, false) + MARGIN);
        fig.text(px0 + 24.0, y, lab, SMALL, false, Anchor::Start, TEXT);
        y += 20.0;
    }
    (y, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wedge_is_clipped_to_the_axis() {
        let w = wedge(0.0, 2.0, 1.0, -1.0, 3.0);
        assert_eq!(w, vec![(0.0, 0.0), (2.0, 1.0), (-1.0, 1.0), (-1.0, 0.5)]);
        let w = wedge(0.0, 2.0, 1.0, -5.0, 5.0);
        assert_eq!(w, vec![(0.0, 0.0), (2.0, 1.0), (-2.0, 1.0)]);
    }
}
