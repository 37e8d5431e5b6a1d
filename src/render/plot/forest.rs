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
use super::parts::{self, clipped_diamond, diamond_cut, interval, pooled_guide, row_y, x_axis};
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
use crate::multilevel::Fitted;
use crate::render::pvalue::{p_value, PStyle};

pub use super::rob::{is_rob_column, rob_columns, RobColumn, RobLevel};
pub use super::size::PlotSize;
pub use revman::{
    column_totals, revman_columns, subgroup_differences_line, ArmTotals, ColumnTotals,
    RevmanLayout, Span,
};

pub use layout::{Arms, ForestLayout};
pub use multilevel::{multilevel_layout, Cluster, MultilevelLayout, RobustRow};

mod layout;
mod multilevel;
mod revman;
mod sized;
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
/// Ink of a meta-regression's fitted-value diamonds (metafor's `gray`).
pub const FITTED_COLOR: Color = Color(0xBE, 0xBE, 0xBE);

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
    /// Print the test for the overall effect under the plot (the report leaves out the test of
    /// p = 0.5 for proportions unless asked).
    pub overall_test: bool,
    /// RevMan 5's layout (method in the headers, Total rows, RevMan's texts); `None` for
    /// evident's own.
    pub revman: Option<RevmanLayout>,
    /// Studies of the data that give no effect (e.g. no events in either arm), drawn as
    /// "Not estimable" rows rather than left out unseen.
    pub not_estimable: Vec<NotEstimable>,
    /// A second pooled model drawn with the first: the common-effect diamond beside the
    /// random-effects one (or the reverse), each with its own weights.
    pub other_model: Option<OtherModel>,
    /// The size of the figure: width and height, body font size.
    pub size: PlotSize,
    /// A multilevel model's clusters, label, heterogeneity and robust row; `None` for others.
    pub multilevel: Option<MultilevelLayout>,
    /// A pooled result that leads the model's (the report's binomial-normal GLMM of single
    /// proportions): the first, bold overall diamond; the model's row is then labelled as the
    /// sensitivity analysis.
    pub lead_pooled: Option<RobustRow>,
}

/// A study without an effect, shown in its place with "Not estimable".
#[derive(Debug, Clone, PartialEq)]
pub struct NotEstimable {
    /// The study's label.
    pub label: String,
    /// 0-based row of the study in the data (orders it among the fitted studies).
    pub row: usize,
    /// Its cells of the text columns, in their order.
    pub values: Vec<String>,
    /// The subgroup it belongs to, when the plot has subgroups.
    pub group: Option<String>,
    /// Why it has no effect.
    pub reason: String,
}

/// A second pooled model's estimate, interval and weights (copied from its fit).
#[derive(Debug, Clone, PartialEq)]
pub struct OtherModel {
    /// Whether it is the common-effect (fixed) model.
    pub fixed: bool,
    /// Its summary row's label.
    pub label: String,
    /// Estimate on the analysis scale.
    pub estimate: f64,
    /// Lower confidence limit on the analysis scale.
    pub ci_lb: f64,
    /// Upper confidence limit on the analysis scale.
    pub ci_ub: f64,
    /// Its weights in percent, one per study of the plotted fit.
    pub weights: Vec<f64>,
    /// Its test for the overall effect.
    pub test: String,
}

