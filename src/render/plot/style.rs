//! The look every plot shares: type sizes, spacing and inks, defined once so that the plots match
//! one another.

use super::figure::{Color, INK};

/// Body text size in pixels (9 pt).
pub const FONT: f64 = 12.0;
/// Tick labels, notes and legends.
pub const SMALL: f64 = 11.0;
/// Height of a table row in the forest-style plots.
pub const ROW: f64 = 20.0;
/// Space around the figure.
pub const MARGIN: f64 = 20.0;
/// Space between table columns.
pub const GAP: f64 = 16.0;
/// The least width of the panel of a forest-style plot.
pub const MIN_PANEL: f64 = 300.0;
/// Width of the panel of the x–y plots (funnel, bubble, scatter), in pixels.
pub const PANEL_W: f64 = 440.0;
/// Height of the panel of the x–y plots, in pixels.
pub const PANEL_H: f64 = 330.0;
/// Half the height of a summary diamond.
pub const DIAMOND_H: f64 = ROW * 0.36;

/// Text, axes and ticks.
pub const TEXT: Color = INK;
/// Secondary text (notes, failed refits) and dashed guides of the funnel.
pub const MUTED: Color = Color(0x55, 0x55, 0x55);
/// Rules under table headers and the dashed line of the pooled estimate.
pub const RULE: Color = Color(0x99, 0x99, 0x99);
/// Confidence intervals of studies and refits.
pub const WHISKER: Color = Color(0x22, 0x22, 0x22);
/// The line of no effect.
pub const NULL_LINE: Color = Color(0x44, 0x44, 0x44);
/// Study markers (squares, points, bubble outlines).
pub const STUDY_INK: Color = Color(0x2B, 0x4A, 0x6F);
/// Pooled estimates: the overall diamond, the fitted line.
pub const POOLED_INK: Color = Color(0x11, 0x11, 0x11);
/// What the reader should tell apart from the fit: the prediction interval, the adjusted
/// estimate.
pub const ACCENT: Color = Color(0xB2, 0x18, 0x2B);
