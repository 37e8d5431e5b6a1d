//! Forest-style plots of refit series: leave-one-out (Viechtbauer & Cheung 2010, *Res Synth
//! Methods* 1:112–25) and cumulative meta-analysis (Lau et al. 1992, *N Engl J Med* 327:248–54).
//!
//! One row per refit with its estimate and confidence interval as the series reports them; no
//! weights, so estimates are points, and the model of all studies closes the plot as a diamond.

use super::axis::{null_position, Axis};
use super::figure::{Anchor, Color, Figure, Shape};
use super::fonts::text_width;
use super::format::{display_ci, tau2};
use super::parts::{self, diamond, interval, pooled_guide, row_y, x_axis};
use super::style::{
    DIAMOND_H, FONT, GAP, MARGIN, MIN_PANEL, MUTED, NULL_LINE, POOLED_INK, ROW, RULE, SMALL,
    STUDY_INK, TEXT, WHISKER,
};
use crate::error::{Error, Result};
use crate::model::RmaFit;
use crate::sensitivity::RefitSeries;

/// Ink of the refit estimates (and how tests find them).
pub const POINT_COLOR: Color = STUDY_INK;

/// Which series is drawn: it names the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefitKind {
    /// Leave-one-out: each row omits one study.
    LeaveOneOut,
    /// Cumulative: each row adds one study to those above it.
    Cumulative,
}

/// Options of the refit plots.
#[derive(Debug, Clone)]
pub struct RefitPlotOptions {
    /// Which series the rows show.
    pub kind: RefitKind,
    /// Title above the plot, if any.
    pub title: Option<String>,
    /// Decimals of the estimates and confidence limits on the display scale.
    pub decimals: usize,
}

/// The texts of the table: a row a refit, and the model of all studies (`*_all`).
struct Texts {
    row_header: &'static str,
    est_header: String,
    /// The effect's name over the panel.
    long: String,
    labels: Vec<String>,
    est: Vec<String>,
    /// τ² and I² of each refit.
    het: Vec<(String, String)>,
    all: String,
    est_all: String,
    het_all: (String, String),
}

impl Texts {
    fn new(series: &RefitSeries, fit: &RmaFit, opts: &RefitPlotOptions) -> Texts {
        let scale = fit.effects.scale;
        let d = opts.decimals;
        let (est_header, long) = super::forest::estimate_headers(fit);
        let (row_header, name): (&str, fn(&str) -> String) = match opts.kind {
            RefitKind::LeaveOneOut => ("Omitting", |l| l.to_string()),
            RefitKind::Cumulative => ("Adding (cumulative)", |l| format!("+ {l}")),
        };
        let (est, het) = series
            .fits
            .iter()
            .map(|f| match f {
                Some(r) => (
                    display_ci(scale, r.estimate, r.ci_lb, r.ci_ub, d),
                    (tau2(r.tau2), format!("{:.0}%", r.i2)),
                ),
                None => ("refit failed".into(), (String::new(), String::new())),
            })
            .unzip();
        Texts {
            row_header,
            est_header,
            long,
            labels: series.labels.iter().map(|l| name(l)).collect(),
            est,
            het,
            all: format!("All studies (k = {})", fit.k),
            est_all: display_ci(scale, fit.estimate, fit.ci_lb, fit.ci_ub, d),
            het_all: (tau2(fit.tau2), format!("{:.0}%", fit.het.i2)),
        }
    }

    /// The right edges of the columns (the label's left edge, the panel's two).
    fn columns(&self, axis: &Axis) -> Columns {
        let w = |t: &str, b: bool| text_width(t, FONT, b);
        let label_w = widest(
            self.labels.iter().map(String::as_str),
            w(self.row_header, true).max(w(&self.all, true)),
        );
        let est_w = widest(
            self.est.iter().map(String::as_str),
            w(&self.est_header, true).max(w(&self.est_all, true)),
        );
        let tau_w = widest(
            self.het.iter().map(|h| h.0.as_str()),
            w("τ²", true).max(w(&self.het_all.0, true)),
        );
        let i2_w = w("I²", true).max(w("100%", true));
        let label = MARGIN;
        let px0 = label + label_w + GAP + 4.0;
        let px1 = px0 + panel_width(axis, &self.long);
        let est = px1 + GAP + est_w;
        let tau = est + GAP + tau_w;
        Columns {
            label,
            px0,
            px1,
            est,
            tau,
            i2: tau + GAP + i2_w,
        }
    }
}

/// The width of the widest of `texts` (regular type), at least `least`.
fn widest<'a>(texts: impl Iterator<Item = &'a str>, least: f64) -> f64 {
    texts
        .map(|t| text_width(t, FONT, false))
        .fold(least, f64::max)
}

/// Horizontal positions: the labels' left edge, the panel, the right edges of the numbers.
struct Columns {
    label: f64,
    px0: f64,
    px1: f64,
    est: f64,
    tau: f64,
    i2: f64,
}

impl Columns {
    /// A row of the table at `y`: the label, the estimate (in `est_color`), τ² and I².
    fn row(&self, fig: &mut Figure, y: f64, cells: [&str; 4], bold: bool, est_color: Color) {
        fig.text(self.label, y, cells[0], FONT, bold, Anchor::Start, TEXT);
        fig.text(self.est, y, cells[1], FONT, bold, Anchor::End, est_color);
        fig.text(self.tau, y, cells[2], FONT, bold, Anchor::End, TEXT);
        fig.text(self.i2, y, cells[3], FONT, bold, Anchor::End, TEXT);
    }
}

