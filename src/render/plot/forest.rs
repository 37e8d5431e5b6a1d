//! Forest plots (Lewis & Clarke 2001, *BMJ* 322:1479–80) drawn from fitted models.
//!
//! Every number shown comes from the fit: study estimates and variances, model weights, the
//! pooled estimate and its interval, the prediction interval and the heterogeneity statistics.
//! Study intervals are the Wald intervals yi ± z·√vi at the fit's confidence level, as metafor's
//! `forest()` draws them.

use super::axis::{null_position, Axis};
use super::figure::{Anchor, Color, Figure, Shape};
use super::fonts::text_width;
use super::format::{estimate_ci, num, p_clause, tau2};
use crate::data::{Data, Value};
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::model::RmaFit;
use crate::model::Test;
use crate::moderators::subgroup::Subgroup;
use crate::moderators::SubgroupFit;

pub use super::rob::{rob_columns, RobColumn, RobLevel};

/// Body text size in pixels (9 pt).
pub const FONT: f64 = 12.0;
const SMALL: f64 = 11.0;
const ROW: f64 = 20.0;
const HEADER_LINE: f64 = 16.0;
const MARGIN: f64 = 20.0;
const GAP: f64 = 16.0;
const MIN_PANEL: f64 = 300.0;
/// Indent of study labels under a subgroup header.
const INDENT: f64 = 10.0;
/// Radius of risk-of-bias lights and the gap between their columns.
const ROB_R: f64 = 7.5;
const ROB_GAP: f64 = 10.0;

/// Ink of study squares (and how tests find them in the SVG).
pub const STUDY_COLOR: Color = Color(0x2B, 0x4A, 0x6F);
/// Ink of the overall summary diamond.
pub const SUMMARY_COLOR: Color = Color(0x11, 0x11, 0x11);
/// Ink of subgroup diamonds.
pub const SUBGROUP_COLOR: Color = Color(0x6B, 0x6B, 0x6B);
/// Ink of the prediction-interval bar.
pub const PI_COLOR: Color = Color(0xB2, 0x18, 0x2B);
const TEXT: Color = super::figure::INK;
const MUTED: Color = Color(0x55, 0x55, 0x55);
const RULE: Color = Color(0x99, 0x99, 0x99);
const WHISKER: Color = Color(0x22, 0x22, 0x22);

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
    pub values: Vec<String>,
}

