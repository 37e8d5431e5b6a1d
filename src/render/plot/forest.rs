//! Forest plots (Lewis & Clarke 2001, *BMJ* 322:1479–80) drawn from fitted models.
//!
//! Every number shown comes from the fit: study estimates and variances, model weights, the
//! pooled estimate and its interval, the prediction interval and the heterogeneity statistics.
//! Study intervals are the Wald intervals yi ± z·√vi at the fit's confidence level, as metafor's
//! `forest()` draws them.

use super::axis::{null_position, Axis};
use super::figure::{Anchor, Color, Figure, Shape};
use super::fonts::text_width;
use super::format::{display_ci, num, tau2};
use super::parts::{self, diamond, diamond_cut, interval, pooled_guide, row_y, x_axis};
use super::style::{
    ACCENT, GAP, MARGIN, MIN_PANEL, MUTED, NULL_LINE, POOLED_INK, ROW, RULE, SMALL, STUDY_INK,
    TEXT, WHISKER,
};
use crate::data::{Data, Value};
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::model::RmaFit;
use crate::model::Test;
use crate::moderators::subgroup::Subgroup;
use crate::moderators::SubgroupFit;
use crate::render::pvalue::{p_value, PStyle};

pub use super::rob::{is_rob_column, rob_columns, RobColumn, RobLevel};
/// Body text size in pixels (9 pt).
pub use super::style::FONT;

/// Height of a line of the column headers.
const HEADER_LINE: f64 = 16.0;
/// Indent of study labels under a subgroup header.
const INDENT: f64 = 10.0;
/// Radius of risk-of-bias lights and the gap between their columns.
const ROB_R: f64 = 7.5;
const ROB_GAP: f64 = 10.0;

/// Ink of study squares (and how tests find them in the SVG).
pub const STUDY_COLOR: Color = STUDY_INK;
/// Ink of the overall summary diamond.
pub const SUMMARY_COLOR: Color = POOLED_INK;
/// Ink of subgroup diamonds.
pub const SUBGROUP_COLOR: Color = Color(0x6B, 0x6B, 0x6B);
/// Ink of the prediction-interval bar.
pub const PI_COLOR: Color = ACCENT;

/// Study order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// As in the data.
    #[default]
    AsGiven,
    /// By effect size, smallest first.
    Estimate,
    /// By model weight, largest first.
    Weight,
    /// By a study-level column (e.g. year): numbers numerically, text alphabetically, missing last.
    Column(String),
}

/// A column of study-level text (raw data, moderators), one value per study of the fit.
#[derive(Debug, Clone, PartialEq)]
pub struct TextColumn {
    /// Header, one or two lines.
    pub header: Vec<String>,
    /// Values in study order of the fit, one per study.
    pub values: Vec<String>,
}

/// What to draw besides the studies and the pooled estimate.
#[derive(Debug, Clone)]
pub struct ForestOptions {
    /// Title above the plot, if any.
    pub title: Option<String>,
    /// Order of the study rows.
    pub sort: SortOrder,
    /// Axis limits on the display scale (e.g. odds ratios); studies beyond them get arrows.
    pub xlim: Option<(f64, f64)>,
    /// Labels under the axis, left and right of the line of no effect.
    pub favours: Option<(String, String)>,
    /// Text columns left of the plot, in order.
    pub columns: Vec<TextColumn>,
    /// Risk-of-bias traffic lights right of the weights (from [`rob_columns`]).
    pub rob: Vec<RobColumn>,
    /// Subgroups (from [`crate::moderators::subgroup::subgroups`]); empty for none.
    pub subgroups: Vec<Subgroup>,
    /// The test of subgroup differences (from [`subgroup_test_text`]), one note per line.
    pub subgroup_test: Option<String>,
    /// Draw the prediction interval (only for random-effects models of more than one study).
    pub show_prediction: bool,
    /// Decimals of the estimates and confidence limits on the display scale.
    pub decimals: usize,
}

impl Default for ForestOptions {
    fn default() -> Self {
        ForestOptions {
            title: None,
            sort: SortOrder::AsGiven,
            xlim: None,
            favours: None,
            columns: Vec::new(),
            rob: Vec::new(),
            subgroups: Vec::new(),
            subgroup_test: None,
            show_prediction: true,
            decimals: 2,
        }
    }
}

