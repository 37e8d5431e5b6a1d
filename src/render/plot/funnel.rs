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
use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::model::RmaFit;
use crate::stats::qnorm_upper;

const FONT: f64 = 12.0;
const SMALL: f64 = 11.0;
const MARGIN: f64 = 20.0;
const PANEL_W: f64 = 440.0;
const PANEL_H: f64 = 330.0;

/// Ink of the study points.
pub const POINT_COLOR: Color = Color(0x1A, 0x1A, 0x1A);
const TEXT: Color = super::figure::INK;
const REGION: Color = Color(0xEE, 0xEE, 0xEE);
const LINE: Color = Color(0x55, 0x55, 0x55);
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
}

/// Ink of the adjusted (trim-and-fill) estimate line.
pub const ADJUSTED_COLOR: Color = Color(0xB2, 0x18, 0x2B);

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
    let scale = fit.effects.scale;
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
    let z = qnorm_upper((1.0 - fit.options.level.percent() / 100.0) / 2.0);
    let se_top = pts.iter().map(|p| p.1).fold(0.0, f64::max);
    let yaxis = Axis::new(
        Scale::Identity,
        0.0,
        if se_top > 0.0 { se_top } else { 1.0 },
        false,
    );
    let se_max = yaxis.hi;
    let null = match null_position(fit.effects.measure, scale) {
        Some(n) => n,
        None if opts.contours => {
            return Err(Error::invalid(
                "significance contours need a value of no effect; proportions have none",
            ))
        }
        None => f64::NAN,
    };
    let z99 = qnorm_upper(0.005);

    let xaxis = match opts.xlim {
        Some((a, b)) => Axis::from_limits(scale, a, b)?,
        None => {
            let centre = opts
                .adjusted
                .filter(|a| a.is_finite())
                .unwrap_or(fit.estimate);
            let (mut lo, mut hi) = (
                fit.estimate.min(centre) - z * se_max,
                fit.estimate.max(centre) + z * se_max,
            );
            for p in &pts {
                lo = lo.min(p.0);
                hi = hi.max(p.0);
            }
            if let Some(a) = opts.adjusted.filter(|a| a.is_finite()) {
                lo = lo.min(a);
                hi = hi.max(a);
            }
            if opts.contours {
                lo = lo.min(null - z99 * se_max);
                hi = hi.max(null + z99 * se_max);
            }
            Axis::new(scale, lo, hi, false)
        }
    };

    let mut fig = Figure::default();
    let mut y = MARGIN;
    let title_end = fig.title(MARGIN, &mut y, opts.title.as_deref());
    // Y axis title above the axis, tick labels left of it.
    let ytick_w = yaxis
        .ticks
        .iter()
        .map(|(_, l)| text_width(l, SMALL, false))
        .fold(0.0, f64::max);
    let px0 = MARGIN + ytick_w.max(text_width("Standard error", SMALL, false) / 2.0) + 10.0;
    fig.text(
        px0,
        y + 7.0,
        "Standard error",
        SMALL,
        false,
        Anchor::Middle,
        TEXT,
    );
    let py0 = y + 22.0;
    let (px1, py1) = (px0 + PANEL_W, py0 + PANEL_H);
    let mx = |v: f64| xaxis.map(v, px0, px1);
    let my = |s: f64| py0 + s / se_max * PANEL_H;
    let poly = |pts: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
        pts.into_iter().map(|(x, s)| (mx(x), my(s))).collect()
    };

    if opts.contours {
        fig.shapes.push(Shape::Rect {
            x0: px0,
            y0: py0,
            x1: px1,
            y1: py1,
            fill: CONTOUR_BACK,
        });
        for (p, color, _) in CONTOURS {
            fig.shapes.push(Shape::Polygon {
                points: poly(wedge(
                    null,
                    qnorm_upper(p / 2.0),
                    se_max,
                    xaxis.lo,
                    xaxis.hi,
                )),
                fill: Some(color),
                stroke: None,
            });
        }
    } else {
        let centre = opts
            .adjusted
            .filter(|a| a.is_finite())
            .unwrap_or(fit.estimate);
        let w = poly(wedge(centre, z, se_max, xaxis.lo, xaxis.hi));
        fig.shapes.push(Shape::Polygon {
            points: w.clone(),
            fill: Some(REGION),
            stroke: None,
        });
        // The edges of the pseudo confidence region (not the clipped sides).
        for side in [1.0, -1.0] {
            let end = centre + side * z * se_max;
            let (xe, se) = if end > xaxis.hi {
                (xaxis.hi, (xaxis.hi - centre) / z)
            } else if end < xaxis.lo {
                (xaxis.lo, (centre - xaxis.lo) / z)
            } else {
                (end, se_max)
            };
            fig.shapes.push(Shape::Line {
                points: vec![(mx(centre), my(0.0)), (mx(xe), my(se))],
                color: LINE,
                width: 1.0,
                dash: Some((4.0, 3.0)),
            });
        }
    }
    if fit.estimate >= xaxis.lo && fit.estimate <= xaxis.hi {
        fig.line((mx(fit.estimate), py0), (mx(fit.estimate), py1), LINE, 1.0);
    }
    if opts.contours && null >= xaxis.lo && null <= xaxis.hi {
        fig.shapes.push(Shape::Line {
            points: vec![(mx(null), py0), (mx(null), py1)],
            color: TEXT,
            width: 1.0,
            dash: Some((2.0, 2.0)),
        });
    }
    if let Some(a) = opts.adjusted {
        if a >= xaxis.lo && a <= xaxis.hi {
            fig.shapes.push(Shape::Line {
                points: vec![(mx(a), py0), (mx(a), py1)],
                color: ADJUSTED_COLOR,
                width: 1.5,
                dash: Some((5.0, 3.0)),
            });
        }
    }
    for &(yv, se, real) in &pts {
        if yv < xaxis.lo || yv > xaxis.hi {
            continue;
        }
        fig.shapes.push(Shape::Circle {
            x: mx(yv),
            y: my(se),
            r: 3.5,
            color: POINT_COLOR,
            filled: real,
        });
    }

    // Axes.
    fig.line((px0, py1), (px1, py1), TEXT, 1.0);
    fig.line((px0, py0), (px0, py1), TEXT, 1.0);
    for (pos, lab) in &xaxis.ticks {
        let x = mx(*pos);
        fig.line((x, py1), (x, py1 + 5.0), TEXT, 1.0);
        fig.text(x, py1 + 14.0, lab, SMALL, false, Anchor::Middle, TEXT);
    }
    for (pos, lab) in &yaxis.ticks {
        let yy = my(*pos);
        fig.line((px0 - 5.0, yy), (px0, yy), TEXT, 1.0);
        fig.text(px0 - 8.0, yy, lab, SMALL, false, Anchor::End, TEXT);
    }
    let xlabel = super::forest::effect_names(fit).1;
    fig.text(
        (px0 + px1) / 2.0,
        py1 + 34.0,
        xlabel,
        FONT,
        false,
        Anchor::Middle,
        TEXT,
    );
    let mut y = py1 + 56.0;
    let mut width = px1 + MARGIN;
    if opts.contours {
        let mut x = px0;
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
        width = width.max(x + MARGIN);
        y += 20.0;
    } else {
        let lab = format!(
            "Dashed: pseudo {}% confidence region around the {} estimate",
            num(fit.options.level.percent(), 0),
            if opts.adjusted.is_some_and(f64::is_finite) {
                "adjusted"
            } else {
                "pooled"
            }
        );
        width = width.max(px0 + text_width(&lab, SMALL, false) + MARGIN);
        fig.text(px0, y, lab, SMALL, false, Anchor::Start, TEXT);
        y += 20.0;
    }
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
        let lab = format!(
            "Adjusted estimate: {} (pooled: {})",
            num(scale.back(a), 2),
            num(scale.back(fit.estimate), 2)
        );
        width = width.max(px0 + 24.0 + text_width(&lab, SMALL, false) + MARGIN);
        fig.text(px0 + 24.0, y, lab, SMALL, false, Anchor::Start, TEXT);
        y += 20.0;
    }
    width = width.max(title_end + MARGIN);
    fig.width = width.ceil();
    fig.height = (y + MARGIN - 8.0).ceil();
    Ok(fig)
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