/// What to draw besides the studies and the pooled estimate.
#[derive(Debug, Clone)]
pub struct ForestOptions {
    pub title: Option<String>,
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
    pub show_prediction: bool,
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
        p_clause(qb.pval),
        p_clause(qm.pval)
    )
}

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
        p_clause(h.q_pval)
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
        Test::Z => "",
    };
    format!(
        "Test for overall effect: {stat}, {}{how}",
        p_clause(fit.pval)
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

/// Lays out the forest plot of `fit`.
pub fn forest(fit: &RmaFit, opts: &ForestOptions) -> Result<Figure> {
    check_columns(fit, opts)?;
    let k = fit.k;
    let scale = fit.effects.scale;
    let d = opts.decimals;
    let ci = |i: usize| fit.study_ci[i];
    let pi = if opts.show_prediction && !fit.options.method.is_fixed() && k > 1 {
        fit.prediction()
    } else {
        None
    };

    // Rows, top to bottom.
    let mut rows: Vec<Row> = Vec::new();
    if opts.subgroups.is_empty() {
        let mut idx: Vec<usize> = (0..k).collect();
        order(fit, &mut idx, &opts.sort)?;
        rows.extend(idx.into_iter().map(Row::Study));
    } else {
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
    }
    if opts.subgroups.is_empty() {
        rows.push(Row::Blank);
    }
    rows.push(Row::Summary {
        fit,
        label: model_name(fit),
        weight: 100.0,
        overall: true,
    });
    if pi.is_some() {
        rows.push(Row::Prediction(fit));
    }

    // Texts of the left and right columns, per row.
    let (short, long) = effect_names(fit);
    let est_header = format!("{short} [{}% CI]", num(fit.options.level.percent(), 0));
    let label_text = |r: &Row| -> (String, bool, f64) {
        match r {
            Row::Header(n) => (n.to_string(), true, FONT),
            Row::Study(i) => (fit.effects.labels[*i].clone(), false, FONT),
            Row::Summary { label, .. } => (label.clone(), true, FONT),
            Row::Prediction(_) => ("Prediction interval".into(), false, FONT),
            Row::Note(t) => (t.clone(), false, SMALL),
            Row::Blank => (String::new(), false, FONT),
        }
    };
    let est_text = |r: &Row| -> Option<(String, bool)> {
        match r {
            Row::Study(i) => {
                let (lb, ub) = ci(*i);
                Some((
                    estimate_ci(
                        scale.back(fit.effects.yi[*i]),
                        scale.back(lb),
                        scale.back(ub),
                        d,
                    ),
                    false,
                ))
            }
            Row::Summary { fit: f, .. } => Some((
                estimate_ci(
                    scale.back(f.estimate),
                    scale.back(f.ci_lb),
                    scale.back(f.ci_ub),
                    d,
                ),
                true,
            )),
            Row::Prediction(f) => f.prediction().map(|p| {
                (
                    format!(
                        "[{}, {}]",
                        num(scale.back(p.lb), d),
                        num(scale.back(p.ub), d)
                    ),
                    false,
                )
            }),
            _ => None,
        }
    };
    let weight_text = |r: &Row| -> Option<(String, bool)> {
        match r {
            Row::Study(i) => Some((format!("{:.1}%", fit.weights[*i]), false)),
            Row::Summary { weight, .. } => Some((format!("{weight:.1}%"), true)),
            _ => None,
        }
    };

    // Column widths from the text they hold.
    let width_of = |t: &str, bold: bool, size: f64| text_width(t, size, bold);
    let mut label_w = width_of("Study", true, FONT);
    let mut note_w: f64 = 0.0;
    for r in &rows {
        let (t, b, s) = label_text(r);
        if matches!(r, Row::Note(_)) {
            note_w = note_w.max(width_of(&t, b, s));
        } else {
            label_w = label_w.max(width_of(&t, b, s));
        }
    }
    let col_w: Vec<f64> = opts
        .columns
        .iter()
        .map(|c| {
            let h = c
                .header
                .iter()
                .map(|t| width_of(t, true, FONT))
                .fold(0.0, f64::max);
            c.values
                .iter()
                .map(|t| width_of(t, false, FONT))
                .fold(h, f64::max)
        })
        .collect();
    if !opts.subgroups.is_empty() {
        label_w += INDENT;
    }
    // Subgroup notes span the left columns; widen the label column if they need more room.
    let left_w = label_w + col_w.iter().map(|w| w + GAP).sum::<f64>();
    if note_w > left_w {
        label_w += note_w - left_w;
    }
    let mut est_w = width_of(&est_header, true, FONT);
    let mut wt_w = width_of("Weight", true, FONT);
    for r in &rows {
        if let Some((t, b)) = est_text(r) {
            est_w = est_w.max(width_of(&t, b, FONT));
        }
        if let Some((t, b)) = weight_text(r) {
            wt_w = wt_w.max(width_of(&t, b, FONT));
        }
    }

    // Axis limits on the analysis scale.
    let axis = match opts.xlim {
        Some((a, b)) => Axis::from_limits(scale, a, b)?,
        None => {
            let (lo, hi) = default_limits(fit, opts, &ci, pi.map(|p| (p.lb, p.ub)));
            Axis::new(scale, lo, hi, false)
        }
    };

    // Panel width: room for the tick labels and the headers over it.
    let mut panel_w = MIN_PANEL.max(width_of(&long, false, FONT) + 2.0 * GAP);
    for w in axis.ticks.windows(2) {
        let (fa, fb) = (
            (w[0].0 - axis.lo) / (axis.hi - axis.lo),
            (w[1].0 - axis.lo) / (axis.hi - axis.lo),
        );
        let need = (width_of(&w[0].1, false, SMALL) + width_of(&w[1].1, false, SMALL)) / 2.0 + 8.0;
        if fb > fa {
            panel_w = panel_w.max(need / (fb - fa));
        }
    }
    let null = null_position(fit.effects.measure, scale);
    let null_frac = null.map_or(0.5, |n| (n - axis.lo) / (axis.hi - axis.lo));
    let favours = opts
        .favours
        .as_ref()
        .map(|(a, b)| (format!("← {a}"), format!("{b} →")));
    let null_f = if (0.0..=1.0).contains(&null_frac) {
        null_frac
    } else {
        0.5
    };
    if let Some((a, b)) = &favours {
        // Each label sits on its side of the line of no effect (or of the centre), under the panel.
        let (wa, wb) = (
            width_of(a, false, SMALL) + 6.0,
            width_of(b, false, SMALL) + 6.0,
        );
        panel_w = panel_w.max(wa + wb + 12.0);
        // Room on both sides of no effect unless it sits near an end (then the labels shift).
        if (0.25..=0.75).contains(&null_f) {
            panel_w = panel_w.max(wa / null_f).max(wb / (1.0 - null_f));
        }
    }
    panel_w = panel_w.ceil();

    // Horizontal positions.
    let x_label = MARGIN;
    let mut x = x_label + label_w + GAP;
    let mut col_x = Vec::new(); // right edges
    for w in &col_w {
        x += w;
        col_x.push(x);
        x += GAP;
    }
    let px0 = x + 4.0;
    let px1 = px0 + panel_w;
    let x_est = px1 + GAP + est_w; // right edge
    let x_wt = x_est + GAP + wt_w; // right edge
    let mut rob_x = Vec::new(); // centres
    let mut x_end = x_wt;
    for c in &opts.rob {
        let w = width_of(&c.header, true, FONT).max(2.0 * ROB_R);
        rob_x.push(x_end + ROB_GAP + w / 2.0);
        x_end += ROB_GAP + w;
    }
    let mut width = x_end + MARGIN;

    // Vertical positions.
    let mut fig = Figure::default();
    let mut y = MARGIN;
    width = width.max(fig.title(x_label, &mut y, opts.title.as_deref()) + MARGIN);
    let n_header = opts
        .columns
        .iter()
        .map(|c| c.header.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let header_bottom = y + n_header as f64 * HEADER_LINE + 4.0;
    let last_line = |i: usize| y + (i as f64 + 0.5) * HEADER_LINE;
    let hy = last_line(n_header - 1);
    fig.text(x_label, hy, "Study", FONT, true, Anchor::Start, TEXT);
    for (c, &xr) in opts.columns.iter().zip(&col_x) {
        let off = n_header - c.header.len();
        for (j, h) in c.header.iter().enumerate() {
            fig.text(xr, last_line(off + j), h, FONT, true, Anchor::End, TEXT);
        }
    }
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
    fig.text(x_wt, hy, "Weight", FONT, true, Anchor::End, TEXT);
    for (c, &xc) in opts.rob.iter().zip(&rob_x) {
        fig.text(xc, hy, &c.header, FONT, true, Anchor::Middle, TEXT);
    }
    let rule_y = header_bottom;
    let body_top = rule_y + 6.0;

    let row_y = |i: usize| body_top + (i as f64 + 0.5) * ROW;
    let max_w = fit.weights.iter().copied().fold(0.0, f64::max);
    let mut first_summary = None;
    for (i, r) in rows.iter().enumerate() {
        let yc = row_y(i);
        let (t, b, s) = label_text(r);
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
        fig.text(x_label + indent, yc, t, s, b, Anchor::Start, color);
        if let Row::Study(j) = r {
            for (c, &xr) in opts.columns.iter().zip(&col_x) {
                fig.text(xr, yc, &c.values[*j], FONT, false, Anchor::End, TEXT);
            }
            for (c, &xc) in opts.rob.iter().zip(&rob_x) {
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
        if let Some((t, b)) = est_text(r) {
            fig.text(x_est, yc, t, FONT, b, Anchor::End, TEXT);
        }
        if let Some((t, b)) = weight_text(r) {
            fig.text(x_wt, yc, t, FONT, b, Anchor::End, TEXT);
        }
        match r {
            Row::Study(j) => {
                let (lb, ub) = ci(*j);
                let side = if max_w > 0.0 {
                    (ROW * 0.75 * (fit.weights[*j] / max_w).sqrt()).max(4.0)
                } else {
                    6.0
                };
                interval(&mut fig, &axis, px0, px1, yc, lb, ub, WHISKER, 1.0);
                let yi = fit.effects.yi[*j];
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
            Row::Summary {
                fit: f, overall, ..
            } => {
                if *overall && first_summary.is_none() {
                    first_summary = Some(i);
                }
                let clamp = |v: f64| axis.map(v.clamp(axis.lo, axis.hi), px0, px1);
                let h = ROW * 0.36;
                fig.shapes.push(Shape::Polygon {
                    points: vec![
                        (clamp(f.ci_lb), yc),
                        (clamp(f.estimate), yc - h),
                        (clamp(f.ci_ub), yc),
                        (clamp(f.estimate), yc + h),
                    ],
                    fill: Some(if *overall {
                        SUMMARY_COLOR
                    } else {
                        SUBGROUP_COLOR
                    }),
                    stroke: None,
                });
                // A diamond cut by the axis limits says so with arrows, like a study interval.
                for (cut, tip, dir) in [
                    (f.ci_lb < axis.lo, px0, -1.0),
                    (f.ci_ub > axis.hi, px1, 1.0),
                ] {
                    if cut {
                        fig.shapes.push(Shape::Polygon {
                            points: vec![
                                (tip + dir * 7.0, yc),
                                (tip + dir * 1.0, yc - 3.5),
                                (tip + dir * 1.0, yc + 3.5),
                            ],
                            fill: Some(WHISKER),
                            stroke: None,
                        });
                    }
                }
            }
            Row::Prediction(f) => {
                if let Some(p) = f.prediction() {
                    interval(&mut fig, &axis, px0, px1, yc, p.lb, p.ub, PI_COLOR, 2.0);
                }
            }
            _ => {}
        }
    }
    let body_bottom = body_top + rows.len() as f64 * ROW + 4.0;

    // Rules under the header and above the axis region, and the line of no effect.
    fig.line((x_label, rule_y), (x_end, rule_y), RULE, 1.0);
    if let Some(xn) = null
        .filter(|n| *n >= axis.lo && *n <= axis.hi)
        .map(|n| axis.map(n, px0, px1))
    {
        fig.line(
            (xn, body_top),
            (xn, body_bottom),
            Color(0x44, 0x44, 0x44),
            1.0,
        );
    }
    if let Some(i) = first_summary {
        if fit.estimate >= axis.lo && fit.estimate <= axis.hi && !rows.is_empty() {
            let xe = axis.map(fit.estimate, px0, px1);
            fig.shapes.push(Shape::Line {
                points: vec![(xe, body_top), (xe, row_y(i) - ROW * 0.36)],
                color: RULE,
                width: 1.0,
                dash: Some((3.0, 3.0)),
            });
        }
    }

    // Axis.
    let ay = body_bottom;
    fig.line((px0, ay), (px1, ay), TEXT, 1.0);
    for (pos, lab) in &axis.ticks {
        let xt = axis.map(*pos, px0, px1);
        fig.line((xt, ay), (xt, ay + 5.0), TEXT, 1.0);
        fig.text(xt, ay + 14.0, lab, SMALL, false, Anchor::Middle, TEXT);
    }
    let mut y = ay + 14.0 + 18.0;
    if let Some((a, b)) = &favours {
        let (wa, wb) = (width_of(a, false, SMALL), width_of(b, false, SMALL));
        let xn = (px0 + null_f * panel_w).clamp(px0 + wa + 6.0, px1 - wb - 6.0);
        fig.text(xn - 6.0, y, a, SMALL, false, Anchor::End, MUTED);
        fig.text(xn + 6.0, y, b, SMALL, false, Anchor::Start, MUTED);
        y += 18.0;
    }
    y += 6.0;
    // With one study there is no heterogeneity to speak of.
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
        notes.push(
            "Risk of bias: + low; \u{2212} some concerns; \u{00D7} high; ? no information".into(),
        );
    }
    for n in notes {
        width = width.max(x_label + width_of(&n, false, SMALL) + MARGIN);
        fig.text(x_label, y, n, SMALL, false, Anchor::Start, TEXT);
        y += 16.0;
    }
    fig.width = width.ceil();
    fig.height = (y + MARGIN - 8.0).ceil();
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
        p_clause(f.het.q_pval)
    ));
    s
}

/// Default axis limits (analysis scale): the study intervals, the pooled intervals and the line
/// of no effect, with very wide study intervals cut (they get arrows) so that they do not squash
/// the rest.
fn default_limits(
    fit: &RmaFit,
    opts: &ForestOptions,
    ci: &dyn Fn(usize) -> (f64, f64),
    pi: Option<(f64, f64)>,
) -> (f64, f64) {
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
    for i in 0..fit.k {
        let (a, b) = ci(i);
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
