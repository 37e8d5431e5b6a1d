//! Pieces several plots draw alike: intervals, diamonds, axes, the frame of an x–y panel, notes.

use super::axis::Axis;
use super::figure::{Anchor, Color, Figure, Shape};
use super::fonts::text_width;
use super::style::{DIAMOND_H, FONT, MARGIN, PANEL_H, PANEL_W, ROW, RULE, SMALL, TEXT, WHISKER};

/// A horizontal interval from `lb` to `ub` (analysis scale) with end caps, or arrows where it
/// runs past the axis.
#[allow(clippy::too_many_arguments)]
pub(crate) fn interval(
    fig: &mut Figure,
    axis: &Axis,
    px0: f64,
    px1: f64,
    y: f64,
    lb: f64,
    ub: f64,
    color: Color,
    width: f64,
) {
    let a = axis.map(lb.max(axis.lo), px0, px1);
    let b = axis.map(ub.min(axis.hi), px0, px1);
    let arrow = |fig: &mut Figure, tip: f64, dir: f64| {
        fig.shapes.push(Shape::Polygon {
            points: vec![
                (tip, y),
                (tip - dir * 6.0, y - 3.5),
                (tip - dir * 6.0, y + 3.5),
            ],
            fill: Some(color),
            stroke: None,
        });
    };
    if ub < axis.lo {
        arrow(fig, px0, -1.0);
        return;
    }
    if lb > axis.hi {
        arrow(fig, px1, 1.0);
        return;
    }
    fig.line((a, y), (b, y), color, width);
    if lb < axis.lo {
        arrow(fig, a, -1.0);
    }
    if ub > axis.hi {
        arrow(fig, b, 1.0);
    }
}

/// A summary diamond at height `y` from `lb` through `est` to `ub` (pixels).
pub(crate) fn diamond(fig: &mut Figure, lb: f64, est: f64, ub: f64, y: f64, fill: Color) {
    fig.shapes.push(Shape::Polygon {
        points: vec![(lb, y), (est, y - DIAMOND_H), (ub, y), (est, y + DIAMOND_H)],
        fill: Some(fill),
        stroke: None,
    });
}

/// A summary diamond from `lb` through `est` to `ub` (pixels, possibly beyond the panel) cut at
/// the panel's edges `px0`, `px1`: the part inside keeps the diamond's slopes, so a truncated
/// diamond shows where it was cut rather than a squashed whole one.
pub(crate) fn clipped_diamond(
    fig: &mut Figure,
    (lb, est, ub): (f64, f64, f64),
    y: f64,
    (px0, px1): (f64, f64),
    fill: Color,
) {
    let full = [(lb, y), (est, y - DIAMOND_H), (ub, y), (est, y + DIAMOND_H)];
    let mut points = clip_x(&full, px0, true);
    points = clip_x(&points, px1, false);
    if points.len() >= 3 {
        fig.shapes.push(Shape::Polygon {
            points,
            fill: Some(fill),
            stroke: None,
        });
    }
}

/// Sutherland–Hodgman clipping of a polygon to the half-plane x ≥ `edge` (`keep_right`) or
/// x ≤ `edge`.
fn clip_x(poly: &[(f64, f64)], edge: f64, keep_right: bool) -> Vec<(f64, f64)> {
    let inside = |p: &(f64, f64)| if keep_right { p.0 >= edge } else { p.0 <= edge };
    let mut out = Vec::new();
    for (i, p) in poly.iter().enumerate() {
        let q = &poly[(i + 1) % poly.len()];
        if inside(p) {
            out.push(*p);
        }
        if inside(p) != inside(q) {
            let t = (edge - p.0) / (q.0 - p.0);
            out.push((edge, p.1 + t * (q.1 - p.1)));
        }
    }
    out
}

/// Arrows at the panel's edges (`tip`s, pixels) where a diamond is cut by the axis limits, as on a
/// study interval.
pub(crate) fn diamond_cut(fig: &mut Figure, y: f64, left: Option<f64>, right: Option<f64>) {
    for (tip, dir) in [(left, -1.0), (right, 1.0)] {
        if let Some(tip) = tip {
            fig.shapes.push(Shape::Polygon {
                points: vec![
                    (tip + dir * 7.0, y),
                    (tip + dir * 1.0, y - 3.5),
                    (tip + dir * 1.0, y + 3.5),
                ],
                fill: Some(WHISKER),
                stroke: None,
            });
        }
    }
}

/// The y of the middle of table row `i` under `top`.
pub(crate) fn row_y(top: f64, i: usize) -> f64 {
    top + (i as f64 + 0.5) * ROW
}

/// The dashed guide from the top of the rows down to the pooled diamond at `x`.
pub(crate) fn pooled_guide(fig: &mut Figure, x: f64, top: f64, bottom: f64) {
    fig.shapes.push(Shape::Line {
        points: vec![(x, top), (x, bottom)],
        color: RULE,
        width: 1.0,
        dash: Some((3.0, 3.0)),
    });
}

/// Ticks and their labels under a horizontal axis at `y`.
pub(crate) fn x_ticks(fig: &mut Figure, axis: &Axis, px0: f64, px1: f64, y: f64) {
    for (pos, lab) in &axis.ticks {
        let x = axis.map(*pos, px0, px1);
        fig.line((x, y), (x, y + 5.0), TEXT, 1.0);
        fig.text(x, y + 14.0, lab, SMALL, false, Anchor::Middle, TEXT);
    }
}