/// The test for subgroup differences, two lines: Cochran's Q between the separate fits, and the
/// moderator test (QM) of the mixed-effects model with a common τ².
pub fn subgroup_test_text(sg: &SubgroupFit) -> String {
    let qb = &sg.q_between;
    let qm = &sg.mixed.qm;
    let model = if sg.mixed.options.method.is_fixed() {
        "fixed-effects model with the subgroups as moderator"
    } else {
        "mixed-effects model, common τ²"
    };
    let stat = match qm.ddf {
        Some(ddf) => format!("F({}, {}) = {}", qm.df, num(ddf, 0), num(qm.stat, 2)),
        None => format!("QM = {}, df = {}", num(qm.stat, 2), qm.df),
    };
    format!(
        "Test for subgroup differences (separate fits): Q = {}, df = {}, {}\n\
         Test for subgroup differences ({model}): {stat}, {}",
        num(qb.q, 2),
        qb.df,
        p_value(qb.pval, PStyle::Journal),
        p_value(qm.pval, PStyle::Journal)
    )
}

/// The name of the model for the summary row.
fn model_name(fit: &RmaFit) -> String {
    let m = fit.options.method;
    if m.is_fixed() {
        "Common-effect model".into()
    } else {
        format!("Random-effects model ({})", m.name())
    }
}

/// "Heterogeneity: τ² = 0.31; I² = 92% [81%, 97%]; Q = 152.2, df = 12, p < 0.001".
pub fn heterogeneity_line(fit: &RmaFit) -> String {
    let h = &fit.het;
    if let Some(why) = h.undefined_reason() {
        return format!("Heterogeneity: {why}");
    }
    let mut s = String::from("Heterogeneity: ");
    if !fit.options.method.is_fixed() {
        s.push_str(&format!("τ² = {}; ", tau2(fit.tau2)));
    }
    s.push_str(&format!("I² = {:.0}%", h.i2));
    if let Some(ci) = &fit.tau2_ci {
        s.push_str(&format!(" [{:.0}%, {:.0}%]", ci.i2_lb, ci.i2_ub));
    }
    s.push_str(&format!(
        "; Q = {:.1}, df = {}, {}",
        h.q,
        h.q_df,
        p_value(h.q_pval, PStyle::Journal)
    ));
    s
}

/// "Test for overall effect: z = −5.47, p < 0.001".
pub fn overall_test_line(fit: &RmaFit) -> String {
    let stat = match (fit.test, fit.df) {
        (Test::Z, _) | (_, None) => format!("z = {}", num(fit.stat, 2)),
        (_, Some(df)) => format!("t({}) = {}", num(df, 0), num(fit.stat, 2)),
    };
    let how = match fit.test {
        Test::Knha => " (Knapp–Hartung)",
        Test::Adhoc => " (Knapp–Hartung, ad hoc)",
        Test::T => " (Wald SE)",
        Test::Z => "",
    };
    format!(
        "Test for overall effect: {stat}, {}{how}",
        p_value(fit.pval, PStyle::Journal)
    )
}

/// The estimate column's header ("Ratio [95% CI]") and the effect's name over the panel.
pub(crate) fn estimate_headers(fit: &RmaFit) -> (String, String) {
    let (short, long) = effect_names(fit);
    (
        format!("{short} [{}% CI]", num(fit.options.level.percent(), 0)),
        long,
    )
}

/// The effect's name for the axis and the estimate column header.
pub(crate) fn effect_names(fit: &RmaFit) -> (String, String) {
    effect_names_of(fit.effects.measure, fit.effects.scale)
}

/// [`effect_names`] for a measure on its analysis scale.
pub(crate) fn effect_names_of(m: crate::measure::Measure, scale: Scale) -> (String, String) {
    use crate::measure::Measure::*;
    let short = match m {
        GEN => match scale {
            Scale::Log => "Ratio".to_string(),
            Scale::Logit => "Proportion".to_string(),
            Scale::FisherZ => "Correlation".to_string(),
            Scale::Identity => "Estimate".to_string(),
        },
        PLO | PR => "Proportion".into(),
        ZCOR | COR => "Correlation".into(),
        PETO => "OR".into(),
        _ => m.name().into(),
    };
    let long = match m {
        OR | PETO => "Odds ratio".to_string(),
        RR => "Risk ratio".into(),
        RD => "Risk difference".into(),
        IRR => "Incidence rate ratio".into(),
        IRD => "Incidence rate difference".into(),
        MD => "Mean difference".into(),
        SMD => "Standardised mean difference".into(),
        PLO | PR => "Proportion".into(),
        ZCOR | COR => "Correlation".into(),
        _ => short.clone(),
    };
    let long = if scale == Scale::Log {
        format!("{long} (log scale)")
    } else {
        long
    };
    (short, long)
}

