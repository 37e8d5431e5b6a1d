//! RevMan 5's forest-plot layout (Review Manager 5.4 User Guide, "Forest plots"; Cochrane
//! Handbook ch. 10): the method in the column headers, events and totals per arm, Total rows,
//! each subgroup's heterogeneity (τ², χ² with df, I²) and test for overall effect, and the test
//! for subgroup differences with its I². The texts are RevMan's, the numbers the fits'.

use super::{Row, TextColumn};
use crate::data::Data;
use crate::measure::Measure;
use crate::model::{RmaFit, Test};
use crate::moderators::SubgroupFit;
use crate::render::plot::format::num;

/// What RevMan 5 draws besides evident's own layout.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RevmanLayout {
    /// The method in the column headers, e.g. "M-H, Random" or "IV, Fixed"; `None` takes it
    /// from the fit (inverse variance, fixed or random).
    pub method: Option<String>,
    /// Headers over groups of text columns: the arms' names over their Events and Total columns.
    pub spans: Vec<Span>,
    /// The text columns' cells on the overall "Total (95% CI)" row and its "Total events" row.
    pub total: Option<ColumnTotals>,
    /// The same for each subgroup's "Subtotal (95% CI)", in the order of the subgroups.
    pub subtotals: Vec<ColumnTotals>,
    /// The test for subgroup differences (from [`subgroup_differences_line`]).
    pub subgroup_differences: Option<String>,
}

/// A header over the text columns `first..=last`.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// The header, e.g. an arm's name.
    pub header: String,
    /// Index of the first text column under it.
    pub first: usize,
    /// Index of the last text column under it.
    pub last: usize,
}

/// Cells of the text columns on a summary row (the arms' totals) and on the "Total events" row
/// under it; a column without an entry stays empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnTotals {
    /// On the summary row: the participants per arm.
    pub summary: Vec<String>,
    /// On the "Total events" row, when the data count events.
    pub events: Option<Vec<String>>,
}

/// Totals of the two arms over some studies, as the app layer adds them up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArmTotals {
    /// Events per arm (2×2 and incidence data).
    pub events: Option<[f64; 2]>,
    /// Participants per arm (person-time for incidence data).
    pub n: [f64; 2],
}

/// A p-value as RevMan 5 prints it: "P < 0.00001", two decimals from 0.01, otherwise one
/// significant digit ("P = 0.004").
pub fn revman_p(p: f64) -> String {
    if p.is_nan() {
        "P = NA".into()
    } else if p < 0.00001 {
        "P < 0.00001".into()
    } else if p >= 0.00995 {
        format!("P = {p:.2}")
    } else {
        let d = (-p.log10()).ceil() as usize;
        let s = format!("{p:.d$}");
        // 0.00096 rounds up to 0.001: one digit, not two.
        if s.parse::<f64>()
            .is_ok_and(|v| v >= 10f64.powi(1 - d as i32))
        {
            format!("P = {:.*}", d - 1, p)
        } else {
            format!("P = {s}")
        }
    }
}

/// "Heterogeneity: Tau² = 0.31; Chi² = 152.23, df = 12 (P < 0.00001); I² = 92%" (τ² with two
/// decimals, 0.00 included, as RevMan prints it).
pub fn heterogeneity_line(fit: &RmaFit) -> String {
    let h = &fit.het;
    if h.q_df == 0 {
        return "Heterogeneity: Not applicable".into();
    }
    let tau = if fit.options.method.is_fixed() {
        String::new()
    } else {
        format!("Tau² = {}; ", num(fit.tau2, 2))
    };
    format!(
        "Heterogeneity: {tau}Chi² = {}, df = {} ({}); I² = {:.0}%",
        num(h.q, 2),
        h.q_df,
        revman_p(h.q_pval),
        h.i2
    )
}

/// "Test for overall effect: Z = 5.47 (P < 0.00001)" (t with its df under Knapp–Hartung).
pub fn overall_line(fit: &RmaFit) -> String {
    let stat = match (fit.test, fit.df) {
        (Test::Z, _) | (_, None) => format!("Z = {}", num(fit.stat.abs(), 2)),
        (_, Some(df)) => format!("t({}) = {}", num(df, 0), num(fit.stat.abs(), 2)),
    };
    format!("Test for overall effect: {stat} ({})", revman_p(fit.pval))
}

/// "Test for subgroup differences: Chi² = 1.53, df = 2 (P = 0.47), I² = 0%".
pub fn subgroup_differences_line(sg: &SubgroupFit) -> String {
    let qb = &sg.q_between;
    format!(
        "Test for subgroup differences: Chi² = {}, df = {} ({}), I² = {}%",
        num(qb.q, 2),
        qb.df,
        revman_p(qb.pval),
        num(qb.i2(), 1)
    )
}

