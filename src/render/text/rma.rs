//! The pooled models: `rma` fits (metafor's `print.rma.uni`) and the Mantel–Haenszel and Peto
//! fits (`print.rma.mh`, `print.rma.peto`).

use super::{
    back_ci, fit_stats_and_notes, fmt, measure_label, prediction_and_back, q_clause, tau2_line,
    test_label, wald_cells, wald_head,
};
use crate::model::RmaFit;
use crate::pool::mh::MhFit;
use crate::render::pvalue::{p_value, PStyle};
use std::fmt::Write;

/// The summary of an `rma` fit.
pub fn rma_summary(fit: &RmaFit) -> String {
    let mut s = String::new();
    rma_header(&mut s, fit);
    rma_heterogeneity(&mut s, fit);
    rma_estimate(&mut s, fit);
    fit_stats_and_notes(&mut s, &fit.fit, &fit.notes);
    s
}

/// The sentence every output carries when different ratio measures were pooled as one (the user
/// allowed it); `None` when they were not.
pub fn mixed_ratios_note(measures: &[String]) -> Option<String> {
    (!measures.is_empty()).then(|| {
        format!(
            "different ratio measures ({}) pooled as one generic ratio, as asked; they are \
             different effects and the pooled value is none of them",
            measures.join(", ")
        )
    })
}

/// The model, measure and test, and what happened to the data on the way in.
fn rma_header(s: &mut String, fit: &RmaFit) {
    let o = &fit.options;
    let model = if o.method.is_fixed() {
        "Fixed-effect model".to_string()
    } else if fit.weighting == crate::model::fit::Weighting::MantelHaenszel {
        "Random-effects model (RevMan 5: tau2 by DerSimonian–Laird from the Mantel–Haenszel Q)"
            .to_string()
    } else {
        format!(
            "Random-effects model (tau2 by {}: {})",
            o.method.name(),
            o.method.description()
        )
    };
    let _ = writeln!(s, "{model}; k = {}", fit.k);
    let _ = writeln!(
        s,
        "Measure: {}; inference: {}",
        measure_label(fit.effects.measure),
        test_label(fit.test, fit.df)
    );
    if let Some(note) = mixed_ratios_note(&fit.effects.mixed_ratios) {
        let _ = writeln!(s, "Note: {note}");
    }
    if fit.effects.n_corrected > 0 {
        let e = &fit.effects.escalc;
        let _ = writeln!(
            s,
            "Zero cells: {} added to {} studies (to = {})",
            e.add,
            fit.effects.n_corrected,
            e.to.name()
        );
    }
    if !fit.effects.omitted.is_empty() {
        let _ = writeln!(
            s,
            "Omitted: {} rows with missing or non-computable data",
            fit.effects.omitted.len()
        );
    }
    let _ = writeln!(s);
}

/// τ² (random effects only), I², H² and Q.
fn rma_heterogeneity(s: &mut String, fit: &RmaFit) {
    let o = &fit.options;
    if !o.method.is_fixed() {
        tau2_line(
            s,
            "tau^2",
            fit.tau2,
            fit.se_tau2,
            fit.tau2_ci.as_ref(),
            o.level.percent(),
        );
        let _ = writeln!(s, "tau   = {}", fmt(fit.tau()));
    }
    if fit.het.undefined_reason().is_some() {
        // The reason is the fit's note, printed below.
        let h = &fit.het;
        let _ = writeln!(s, "I^2   = NA\nH^2   = NA");
        let _ = writeln!(s, "{}\n", q_clause("Q", h.q_df, h.q, h.q_pval));
        return;
    }
    let het_ok = fit.het.i2.is_finite() && fit.het.h2.is_finite();
    if het_ok {
        let _ = write!(s, "I^2   = {:.2}%", fit.het.i2);
        match &fit.tau2_ci {
            Some(ci) if ci.null => s.push_str(" (CI: empty set)"),
            Some(ci) => {
                let _ = write!(s, " [{:.2}%, {:.2}%]", ci.i2_lb, ci.i2_ub);
            }
            None => {}
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "H^2   = {}", fmt(fit.het.h2));
    } else {
        // Σw² overflows when the variances span ~300 orders of magnitude: vt is then not a number.
        let _ = writeln!(s, "I^2   = NA\nH^2   = NA");
        let _ = writeln!(
            s,
            "Note: I^2 and H^2 are not computable: the sampling variances are too far apart for \
             the typical within-study variance in double precision"
        );
    }
    let h = &fit.het;
    let _ = writeln!(s, "{}", q_clause("Q", h.q_df, h.q, h.q_pval));
    let _ = writeln!(s);
}