/// The axis over every estimate, the pooled interval and no effect; very wide refit intervals
/// (early cumulative steps) are cut and get arrows, as in the forest plot.
fn refit_axis(series: &RefitSeries, fit: &RmaFit, null: Option<f64>) -> Axis {
    let (mut lo, mut hi) = (fit.ci_lb, fit.ci_ub);
    for r in series.fits.iter().flatten() {
        lo = lo.min(r.estimate);
        hi = hi.max(r.estimate);
    }
    if let Some(n) = null {
        lo = lo.min(n);
        hi = hi.max(n);
    }
    let pad = (0.75 * (hi - lo)).max(0.5);
    let (cap_lo, cap_hi) = (lo - pad, hi + pad);
    for r in series.fits.iter().flatten() {
        lo = lo.min(r.ci_lb.max(cap_lo));
        hi = hi.max(r.ci_ub.min(cap_hi));
    }
    Axis::new(fit.effects.scale, lo, hi, false)
}

/// The panel's width: room for the effect's name over it and for the tick labels.
fn panel_width(axis: &Axis, long: &str) -> f64 {
    let mut panel_w = MIN_PANEL.max(text_width(long, FONT, true) + 2.0 * GAP);
    for t in axis.ticks.windows(2) {
        let f = (t[1].0 - t[0].0) / (axis.hi - axis.lo);
        let need =
            (text_width(&t[0].1, SMALL, false) + text_width(&t[1].1, SMALL, false)) / 2.0 + 8.0;
        if f > 0.0 {
            panel_w = panel_w.max(need / f);
        }
    }
    panel_w
}

/// The header row at `hy`.
fn headers(fig: &mut Figure, t: &Texts, c: &Columns, hy: f64) {
    let mid = (c.px0 + c.px1) / 2.0;
    fig.text(c.label, hy, t.row_header, FONT, true, Anchor::Start, TEXT);
    fig.text(mid, hy, &t.long, FONT, true, Anchor::Middle, TEXT);
    fig.text(c.est, hy, &t.est_header, FONT, true, Anchor::End, TEXT);
    fig.text(c.tau, hy, "τ²", FONT, true, Anchor::End, TEXT);
    fig.text(c.i2, hy, "I²", FONT, true, Anchor::End, TEXT);
}

/// A row a refit from `top`: its numbers, interval and estimate (texts only where it failed).
fn refit_rows(
    fig: &mut Figure,
    series: &RefitSeries,
    t: &Texts,
    c: &Columns,
    axis: &Axis,
    top: f64,
) {
    for (i, f) in series.fits.iter().enumerate() {
        let yc = row_y(top, i);
        let color = if f.is_some() { TEXT } else { MUTED };
        let cells = [&t.labels[i], &t.est[i], &t.het[i].0, &t.het[i].1];
        c.row(fig, yc, cells.map(String::as_str), false, color);
        if let Some(r) = f {
            interval(fig, axis, c.px0, c.px1, yc, r.ci_lb, r.ci_ub, WHISKER, 1.0);
            fig.shapes.push(Shape::Circle {
                x: axis.map(r.estimate, c.px0, c.px1),
                y: yc,
                r: 4.0,
                color: POINT_COLOR,
                filled: true,
            });
        }
    }
}

/// Lays out the plot of `series`, refits of `fit` (the model of all studies).
pub fn refit_forest(series: &RefitSeries, fit: &RmaFit, opts: &RefitPlotOptions) -> Result<Figure> {
    if series.fits.len() != series.labels.len() || series.fits.is_empty() {
        return Err(Error::invalid(
            "the refit series has no rows or mismatched labels",
        ));
    }
    let t = Texts::new(series, fit, opts);
    let null = null_position(fit.effects.measure, fit.effects.scale);
    let axis = refit_axis(series, fit, null);
    let c = t.columns(&axis);
    let m = |v: f64| axis.map(v, c.px0, c.px1);

    let mut fig = Figure::default();
    let mut y = MARGIN;
    let mut width = c.i2 + MARGIN;
    width = width.max(fig.title(c.label, &mut y, opts.title.as_deref()) + MARGIN);
    headers(&mut fig, &t, &c, y + 8.0);
    let rule_y = y + 20.0;
    let body_top = rule_y + 6.0;
    refit_rows(&mut fig, series, &t, &c, &axis, body_top);
    // The model of all studies, after a blank row.
    let n = series.fits.len();
    let ya = row_y(body_top, n + 1);
    let cells = [&t.all, &t.est_all, &t.het_all.0, &t.het_all.1];
    c.row(&mut fig, ya, cells.map(String::as_str), true, TEXT);
    let (lb, est, ub) = (m(fit.ci_lb), m(fit.estimate), m(fit.ci_ub));
    diamond(&mut fig, lb, est, ub, ya, POOLED_INK);
    let body_bottom = body_top + (n + 2) as f64 * ROW + 4.0;
    fig.line((c.label, rule_y), (c.i2, rule_y), RULE, 1.0);
    if let Some(xn) = null.map(m) {
        fig.line((xn, body_top), (xn, body_bottom), NULL_LINE, 1.0);
    }
    pooled_guide(&mut fig, est, body_top, ya - DIAMOND_H);
    x_axis(&mut fig, &axis, c.px0, c.px1, body_bottom);
    let note = match opts.kind {
        RefitKind::LeaveOneOut => "Each row: the model refitted without that study",
        RefitKind::Cumulative => {
            "Each row: the model fitted to the studies up to and including that one"
        }
    };
    let y = body_bottom + 38.0;
    let y = parts::notes(
        &mut fig,
        c.label,
        y,
        &[note.into()],
        (MUTED, 16.0),
        &mut width,
    );
    parts::finish(&mut fig, width, y);
    Ok(fig)
}