fn check_columns(fit: &RmaFit, opts: &ForestOptions) -> Result<()> {
    for c in &opts.columns {
        if c.values.len() != fit.k {
            return Err(Error::invalid(format!(
                "column '{}' has {} values for {} studies",
                c.header.join(" "),
                c.values.len(),
                fit.k
            )));
        }
        if c.header.is_empty() || c.header.len() > 2 {
            return Err(Error::invalid("a column header has one or two lines"));
        }
    }
    for c in &opts.rob {
        if c.values.len() != fit.k {
            return Err(Error::invalid(format!(
                "risk-of-bias column '{}' has {} values for {} studies",
                c.header,
                c.values.len(),
                fit.k
            )));
        }
    }
    for g in &opts.subgroups {
        if g.members.iter().any(|&i| i >= fit.k) {
            return Err(Error::invalid(format!(
                "subgroup '{}' refers to studies the fit does not have",
                g.name
            )));
        }
    }
    Ok(())
}

fn order(fit: &RmaFit, idx: &mut [usize], sort: &SortOrder) -> Result<()> {
    match sort {
        SortOrder::AsGiven => {}
        SortOrder::Estimate => {
            idx.sort_by(|&a, &b| fit.effects.yi[a].total_cmp(&fit.effects.yi[b]))
        }
        SortOrder::Weight => idx.sort_by(|&a, &b| fit.weights[b].total_cmp(&fit.weights[a])),
        SortOrder::Column(name) => {
            let m = fit.effects.moderator(name, "sort by")?;
            let key = |i: usize| match &m.values[i] {
                Value::Number(x) => (0, *x, String::new()),
                Value::Text(t) => (1, 0.0, t.clone()),
                Value::Missing => (2, 0.0, String::new()),
            };
            idx.sort_by(|&a, &b| {
                let (ka, kb) = (key(a), key(b));
                ka.0.cmp(&kb.0)
                    .then(ka.1.total_cmp(&kb.1))
                    .then(ka.2.cmp(&kb.2))
            });
        }
    }
    Ok(())
}

/// A row of the plot, top to bottom.
enum Row<'a> {
    Header(&'a str),
    Study(usize),
    Summary {
        fit: &'a RmaFit,
        label: String,
        weight: f64,
        overall: bool,
    },
    Prediction(&'a RmaFit),
    Note(String),
    Blank,
}

impl Row<'_> {
    /// The text on the left: (text, bold, size).
    fn label(&self, fit: &RmaFit) -> (String, bool, f64) {
        match self {
            Row::Header(n) => (n.to_string(), true, FONT),
            Row::Study(i) => (fit.effects.labels[*i].clone(), false, FONT),
            Row::Summary { label, .. } => (label.clone(), true, FONT),
            Row::Prediction(_) => ("Prediction interval".into(), false, FONT),
            Row::Note(t) => (t.clone(), false, SMALL),
            Row::Blank => (String::new(), false, FONT),
        }
    }

    /// The estimate column (display scale, `d` decimals): (text, bold).
    fn estimate(&self, fit: &RmaFit, d: usize) -> Option<(String, bool)> {
        let scale = fit.effects.scale;
        match self {
            Row::Study(i) => {
                let (lb, ub) = fit.study_ci(*i);
                let text = display_ci(scale, fit.effects.yi[*i], lb, ub, d);
                Some((text, false))
            }
            Row::Summary { fit: f, .. } => {
                Some((display_ci(scale, f.estimate, f.ci_lb, f.ci_ub, d), true))
            }
            Row::Prediction(f) => f.prediction().map(|p| {
                let (lb, ub) = (num(scale.back(p.lb), d), num(scale.back(p.ub), d));
                (format!("[{lb}, {ub}]"), false)
            }),
            _ => None,
        }
    }

    /// The weight column: (text, bold).
    fn weight(&self, fit: &RmaFit) -> Option<(String, bool)> {
        match self {
            Row::Study(i) => Some((format!("{:.1}%", fit.weights[*i]), false)),
            Row::Summary { weight, .. } => Some((format!("{weight:.1}%"), true)),
            _ => None,
        }
    }
}

