//! Forest-style plots of refit series: leave-one-out (Viechtbauer & Cheung 2010, *Res Synth
//! Methods* 1:112–25) and cumulative meta-analysis (Lau et al. 1992, *N Engl J Med* 327:248–54).
//!
//! One row per refit with its estimate and confidence interval as the series reports them; no
//! weights, so estimates are points, and the model of all studies closes the plot as a diamond.

use super::axis::{null_position, Axis};
use super::figure::{Anchor, Color, Figure, Shape};
use super::fonts::text_width;
use super::format::{estimate_ci, num, tau2};
use crate::error::{Error, Result};
use crate::model::RmaFit;
use crate::sensitivity::RefitSeries;

const FONT: f64 = 12.0;
const SMALL: f64 = 11.0;
const ROW: f64 = 20.0;
const MARGIN: f64 = 20.0;
const GAP: f64 = 16.0;
const PANEL_W: f64 = 300.0;

/// Ink of the refit estimates (and how tests find them).
pub const POINT_COLOR: Color = Color(0x2B, 0x4A, 0x6F);
const DIAMOND: Color = Color(0x11, 0x11, 0x11);
const TEXT: Color = super::figure::INK;
const MUTED: Color = Color(0x55, 0x55, 0x55);
const RULE: Color = Color(0x99, 0x99, 0x99);

/// Which series is drawn: it names the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefitKind {
    LeaveOneOut,
    Cumulative,
}

/// Options of the refit plots.
#[derive(Debug, Clone)]
pub struct RefitPlotOptions {
    pub kind: RefitKind,
    pub title: Option<String>,
    pub decimals: usize,
}

