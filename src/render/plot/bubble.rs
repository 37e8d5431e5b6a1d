//! Bubble plots of a meta-regression on one numeric moderator (Thompson & Higgins 2002, *Stat Med*
//! 21:1559–73): each study's effect against the moderator, bubble area proportional to its model
//! weight, and the fitted line with its confidence band from the model's own predictions; with
//! several moderators the others are held at their means, as metafor's `regplot`.

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
    /// Label of the x axis (default: the moderator's name).
    pub xlab: Option<String>,
}

/// The moderators a bubble plot can be drawn along, in model order: each coefficient that is
/// neither the intercept, a factor's dummy nor an interaction, with `Err(reason)` for a variable
/// that also enters another term (`ablat + I(ablat^2)`, `ablat * year`), where holding that term
/// at its mean would draw a line the model does not have. Factors' dummies are not listed: their
/// coefficients are contrasts, for a table.
pub fn bubble_moderators(fit: &MetaregFit) -> Vec<(String, std::result::Result<(), String>)> {
    let names = fit.names();
    let first = usize::from(fit.matrix.intercept);
    let dummy = |n: &str| {
        fit.matrix.factors.iter().any(|f| {
            f.levels
                .iter()
                .any(|l| n == format!("{}{l}", f.label) || n == format!("{}{l}", f.column))
        })
    };
    let mut out = Vec::new();
    for (j, n) in names.iter().enumerate().skip(first) {
        if dummy(n) || n.contains(':') {
            continue;
        }
        let vars = variables(n);
        let shared: Vec<&str> = names
            .iter()
            .enumerate()
            .skip(first)
            .filter(|&(i, m)| i != j && variables(m).iter().any(|v| vars.contains(v)))
            .map(|(_, m)| m.as_str())
            .collect();
        let ok = if shared.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{n} also enters the model as {}, so a line with the other terms held at their                  means would not be the model's",
                shared.join(", ")
            ))
        };
        out.push((n.clone(), ok));
    }
    out
}

/// The variables a coefficient's name mentions: its identifiers, leaving out function names
/// (followed by `(`) and numbers.
fn variables(name: &str) -> Vec<String> {
    let cs: Vec<char> = name.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        if !ident(cs[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < cs.len() && ident(cs[i]) {
            i += 1;
        }
        let word: String = cs[start..i].iter().collect();
        let call = cs.get(i) == Some(&'(');
        if !call && !cs[start].is_ascii_digit() && cs[start] != '.' {
            out.push(word);
        }
    }
    out
}

/// The column means of the model matrix: where a bubble plot holds the other coefficients
/// (metafor's `regplot`: `colMeans(X)`, the intercept's 1 included).
pub fn column_means(fit: &MetaregFit) -> Vec<f64> {
    (0..fit.p)
        .map(|j| (0..fit.k).map(|i| fit.matrix.x[(i, j)]).sum::<f64>() / fit.k as f64)
        .collect()
}

/// The model's predictions along coefficient `j` at the values `xs`, the other coefficients at
/// their means (metafor's `regplot`: `predict(x, newmods = Xnew)` with `Xnew` the column means
/// and column `j` set to `xs`).
pub fn bubble_line(fit: &MetaregFit, j: usize, xs: &[f64]) -> Result<Vec<Predicted>> {
    let mut row = column_means(fit);
    xs.iter()
        .map(|&x| {
            row[j] = x;
            fit.predict(&row)
        })
        .collect()
}

/// Lays out the bubble plot of `fit` along the numeric moderator `moderator` (one of
/// [`bubble_moderators`]), any other coefficients held at their means as metafor's `regplot`.
/// Ratios are drawn on a log axis with back-transformed tick labels.
pub fn bubble(fit: &MetaregFit, moderator: &str, opts: &BubbleOptions) -> Result<Figure> {
    let names = fit.names();
    let listed = bubble_moderators(fit);
    let j = match listed.iter().find(|(n, _)| n == moderator) {
        Some((_, Err(why))) => return Err(Error::invalid(format!("no bubble plot: {why}"))),
        Some(_) => names.iter().position(|n| n == moderator).unwrap_or(0),
        None => {
            let ok: Vec<&str> = listed
                .iter()
                .filter(|(_, r)| r.is_ok())
                .map(|(n, _)| n.as_str())
                .collect();
            return Err(Error::invalid(format!(
                "a bubble plot needs a numeric moderator of the model: '{moderator}' is not one                  (the model's coefficients are {}; numeric moderators: {})",
                names.join(", "),
                if ok.is_empty() { "none".into() } else { ok.join(", ") }
            )));
        }
    };
    let xs: Vec<f64> = (0..fit.k).map(|i| fit.matrix.x[(i, j)]).collect();
    let (xmin, xmax) = min_max(&xs);
    let xaxis = Axis::new(Scale::Identity, xmin, xmax, false);
    let grid: Vec<f64> = (0..GRID)
        .map(|g| xaxis.lo + (xaxis.hi - xaxis.lo) * g as f64 / (GRID - 1) as f64)
        .collect();
    let line: Vec<(f64, Predicted)> = grid
        .iter()
        .copied()
        .zip(bubble_line(fit, j, &grid)?)
        .collect();
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
    p.axes(&mut fig, opts.xlab.as_deref().unwrap_or(moderator));
    let y = parts::notes(
        &mut fig,
        px0,
        p.below(),
        &notes(fit, j),
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

/// What the line is, the slope with its test, and where the other coefficients are held.
fn notes(fit: &MetaregFit, j: usize) -> Vec<String> {
    let slope = &fit.coefficients[j];
    let names = fit.names();
    let others: Vec<usize> = (usize::from(fit.matrix.intercept)..fit.p)
        .filter(|&i| i != j)
        .collect();
    let mut out = vec![
        format!(
            "Line: fitted meta-regression with its {}% confidence band; bubble area ∝ weight",
            num(fit.options.level.percent(), 0)
        ),
        format!(
            "Slope{} = {} [{}, {}], {}{}",
            if others.is_empty() {
                String::new()
            } else {
                format!(" of {}", names[j])
            },
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
    ];
    if !others.is_empty() {
        let means = column_means(fit);
        let at: Vec<String> = others
            .iter()
            .map(|&i| format!("{} = {}", names[i], short(means[i])))
            .collect();
        out.push(format!(
            "Other moderators at their means (as metafor's regplot): {}",
            at.join(", ")
        ));
    }
    out
}

/// A mean for a note: a few significant digits.
fn short(x: f64) -> String {
    let a = x.abs();
    num(
        x,
        if a >= 100.0 {
            1
        } else if a >= 1.0 {
            2
        } else {
            3
        },
    )
}