impl OtherModel {
    /// The second model from its fit (to the same studies as the plotted one).
    pub fn from_fit(f: &RmaFit, revman: bool) -> OtherModel {
        let fixed = f.options.method.is_fixed();
        let test = if revman {
            revman::overall_line(f)
        } else {
            overall_test_line(f)
        };
        let name = if fixed {
            "common effect"
        } else {
            "random effects"
        };
        OtherModel {
            fixed,
            label: if revman {
                format!(
                    "Total ({}, {}% CI)",
                    if fixed { "fixed" } else { "random" },
                    num(f.options.level.percent(), 0)
                )
            } else {
                model_name(f)
            },
            estimate: f.estimate,
            ci_lb: f.ci_lb,
            ci_ub: f.ci_ub,
            weights: f.weights.clone(),
            test: test.replacen("overall effect", &format!("overall effect ({name})"), 1),
        }
    }
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
            overall_test: true,
            revman: None,
            not_estimable: Vec::new(),
            other_model: None,
            size: PlotSize::default(),
            multilevel: None,
            lead_pooled: None,
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

/// The name of the model for the summary row (Mantel–Haenszel and Peto by their names).
fn model_name(fit: &RmaFit) -> String {
    crate::render::pooling::model_label(fit)
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
    match &fit.tau2_ci {
        Some(ci) if ci.null => s.push_str(" (CI: empty set)"),
        Some(ci) => s.push_str(&format!(" [{:.0}%, {:.0}%]", ci.i2_lb, ci.i2_ub)),
        None => {}
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
    if let Some(names) = reported_ratio_names(&fit.effects) {
        return names;
    }
    effect_names_of(fit.effects.measure, fit.effects.scale)
}

/// For reported ratios of one kind (a `measure` column saying OR, RR, HR, ... on every row), the
/// kind's short and full names; `None` for other effects and for mixed or unnamed ratios.
fn reported_ratio_names(set: &EffectSet) -> Option<(String, String)> {
    if set.measure != crate::measure::Measure::GEN || set.scale != Scale::Log {
        return None;
    }
    let col = set.find_moderator("measure")?;
    let mut kinds = col.values.iter().map(|v| match v {
        Value::Text(t) => t.trim().to_ascii_uppercase(),
        _ => String::new(),
    });
    let first = kinds.next()?;
    if kinds.any(|k| k != first) {
        return None;
    }
    let long = match first.as_str() {
        "OR" => "Odds ratio",
        "RR" => "Risk ratio",
        "HR" => "Hazard ratio",
        "IRR" => "Incidence rate ratio",
        "PETO" => "Odds ratio",
        "ROM" => "Ratio of means",
        "SHR" => "Subdistribution hazard ratio",
        "CSHR" => "Cause-specific hazard ratio",
        _ => return None,
    };
    let short = if first == "PETO" { "OR".into() } else { first };
    Some((short, format!("{long} (log scale)")))
}

/// [`effect_names`] for a measure on its analysis scale.
pub(crate) fn effect_names_of(m: crate::measure::Measure, scale: Scale) -> (String, String) {
    use crate::measure::Measure::*;
    let short = match m {
        GEN => match scale {
            Scale::Log => "Ratio".to_string(),
            Scale::Logit | Scale::Arcsine | Scale::FreemanTukey(_) => "Proportion".to_string(),
            Scale::FisherZ => "Correlation".to_string(),
            Scale::SquareRoot | Scale::FreemanTukeyRate(_) => "Rate".to_string(),
            Scale::Identity => "Estimate".to_string(),
        },
        PLO | PR | PLN | PAS | PFT => "Proportion".into(),
        IR | IRLN | IRS | IRFT => "Rate".into(),
        ZCOR | COR | UCOR => "Correlation".into(),
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
        PLO | PR | PAS | PFT => "Proportion".into(),
        PLN => "Proportion".into(),
        IR | IRLN | IRS | IRFT => "Incidence rate".into(),
        ZCOR | COR | UCOR => "Correlation".into(),
        ROM => "Ratio of means".into(),
        VR => "Variability ratio".into(),
        CVR => "Coefficient-of-variation ratio".into(),
        SMDH => "Standardised mean difference (unequal variances)".into(),
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
    for n in &opts.not_estimable {
        if n.values.len() > opts.columns.len() {
            return Err(Error::invalid(format!(
                "study '{}' without an effect has {} cells for {} columns",
                n.label,
                n.values.len(),
                opts.columns.len()
            )));
        }
    }
    if let Some(o) = &opts.other_model {
        if o.weights.len() != fit.k {
            return Err(Error::invalid(format!(
                "the second model has {} weights for {} studies",
                o.weights.len(),
                fit.k
            )));
        }
    }
    if let Some(r) = &opts.revman {
        if !r.subtotals.is_empty() && r.subtotals.len() != opts.subgroups.len() {
            return Err(Error::invalid("one subtotal per subgroup is needed"));
        }
        if r.spans
            .iter()
            .any(|sp| sp.first > sp.last || sp.last >= opts.columns.len())
        {
            return Err(Error::invalid(
                "a spanning header covers columns the plot does not have",
            ));
        }
    }
    for c in opts.multilevel.iter().flat_map(|m| &m.clusters) {
        if c.members.iter().any(|&i| i >= fit.k) {
            return Err(Error::invalid(format!(
                "cluster '{}' refers to rows the fit does not have",
                c.name
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
    /// A study without an effect (index into `not_estimable`).
    NotEstimable(usize),
    Summary {
        fit: &'a RmaFit,
        label: String,
        weight: f64,
        overall: bool,
        /// The text columns' cells (RevMan's totals per arm).
        cells: Option<&'a [String]>,
    },
    /// The second model's summary.
    Other(&'a OtherModel),
    /// A pooled result leading the model's ([`ForestOptions::lead_pooled`]).
    Lead(&'a RobustRow),
    /// A multilevel model's cluster-robust interval.
    Robust(&'a RobustRow),
    /// RevMan's "Total events" row.
    Totals(&'a [String]),
    Prediction(&'a RmaFit),
    Note(String),
    Blank,
}

impl Row<'_> {
    /// The text on the left: (text, bold, size).
    fn label(&self, fit: &RmaFit, opts: &ForestOptions) -> (String, bool, f64) {
        match self {
            Row::Header(n) => (n.to_string(), true, FONT),
            Row::Study(i) => (fit.effects.labels[*i].clone(), false, FONT),
            Row::NotEstimable(i) => (opts.not_estimable[*i].label.clone(), false, FONT),
            Row::Other(o) => (o.label.clone(), true, FONT),
            Row::Robust(r) => (r.label.clone(), false, FONT),
            Row::Lead(r) => (r.label.clone(), true, FONT),
            Row::Totals(_) => ("Total events".into(), false, FONT),
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
            Row::Other(o) => Some((display_ci(scale, o.estimate, o.ci_lb, o.ci_ub, d), true)),
            Row::Robust(r) => Some((display_ci(scale, r.estimate, r.ci_lb, r.ci_ub, d), false)),
            Row::Lead(r) => Some((display_ci(scale, r.estimate, r.ci_lb, r.ci_ub, d), true)),
            Row::NotEstimable(_) => Some(("Not estimable".into(), false)),
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

    /// The second model's weight column: (text, bold).
    fn weight2(&self, opts: &ForestOptions) -> Option<(String, bool)> {
        let o = opts.other_model.as_ref()?;
        match self {
            Row::Study(i) => Some((format!("{:.1}%", o.weights[*i]), false)),
            Row::Other(_) => Some(("100.0%".into(), true)),
            _ => None,
        }
    }

    /// The cells of the text columns: (text, bold).
    fn col_texts<'b>(&'b self, opts: &'b ForestOptions) -> Vec<(&'b str, bool)> {
        match self {
            Row::Study(j) => opts
                .columns
                .iter()
                .map(|c| (c.values[*j].as_str(), false))
                .collect(),
            Row::NotEstimable(j) => opts.not_estimable[*j]
                .values
                .iter()
                .map(|v| (v.as_str(), false))
                .collect(),
            Row::Summary { cells: Some(c), .. } => c.iter().map(|v| (v.as_str(), true)).collect(),
            Row::Totals(c) => c.iter().map(|v| (v.as_str(), false)).collect(),
            _ => Vec::new(),
        }
    }
}

/// The overall model's row: its label (the model, or RevMan's "Total (95% CI)") and cells.
fn overall_row<'a>(
    fit: &'a RmaFit,
    label: Option<&str>,
    rv: Option<&'a RevmanLayout>,
    other: Option<&'a OtherModel>,
    total: Option<&'a ColumnTotals>,
) -> Row<'a> {
    let ci = |what: &str| format!("{what} ({}% CI)", num(fit.options.level.percent(), 0));
    Row::Summary {
        fit,
        label: match (rv, other) {
            (Some(_), None) => ci("Total"),
            (Some(_), Some(_)) => format!(
                "Total ({}, {}% CI)",
                if fit.options.method.is_fixed() {
                    "fixed"
                } else {
                    "random"
                },
                num(fit.options.level.percent(), 0)
            ),
            (None, _) => label.map_or_else(|| model_name(fit), str::to_string),
        },
        weight: 100.0,
        overall: true,
        cells: total.map(|t| t.summary.as_slice()),
    }
}

/// The rows: the studies (by subgroup, each closed by its subtotal and heterogeneity), the
/// overall summary (and the second model's) and, if `prediction`, the prediction interval.
fn rows<'a>(fit: &'a RmaFit, opts: &'a ForestOptions, prediction: bool) -> Result<Vec<Row<'a>>> {
    let rv = opts.revman.as_ref();
    let ci = |what: &str| format!("{what} ({}% CI)", num(fit.options.level.percent(), 0));
    let mut rows: Vec<Row> = Vec::new();
    let ml = opts.multilevel.as_ref();
    let clusters = ml.map_or(&[][..], |m| &m.clusters[..]);
    if opts.subgroups.is_empty() && clusters.is_empty() {
        let mut idx: Vec<usize> = (0..fit.k).collect();
        order(fit, &mut idx, &opts.sort)?;
        study_rows(fit, opts, &mut rows, idx, None);
        rows.push(Row::Blank);
    }
    for c in clusters {
        rows.push(Row::Header(&c.name));
        let mut idx = c.members.clone();
        order(fit, &mut idx, &opts.sort)?;
        rows.extend(idx.into_iter().map(Row::Study));
    }
    if !clusters.is_empty() {
        rows.push(Row::Blank);
    }
    for (gi, g) in opts.subgroups.iter().enumerate() {
        rows.push(Row::Header(&g.name));
        let mut idx = g.members.clone();
        order(fit, &mut idx, &opts.sort)?;
        study_rows(fit, opts, &mut rows, idx, Some(&g.name));
        let sub = rv.and_then(|r| r.subtotals.get(gi));
        rows.push(Row::Summary {
            fit: &g.fit,
            label: match rv {
                Some(_) => ci("Subtotal"),
                None => format!("Subtotal ({} {})", g.members.len(), plural(g.members.len())),
            },
            weight: g.members.iter().map(|&i| fit.weights[i]).sum(),
            overall: false,
            cells: sub.map(|t| t.summary.as_slice()),
        });
        match rv {
            Some(_) => revman::close_group(&mut rows, sub, Some(&g.fit)),
            None => rows.push(Row::Note(subgroup_note(&g.fit))),
        }
        rows.push(Row::Blank);
    }
    if !opts.subgroups.is_empty() {
        // Studies without an effect whose group has no fitted study keep a place of their own.
        let n = rows.len();
        rows.extend(
            opts.not_estimable
                .iter()
                .enumerate()
                .filter(|(_, n)| {
                    !opts
                        .subgroups
                        .iter()
                        .any(|g| n.group.as_deref() == Some(g.name.as_str()))
                })
                .map(|(i, _)| Row::NotEstimable(i)),
        );
        if rows.len() > n {
            rows.push(Row::Blank);
        }
    }
    let total = rv.and_then(|r| r.total.as_ref());
    let other = opts.other_model.as_ref();
    rows.extend(other.filter(|o| o.fixed).map(Row::Other));
    // A single study is not pooled: no model row (RevMan's layout keeps its Total row); nor
    // is a meta-regression, whose fitted values are drawn on the study rows.
    let metareg = fitted(opts).is_some();
    if !metareg && (fit.k > 1 || rv.is_some() || !opts.subgroups.is_empty()) {
        rows.extend(opts.lead_pooled.iter().map(Row::Lead));
        let sensitivity = opts.lead_pooled.as_ref().map(|_| {
            let name = model_name(fit);
            let mut c = name.chars();
            let rest: String = c
                .next()
                .map_or(String::new(), |f| f.to_lowercase().chain(c).collect());
            format!("Sensitivity: {rest}")
        });
        let label = ml
            .map(|m| m.model_label.as_str())
            .or(sensitivity.as_deref());
        rows.push(overall_row(fit, label, rv, other, total));
    }
    rows.extend(ml.and_then(|m| m.robust.as_ref()).map(Row::Robust));
    rows.extend(other.filter(|o| !o.fixed).map(Row::Other));
    if rv.is_some() {
        revman::close_group(&mut rows, total, None);
    }
    if prediction && !metareg {
        rows.push(Row::Prediction(fit));
    }
    Ok(rows)
}

/// A multilevel meta-regression's fitted values, one per row of the fit; `None` otherwise.
fn fitted(opts: &ForestOptions) -> Option<&[Fitted]> {
    opts.multilevel
        .as_ref()
        .map(|m| m.fitted.as_slice())
        .filter(|f| !f.is_empty())
}

/// The study rows of `idx` (already ordered) with the studies without an effect of the same
/// group: in data order when the studies are as given, otherwise after them.
fn study_rows<'a>(
    fit: &RmaFit,
    opts: &'a ForestOptions,
    rows: &mut Vec<Row<'a>>,
    idx: Vec<usize>,
    group: Option<&str>,
) {
    let ne = opts
        .not_estimable
        .iter()
        .enumerate()
        .filter(|(_, n)| group.is_none() || n.group.as_deref() == group);
    if opts.sort == SortOrder::AsGiven {
        let data_row = |i: usize| fit.effects.rows.get(i).copied().unwrap_or(i);
        let mut all: Vec<(usize, Row)> = idx
            .into_iter()
            .map(|i| (data_row(i), Row::Study(i)))
            .collect();
        all.extend(ne.map(|(j, n)| (n.row, Row::NotEstimable(j))));
        all.sort_by_key(|(r, _)| *r);
        rows.extend(all.into_iter().map(|(_, r)| r));
    } else {
        rows.extend(idx.into_iter().map(Row::Study));
        rows.extend(ne.map(|(j, _)| Row::NotEstimable(j)));
    }
}

/// Whether study rows sit indented under headings (subgroups or clusters).
fn grouped(opts: &ForestOptions) -> bool {
    !opts.subgroups.is_empty() || opts.multilevel.iter().any(|m| !m.clusters.is_empty())
}

/// Column widths from the text they hold.
struct Widths {
    label: f64,
    /// The text columns'.
    cols: Vec<f64>,
    est: f64,
    /// Each weight column's (both alike when there are two).
    weight: f64,
}

/// Space between the table's columns: RevMan's layout is set tighter, as RevMan sets it.
fn gap(opts: &ForestOptions) -> f64 {
    if opts.revman.is_some() {
        10.0
    } else {
        GAP
    }
}

/// The header of the study labels.
fn study_header(opts: &ForestOptions) -> &'static str {
    if opts.revman.is_some() {
        "Study or Subgroup"
    } else {
        "Study"
    }
}

/// The headers of the weight columns: (primary, second model's), each one or two lines.
fn weight_headers(fit: &RmaFit, opts: &ForestOptions) -> (Vec<String>, Option<Vec<String>>) {
    match &opts.other_model {
        None => (vec!["Weight".into()], None),
        Some(o) => {
            let name = |fixed: bool| if fixed { "(common)" } else { "(random)" };
            (
                vec!["Weight".into(), name(fit.options.method.is_fixed()).into()],
                Some(vec!["Weight".into(), name(o.fixed).into()]),
            )
        }
    }
}

fn widths(fit: &RmaFit, opts: &ForestOptions, rows: &[Row], est_header: &[String]) -> Widths {
    let mut label = text_width(study_header(opts), FONT, true);
    let mut note: f64 = 0.0;
    for r in rows {
        let (t, b, s) = r.label(fit, opts);
        if matches!(r, Row::Note(_)) {
            note = note.max(text_width(&t, s, b));
        } else {
            label = label.max(text_width(&t, s, b));
        }
    }
    let mut cols: Vec<f64> = opts
        .columns
        .iter()
        .map(|c| {
            c.header
                .iter()
                .map(|t| text_width(t, FONT, true))
                .fold(0.0, f64::max)
        })
        .collect();
    for r in rows {
        for ((t, b), w) in r.col_texts(opts).into_iter().zip(cols.iter_mut()) {
            *w = w.max(text_width(t, FONT, b));
        }
    }
    // A spanning header needs the room of the columns under it (and their gaps).
    for sp in opts.revman.iter().flat_map(|r| &r.spans) {
        let under: f64 =
            cols[sp.first..=sp.last].iter().sum::<f64>() + gap(opts) * (sp.last - sp.first) as f64;
        let need = text_width(&sp.header, FONT, true);
        if need > under {
            cols[sp.last] += need - under;
        }
    }
    if grouped(opts) {
        label += INDENT;
    }
    let mut est = est_header
        .iter()
        .map(|h| text_width(h, FONT, true))
        .fold(0.0, f64::max);
    let (wh, wh2) = weight_headers(fit, opts);
    let mut weight = wh
        .iter()
        .chain(wh2.iter().flatten())
        .map(|h| text_width(h, FONT, true))
        .fold(0.0, f64::max);
    for r in rows {
        if let Some((t, b)) = r.estimate(fit, opts.decimals) {
            est = est.max(text_width(&t, FONT, b));
        }
        for (t, b) in r.weight(fit).into_iter().chain(r.weight2(opts)) {
            weight = weight.max(text_width(&t, FONT, b));
        }
    }
    // Subgroup notes span the left columns (in RevMan's layout also the weights and estimates
    // left of the panel); widen the label column if they need more room.
    let mut left = label + cols.iter().map(|w| w + gap(opts)).sum::<f64>();
    if opts.revman.is_some() {
        let n_weights = 1.0 + f64::from(u8::from(opts.other_model.is_some()));
        left += n_weights * (weight + gap(opts)) + est + gap(opts);
    }
    if note > left {
        label += note - left;
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
    /// Right edges of the estimates and the weights (the second model's too).
    est: f64,
    weight: f64,
    weight2: Option<f64>,
    /// Centres of the risk-of-bias columns.
    rob: Vec<f64>,
    /// Right edge of the table.
    end: f64,
}

/// Places the columns: labels, text columns, then the panel, estimates and weights (RevMan 5:
/// the weights and estimates, then the panel), then the risk of bias. With two models the
/// common-effect weights come first.
fn columns(w: &Widths, panel_w: f64, fit: &RmaFit, opts: &ForestOptions) -> Columns {
    let label = MARGIN;
    let mut x = label + w.label + gap(opts);
    let mut cols = Vec::new();
    for cw in &w.cols {
        x += cw;
        cols.push(x);
        x += gap(opts);
    }
    let weights = |x: &mut f64| -> (f64, Option<f64>) {
        *x += w.weight;
        let a = *x;
        if opts.other_model.is_none() {
            return (a, None);
        }
        *x += gap(opts) + w.weight;
        let b = *x;
        if fit.options.method.is_fixed() {
            (a, Some(b))
        } else {
            (b, Some(a))
        }
    };
    let (px0, px1, est, weight, weight2, end);
    if opts.revman.is_some() {
        (weight, weight2) = weights(&mut x);
        est = x + gap(opts) + w.est;
        px0 = est + gap(opts) + 4.0;
        px1 = px0 + panel_w;
        end = px1;
    } else {
        px0 = x + 4.0;
        px1 = px0 + panel_w;
        est = px1 + gap(opts) + w.est;
        let mut x = est + gap(opts);
        (weight, weight2) = weights(&mut x);
        end = x;
    }
    let mut rob_x = Vec::new();
    let mut end = end;
    for c in &opts.rob {
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
        weight2,
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

/// How near an end of the axis (as a fraction of it) the line of no effect may sit before a
/// default axis is widened to give the favours labels room on its outer side.
const FAVOURS_EDGE: f64 = 0.15;

/// Where no effect lies across the panel (0–1, clamped to the ends when it lies beyond them);
/// the centre for effects without a value of no effect.
fn null_fraction(axis: &Axis, null: Option<f64>) -> f64 {
    null.map_or(0.5, |n| {
        ((n - axis.lo) / (axis.hi - axis.lo)).clamp(0.0, 1.0)
    })
}

/// A default axis widened past the line of no effect where it sits too near an end for the
/// favours label of that side (the lupus plot's OR 1 at the left end put "← Favours
/// monotherapy" right of it): each label gets its own width beside the line on a panel as
/// wide as the ticks and both labels need.
fn favours_room(
    mut axis: Axis,
    scale: Scale,
    null: Option<f64>,
    long: &[String],
    favours: Option<&(String, String)>,
    bold: bool,
) -> Axis {
    let (Some(n), Some((a, b))) = (null, favours) else {
        return axis;
    };
    let (wa, wb) = (
        text_width(a, SMALL, false) + 6.0,
        text_width(b, SMALL, false) + 6.0,
    );
    // The panel is at least 1.3 times as wide as both labels, so that both sides can be met.
    // Once the line sits at the wanted fraction, widening to round ticks only adds room; a few
    // rounds settle it.
    for _ in 0..4 {
        let panel_w =
            panel_width(&axis, long, None, 0.5, (MIN_PANEL, bold)).max(1.3 * (wa + wb) + 12.0);
        let f = (n - axis.lo) / (axis.hi - axis.lo);
        let (need_a, need_b) = (wa / panel_w + 0.02, wb / panel_w + 0.02);
        let (lo, hi) = if f < need_a {
            (n - need_a * (axis.hi - n) / (1.0 - need_a), axis.hi)
        } else if 1.0 - f < need_b {
            (axis.lo, n + need_b * (n - axis.lo) / (1.0 - need_b))
        } else {
            break;
        };
        axis = Axis::new(scale, lo.min(axis.lo), hi.max(axis.hi), false);
    }
    axis
}

/// The panel's width, at least `min`: room for the effect's name over it, the tick labels and
/// the favours labels on their sides of no effect (at `null_f` across the panel).
fn panel_width(
    axis: &Axis,
    long: &[String],
    favours: Option<&(String, String)>,
    null_f: f64,
    (min, bold): (f64, bool),
) -> f64 {
    // The least panel lets the favours labels shift off no effect (as they do near an end).
    let strict = min >= MIN_PANEL;
    let name = long
        .iter()
        .map(|t| text_width(t, FONT, bold))
        .fold(0.0, f64::max);
    let mut panel_w = min.max(name + if bold { 12.0 } else { 2.0 * GAP });
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
        // RevMan's layout has the empty row under the estimates left of the panel: the left
        // label may run into it, so the least panel only needs room for the right one.
        panel_w = panel_w.max(if !strict && bold {
            wb + 12.0
        } else {
            wa + wb + 12.0
        });
        // Room on both sides of no effect unless it sits near an end (then the labels shift).
        if strict && (FAVOURS_EDGE..=1.0 - FAVOURS_EDGE).contains(&null_f) {
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
    w: Widths,
    x: Columns,
    panel_w: f64,
    /// The least panel width a sized figure may shrink the panel to.
    panel_min: f64,
    /// The estimate column's header, one or two lines.
    est_header: Vec<String>,
    /// The effect's name over the panel, one or two lines.
    long: Vec<String>,
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
        let (est_header, long) = match &opts.revman {
            Some(r) => {
                let name = revman::measure_name(fit.effects.measure, &effect_names(fit).0);
                let method = revman::method_header(fit, r);
                (vec![name.clone(), method.clone()], vec![name, method])
            }
            None => {
                let (e, l) = estimate_headers(fit);
                (vec![e], vec![l])
            }
        };
        let w = widths(fit, opts, &rows, &est_header);
        let null = null_position(fit.effects.measure, fit.effects.scale);
        let favours = opts
            .favours
            .as_ref()
            .map(|(a, b)| (format!("← {a}"), format!("{b} →")));
        // The panel's header is measured bold in RevMan's layout (evident's own keeps its
        // measure, so that its plots do not move).
        let bold = opts.revman.is_some();
        let mut axis = forest_axis(fit, opts, pi.map(|p| (p.lb, p.ub)))?;
        if opts.xlim.is_none() {
            axis = favours_room(axis, fit.effects.scale, null, &long, favours.as_ref(), bold);
        }
        let null_f = null_fraction(&axis, null);
        let panel_w = panel_width(&axis, &long, favours.as_ref(), null_f, (MIN_PANEL, bold));
        let panel_min = panel_width(
            &axis,
            &long,
            favours.as_ref(),
            null_f,
            (sized::LEAST_PANEL, bold),
        );
        Ok(Layout {
            fit,
            opts,
            rows,
            axis,
            x: columns(&w, panel_w, fit, opts),
            w,
            panel_w,
            panel_min,
            est_header,
            long,
            null,
            null_f,
            favours,
        })
    }

    /// Sets the panel's width (the columns right of it move).
    fn set_panel(&mut self, panel_w: f64) {
        self.panel_w = panel_w;
        self.x = columns(&self.w, panel_w, self.fit, self.opts);
    }

    /// The column headers (one or two lines) from `y`; returns the y of the rule under them.
    fn headers(&self, fig: &mut Figure, y: f64) -> f64 {
        let (x, opts) = (&self.x, self.opts);
        let (wh, wh2) = weight_headers(self.fit, opts);
        let n_header = opts
            .columns
            .iter()
            .map(|c| c.header.len())
            .chain([self.est_header.len(), self.long.len(), wh.len()])
            .max()
            .unwrap_or(1)
            .max(1);
        let n_header = if opts.revman.iter().any(|r| !r.spans.is_empty()) {
            n_header.max(2)
        } else {
            n_header
        };
        let last_line = |i: usize| y + (i as f64 + 0.5) * HEADER_LINE;
        let hy = last_line(n_header - 1);
        // Lines of a header, bottom-aligned on the last header line.
        let lines = |fig: &mut Figure, xr: f64, hs: &[String], anchor: Anchor| {
            let off = n_header - hs.len();
            for (j, h) in hs.iter().enumerate() {
                fig.text(xr, last_line(off + j), h, FONT, true, anchor, TEXT);
            }
        };
        fig.text(
            x.label,
            hy,
            study_header(opts),
            FONT,
            true,
            Anchor::Start,
            TEXT,
        );
        for (c, &xr) in opts.columns.iter().zip(&x.cols) {
            lines(fig, xr, &c.header, Anchor::End);
        }
        for sp in opts.revman.iter().flat_map(|r| &r.spans) {
            let (x0, x1) = (x.cols[sp.first] - self.w.cols[sp.first], x.cols[sp.last]);
            let ly = last_line(n_header - 2);
            fig.text(
                (x0 + x1) / 2.0,
                ly,
                &sp.header,
                FONT,
                true,
                Anchor::Middle,
                TEXT,
            );
            let rule = ly + HEADER_LINE / 2.0;
            fig.line((x0, rule), (x1, rule), RULE, 1.0);
        }
        let mid = (x.px0 + x.px1) / 2.0;
        lines(fig, mid, &self.long, Anchor::Middle);
        lines(fig, x.est, &self.est_header, Anchor::End);
        lines(fig, x.weight, &wh, Anchor::End);
        if let (Some(x2), Some(h2)) = (x.weight2, wh2) {
            lines(fig, x2, &h2, Anchor::End);
        }
        for (c, &xc) in opts.rob.iter().zip(&x.rob) {
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
                Row::Study(j) => {
                    // metafor's forest of a meta-regression: the fitted value's CI as a grey
                    // polygon under the study's own mark.
                    if let Some(f) = fitted(self.opts).and_then(|f| f.get(*j)) {
                        self.fitted_mark(fig, f, yc);
                    }
                    self.study_mark(fig, *j, yc, max_w)
                }
                Row::Summary {
                    fit: f, overall, ..
                } => {
                    if *overall && first_summary.is_none() {
                        first_summary = Some(i);
                    }
                    self.summary_mark(fig, (f.ci_lb, f.estimate, f.ci_ub), *overall, yc);
                }
                Row::Other(o) => self.summary_mark(fig, (o.ci_lb, o.estimate, o.ci_ub), true, yc),
                Row::Robust(r) => self.summary_mark(fig, (r.ci_lb, r.estimate, r.ci_ub), false, yc),
                Row::Lead(r) => self.summary_mark(fig, (r.ci_lb, r.estimate, r.ci_ub), true, yc),
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
        let (t, b, s) = r.label(fit, opts);
        let indent = if grouped(opts) && matches!(r, Row::Study(_) | Row::NotEstimable(_)) {
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
        for ((t, b), &xr) in r.col_texts(opts).into_iter().zip(&x.cols) {
            fig.text(xr, yc, t, FONT, b, Anchor::End, TEXT);
        }
        if let Row::Study(j) = r {
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
        if let (Some((t, b)), Some(x2)) = (r.weight2(opts), x.weight2) {
            fig.text(x2, yc, t, FONT, b, Anchor::End, TEXT);
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

    /// A fitted value's diamond (its CI across, clipped to the panel), in grey.
    fn fitted_mark(&self, fig: &mut Figure, f: &Fitted, yc: f64) {
        let (axis, px0, px1) = (&self.axis, self.x.px0, self.x.px1);
        let at = |v: f64| axis.map(v, px0, px1);
        if [f.ci_lb, f.pred, f.ci_ub].iter().all(|v| v.is_finite()) {
            let (lb, est, ub) = (at(f.ci_lb), at(f.pred), at(f.ci_ub));
            clipped_diamond(fig, (lb, est, ub), yc, (px0, px1), FITTED_COLOR);
        }
    }

    /// The diamond of a summary, with arrows where the axis limits cut it.
    fn summary_mark(
        &self,
        fig: &mut Figure,
        (lb, est, ub): (f64, f64, f64),
        overall: bool,
        yc: f64,
    ) {
        let (axis, px0, px1) = (&self.axis, self.x.px0, self.x.px1);
        let at = |v: f64| axis.map(v, px0, px1);
        let fill = if overall {
            SUMMARY_COLOR
        } else {
            SUBGROUP_COLOR
        };
        clipped_diamond(fig, (at(lb), at(est), at(ub)), yc, (px0, px1), fill);
        let cut_lo = (lb < axis.lo).then_some(px0);
        diamond_cut(fig, yc, cut_lo, (ub > axis.hi).then_some(px1));
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
            // On their sides of the line of no effect even when it sits at (or, with user
            // limits, beyond) an end of the axis: then a label reaches past the panel.
            let xn = (px0 + self.null_f * self.panel_w).clamp(
                self.x.label + wa + 6.0,
                (self.x.end - wb - 6.0).max(self.x.label + wa + 6.0),
            );
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
    let rv = opts.revman.as_ref();
    if fit.het.q_df > 0 {
        notes.push(match (rv, &opts.multilevel) {
            (Some(_), _) => revman::heterogeneity_line(fit),
            (None, Some(ml)) => ml.heterogeneity.clone(),
            (None, None) => heterogeneity_line(fit),
        });
    }
    notes.extend(
        opts.multilevel
            .iter()
            .flat_map(|m| m.moderators_test.clone()),
    );
    if opts.overall_test && fitted(opts).is_none() {
        notes.push(match rv {
            Some(_) => revman::overall_line(fit),
            None => overall_test_line(fit),
        });
    }
    notes.extend(opts.other_model.iter().map(|o| o.test.clone()));
    notes.extend(
        opts.multilevel
            .iter()
            .flat_map(|m| &m.robust)
            .map(|r| r.test.clone()),
    );
    notes.extend(rv.and_then(|r| r.subgroup_differences.clone()));
    let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
    for n in &opts.not_estimable {
        match reasons.iter_mut().find(|(r, _)| *r == n.reason) {
            Some((_, l)) => l.push(&n.label),
            None => reasons.push((&n.reason, vec![&n.label])),
        }
    }
    for (reason, labels) in reasons {
        notes.push(format!("{}: not estimable, {reason}", labels.join("; ")));
    }
    notes.extend(modified_kh_line(fit, opts.decimals));
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

/// Where the Knapp–Hartung interval is narrower than Wald's (or has zero width): the modified
/// Knapp–Hartung interval, s² truncated at 1 (Röver, Knapp & Friede 2015; metafor's "adhoc").
fn modified_kh_line(fit: &RmaFit, d: usize) -> Option<String> {
    let m = fit.modified_kh.as_ref()?;
    let why = if fit.s2w <= 0.0 {
        "Knapp–Hartung s² = 0 (zero-width CI)".to_string()
    } else {
        format!(
            "Knapp–Hartung CI narrower than Wald (s² = {})",
            num(fit.s2w, 2)
        )
    };
    let back = |x: f64| fit.effects.scale.back(x);
    Some(format!(
        "{why}; modified Knapp–Hartung: {} [{}, {}], {}",
        num(back(fit.estimate), d),
        num(back(m.ci_lb), d),
        num(back(m.ci_ub), d),
        p_value(m.pval, PStyle::Journal)
    ))
}

/// Lays out the forest plot of `fit`, at the size asked in the options.
pub fn forest(fit: &RmaFit, opts: &ForestOptions) -> Result<Figure> {
    if fit.effects.study_ci.is_some() {
        let (view, opts) = natural_axis(fit, opts);
        return forest_of(&view, &opts);
    }
    forest_of(fit, opts)
}

/// Proportions and rates shown with their own study intervals (exact ones reach 0 and 1, which
/// a logit or log axis cannot) are drawn on the natural axis, as R meta draws `metaprop`: the
/// fit and the pooled rows of `opts` as seen on the display scale.
fn natural_axis(fit: &RmaFit, opts: &ForestOptions) -> (RmaFit, ForestOptions) {
    let b = |x: f64| fit.effects.scale.back(x);
    let mut o = opts.clone();
    for g in &mut o.subgroups {
        g.fit = g.fit.on_display_scale();
    }
    if let Some(m) = &mut o.other_model {
        (m.estimate, m.ci_lb, m.ci_ub) = (b(m.estimate), b(m.ci_lb), b(m.ci_ub));
    }
    if let Some(r) = &mut o.lead_pooled {
        (r.estimate, r.ci_lb, r.ci_ub) = (b(r.estimate), b(r.ci_lb), b(r.ci_ub));
    }
    (fit.on_display_scale(), o)
}

fn forest_of(fit: &RmaFit, opts: &ForestOptions) -> Result<Figure> {
    check_columns(fit, opts)?;
    let mut l = Layout::new(fit, opts)?;
    if opts.size.is_natural() {
        Ok(l.draw())
    } else {
        sized::draw_sized(&mut l)
    }
}

impl Layout<'_> {
    /// The figure at its natural size (9 pt body text).
    fn draw(&self) -> Figure {
        let (fit, opts) = (self.fit, self.opts);
        let mut fig = Figure::default();
        let mut y = MARGIN;
        let mut width = self.x.end + MARGIN;
        width = width.max(fig.title(self.x.label, &mut y, opts.title.as_deref()) + MARGIN);
        let rule_y = self.headers(&mut fig, y);
        let body_top = rule_y + 6.0;
        let first_summary = self.body(&mut fig, body_top);
        let body_bottom = body_top + self.rows.len() as f64 * ROW + 4.0;
        self.guides(&mut fig, rule_y, (body_top, body_bottom), first_summary);
        let y = self.axis_and_favours(&mut fig, body_bottom) + 6.0;
        let y = parts::notes(
            &mut fig,
            self.x.label,
            y,
            &notes(fit, opts),
            (TEXT, 16.0),
            &mut width,
        );
        parts::finish(&mut fig, width, y);
        fig
    }
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
    for r in opts
        .multilevel
        .iter()
        .flat_map(|m| &m.robust)
        .chain(&opts.lead_pooled)
    {
        widen(r.ci_lb, r.ci_ub);
    }
    for f in fitted(opts).into_iter().flatten() {
        widen(f.ci_lb, f.ci_ub);
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
    data_columns_for(data, &set.rows, ("Experimental", "Control"))
}

/// [`data_columns`] of the data rows `rows`, the arms named `arms`.
pub fn data_columns_for(data: &Data, rows: &[usize], arms: (&str, &str)) -> Vec<TextColumn> {
    let (e, c) = arms;
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
            col(e, "Events/Total", &|r| frac(ai[r], total(ai[r], bi[r]))),
            col(c, "Events/Total", &|r| frac(ci[r], total(ci[r], di[r]))),
        ],
        Data::Means {
            m1i,
            sd1i,
            n1i,
            m2i,
            sd2i,
            n2i,
        } => vec![
            col(e, "Mean (SD), N", &|r| msn(m1i[r], sd1i[r], n1i[r])),
            col(c, "Mean (SD), N", &|r| msn(m2i[r], sd2i[r], n2i[r])),
        ],
        Data::Incidence { x1i, t1i, x2i, t2i } => vec![
            col(e, "Events/Time", &|r| frac(x1i[r], t1i[r])),
            col(c, "Events/Time", &|r| frac(x2i[r], t2i[r])),
        ],
        Data::Proportion { xi, ni } => vec![col("", "Events/Total", &|r| frac(xi[r], ni[r]))],
        Data::Correlation { ni, .. } | Data::Regression { ni, .. } => {
            vec![col("", "N", &|r| fmt_value(ni[r]))]
        }
        Data::Rate { xi, ti } => vec![col("", "Events/Time", &|r| frac(xi[r], ti[r]))],
        Data::Mean { mi, sdi, ni } => vec![col("", "Mean (SD), N", &|r| msn(mi[r], sdi[r], ni[r]))],
        Data::PrePost {
            m1i,
            m2i,
            sd1i,
            sd2i,
            ni,
            ..
        } => {
            let ms =
                |m: Option<f64>, s: Option<f64>| format!("{} ({})", fmt_value(m), fmt_value(s));
            vec![
                col("Occasion 1", "Mean (SD)", &|r| ms(m1i[r], sd1i[r])),
                col("Occasion 2", "Mean (SD)", &|r| ms(m2i[r], sd2i[r])),
                col("", "N", &|r| fmt_value(ni[r])),
            ]
        }
        Data::Precomputed { .. } | Data::ReportedRatio { .. } => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Measure;

    /// Rates are "Rate" on every scale, as proportions are "Proportion"; ratios keep their name.
    #[test]
    fn single_group_effects_are_named_for_what_they_estimate() {
        for m in [Measure::IR, Measure::IRLN, Measure::IRS, Measure::IRFT] {
            assert_eq!(effect_names_of(m, m.scale()).0, "Rate", "{m}");
        }
        for m in [Measure::PLO, Measure::PFT, Measure::PLN] {
            assert_eq!(effect_names_of(m, m.scale()).0, "Proportion", "{m}");
        }
        assert_eq!(effect_names_of(Measure::PETO, Scale::Log).0, "OR");
        assert_eq!(
            effect_names_of(Measure::IRR, Scale::Log).1,
            "Incidence rate ratio (log scale)"
        );
    }
}
