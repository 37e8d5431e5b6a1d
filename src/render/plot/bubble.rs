//! Bubble plots of a meta-regression on one numeric moderator (Thompson & Higgins 2002, *Stat Med*
//! 21:1559–73): each study's effect against the moderator, bubble area proportional to its model
//! weight, and the fitted line with its confidence band from the model's own predictions.

use super::axis::Axis;
use super::figure::{Anchor, Color, Figure, Shape};
use super::fonts::text_width;
use super::format::num;
use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::moderators::MetaregFit;

const FONT: f64 = 12.0;
const SMALL: f64 = 11.0;
const MARGIN: f64 = 20.0;
const PANEL_W: f64 = 440.0;
const PANEL_H: f64 = 330.0;
/// Radius of the heaviest study's bubble.
const R_MAX: f64 = 14.0;
/// Points of the fitted line.
const GRID: usize = 101;

/// Fill of the study bubbles (and how tests find them).
pub const BUBBLE_COLOR: Color = Color(0x9D, 0xB4, 0xD0);
const BUBBLE_EDGE: Color = Color(0x2B, 0x4A, 0x6F);
const BAND: Color = Color(0xE4, 0xE4, 0xE4);
const LINE: Color = Color(0x11, 0x11, 0x11);
const TEXT: Color = super::figure::INK;

/// Bubble plot options.
#[derive(Debug, Clone, Default)]
pub struct BubbleOptions {
    pub title: Option<String>,
}

/// Lays out the bubble plot of `fit`, a model with an intercept and the single numeric moderator
/// `moderator`. Ratios are drawn on a log axis with back-transformed tick labels.
pub fn bubble(fit: &MetaregFit, moderator: &str, opts: &BubbleOptions) -> Result<Figure> {
    let names = fit.names();
    if !(fit.matrix.intercept && fit.p == 2 && names[1] == moderator) {
        return Err(Error::invalid(format!(
            "a bubble plot needs a model with an intercept and the one numeric moderator \
             '{moderator}'; this model has the coefficients {}",
            names.join(", ")
        )));
    }
    let k = fit.k;
    let xs: Vec<f64> = (0..k).map(|i| fit.matrix.x[(i, 1)]).collect();
    let ys = &fit.effects.yi;
    // The model's weights (metafor's `weights()`): inverse of sampling variance plus τ².
    let w: Vec<f64> = fit
        .effects
        .vi
        .iter()
        .map(|v| 1.0 / (v + fit.tau2))
        .collect();
    let wmax = w.iter().copied().fold(0.0, f64::max);
    let (xmin, xmax) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let xaxis = Axis::new(Scale::Identity, xmin, xmax, false);
    let line: Vec<(f64, crate::moderators::metareg::Predicted)> = (0..GRID)
        .map(|g| {
            let x = xaxis.lo + (xaxis.hi - xaxis.lo) * g as f64 / (GRID - 1) as f64;
            fit.predict_at(&[x]).map(|p| (x, p))
        })
        .collect::<Result<_>>()?;
    let scale = fit.effects.scale;
    let (mut lo, mut hi) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| {
            (a.min(y), b.max(y))
        });
    for (_, p) in &line {
        lo = lo.min(p.ci_lb);
        hi = hi.max(p.ci_ub);
    }
    let yaxis = Axis::new(scale, lo, hi, false);

    let mut fig = Figure::default();
    let mut y = MARGIN;
    let mut width: f64 = 0.0;
    width = width.max(fig.title(MARGIN, &mut y, opts.title.as_deref()) + MARGIN);
    let (_, ylabel) = super::forest::effect_names_of(fit.effects.measure, scale);
    let ytick_w = yaxis
        .ticks
        .iter()
        .map(|(_, l)| text_width(l, SMALL, false))
        .fold(0.0, f64::max);
    let px0 = MARGIN + ytick_w + 10.0;
    fig.text(px0, y + 7.0, &ylabel, FONT, false, Anchor::Start, TEXT);
    width = width.max(px0 + text_width(&ylabel, FONT, false) + MARGIN);
    let py0 = y + 24.0;
    let (px1, py1) = (px0 + PANEL_W, py0 + PANEL_H);
    let mx = |v: f64| xaxis.map(v, px0, px1);
    let my = |v: f64| yaxis.map(v, py1, py0);

    // Confidence band, then the bubbles (largest first so small ones stay visible), then the line.
    let mut band: Vec<(f64, f64)> = line.iter().map(|(x, p)| (mx(*x), my(p.ci_ub))).collect();
    band.extend(line.iter().rev().map(|(x, p)| (mx(*x), my(p.ci_lb))));
    fig.shapes.push(Shape::Polygon {
        points: band,
        fill: Some(BAND),
        stroke: None,
    });
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| w[b].total_cmp(&w[a]));
    for i in order {
        let r = if wmax > 0.0 {
            (R_MAX * (w[i] / wmax).sqrt()).max(2.0)
        } else {
            4.0
        };
        let (cx, cy) = (mx(xs[i]), my(ys[i]));
        fig.shapes.push(Shape::Circle {
            x: cx,
            y: cy,
            r,
            color: BUBBLE_COLOR,
            filled: true,
        });
        fig.shapes.push(Shape::Circle {
            x: cx,
            y: cy,
            r,
            color: BUBBLE_EDGE,
            filled: false,
        });
    }
    fig.shapes.push(Shape::Line {
        points: line.iter().map(|(x, p)| (mx(*x), my(p.pred))).collect(),
        color: LINE,
        width: 1.5,
        dash: None,
    });

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
    fig.text(
        (px0 + px1) / 2.0,
        py1 + 34.0,
        moderator,
        FONT,
        false,
        Anchor::Middle,
        TEXT,
    );
    let mut y = py1 + 56.0;
    let slope = &fit.coefficients[1];
    let notes = [
        format!(
            "Line: fitted meta-regression with its {}% confidence band; bubble area ∝ weight",
            num(fit.options.level.percent(), 0)
        ),
        format!(
            "Slope = {} [{}, {}], {}{}",
            num(slope.estimate, 3),
            num(slope.ci_lb, 3),
            num(slope.ci_ub, 3),
            super::format::p_clause(slope.pval),
            if scale == Scale::Identity {
                ""
            } else {
                " (analysis scale)"
            }
        ),
    ];
    for n in notes {
        width = width.max(px0 + text_width(&n, SMALL, false) + MARGIN);
        fig.text(px0, y, n, SMALL, false, Anchor::Start, TEXT);
        y += 18.0;
    }
    fig.width = width.max(px1 + R_MAX + MARGIN).ceil();
    fig.height = (y + MARGIN - 8.0).ceil();
    Ok(fig)
}