/// Lays out the plot of `series`, refits of `fit` (the model of all studies).
pub fn refit_forest(series: &RefitSeries, fit: &RmaFit, opts: &RefitPlotOptions) -> Result<Figure> {
    if series.fits.len() != series.labels.len() || series.fits.is_empty() {
        return Err(Error::invalid(
            "the refit series has no rows or mismatched labels",
        ));
    }
    let scale = fit.effects.scale;
    let d = opts.decimals;
    let (short, long) = super::forest::effect_names(fit);
    let est_header = format!("{short} [{}% CI]", num(fit.options.level.percent(), 0));
    let (row_header, name): (&str, fn(&str) -> String) = match opts.kind {
        RefitKind::LeaveOneOut => ("Omitting", |l| l.to_string()),
        RefitKind::Cumulative => ("Adding (cumulative)", |l| format!("+ {l}")),
    };
    let labels: Vec<String> = series.labels.iter().map(|l| name(l)).collect();
    let all = format!("All studies (k = {})", fit.k);
    let est: Vec<String> = series
        .fits
        .iter()
        .map(|f| match f {
            Some(r) => estimate_ci(
                scale.back(r.estimate),
                scale.back(r.ci_lb),
                scale.back(r.ci_ub),
                d,
            ),
            None => "refit failed".into(),
        })
        .collect();
    let est_all = estimate_ci(
        scale.back(fit.estimate),
        scale.back(fit.ci_lb),
        scale.back(fit.ci_ub),
        d,
    );
    let het: Vec<(String, String)> = series
        .fits
        .iter()
        .map(|f| match f {
            Some(r) => (tau2(r.tau2), format!("{:.0}%", r.i2)),
            None => (String::new(), String::new()),
        })
        .collect();
    let het_all = (tau2(fit.tau2), format!("{:.0}%", fit.het.i2));

    let w = |t: &str, b: bool| text_width(t, FONT, b);
    let label_w = labels
        .iter()
        .map(|l| w(l, false))
        .fold(w(row_header, true).max(w(&all, true)), f64::max);
    let est_w = est
        .iter()
        .map(|t| w(t, false))
        .fold(w(&est_header, true).max(w(&est_all, true)), f64::max);
    let tau_w = het
        .iter()
        .map(|h| w(&h.0, false))
        .fold(w("τ²", true).max(w(&het_all.0, true)), f64::max);
    let i2_w = w("I²", true).max(w("100%", true));

    // Axis over every estimate, the pooled interval and no effect; very wide refit intervals
    // (early cumulative steps) are cut and get arrows, as in the forest plot.
    let null = null_position(fit.effects.measure, scale);
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
    let axis = Axis::new(scale, lo, hi, false);
    let mut panel_w = PANEL_W.max(text_width(&long, FONT, true) + 2.0 * GAP);
    for t in axis.ticks.windows(2) {
        let f = (t[1].0 - t[0].0) / (axis.hi - axis.lo);
        let need =
            (text_width(&t[0].1, SMALL, false) + text_width(&t[1].1, SMALL, false)) / 2.0 + 8.0;
        if f > 0.0 {
            panel_w = panel_w.max(need / f);
        }
    }

    let x_label = MARGIN;
    let px0 = x_label + label_w + GAP + 4.0;
    let px1 = px0 + panel_w;
    let x_est = px1 + GAP + est_w;
    let x_tau = x_est + GAP + tau_w;
    let x_i2 = x_tau + GAP + i2_w;
    let mut width = x_i2 + MARGIN;

    let mut fig = Figure::default();
    let mut y = MARGIN;
    width = width.max(fig.title(x_label, &mut y, opts.title.as_deref()) + MARGIN);
    let hy = y + 8.0;
    fig.text(x_label, hy, row_header, FONT, true, Anchor::Start, TEXT);
    fig.text(
        (px0 + px1) / 2.0,
        hy,
        &long,
        FONT,
        true,
        Anchor::Middle,
        TEXT,
    );
    fig.text(x_est, hy, &est_header, FONT, true, Anchor::End, TEXT);
    fig.text(x_tau, hy, "τ²", FONT, true, Anchor::End, TEXT);
    fig.text(x_i2, hy, "I²", FONT, true, Anchor::End, TEXT);
    let rule_y = y + 20.0;
    let body_top = rule_y + 6.0;
    let row_y = |i: usize| body_top + (i as f64 + 0.5) * ROW;
    let n = series.fits.len();
    for (i, f) in series.fits.iter().enumerate() {
        let yc = row_y(i);
        fig.text(x_label, yc, &labels[i], FONT, false, Anchor::Start, TEXT);
        let color = if f.is_some() { TEXT } else { MUTED };
        fig.text(x_est, yc, &est[i], FONT, false, Anchor::End, color);
        fig.text(x_tau, yc, &het[i].0, FONT, false, Anchor::End, TEXT);
        fig.text(x_i2, yc, &het[i].1, FONT, false, Anchor::End, TEXT);
        if let Some(r) = f {
            super::forest::interval(
                &mut fig,
                &axis,
                px0,
                px1,
                yc,
                r.ci_lb,
                r.ci_ub,
                Color(0x22, 0x22, 0x22),
                1.0,
            );
            fig.shapes.push(Shape::Circle {
                x: axis.map(r.estimate, px0, px1),
                y: yc,
                r: 4.0,
                color: POINT_COLOR,
                filled: true,
            });
        }
    }
    // The model of all studies.
    let ya = row_y(n + 1);
    fig.text(x_label, ya, &all, FONT, true, Anchor::Start, TEXT);
    fig.text(x_est, ya, &est_all, FONT, true, Anchor::End, TEXT);
    fig.text(x_tau, ya, &het_all.0, FONT, true, Anchor::End, TEXT);
    fig.text(x_i2, ya, &het_all.1, FONT, true, Anchor::End, TEXT);
    let m = |v: f64| axis.map(v, px0, px1);
    let h = ROW * 0.36;
    fig.shapes.push(Shape::Polygon {
        points: vec![
            (m(fit.ci_lb), ya),
            (m(fit.estimate), ya - h),
            (m(fit.ci_ub), ya),
            (m(fit.estimate), ya + h),
        ],
        fill: Some(DIAMOND),
        stroke: None,
    });
    let body_bottom = body_top + (n + 2) as f64 * ROW + 4.0;
    fig.line((x_label, rule_y), (x_i2, rule_y), RULE, 1.0);
    if let Some(xn) = null.map(m) {
        fig.line(
            (xn, body_top),
            (xn, body_bottom),
            Color(0x44, 0x44, 0x44),
            1.0,
        );
    }
    fig.shapes.push(Shape::Line {
        points: vec![(m(fit.estimate), body_top), (m(fit.estimate), ya - h)],
        color: RULE,
        width: 1.0,
        dash: Some((3.0, 3.0)),
    });
    fig.line((px0, body_bottom), (px1, body_bottom), TEXT, 1.0);
    for (pos, lab) in &axis.ticks {
        let xt = m(*pos);
        fig.line((xt, body_bottom), (xt, body_bottom + 5.0), TEXT, 1.0);
        fig.text(
            xt,
            body_bottom + 14.0,
            lab,
            SMALL,
            false,
            Anchor::Middle,
            TEXT,
        );
    }
    let mut y = body_bottom + 38.0;
    let note = match opts.kind {
        RefitKind::LeaveOneOut => "Each row: the model refitted without that study",
        RefitKind::Cumulative => {
            "Each row: the model fitted to the studies up to and including that one"
        }
    };
    width = width.max(x_label + text_width(note, SMALL, false) + MARGIN);
    fig.text(x_label, y, note, SMALL, false, Anchor::Start, MUTED);
    y += 16.0;
    fig.width = width.ceil();
    fig.height = (y + MARGIN - 8.0).ceil();
    Ok(fig)
}
