//! Bubble plots of a meta-regression on one numeric moderator (Thompson & Higgins 2002, *Stat Med*
//! 21:1559–73): each study's effect against the moderator, bubble area proportional to its model
//! weight, and the fitted line with its confidence band from the model's own predictions.

use super::axis::Axis;
use super::figure::{Color, Figure, Shape};
use super::format::num;
use super::parts::{self, panel_top, Panel};
use super::style::{MARGIN, POOLED_INK, STUDY_INK, TEXT};
use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::moderators::metareg::Predicted;
use crate::moderators::MetaregFit;
use crate::render::pvalue::{p_value, PStyle};

/// Radius of the heaviest study's bubble.
const R_MAX: f64 = 14.0;
/// Points of the fitted line.
const GRID: usize = 101;

/// Fill of the study bubbles (and how tests find them).
pub const BUBBLE_COLOR: Color = Color(0x9D, 0xB4, 0xD0);
const BAND: Color = Color(0xE4, 0xE4, 0xE4);

/// Bubble plot options.
#[derive(Debug, Clone, Default)]
pub struct BubbleOptions {
    /// Title above the plot, if any.
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
    let xs: Vec<f64> = (0..fit.k).map(|i| fit.matrix.x[(i, 1)]).collect();
    let (xmin, xmax) = min_max(&xs);
    let xaxis = Axis::new(Scale::Identity, xmin, xmax, false);
    let line: Vec<(f64, Predicted)> = (0..GRID)
        .map(|g| {
            let x = xaxis.lo + (xaxis.hi - xaxis.lo) * g as f64 / (GRID - 1) as f64;
            fit.predict_at(&[x]).map(|p| (x, p))
        })
        .collect::<Result<_>>()?;
    let scale = fit.effects.scale;
    let (mut lo, mut hi) = min_max(&fit.effects.yi);
    for (_, p) in &line {
        lo = lo.min(p.ci_lb);
        hi = hi.max(p.ci_ub);
    }
    let yaxis = Axis::new(scale, lo, hi, false);

    let mut fig = Figure::default();
    let (_, ylabel) = super::forest::effect_names_of(fit.effects.measure, scale);
    let (px0, py0, mut width) = panel_top(&mut fig, opts.title.as_deref(), &yaxis, &ylabel);
    let p = Panel::new(xaxis, yaxis, px0, py0, false);
    // Confidence band, then the bubbles (largest first so small ones stay visible), then the line.
    let mut band: Vec<(f64, f64)> = line
        .iter()
        .map(|(x, q)| (p.mx(*x), p.my(q.ci_ub)))
        .collect();
    band.extend(line.iter().rev().map(|(x, q)| (p.mx(*x), p.my(q.ci_lb))));
    fig.shapes.push(Shape::Polygon {
        points: band,
        fill: Some(BAND),
        stroke: None,
    });
    bubbles(&mut fig, fit, &p, &xs);
    fig.shapes.push(Shape::Line {
        points: line.iter().map(|(x, q)| (p.mx(*x), p.my(q.pred))).collect(),
        color: POOLED_INK,
        width: 1.5,
        dash: None,
    });
    p.axes(&mut fig, moderator);
    let y = parts::notes(
        &mut fig,
        px0,
        p.below(),
        &notes(fit),
        (TEXT, 18.0),
        &mut width,
    );
    parts::finish(&mut fig, width.max(p.px1 + R_MAX + MARGIN), y);
    Ok(fig)
}

/// The smallest and the largest of `v`.
fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        })
}

/// The studies' bubbles, area proportional to the model's weight (metafor's `weights()`: the
/// inverse of sampling variance plus τ²), heaviest first.
fn bubbles(fig: &mut Figure, fit: &MetaregFit, p: &Panel, xs: &[f64]) {
    let w: Vec<f64> = fit
        .effects
        .vi
        .iter()
        .map(|v| 1.0 / (v + fit.tau2))
        .collect();
    let wmax = w.iter().copied().fold(0.0, f64::max);
    let mut order: Vec<usize> = (0..fit.k).collect();
    order.sort_by(|&a, &b| w[b].total_cmp(&w[a]));
    for i in order {
        let r = if wmax > 0.0 {
            (R_MAX * (w[i] / wmax).sqrt()).max(2.0)
        } else {
            4.0
        };
        let (x, y) = (p.mx(xs[i]), p.my(fit.effects.yi[i]));
        for (color, filled) in [(BUBBLE_COLOR, true), (STUDY_INK, false)] {
            fig.shapes.push(Shape::Circle {
                x,
                y,
                r,
                color,
                filled,
            });
        }
    }
}

/// What the line is, and the slope with its test.
fn notes(fit: &MetaregFit) -> [String; 2] {
    let slope = &fit.coefficients[1];
    [
        format!(
            "Line: fitted meta-regression with its {}% confidence band; bubble area ∝ weight",
            num(fit.options.level.percent(), 0)
        ),
        format!(
            "Slope = {} [{}, {}], {}{}",
            num(slope.estimate, 3),
            num(slope.ci_lb, 3),
            num(slope.ci_ub, 3),
            p_value(slope.pval, PStyle::Journal),
            if fit.effects.scale == Scale::Identity {
                ""
            } else {
                " (analysis scale)"
            }
        ),
    ]
}