/// A horizontal axis at `y` from `px0` to `px1`, with its ticks.
pub(crate) fn x_axis(fig: &mut Figure, axis: &Axis, px0: f64, px1: f64, y: f64) {
    fig.line((px0, y), (px1, y), TEXT, 1.0);
    x_ticks(fig, axis, px0, px1, y);
}

/// The width of the widest tick label of `axis`.
pub(crate) fn tick_label_width(axis: &Axis) -> f64 {
    axis.ticks
        .iter()
        .map(|(_, l)| text_width(l, SMALL, false))
        .fold(0.0, f64::max)
}

/// The panel of an x–y plot: its axes and where it lies.
pub(crate) struct Panel {
    pub x: Axis,
    pub y: Axis,
    pub px0: f64,
    pub px1: f64,
    pub py0: f64,
    pub py1: f64,
    /// Whether y grows downwards (the funnel's standard errors) rather than upwards.
    pub y_down: bool,
}

impl Panel {
    /// The panel of the standard size with its top left corner at (`px0`, `py0`).
    pub fn new(x: Axis, y: Axis, px0: f64, py0: f64, y_down: bool) -> Panel {
        Panel {
            x,
            y,
            px0,
            px1: px0 + PANEL_W,
            py0,
            py1: py0 + PANEL_H,
            y_down,
        }
    }

    pub fn mx(&self, v: f64) -> f64 {
        self.x.map(v, self.px0, self.px1)
    }

    pub fn my(&self, v: f64) -> f64 {
        if self.y_down {
            self.y.map(v, self.py0, self.py1)
        } else {
            self.y.map(v, self.py1, self.py0)
        }
    }

    /// The axes along the bottom and the left, their ticks, and `xlabel` under the x ticks.
    pub fn axes(&self, fig: &mut Figure, xlabel: &str) {
        fig.line((self.px0, self.py1), (self.px1, self.py1), TEXT, 1.0);
        fig.line((self.px0, self.py0), (self.px0, self.py1), TEXT, 1.0);
        x_ticks(fig, &self.x, self.px0, self.px1, self.py1);
        for (pos, lab) in &self.y.ticks {
            let y = self.my(*pos);
            fig.line((self.px0 - 5.0, y), (self.px0, y), TEXT, 1.0);
            fig.text(self.px0 - 8.0, y, lab, SMALL, false, Anchor::End, TEXT);
        }
        fig.text(
            (self.px0 + self.px1) / 2.0,
            self.py1 + 34.0,
            xlabel,
            FONT,
            false,
            Anchor::Middle,
            TEXT,
        );
    }

    /// Where the text under the x label starts.
    pub fn below(&self) -> f64 {
        self.py1 + 56.0
    }
}

/// The top of an x–y plot: the title and `ylabel` above the y axis, whose tick labels set where
/// the panel starts. Returns the panel's left and top edges and the width the text needs.
pub(crate) fn panel_top(
    fig: &mut Figure,
    title: Option<&str>,
    y: &Axis,
    ylabel: &str,
) -> (f64, f64, f64) {
    let mut top = MARGIN;
    let mut width: f64 = 0.0;
    width = width.max(fig.title(MARGIN, &mut top, title) + MARGIN);
    let px0 = MARGIN + tick_label_width(y) + 10.0;
    fig.text(px0, top + 7.0, ylabel, FONT, false, Anchor::Start, TEXT);
    width = width.max(px0 + text_width(ylabel, FONT, false) + MARGIN);
    (px0, top + 24.0, width)
}

/// Writes `notes` at `x`, one a line `step` apart from `y`, widens `width` to hold them, and
/// returns the y under them.
pub(crate) fn notes(
    fig: &mut Figure,
    x: f64,
    mut y: f64,
    notes: &[String],
    (color, step): (Color, f64),
    width: &mut f64,
) -> f64 {
    for n in notes {
        *width = width.max(x + text_width(n, SMALL, false) + MARGIN);
        fig.text(x, y, n.as_str(), SMALL, false, Anchor::Start, color);
        y += step;
    }
    y
}

/// Sets the figure's size: `width`, and the bottom margin under the last line at `y`.
pub(crate) fn finish(fig: &mut Figure, width: f64, y: f64) {
    fig.width = width.ceil();
    fig.height = (y + MARGIN - 8.0).ceil();
}

#[cfg(test)]
mod tests {
    use super::*;

    // A diamond running past the right edge keeps its slopes up to the edge and is cut there.
    #[test]
    fn a_truncated_diamond_is_clipped() {
        let mut fig = Figure::default();
        clipped_diamond(&mut fig, (10.0, 50.0, 130.0), 0.0, (0.0, 90.0), TEXT);
        let Shape::Polygon { points, .. } = &fig.shapes[0] else {
            panic!("no polygon")
        };
        let h = DIAMOND_H * (130.0 - 90.0) / 80.0;
        let want = [
            (10.0, 0.0),
            (50.0, -DIAMOND_H),
            (90.0, -h),
            (90.0, h),
            (50.0, DIAMOND_H),
        ];
        assert_eq!(points.len(), want.len(), "{points:?}");
        for (p, w) in points.iter().zip(want) {
            assert!(
                (p.0 - w.0).abs() < 1e-9 && (p.1 - w.1).abs() < 1e-9,
                "{points:?}"
            );
        }
        let mut none = Figure::default();
        clipped_diamond(&mut none, (100.0, 120.0, 130.0), 0.0, (0.0, 90.0), TEXT);
        assert!(none.shapes.is_empty());
    }
}