/// The rows: the studies (by subgroup, each closed by its subtotal and heterogeneity), the
/// overall summary and, if `prediction`, the prediction interval.
fn rows<'a>(fit: &'a RmaFit, opts: &'a ForestOptions, prediction: bool) -> Result<Vec<Row<'a>>> {
    let mut rows: Vec<Row> = Vec::new();
    if opts.subgroups.is_empty() {
        let mut idx: Vec<usize> = (0..fit.k).collect();
        order(fit, &mut idx, &opts.sort)?;
        rows.extend(idx.into_iter().map(Row::Study));
        rows.push(Row::Blank);
    }
    for g in &opts.subgroups {
        rows.push(Row::Header(&g.name));
        let mut idx = g.members.clone();
        order(fit, &mut idx, &opts.sort)?;
        rows.extend(idx.iter().map(|&i| Row::Study(i)));
        rows.push(Row::Summary {
            fit: &g.fit,
            label: format!("Subtotal ({} {})", g.members.len(), plural(g.members.len())),
            weight: g.members.iter().map(|&i| fit.weights[i]).sum(),
            overall: false,
        });
        rows.push(Row::Note(subgroup_note(&g.fit)));
        rows.push(Row::Blank);
    }
    rows.push(Row::Summary {
        fit,
        label: model_name(fit),
        weight: 100.0,
        overall: true,
    });
    if prediction {
        rows.push(Row::Prediction(fit));
    }
    Ok(rows)
}

/// Column widths from the text they hold.
struct Widths {
    label: f64,
    /// The text columns'.
    cols: Vec<f64>,
    est: f64,
    weight: f64,
}

fn widths(fit: &RmaFit, opts: &ForestOptions, rows: &[Row], est_header: &str) -> Widths {
    let mut label = text_width("Study", FONT, true);
    let mut note: f64 = 0.0;
    for r in rows {
        let (t, b, s) = r.label(fit);
        if matches!(r, Row::Note(_)) {
            note = note.max(text_width(&t, s, b));
        } else {
            label = label.max(text_width(&t, s, b));
        }
    }
    let cols: Vec<f64> = opts
        .columns
        .iter()
        .map(|c| {
            let h = c
                .header
                .iter()
                .map(|t| text_width(t, FONT, true))
                .fold(0.0, f64::max);
            c.values
                .iter()
                .map(|t| text_width(t, FONT, false))
                .fold(h, f64::max)
        })
        .collect();
    if !opts.subgroups.is_empty() {
        label += INDENT;
    }
    // Subgroup notes span the left columns; widen the label column if they need more room.
    let left = label + cols.iter().map(|w| w + GAP).sum::<f64>();
    if note > left {
        label += note - left;
    }
    let mut est = text_width(est_header, FONT, true);
    let mut weight = text_width("Weight", FONT, true);
    for r in rows {
        if let Some((t, b)) = r.estimate(fit, opts.decimals) {
            est = est.max(text_width(&t, FONT, b));
        }
        if let Some((t, b)) = r.weight(fit) {
            weight = weight.max(text_width(&t, FONT, b));
        }
    }
    Widths {
        label,
        cols,
        est,
        weight,
    }
}

/// Horizontal positions.
struct Columns {
    /// Left edge of the labels.
    label: f64,
    /// Right edges of the text columns.
    cols: Vec<f64>,
    px0: f64,
    px1: f64,
    /// Right edges of the estimates and the weights.
    est: f64,
    weight: f64,
    /// Centres of the risk-of-bias columns.
    rob: Vec<f64>,
    /// Right edge of the table.
    end: f64,
}

fn columns(w: &Widths, panel_w: f64, rob: &[RobColumn]) -> Columns {
    let label = MARGIN;
    let mut x = label + w.label + GAP;
    let mut cols = Vec::new();
    for cw in &w.cols {
        x += cw;
        cols.push(x);
        x += GAP;
    }
    let px0 = x + 4.0;
    let px1 = px0 + panel_w;
    let est = px1 + GAP + w.est;
    let weight = est + GAP + w.weight;
    let mut rob_x = Vec::new();
    let mut end = weight;
    for c in rob {
        let cw = text_width(&c.header, FONT, true).max(2.0 * ROB_R);
        rob_x.push(end + ROB_GAP + cw / 2.0);
        end += ROB_GAP + cw;
    }
    Columns {
        label,
        cols,
        px0,
        px1,
        est,
        weight,
        rob: rob_x,
        end,
    }
}

