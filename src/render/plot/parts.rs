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
