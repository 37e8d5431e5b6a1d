//! Models with moderators: meta-regression (metafor's `print.rma.uni` with `mods`), subgroup
//! analyses, permutation tests (`permutest`), predictions (`predict`) and Wald tests of
//! coefficient subsets (`anova`).

use super::{
    back_ci, coefficient_table, fit_stats_and_notes, fmt, label_width, measure_label, pad,
    q_clause, tau2_line, test_label,
};
use crate::model::RmaFit;
use crate::moderators::metareg::{MetaregFit, OmnibusTest, Predicted};
use crate::moderators::permutation::PermutationTest;
use crate::moderators::subgroup::SubgroupFit;
use crate::render::pvalue::{p_number, p_value, PStyle};
use std::fmt::Write;

/// The omnibus test as "QM(df) = x, p" or "F(df1, df2) = x, p".
pub(super) fn omnibus_clause(t: &OmnibusTest) -> String {
    match t.ddf {
        Some(d) => format!(
            "F({}, {}) = {}, {}",
            t.df,
            d,
            fmt(t.stat),
            p_value(t.pval, PStyle::Metafor)
        ),
        None => format!(
            "QM({}) = {}, {}",
            t.df,
            fmt(t.stat),
            p_value(t.pval, PStyle::Metafor)
        ),
    }
}

fn metareg_coefficients(s: &mut String, fit: &MetaregFit) {
    let rows: Vec<(&str, [f64; 6])> = fit
        .coefficients
        .iter()
        .map(|c| {
            let cells = [c.estimate, c.se, c.stat, c.pval, c.ci_lb, c.ci_ub];
            (c.name.as_str(), cells)
        })
        .collect();
    coefficient_table(s, fit.stat_name(), &rows);
}

/// The summary of a meta-regression: model, residual heterogeneity, QM, R² and coefficients.
pub fn metareg_summary(fit: &MetaregFit) -> String {
    let mut s = String::new();
    metareg_header(&mut s, fit);
    metareg_heterogeneity(&mut s, fit);
    metareg_coefficients(&mut s, fit);
    fit_stats_and_notes(&mut s, &fit.fit, &fit.notes);
    s
}

