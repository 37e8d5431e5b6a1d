//! Readable summaries of fitted models, in the spirit of metafor's `print.rma`.

use crate::moderators::metareg::{MetaregFit, OmnibusTest};
use crate::moderators::subgroup::SubgroupFit;
use crate::pool::mh::MhFit;
use crate::pool::RmaFit;
use std::fmt::Write;

/// "p < .0001" or "p = 0.0123".
pub fn p_clause(p: f64) -> String {
    let f = fmt_p(p);
    if f.starts_with('<') {
        format!("p {f}")
    } else {
        format!("p = {f}")
    }
}

/// Formats a p-value as journals print it.
pub fn fmt_p(p: f64) -> String {
    if p.is_nan() {
        "NA".into()
    } else if p < 0.0001 {
        "< .0001".into()
    } else {
        format!("{p:.4}")
    }
}

fn fmt(x: f64) -> String {
    if x.is_nan() {
        "NA".into()
    } else {
        format!("{x:.4}")
    }
}

/// The summary of an `rma` fit.
pub fn rma_summary(fit: &RmaFit) -> String {
    let mut s = String::new();
    let o = &fit.options;
    let model = if o.method.is_fixed() {
        "Fixed-effect model".to_string()
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
        "Measure: {} ({}); inference: {}",
        fit.effects.measure.name(),
        fit.effects.measure.description(),
        match fit.test {
            crate::pool::Test::Z => "z (Wald)".to_string(),
            crate::pool::Test::Knha => format!("Knapp–Hartung t({})", fit.df.unwrap_or(f64::NAN)),
            crate::pool::Test::Adhoc => format!(
                "Knapp–Hartung (ad hoc, s² ≥ 1) t({})",
                fit.df.unwrap_or(f64::NAN)
            ),
        }
    );
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
    if !o.method.is_fixed() {
        let _ = write!(s, "tau^2 = {}", fmt(fit.tau2));
        if let Some(se) = fit.se_tau2 {
            let _ = write!(s, " (SE = {})", fmt(se));
        }
        if let Some(ci) = &fit.tau2_ci {
            let _ = write!(
                s,
                ", {}% CI [{}{}, {}{}] (Q-profile)",
                o.level,
                ci.lb_censor.sign(),
                fmt(ci.tau2_lb),
                ci.ub_censor.sign(),
                fmt(ci.tau2_ub)
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "tau   = {}", fmt(fit.tau()));
    }
    let _ = write!(s, "I^2   = {:.2}%", fit.het.i2);
    if let Some(ci) = &fit.tau2_ci {
        let _ = write!(s, " [{:.2}%, {:.2}%]", ci.i2_lb, ci.i2_ub);
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "H^2   = {}", fmt(fit.het.h2));
    let _ = writeln!(
        s,
        "Q({}) = {}, {}",
        fit.het.q_df,
        fmt(fit.het.q),
        p_clause(fit.het.q_pval)
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "estimate      se    {}    pval    ci.lb    ci.ub",
        fit.stat_name()
    );
    let _ = writeln!(
        s,
        "{:>8} {:>7} {:>8} {:>7} {:>8} {:>8}",
        fmt(fit.estimate),
        fmt(fit.se),
        fmt(fit.stat),
        fmt_p(fit.pval),
        fmt(fit.ci_lb),
        fmt(fit.ci_ub)
    );
    if let Some(pi) = fit.prediction() {
        let _ = writeln!(s, "Prediction interval: [{}, {}]", fmt(pi.lb), fmt(pi.ub));
    }
    let scale = fit.effects.scale;
    if scale.is_transformed() {
        let _ = write!(
            s,
            "\nBack-transformed ({}): {} [{}, {}]",
            scale.key_suffix().unwrap_or(""),
            fmt(scale.back(fit.estimate)),
            fmt(scale.back(fit.ci_lb)),
            fmt(scale.back(fit.ci_ub))
        );
        if let Some(pi) = fit.prediction() {
            let _ = write!(
                s,
                "; prediction interval [{}, {}]",
                fmt(scale.back(pi.lb)),
                fmt(scale.back(pi.ub))
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "\nlogLik ({}) = {}; deviance = {}; AIC = {}; BIC = {}; AICc = {}",
        fit.fit.loglik_type,
        fmt(fit.fit.loglik),
        fmt(fit.fit.deviance),
        fmt(fit.fit.aic),
        fmt(fit.fit.bic),
        fmt(fit.fit.aicc)
    );
    for n in &fit.notes {
        let _ = writeln!(s, "Note: {n}");
    }
    s
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
    let _ = writeln!(
        s,
        "Measure: {} ({})",
        fit.measure.name(),
        fit.measure.description()
    );
    let _ = writeln!(
        s,
        "I^2 = {:.2}%; H^2 = {}; Q({}) = {}, {}",
        fit.i2,
        fmt(fit.h2),
        fit.q_df,
        fmt(fit.q),
        p_clause(fit.q_pval)
    );
    let _ = writeln!(s, "\nestimate      se     zval    pval    ci.lb    ci.ub");
    let _ = writeln!(
        s,
        "{:>8} {:>7} {:>8} {:>7} {:>8} {:>8}",
        fmt(fit.estimate),
        fmt(fit.se),
        fmt(fit.zval),
        fmt_p(fit.pval),
        fmt(fit.ci_lb),
        fmt(fit.ci_ub)
    );
    if fit.scale.is_transformed() {
        let b = |x: f64| fmt(fit.scale.back(x));
        let _ = writeln!(
            s,
            "\nBack-transformed: {} [{}, {}]",
            b(fit.estimate),
            b(fit.ci_lb),
            b(fit.ci_ub)
        );
    }
    if let Some((st, p)) = fit.cmh {
        let _ = writeln!(
            s,
            "Cochran–Mantel–Haenszel test: X² = {}, df = 1, {}",
            fmt(st),
            p_clause(p)
        );
    }
    if let Some((st, p)) = fit.tarone {
        let _ = writeln!(
            s,
            "Tarone's test for heterogeneity: X² = {}, {}",
            fmt(st),
            p_clause(p)
        );
    }
    if let Some((st, p)) = fit.mh_irr {
        let _ = writeln!(
            s,
            "Mantel–Haenszel test: X² = {}, df = 1, {}",
            fmt(st),
            p_clause(p)
        );
    }
    s
}

fn test_label(test: crate::pool::Test, df: Option<f64>) -> String {
    match test {
        crate::pool::Test::Z => "z (Wald)".to_string(),
        crate::pool::Test::Knha => format!("Knapp–Hartung t({})", df.unwrap_or(f64::NAN)),
        crate::pool::Test::Adhoc => format!(
            "Knapp–Hartung (ad hoc, s² ≥ 1) t({})",
            df.unwrap_or(f64::NAN)
        ),
    }
}

/// The omnibus test as "QM(df) = x, p" or "F(df1, df2) = x, p".
fn omnibus_clause(t: &OmnibusTest) -> String {
    match t.ddf {
        Some(d) => format!("F({}, {}) = {}, {}", t.df, d, fmt(t.stat), p_clause(t.pval)),
        None => format!("QM({}) = {}, {}", t.df, fmt(t.stat), p_clause(t.pval)),
    }
}

fn coefficient_table(s: &mut String, fit: &MetaregFit) {
    let width = fit
        .coefficients
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let _ = writeln!(
        s,
        "{:<width$} {:>8} {:>7} {:>8} {:>7} {:>8} {:>8}",
        "",
        "estimate",
        "se",
        fit.stat_name(),
        "pval",
        "ci.lb",
        "ci.ub"
    );
    for c in &fit.coefficients {
        let _ = writeln!(
            s,
            "{:<width$} {:>8} {:>7} {:>8} {:>7} {:>8} {:>8}",
            c.name,
            fmt(c.estimate),
            fmt(c.se),
            fmt(c.stat),
            fmt_p(c.pval),
            fmt(c.ci_lb),
            fmt(c.ci_ub)
        );
    }
}

/// The summary of a meta-regression: model, residual heterogeneity, QM, R² and coefficients.
pub fn metareg_summary(fit: &MetaregFit) -> String {
    let mut s = String::new();
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
        "Measure: {} ({}); inference: {}",
        fit.effects.measure.name(),
        fit.effects.measure.description(),
        test_label(fit.test, fit.df)
    );
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
    if !o.method.is_fixed() {
        let _ = write!(s, "Residual tau^2 = {}", fmt(fit.tau2));
        if let Some(se) = fit.se_tau2 {
            let _ = write!(s, " (SE = {})", fmt(se));
        }
        if let Some(ci) = &fit.tau2_ci {
            let _ = write!(
                s,
                ", {}% CI [{}{}, {}{}] (Q-profile)",
                o.level,
                ci.lb_censor.sign(),
                fmt(ci.tau2_lb),
                ci.ub_censor.sign(),
                fmt(ci.tau2_ub)
            );
        }
        let _ = writeln!(s);
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
    let _ = writeln!(
        s,
        "Residual heterogeneity: QE({}) = {}, {}",
        fit.het.q_df,
        fmt(fit.het.q),
        p_clause(fit.het.q_pval)
    );
    let _ = writeln!(
        s,
        "Test of moderators ({} coefficient{}): {}",
        fit.qm.df,
        if fit.qm.df == 1 { "" } else { "s" },
        omnibus_clause(&fit.qm)
    );
    let _ = writeln!(s);
    coefficient_table(&mut s, fit);
    let _ = writeln!(
        s,
        "\nlogLik ({}) = {}; deviance = {}; AIC = {}; BIC = {}; AICc = {}",
        fit.fit.loglik_type,
        fmt(fit.fit.loglik),
        fmt(fit.fit.deviance),
        fmt(fit.fit.aic),
        fmt(fit.fit.bic),
        fmt(fit.fit.aicc)
    );
    for n in &fit.notes {
        let _ = writeln!(s, "Note: {n}");
    }
    s
}

/// The summary of a subgroup analysis: one row per subgroup (separate fits), then both tests
/// for subgroup differences, then the common-τ² estimates.
pub fn subgroup_summary(sg: &SubgroupFit) -> String {
    let mut s = String::new();
    let Some(first) = sg.groups.first() else {
        return s;
    };
    let o = &first.fit.options;
    let scale = first.fit.effects.scale;
    let _ = writeln!(
        s,
        "Subgroup analysis by '{}': {} subgroups, k = {}",
        sg.column,
        sg.groups.len(),
        sg.mixed.k
    );
    let _ = writeln!(
        s,
        "Measure: {} ({}); {}; inference: {}",
        first.fit.effects.measure.name(),
        first.fit.effects.measure.description(),
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
    let width = sg
        .groups
        .iter()
        .map(|g| g.level.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let _ = writeln!(s, "\nSeparate fits per subgroup (own tau^2):");
    let _ = write!(
        s,
        "{:<width$} {:>4} {:>8} {:>7} {:>8} {:>8} {:>7} {:>8} {:>7}",
        "level", "k", "estimate", "se", "ci.lb", "ci.ub", "pval", "tau2", "I2"
    );
    if scale.is_transformed() {
        let _ = write!(s, "   back-transformed [CI]");
    }
    let _ = writeln!(s);
    for g in &sg.groups {
        let f = &g.fit;
        let _ = write!(
            s,
            "{:<width$} {:>4} {:>8} {:>7} {:>8} {:>8} {:>7} {:>8} {:>6.1}%",
            g.level,
            f.k,
            fmt(f.estimate),
            fmt(f.se),
            fmt(f.ci_lb),
            fmt(f.ci_ub),
            fmt_p(f.pval),
            fmt(f.tau2),
            f.het.i2
        );
        if scale.is_transformed() {
            let _ = write!(
                s,
                "   {} [{}, {}]",
                fmt(scale.back(f.estimate)),
                fmt(scale.back(f.ci_lb)),
                fmt(scale.back(f.ci_ub))
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "\nTests for subgroup differences:");
    let _ = writeln!(
        s,
        "  from the separate fits (Q-between, FE on the subgroup estimates): Q({}) = {}, {}",
        sg.q_between.df,
        fmt(sg.q_between.q),
        p_clause(sg.q_between.pval)
    );
    let _ = writeln!(
        s,
        "  from the mixed-effects model ~factor({}) (common tau^2, moderator test): {}",
        sg.column,
        omnibus_clause(&sg.mixed.qm)
    );
    if !o.method.is_fixed() {
        let _ = writeln!(
            s,
            "  common tau^2 = {}; residual I^2 = {:.2}%; R^2 = {}",
            fmt(sg.mixed.tau2),
            sg.mixed.het.i2,
            sg.mixed.r2.map_or("NA".to_string(), |r| format!("{r:.2}%"))
        );
    }
    let _ = writeln!(
        s,
        "  residual heterogeneity: QE({}) = {}, {}",
        sg.mixed.het.q_df,
        fmt(sg.mixed.het.q),
        p_clause(sg.mixed.het.q_pval)
    );
    let _ = writeln!(
        s,
        "\nSubgroup estimates with a common tau^2 (~factor({}) - 1):",
        sg.column
    );
    coefficient_table(&mut s, &sg.common);
    s
}