/// The axis: the user's limits, or [`default_limits`] widened to round ticks.
fn forest_axis(fit: &RmaFit, opts: &ForestOptions, pi: Option<(f64, f64)>) -> Result<Axis> {
    let scale = fit.effects.scale;
    match opts.xlim {
        Some((a, b)) => Axis::from_limits(scale, a, b),
        None => {
            let (lo, hi) = default_limits(fit, opts, pi);
            Ok(Axis::new(scale, lo, hi, false))
        }
    }
}

/// The panel's width: room for the effect's name over it, the tick labels and the favours
/// labels on their sides of no effect (at `null_f` across the panel).
fn panel_width(axis: &Axis, long: &str, favours: Option<&(String, String)>, null_f: f64) -> f64 {
    let mut panel_w = MIN_PANEL.max(text_width(long, FONT, false) + 2.0 * GAP);
    for w in axis.ticks.windows(2) {
        let (fa, fb) = (
            (w[0].0 - axis.lo) / (axis.hi - axis.lo),
            (w[1].0 - axis.lo) / (axis.hi - axis.lo),
        );
        let need =
            (text_width(&w[0].1, SMALL, false) + text_width(&w[1].1, SMALL, false)) / 2.0 + 8.0;
        if fb > fa {
            panel_w = panel_w.max(need / (fb - fa));
        }
    }
    if let Some((a, b)) = favours {
        // Each label sits on its side of the line of no effect (or of the centre), under the panel.
        let (wa, wb) = (
            text_width(a, SMALL, false) + 6.0,
            text_width(b, SMALL, false) + 6.0,
        );
        panel_w = panel_w.max(wa + wb + 12.0);
        // Room on both sides of no effect unless it sits near an end (then the labels shift).
        if (0.25..=0.75).contains(&null_f) {
            panel_w = panel_w.max(wa / null_f).max(wb / (1.0 - null_f));
        }
    }
    panel_w.ceil()
}

/// Everything the drawing needs, measured.
struct Layout<'a> {
    fit: &'a RmaFit,
    opts: &'a ForestOptions,
    rows: Vec<Row<'a>>,
    axis: Axis,
    x: Columns,
    panel_w: f64,
    est_header: String,
    /// The effect's name over the panel.
    long: String,
    /// No effect on the analysis scale.
    null: Option<f64>,
    /// Where no effect lies across the panel (0–1); the centre when it lies outside.
    null_f: f64,
    favours: Option<(String, String)>,
}

