//! Selection models (metafor's `print.selmodel.rma.uni`): the adjusted estimate and τ², the
//! likelihood-ratio test against the unadjusted model, and the selection function's parameters
//! with the studies in each p-value interval.

use super::{fmt, pad};
use crate::bias::{SelModel, SelType};
use crate::render::pvalue::{p_number, p_value, PStyle};
use std::fmt::Write;

/// The text summary of a selection model, warnings last.
pub fn selmodel_summary(s: &SelModel) -> String {
    let mut out = String::new();
    let model = if s.fixed {
        "fixed-effects"
    } else {
        "random-effects (ML)"
    };
    let _ = writeln!(
        out,
        "Selection model: {} selection function, favouring {} effects; {model} model; k = {}",
        s.sel_type.name(),
        match s.alternative {
            crate::bias::Alternative::Greater => "significant positive",
            crate::bias::Alternative::Less => "significant negative",
        },
        s.k
    );
    if !s.fixed {
        let se = s.se_tau2.map_or("NA".into(), fmt);
        let _ = writeln!(out, "\ntau^2 = {} (SE = {se})", fmt(s.tau2));
    }
    let _ = writeln!(out, "\nModel results (adjusted for selection):");
    row(
        &mut out,
        &["estimate", "se", "zval", "pval", "ci.lb", "ci.ub"],
    );
    let cells = [
        fmt(s.estimate),
        fmt(s.se),
        fmt(s.zval),
        p_number(s.pval, PStyle::Metafor),
        fmt(s.ci_lb),
        fmt(s.ci_ub),
    ];
    row(&mut out, &cells.each_ref().map(String::as_str));
    let _ = writeln!(
        out,
        "\nTest for selection (LRT against the unadjusted model):\nLRT(df = {}) = {}, {}",
        s.lrt_df,
        fmt(s.lrt),
        p_value(s.lrt_pval, PStyle::Metafor)
    );
    delta_table(&mut out, s);
    for w in &s.warnings {
        let _ = writeln!(out, "\nWarning: {w}");
    }
    out
}

/// Right-aligned cells, one space apart, at least 8 wide.
fn row(out: &mut String, cells: &[&str]) {
    let line: Vec<String> = cells.iter().map(|c| format!("{c:>8}")).collect();
    let _ = writeln!(out, "{}", line.join(" "));
}

/// One row per δ: for a step function its p-value interval and how many studies fall in it.
fn delta_table(out: &mut String, s: &SelModel) {
    let h0 = if matches!(s.sel_type, SelType::Beta | SelType::Stepfun) {
        "1"
    } else {
        "0"
    };
    let _ = writeln!(
        out,
        "\nSelection function parameters ({}% CI; z tests against delta = {h0}, no selection):",
        s.level
    );
    let labels: Vec<String> = match (&s.k_steps, s.sel_type) {
        (Some(_), SelType::Stepfun) => (0..s.delta.len())
            .map(|j| {
                let lo = if j == 0 { 0.0 } else { s.steps[j - 1] };
                format!("{lo} < p <= {}", s.steps[j])
            })
            .collect(),
        _ if s.delta.len() == 1 => vec!["delta".into()],
        _ => (1..=s.delta.len()).map(|j| format!("delta.{j}")).collect(),
    };
    let w = labels.iter().map(|l| l.chars().count()).max().unwrap_or(5);
    let counts = s
        .k_steps
        .as_ref()
        .filter(|_| s.sel_type == SelType::Stepfun);
    let k_head = if counts.is_some() { "   k" } else { "" };
    let _ = write!(out, "{}{k_head} ", pad("", w));
    row(out, &["estimate", "se", "zval", "pval", "ci.lb", "ci.ub"]);
    let opt = |x: Option<f64>| x.map_or("---".into(), fmt);
    for (j, label) in labels.iter().enumerate() {
        let k = counts.map_or(String::new(), |c| format!(" {:>3}", c[j]));
        let _ = write!(out, "{}{k} ", pad(label, w));
        let cells = [
            fmt(s.delta[j]),
            opt(s.se_delta[j]),
            opt(s.delta_zval[j]),
            s.delta_pval[j].map_or("---".into(), |p| p_number(p, PStyle::Metafor)),
            opt(s.delta_ci_lb[j]),
            opt(s.delta_ci_ub[j]),
        ];
        row(out, &cells.each_ref().map(String::as_str));
    }
    if let (Some(c), false) = (&s.k_steps, s.sel_type == SelType::Stepfun) {
        let _ = writeln!(
            out,
            "(w(p) = 1 for p <= {}: {} studies; above: {})",
            s.steps[0], c[0], c[1]
        );
    }
}