/// The estimate's row, the prediction interval, and both back-transformed where the scale is.
fn rma_estimate(s: &mut String, fit: &RmaFit) {
    let _ = writeln!(
        s,
        "estimate      se    {}    pval    ci.lb    ci.ub",
        fit.stat_name()
    );
    let _ = writeln!(
        s,
        "{}",
        wald_cells(
            fit.estimate,
            fit.se,
            fit.stat,
            fit.pval,
            fit.ci_lb,
            fit.ci_ub
        )
    );
    if let Some(m) = &fit.modified_kh {
        let _ = writeln!(
            s,
            "{}  modified Knapp–Hartung (s² ≥ 1)",
            wald_cells(fit.estimate, m.se, m.stat, m.pval, m.ci_lb, m.ci_ub)
        );
    }
    let scale = fit.effects.scale;
    let pi = fit.prediction().map(|pi| (pi.lb, pi.ub));
    prediction_and_back(s, scale, (fit.estimate, fit.ci_lb, fit.ci_ub), pi);
    if let (true, Some(m)) = (scale.is_transformed(), &fit.modified_kh) {
        let _ = writeln!(
            s,
            "Modified Knapp–Hartung, back-transformed: {}",
            back_ci(scale, fit.estimate, m.ci_lb, m.ci_ub)
        );
    }
}

/// The summary of a Mantel–Haenszel or Peto fit.
pub fn mh_summary(fit: &MhFit) -> String {
    let mut s = String::new();
    let name = if fit.peto {
        "Peto's one-step method"
    } else {
        "Mantel–Haenszel method"
    };
    let _ = writeln!(
        s,
        "Fixed-effect model, {name}; k = {} ({} with a defined effect)",
        fit.k, fit.k_yi
    );
    let _ = writeln!(s, "Measure: {}", measure_label(fit.measure));
    let _ = writeln!(
        s,
        "I^2 = {:.2}%; H^2 = {}; {}",
        fit.i2,
        fmt(fit.h2),
        q_clause("Q", fit.q_df, fit.q, fit.q_pval)
    );
    let _ = writeln!(s, "\n{}", wald_head("zval"));
    let _ = writeln!(
        s,
        "{}",
        wald_cells(
            fit.estimate,
            fit.se,
            fit.zval,
            fit.pval,
            fit.ci_lb,
            fit.ci_ub
        )
    );
    if fit.scale.is_transformed() {
        let _ = writeln!(
            s,
            "\nBack-transformed: {}",
            back_ci(fit.scale, fit.estimate, fit.ci_lb, fit.ci_ub)
        );
    }
    let plain = if fit.continuity_corrected {
        ""
    } else {
        " (no continuity correction)"
    };
    for (test, df, result) in [
        (
            format!("Cochran–Mantel–Haenszel test{plain}"),
            ", df = 1",
            fit.cmh,
        ),
        (
            "Breslow–Day test for heterogeneity".to_string(),
            "",
            fit.breslow_day,
        ),
        (
            "Tarone's test for heterogeneity".to_string(),
            "",
            fit.tarone,
        ),
        (
            format!("Mantel–Haenszel test{plain}"),
            ", df = 1",
            fit.mh_irr,
        ),
    ] {
        if let Some((st, p)) = result {
            let _ = writeln!(
                s,
                "{test}: X² = {}{df}, {}",
                fmt(st),
                p_value(p, PStyle::Metafor)
            );
        }
    }
    if let Some(note) = fit.note {
        let _ = writeln!(s, "Note: {note}.");
    }
    s
}

/// The warnings for the studies a model left out, one line per reason: "Aronson 1948 (line 2):
/// omitted: …" for a reason one study has, "15 studies omitted: A
/// (line 2), B (line 4), C (line 7) and 12 more: missing moderator value" for a reason several
/// share. `lines[row]` is the
/// file line of input row `row` (left out when unknown).
pub fn omitted_warnings(omitted: &[crate::effect::Omitted], lines: &[usize]) -> Vec<String> {
    const SHOWN: usize = 3;
    let at = |o: &crate::effect::Omitted| match lines.get(o.row) {
        Some(l) => format!("{} (line {l})", o.label),
        None => o.label.clone(),
    };
    let mut reasons: Vec<&str> = Vec::new();
    for o in omitted {
        if !reasons.contains(&o.reason.as_str()) {
            reasons.push(&o.reason);
        }
    }
    reasons
        .into_iter()
        .map(|reason| {
            let group: Vec<_> = omitted.iter().filter(|o| o.reason == reason).collect();
            if let [one] = group.as_slice() {
                return format!("{}: omitted: {reason}", at(one));
            }
            let first: Vec<String> = group.iter().take(SHOWN).map(|o| at(o)).collect();
            let more = match group.len().saturating_sub(SHOWN) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            format!(
                "{} studies omitted: {}{more}: {reason}",
                group.len(),
                first.join(", ")
            )
        })
        .collect()
}