impl<'a> Layout<'a> {
    fn new(fit: &'a RmaFit, opts: &'a ForestOptions) -> Result<Layout<'a>> {
        let pi = if opts.show_prediction && !fit.options.method.is_fixed() && fit.k > 1 {
            fit.prediction()
        } else {
            None
        };
        let rows = rows(fit, opts, pi.is_some())?;
        let (est_header, long) = estimate_headers(fit);
        let w = widths(fit, opts, &rows, &est_header);
        let axis = forest_axis(fit, opts, pi.map(|p| (p.lb, p.ub)))?;
        let null = null_position(fit.effects.measure, fit.effects.scale);
        let null_frac = null.map_or(0.5, |n| (n - axis.lo) / (axis.hi - axis.lo));
        let null_f = if (0.0..=1.0).contains(&null_frac) {
            null_frac
        } else {
            0.5
        };
        let favours = opts
            .favours
            .as_ref()
            .map(|(a, b)| (format!("← {a}"), format!("{b} →")));
        let panel_w = panel_width(&axis, &long, favours.as_ref(), null_f);
        Ok(Layout {
            fit,
            opts,
            rows,
            axis,
            x: columns(&w, panel_w, &opts.rob),
            panel_w,
            est_header,
            long,
            null,
            null_f,
            favours,
        })
    }

    /// The column headers (one or two lines) from `y`; returns the y of the rule under them.
    fn headers(&self, fig: &mut Figure, y: f64) -> f64 {
        let x = &self.x;
        let n_header = self
            .opts
            .columns
            .iter()
            .map(|c| c.header.len())
            .max()
            .unwrap_or(1)
            .max(1);
        let last_line = |i: usize| y + (i as f64 + 0.5) * HEADER_LINE;
        let hy = last_line(n_header - 1);
        fig.text(x.label, hy, "Study", FONT, true, Anchor::Start, TEXT);
        for (c, &xr) in self.opts.columns.iter().zip(&x.cols) {
            let off = n_header - c.header.len();
            for (j, h) in c.header.iter().enumerate() {
                fig.text(xr, last_line(off + j), h, FONT, true, Anchor::End, TEXT);
            }
        }
        let mid = (x.px0 + x.px1) / 2.0;
        fig.text(mid, hy, &self.long, FONT, true, Anchor::Middle, TEXT);
        fig.text(x.est, hy, &self.est_header, FONT, true, Anchor::End, TEXT);
        fig.text(x.weight, hy, "Weight", FONT, true, Anchor::End, TEXT);
        for (c, &xc) in self.opts.rob.iter().zip(&x.rob) {
            fig.text(xc, hy, &c.header, FONT, true, Anchor::Middle, TEXT);
        }
        y + n_header as f64 * HEADER_LINE + 4.0
    }

    /// The rows from `top`; returns the index of the overall summary's row.
    fn body(&self, fig: &mut Figure, top: f64) -> Option<usize> {
        let max_w = self.fit.weights.iter().copied().fold(0.0, f64::max);
        let mut first_summary = None;
        for (i, r) in self.rows.iter().enumerate() {
            let yc = row_y(top, i);
            self.cells(fig, r, yc);
            match r {
                Row::Study(j) => self.study_mark(fig, *j, yc, max_w),
                Row::Summary {
                    fit: f, overall, ..
                } => {
                    if *overall && first_summary.is_none() {
                        first_summary = Some(i);
                    }
                    self.summary_mark(fig, f, *overall, yc);
                }
                Row::Prediction(f) => {
                    if let Some(p) = f.prediction() {
                        let (px0, px1) = (self.x.px0, self.x.px1);
                        interval(fig, &self.axis, px0, px1, yc, p.lb, p.ub, PI_COLOR, 2.0);
                    }
                }
                _ => {}
            }
        }
        first_summary
    }

    /// The texts of row `r` at `yc`: label, text columns, risk of bias, estimate and weight.
    fn cells(&self, fig: &mut Figure, r: &Row, yc: f64) {
        let (x, fit, opts) = (&self.x, self.fit, self.opts);
        let (t, b, s) = r.label(fit);
        let indent = if !opts.subgroups.is_empty() && matches!(r, Row::Study(_)) {
            INDENT
        } else {
            0.0
        };
        let color = if matches!(r, Row::Note(_)) {
            MUTED
        } else {
            TEXT
        };
        fig.text(x.label + indent, yc, t, s, b, Anchor::Start, color);
        if let Row::Study(j) = r {
            for (c, &xr) in opts.columns.iter().zip(&x.cols) {
                fig.text(xr, yc, &c.values[*j], FONT, false, Anchor::End, TEXT);
            }
            for (c, &xc) in opts.rob.iter().zip(&x.rob) {
                if let Some(level) = c.values[*j] {
                    let (fill, ink) = level.colors();
                    fig.shapes.push(Shape::Circle {
                        x: xc,
                        y: yc,
                        r: ROB_R,
                        color: fill,
                        filled: true,
                    });
                    fig.text(xc, yc, level.symbol(), SMALL, true, Anchor::Middle, ink);
                }
            }
        }
        if let Some((t, b)) = r.estimate(fit, opts.decimals) {
            fig.text(x.est, yc, t, FONT, b, Anchor::End, TEXT);
        }
        if let Some((t, b)) = r.weight(fit) {
            fig.text(x.weight, yc, t, FONT, b, Anchor::End, TEXT);
        }
    }

    /// Study `j`'s interval and its square, of area proportional to its weight.
    fn study_mark(&self, fig: &mut Figure, j: usize, yc: f64, max_w: f64) {
        let (axis, px0, px1) = (&self.axis, self.x.px0, self.x.px1);
        let (lb, ub) = self.fit.study_ci(j);
        let side = if max_w > 0.0 {
            (ROW * 0.75 * (self.fit.weights[j] / max_w).sqrt()).max(4.0)
        } else {
            6.0
        };
        interval(fig, axis, px0, px1, yc, lb, ub, WHISKER, 1.0);
        let yi = self.fit.effects.yi[j];
        if yi >= axis.lo && yi <= axis.hi {
            let xc = axis.map(yi, px0, px1);
            fig.shapes.push(Shape::Rect {
                x0: xc - side / 2.0,
                y0: yc - side / 2.0,
                x1: xc + side / 2.0,
                y1: yc + side / 2.0,
                fill: STUDY_COLOR,
            });
        }
    }

    /// The diamond of a summary, with arrows where the axis limits cut it.
    fn summary_mark(&self, fig: &mut Figure, f: &RmaFit, overall: bool, yc: f64) {
        let (axis, px0, px1) = (&self.axis, self.x.px0, self.x.px1);
        let clamp = |v: f64| axis.map(v.clamp(axis.lo, axis.hi), px0, px1);
        let fill = if overall {
            SUMMARY_COLOR
        } else {
            SUBGROUP_COLOR
        };
        let (lb, est, ub) = (clamp(f.ci_lb), clamp(f.estimate), clamp(f.ci_ub));
        diamond(fig, lb, est, ub, yc, fill);
        let cut_lo = (f.ci_lb < axis.lo).then_some(px0);
        diamond_cut(fig, yc, cut_lo, (f.ci_ub > axis.hi).then_some(px1));
    }

    /// The rule under the header, the line of no effect and the dashed line down to the overall
    /// diamond (row `first_summary`) across the rows from `top` to `bottom`.
    fn guides(
        &self,
        fig: &mut Figure,
        rule_y: f64,
        (top, bottom): (f64, f64),
        first_summary: Option<usize>,
    ) {
        let (axis, px0, px1) = (&self.axis, self.x.px0, self.x.px1);
        fig.line((self.x.label, rule_y), (self.x.end, rule_y), RULE, 1.0);
        if let Some(xn) = self
            .null
            .filter(|n| *n >= axis.lo && *n <= axis.hi)
            .map(|n| axis.map(n, px0, px1))
        {
            fig.line((xn, top), (xn, bottom), NULL_LINE, 1.0);
        }
        let est = self.fit.estimate;
        if let Some(i) = first_summary {
            if est >= axis.lo && est <= axis.hi && !self.rows.is_empty() {
                let xe = axis.map(est, px0, px1);
                pooled_guide(fig, xe, top, row_y(top, i) - ROW * 0.36);
            }
        }
    }

    /// The axis at `ay` and the favours labels under it; returns the y under them.
    fn axis_and_favours(&self, fig: &mut Figure, ay: f64) -> f64 {
        let (px0, px1) = (self.x.px0, self.x.px1);
        x_axis(fig, &self.axis, px0, px1, ay);
        let mut y = ay + 14.0 + 18.0;
        if let Some((a, b)) = &self.favours {
            let (wa, wb) = (text_width(a, SMALL, false), text_width(b, SMALL, false));
            let xn = (px0 + self.null_f * self.panel_w).clamp(px0 + wa + 6.0, px1 - wb - 6.0);
            fig.text(xn - 6.0, y, a, SMALL, false, Anchor::End, MUTED);
            fig.text(xn + 6.0, y, b, SMALL, false, Anchor::Start, MUTED);
            y += 18.0;
        }
        y
    }
}

