//! The estimated selection function of a selection model, as metafor's `plot(selmodel(...))`:
//! the relative likelihood of selection w(p) against the one-sided p-value (a step function
//! drawn as steps), with a rug of the studies' p-values (Vevea & Hedges 1995; Citkowicz & Vevea
//! 2017).

use super::axis::Axis;
use super::figure::{Figure, Shape};
use super::parts::{self, panel_top, Panel};
use super::style::{MARGIN, POOLED_INK, STUDY_INK};
use crate::bias::{SelModel, SelType};
use crate::error::{Error, Result};
use crate::measure::Scale;

/// Points of the traced curve to ask `bias::selection_curve` for (metafor's `plot(..., n = 1000)`).
pub const CURVE_POINTS: usize = 1000;

/// Lays out the selection function of `s`, traced at the (p, w(p)) points `curve`
/// (`bias::selection_curve`): y from 0 to 1 for the decreasing families (w ≤ 1), else over the
/// range of w, as metafor's default `ylim`.
pub fn selection_plot(s: &SelModel, curve: &[(f64, f64)], title: Option<&str>) -> Result<Figure> {
    let ys = curve.iter().map(|c| c.1).filter(|y| y.is_finite());
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
        (a.min(y), b.max(y))
    });
    if !lo.is_finite() {
        return Err(Error::invalid(
            "the selection function has no finite value to plot",
        ));
    }
    let (y0, y1) = match s.sel_type {
        SelType::Beta | SelType::Stepfun => (lo.min(0.0), hi.max(lo + 1e-9)),
        _ => (0.0, 1.0),
    };
    let mut fig = Figure::default();
    let y = Axis::new(Scale::Identity, y0, y1, false);
    let ylabel = "Relative likelihood of selection";
    let (px0, py0, width) = panel_top(&mut fig, title, &y, ylabel);
    let p = Panel::new(
        Axis::new(Scale::Identity, 0.0, 1.0, true),
        y,
        px0,
        py0,
        false,
    );
    p.axes(&mut fig, "One-sided p-value");
    let mut points = Vec::with_capacity(2 * curve.len());
    for (i, &(x, w)) in curve.iter().enumerate() {
        // R's type = "S": horizontal first, then up or down at the next p.
        if s.sel_type == SelType::Stepfun && i > 0 {
            points.push((p.mx(x), p.my(curve[i - 1].1.clamp(y0, y1))));
        }
        points.push((p.mx(x), p.my(w.clamp(y0, y1))));
    }
    fig.shapes.push(Shape::Line {
        points,
        color: POOLED_INK,
        width: 2.0,
        dash: None,
    });
    for &pv in &s.pvals {
        let x = p.mx(pv);
        fig.line((x, p.py1), (x, p.py1 - 8.0), STUDY_INK, 1.0);
    }
    let note = format!(
        "{} selection function; ticks: the {} studies' p-values",
        s.sel_type.name(),
        s.k
    );
    let mut width = width.max(p.px1 + MARGIN);
    let y_end = parts::notes(
        &mut fig,
        px0,
        p.below(),
        &[note],
        (super::style::MUTED, 16.0),
        &mut width,
    );
    parts::finish(&mut fig, width, y_end);
    Ok(fig)
}