/// The model, measure and test, and the studies left out for a missing moderator.
fn metareg_header(s: &mut String, fit: &MetaregFit) {
    let o = &fit.options;
    let model = if o.method.is_fixed() {
        "Fixed-effects meta-regression".to_string()
    } else {
        format!(
            "Mixed-effects meta-regression (tau2 by {}: {})",
            o.method.name(),
            o.method.description()
        )
    };
    let _ = writeln!(s, "{model}; k = {}, p = {}", fit.k, fit.p);
    let _ = writeln!(
        s,
        "Measure: {}; inference: {}",
        measure_label(fit.effects.measure),
        test_label(fit.test, fit.df)
    );
    if let Some(line) = reference_line(&fit.matrix.factors) {
        let _ = writeln!(s, "{line}");
    }
    if !fit.omitted.is_empty() {
        let _ = writeln!(
            s,
            "Omitted: {} studies with a missing moderator value ({})",
            fit.omitted.len(),
            fit.omitted
                .iter()
                .map(|o| o.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(s);
}

/// "Reference level: factor(alloc) = alternate (first in byte order)": the level each factor's
/// coefficients are contrasts against; `None` without a factor coded by contrasts.
pub fn reference_line(factors: &[crate::moderators::FactorCoding]) -> Option<String> {
    let parts: Vec<String> = factors
        .iter()
        .filter_map(|f| {
            f.reference
                .as_ref()
                .map(|r| format!("{} = {r} ({})", f.label, f.rule.describe()))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(format!(
        "Reference level{}: {}",
        if parts.len() == 1 { "" } else { "s" },
        parts.join("; ")
    ))
}

/// Residual τ², I² and H², R², the residual Q and the test of moderators.
fn metareg_heterogeneity(s: &mut String, fit: &MetaregFit) {
    let o = &fit.options;
    if !o.method.is_fixed() {
        tau2_line(
            s,
            "Residual tau^2",
            fit.tau2,
            fit.se_tau2,
            fit.tau2_ci.as_ref(),
            o.level.percent(),
        );
    }
    let _ = writeln!(
        s,
        "Residual I^2 = {:.2}%; H^2 = {}",
        fit.het.i2,
        fmt(fit.het.h2)
    );
    match fit.r2 {
        Some(r2) => {
            let _ = writeln!(
                s,
                "R^2 (heterogeneity accounted for) = {r2:.2}%{}",
                if o.method.is_fixed() {
                    " (adjusted R² of the weighted regression)"
                } else {
                    ""
                }
            );
        }
        None => {
            let _ = writeln!(s, "R^2: not defined (no intercept in the model)");
        }
    }
    let h = &fit.het;
    let _ = writeln!(
        s,
        "Residual heterogeneity: {}",
        q_clause("QE", h.q_df, h.q, h.q_pval)
    );
    let _ = writeln!(
        s,
        "Test of moderators ({} coefficient{}): {}",
        fit.qm.df,
        if fit.qm.df == 1 { "" } else { "s" },
        omnibus_clause(&fit.qm)
    );
    let _ = writeln!(s);
}

/// The summary of a subgroup analysis: the per-subgroup estimates (separate fits with their own
/// τ², or with `common_tau2` the estimates of the model with one τ² shared by all subgroups),
/// both tests for subgroup differences, then the other set of estimates.
pub fn subgroup_summary(sg: &SubgroupFit, common_tau2: bool) -> String {
    // Every subgroup's fit has the same options and scale: the first one speaks for all.
    let Some(first) = sg.groups.first().map(|g| &g.fit) else {
        return String::new();
    };
    let main = subgroup_header(sg, first);
    let separate = separate_fits(sg, first);
    let tests = subgroup_tests(sg, first);
    let common = common_estimates(sg, first);
    if common_tau2 {
        format!("{main}{common}{tests}{separate}")
    } else {
        format!("{main}{separate}{tests}{common}")
    }
}

fn subgroup_header(sg: &SubgroupFit, first: &RmaFit) -> String {
    let mut s = String::new();
    let o = &first.options;
    let _ = writeln!(
        s,
        "Subgroup analysis by '{}': {} subgroups, k = {}",
        sg.column,
        sg.groups.len(),
        sg.mixed.k
    );
    let _ = writeln!(
        s,
        "Measure: {}; {}; inference: {}",
        measure_label(first.effects.measure),
        if o.method.is_fixed() {
            "fixed-effect models".to_string()
        } else {
            format!("tau2 by {}", o.method.name())
        },
        test_label(sg.mixed.test, sg.mixed.df)
    );
    if !sg.mixed.omitted.is_empty() {
        let _ = writeln!(
            s,
            "Omitted: {} studies with no value of '{}'",
            sg.mixed.omitted.len(),
            sg.column
        );
    }
    s
}

/// One row per subgroup from its own fit (own τ²).
fn separate_fits(sg: &SubgroupFit, first: &RmaFit) -> String {
    let mut s = String::new();
    let scale = first.effects.scale;
    let width = label_width(sg.groups.iter().map(|g| g.level.as_str()), 5);
    let _ = writeln!(s, "\nSeparate fits per subgroup (own tau^2):");
    let _ = write!(
        s,
        "{} {:>4} {:>8} {:>7} {:>8} {:>8} {:>7} {:>8} {:>7}",
        pad("level", width),
        "k",
        "estimate",
        "se",
        "ci.lb",
        "ci.ub",
        "pval",
        "tau2",
        "I2"
    );
    if scale.is_transformed() {
        let _ = write!(s, "   back-transformed [CI]");
    }
    let _ = writeln!(s);
    for g in &sg.groups {
        let f = &g.fit;
        let _ = write!(
            s,
            "{} {:>4} {:>8} {:>7} {:>8} {:>8} {:>7} {:>8} {:>6.1}%",
            pad(&g.level, width),
            f.k,
            fmt(f.estimate),
            fmt(f.se),
            fmt(f.ci_lb),
            fmt(f.ci_ub),
            p_number(f.pval, PStyle::Metafor),
            fmt(f.tau2),
            f.het.i2
        );
        if scale.is_transformed() {
            let _ = write!(s, "   {}", back_ci(scale, f.estimate, f.ci_lb, f.ci_ub));
        }
        let _ = writeln!(s);
    }
    s
}

/// Q-between from the separate fits, the moderator test of the common-τ² model, and that
/// model's residual heterogeneity.
fn subgroup_tests(sg: &SubgroupFit, first: &RmaFit) -> String {
    let mut s = String::new();
    let (qb, mx) = (&sg.q_between, &sg.mixed);
    let _ = writeln!(s, "\nTests for subgroup differences:");
    let _ = writeln!(
        s,
        "  from the separate fits (Q-between, FE on the subgroup estimates): {}",
        q_clause("Q", qb.df, qb.q, qb.pval)
    );
    let _ = writeln!(
        s,
        "  from the mixed-effects model ~factor({}) (common tau^2, moderator test): {}",
        sg.column,
        omnibus_clause(&mx.qm)
    );
    if !first.options.method.is_fixed() {
        let _ = writeln!(
            s,
            "  common tau^2 = {}; residual I^2 = {:.2}%; R^2 = {}",
            fmt(mx.tau2),
            mx.het.i2,
            mx.r2.map_or("NA".to_string(), |r| format!("{r:.2}%"))
        );
    }
    let _ = writeln!(
        s,
        "  residual heterogeneity: {}",
        q_clause("QE", mx.het.q_df, mx.het.q, mx.het.q_pval)
    );
    s
}

/// The per-subgroup estimates of the model with one τ² shared by all subgroups.
fn common_estimates(sg: &SubgroupFit, first: &RmaFit) -> String {
    let mut s = String::new();
    let scale = first.effects.scale;
    let _ = writeln!(
        s,
        "\nSubgroup estimates with a common tau^2 (~factor({}) - 1):",
        sg.column
    );
    metareg_coefficients(&mut s, &sg.common);
    if scale.is_transformed() {
        for c in &sg.common.coefficients {
            let _ = writeln!(
                s,
                "  {}: back-transformed {}",
                c.name,
                back_ci(scale, c.estimate, c.ci_lb, c.ci_ub)
            );
        }
    }
    s
}

/// Permutation p-values next to the coefficient names.
pub fn permutation_summary(fit: &MetaregFit, t: &PermutationTest) -> String {
    let mut s = String::new();
    // An intercept-only model flips the signs of the effects (metafor's permutest of an rma
    // without moderators); its one test is the intercept's.
    let int_only = fit.p == 1 && fit.matrix.intercept;
    let _ = writeln!(
        s,
        "\nPermutation test ({} {} {}{}):",
        t.iterations,
        if t.exact {
            "exact: all distinct"
        } else {
            "random"
        },
        if int_only {
            "sign flips"
        } else {
            "permutations"
        },
        if t.failed > 0 {
            format!(", {} could not be fitted and were left out", t.failed)
        } else {
            String::new()
        }
    );
    if !int_only {
        let _ = writeln!(
            s,
            "  test of moderators: {}",
            p_value(t.qm_pval, PStyle::Metafor)
        );
    }
    for (c, p) in fit.coefficients.iter().zip(&t.pval) {
        let _ = writeln!(s, "  {}: {}", c.name, p_value(*p, PStyle::Metafor));
    }
    s
}

/// Predicted effects at chosen moderator values, back-transformed where the scale is.
pub fn predictions_summary(fit: &MetaregFit, preds: &[(Vec<f64>, Predicted)]) -> String {
    let mut s = String::new();
    let names = if fit.matrix.intercept {
        &fit.names()[1..]
    } else {
        fit.names()
    };
    let scale = fit.effects.scale;
    let _ = writeln!(s, "\nPredicted effects ({}% intervals):", fit.options.level);
    for (x, p) in preds {
        let at: Vec<String> = names
            .iter()
            .zip(x)
            .map(|(n, v)| format!("{n} = {v}"))
            .collect();
        let pi = match (p.pi_lb, p.pi_ub) {
            (Some(l), Some(u)) => format!("; PI [{}, {}]", fmt(l), fmt(u)),
            _ => String::new(),
        };
        let _ = write!(
            s,
            "  at {}: {} (SE {}), CI [{}, {}]{pi}",
            at.join(", "),
            fmt(p.pred),
            fmt(p.se),
            fmt(p.ci_lb),
            fmt(p.ci_ub)
        );
        if scale.is_transformed() {
            let _ = write!(
                s,
                " → back-transformed {}",
                back_ci(scale, p.pred, p.ci_lb, p.ci_ub)
            );
        }
        let _ = writeln!(s);
    }
    s
}

/// Wald tests of coefficient subsets, one line each.
pub fn wald_tests_summary(tests: &[(Vec<String>, OmnibusTest)]) -> String {
    let mut s = String::new();
    for (names, t) in tests {
        let _ = writeln!(s, "\nTest of {}: {}", names.join(", "), omnibus_clause(t));
    }
    s
}