/// The effect's name as RevMan 5 heads its columns.
pub fn measure_name(m: Measure, generic: &str) -> String {
    match m {
        Measure::OR => "Odds Ratio".into(),
        Measure::PETO => "Peto Odds Ratio".into(),
        Measure::RR => "Risk Ratio".into(),
        Measure::RD => "Risk Difference".into(),
        Measure::MD => "Mean Difference".into(),
        Measure::SMD => "Std. Mean Difference".into(),
        Measure::IRR => "Rate Ratio".into(),
        Measure::IRD => "Rate Difference".into(),
        _ => generic.into(),
    }
}

/// The second header line: "IV, Random, 95% CI" ("M-H, Fixed", "Peto, Fixed" for those fits).
pub fn method_header(fit: &RmaFit, layout: &RevmanLayout) -> String {
    let method = match &layout.method {
        Some(m) => m.clone(),
        None => crate::render::pooling::revman_method(fit).into(),
    };
    format!("{method}, {}% CI", num(fit.options.level.percent(), 0))
}

/// RevMan's data columns for the rows `rows` of `data`: Events and Total per arm (2×2),
/// Mean, SD and Total (means), Events and Time (incidence), with the arms' names over them;
/// `None` for data RevMan has no columns for (evident's own are used then).
pub fn revman_columns(
    data: &Data,
    rows: &[usize],
    arms: (&str, &str),
) -> Option<(Vec<TextColumn>, Vec<Span>)> {
    let col = |h: &str, f: &dyn Fn(usize) -> Option<f64>| TextColumn {
        header: vec![h.to_string()],
        values: rows.iter().map(|&r| cell(f(r))).collect(),
    };
    let sum = |a: &[Option<f64>], b: &[Option<f64>], r: usize| a[r].zip(b[r]).map(|(a, b)| a + b);
    let cols = match data {
        Data::TwoByTwo { ai, bi, ci, di } => vec![
            col("Events", &|r| ai[r]),
            col("Total", &|r| sum(ai, bi, r)),
            col("Events", &|r| ci[r]),
            col("Total", &|r| sum(ci, di, r)),
        ],
        Data::Means {
            m1i,
            sd1i,
            n1i,
            m2i,
            sd2i,
            n2i,
        } => vec![
            col("Mean", &|r| m1i[r]),
            col("SD", &|r| sd1i[r]),
            col("Total", &|r| n1i[r]),
            col("Mean", &|r| m2i[r]),
            col("SD", &|r| sd2i[r]),
            col("Total", &|r| n2i[r]),
        ],
        Data::Incidence { x1i, t1i, x2i, t2i } => vec![
            col("Events", &|r| x1i[r]),
            col("Time", &|r| t1i[r]),
            col("Events", &|r| x2i[r]),
            col("Time", &|r| t2i[r]),
        ],
        _ => return None,
    };
    let per_arm = cols.len() / 2;
    let spans = vec![
        Span {
            header: arms.0.to_string(),
            first: 0,
            last: per_arm - 1,
        },
        Span {
            header: arms.1.to_string(),
            first: per_arm,
            last: 2 * per_arm - 1,
        },
    ];
    Some((cols, spans))
}

/// The cells of [`revman_columns`]' columns on a summary row and its "Total events" row.
pub fn column_totals(data: &Data, t: &ArmTotals) -> ColumnTotals {
    let n = |x: f64| cell(Some(x));
    let blank = String::new;
    match data {
        Data::Means { .. } => ColumnTotals {
            summary: vec![blank(), blank(), n(t.n[0]), blank(), blank(), n(t.n[1])],
            events: None,
        },
        _ => ColumnTotals {
            summary: vec![blank(), n(t.n[0]), blank(), n(t.n[1])],
            events: t.events.map(|e| vec![n(e[0]), blank(), n(e[1]), blank()]),
        },
    }
}

fn cell(v: Option<f64>) -> String {
    match v {
        Some(x) => format!("{x}"),
        None => "–".into(),
    }
}

/// The rows of a subgroup or of the whole analysis closed the RevMan way: after its summary row
/// the "Total events" row, then (for a subgroup) its heterogeneity and test for overall effect.
pub(super) fn close_group<'a>(
    rows: &mut Vec<Row<'a>>,
    totals: Option<&'a ColumnTotals>,
    subgroup: Option<&'a RmaFit>,
) {
    if let Some(e) = totals.and_then(|t| t.events.as_deref()) {
        rows.push(Row::Totals(e));
    }
    if let Some(f) = subgroup {
        rows.push(Row::Note(heterogeneity_line(f)));
        rows.push(Row::Note(overall_line(f)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_as_revman_prints_them() {
        assert_eq!(revman_p(0.000001), "P < 0.00001");
        assert_eq!(revman_p(0.00004), "P = 0.00004");
        assert_eq!(revman_p(0.0042), "P = 0.004");
        assert_eq!(revman_p(0.00096), "P = 0.001");
        assert_eq!(revman_p(0.0096), "P = 0.01");
        assert_eq!(revman_p(0.047), "P = 0.05");
        assert_eq!(revman_p(0.5), "P = 0.50");
        assert_eq!(revman_p(1.0), "P = 1.00");
    }
}