/// The notes under the plot: heterogeneity (with one study there is none to speak of), the
/// test for the overall effect, the subgroup test and the risk-of-bias key.
fn notes(fit: &RmaFit, opts: &ForestOptions) -> Vec<String> {
    let mut notes = Vec::new();
    if fit.het.q_df > 0 {
        notes.push(heterogeneity_line(fit));
    }
    notes.push(overall_test_line(fit));
    notes.extend(
        opts.subgroup_test
            .iter()
            .flat_map(|t| t.lines().map(str::to_string)),
    );
    if !opts.rob.is_empty() {
        notes.push(super::rob::rob_legend(&opts.rob));
    }
    notes
}

/// Lays out the forest plot of `fit`.
pub fn forest(fit: &RmaFit, opts: &ForestOptions) -> Result<Figure> {
    check_columns(fit, opts)?;
    let l = Layout::new(fit, opts)?;
    let mut fig = Figure::default();
    let mut y = MARGIN;
    let mut width = l.x.end + MARGIN;
    width = width.max(fig.title(l.x.label, &mut y, opts.title.as_deref()) + MARGIN);
    let rule_y = l.headers(&mut fig, y);
    let body_top = rule_y + 6.0;
    let first_summary = l.body(&mut fig, body_top);
    let body_bottom = body_top + l.rows.len() as f64 * ROW + 4.0;
    l.guides(&mut fig, rule_y, (body_top, body_bottom), first_summary);
    let y = l.axis_and_favours(&mut fig, body_bottom) + 6.0;
    let y = parts::notes(
        &mut fig,
        l.x.label,
        y,
        &notes(fit, opts),
        (TEXT, 16.0),
        &mut width,
    );
    parts::finish(&mut fig, width, y);
    Ok(fig)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        "study"
    } else {
        "studies"
    }
}

fn subgroup_note(f: &RmaFit) -> String {
    if f.het.q_df == 0 {
        return "Heterogeneity: not applicable".into();
    }
    let mut s = String::from("Heterogeneity: ");
    if !f.options.method.is_fixed() {
        s.push_str(&format!("τ² = {}; ", tau2(f.tau2)));
    }
    s.push_str(&format!(
        "I² = {:.0}%; {}",
        f.het.i2,
        p_value(f.het.q_pval, PStyle::Journal)
    ));
    s
}

/// Default axis limits (analysis scale): the study intervals, the pooled intervals and the line
/// of no effect, with very wide study intervals cut (they get arrows) so that they do not squash
/// the rest.
fn default_limits(fit: &RmaFit, opts: &ForestOptions, pi: Option<(f64, f64)>) -> (f64, f64) {
    let null = null_position(fit.effects.measure, fit.effects.scale);
    let mut core_lo = null.map_or(fit.ci_lb, |n| n.min(fit.ci_lb));
    let mut core_hi = null.map_or(fit.ci_ub, |n| n.max(fit.ci_ub));
    for &y in &fit.effects.yi {
        core_lo = core_lo.min(y);
        core_hi = core_hi.max(y);
    }
    let pad = (0.75 * (core_hi - core_lo)).max(0.5);
    let (cap_lo, cap_hi) = (core_lo - pad, core_hi + pad);
    let (mut lo, mut hi) = (core_lo, core_hi);
    let mut widen = |a: f64, b: f64| {
        lo = lo.min(a.max(cap_lo));
        hi = hi.max(b.min(cap_hi));
    };
    for (a, b) in (0..fit.k).map(|i| fit.study_ci(i)) {
        widen(a, b);
    }
    if let Some((a, b)) = pi {
        widen(a, b);
    }
    for g in &opts.subgroups {
        widen(g.fit.ci_lb, g.fit.ci_ub);
    }
    (lo, hi)
}

fn fmt_value(v: Option<f64>) -> String {
    match v {
        Some(x) => format!("{x}"),
        None => "–".into(),
    }
}

/// Raw-data columns of the studies that entered the fit, as the data were given (events/total,
/// mean (SD), n, ...), for the forest plot and the report's study table.
pub fn data_columns(data: &Data, set: &EffectSet) -> Vec<TextColumn> {
    let rows = &set.rows;
    let col = |h1: &str, h2: &str, f: &dyn Fn(usize) -> String| TextColumn {
        header: vec![h1.to_string(), h2.to_string()],
        values: rows.iter().map(|&r| f(r)).collect(),
    };
    let frac = |x: Option<f64>, n: Option<f64>| format!("{}/{}", fmt_value(x), fmt_value(n));
    let total = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a + b);
    let msn = |m: Option<f64>, s: Option<f64>, n: Option<f64>| {
        format!("{} ({}), {}", fmt_value(m), fmt_value(s), fmt_value(n))
    };
    match data {
        Data::TwoByTwo { ai, bi, ci, di } => vec![
            col("Experimental", "Events/Total", &|r| {
                frac(ai[r], total(ai[r], bi[r]))
            }),
            col("Control", "Events/Total", &|r| {
                frac(ci[r], total(ci[r], di[r]))
            }),
        ],
        Data::Means {
            m1i,
            sd1i,
            n1i,
            m2i,
            sd2i,
            n2i,
        } => vec![
            col("Experimental", "Mean (SD), N", &|r| {
                msn(m1i[r], sd1i[r], n1i[r])
            }),
            col("Control", "Mean (SD), N", &|r| msn(m2i[r], sd2i[r], n2i[r])),
        ],
        Data::Incidence { x1i, t1i, x2i, t2i } => vec![
            col("Experimental", "Events/Time", &|r| frac(x1i[r], t1i[r])),
            col("Control", "Events/Time", &|r| frac(x2i[r], t2i[r])),
        ],
        Data::Proportion { xi, ni } => vec![col("", "Events/Total", &|r| frac(xi[r], ni[r]))],
        Data::Correlation { ni, .. } => vec![col("", "N", &|r| fmt_value(ni[r]))],
        Data::Precomputed { .. } | Data::ReportedRatio { .. } => Vec::new(),
    }
}
