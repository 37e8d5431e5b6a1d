//! Readable summaries of fitted models, in the spirit of metafor's `print.rma`.

use crate::model::RmaFit;
use crate::moderators::metareg::{MetaregFit, OmnibusTest, Predicted};
use crate::moderators::permutation::PermutationTest;
use crate::moderators::subgroup::SubgroupFit;
use crate::pool::mh::MhFit;
use crate::reported::interaction::{
    Additive, CiMethod, Contrast, Measure as InteractionMeasure, TwoEstimates,
};
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

/// "tau^2 = 0.3132 (SE = 0.1664), 95% CI [0.1197, 1.1115] (Q-profile)" and a line break.
fn tau2_line(
    s: &mut String,
    name: &str,
    tau2: f64,
    se: Option<f64>,
    ci: Option<&crate::model::heterogeneity::Tau2Ci>,
    level: f64,
) {
    let _ = write!(s, "{name} = {}", fmt(tau2));
    if let Some(se) = se {
        let _ = write!(s, " (SE = {})", fmt(se));
    }
    if let Some(ci) = ci {
        let _ = write!(
            s,
            ", {level}% CI [{}{}, {}{}] (Q-profile)",
            ci.lb_censor.sign(),
            fmt(ci.tau2_lb),
            ci.ub_censor.sign(),
            fmt(ci.tau2_ub)
        );
    }
    let _ = writeln!(s);
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
            crate::model::Test::Z => "z (Wald)".to_string(),
            crate::model::Test::Knha => format!("Knapp–Hartung t({})", fit.df.unwrap_or(f64::NAN)),
            crate::model::Test::Adhoc => format!(
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
        tau2_line(
            &mut s,
            "tau^2",
            fit.tau2,
            fit.se_tau2,
            fit.tau2_ci.as_ref(),
            o.level.percent(),
        );
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

fn test_label(test: crate::model::Test, df: Option<f64>) -> String {
    match test {
        crate::model::Test::Z => "z (Wald)".to_string(),
        crate::model::Test::Knha => format!("Knapp–Hartung t({})", df.unwrap_or(f64::NAN)),
        crate::model::Test::Adhoc => format!(
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
        tau2_line(
            &mut s,
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

/// The summary of a subgroup analysis: the per-subgroup estimates (separate fits with their own
/// τ², or with `common_tau2` the estimates of the model with one τ² shared by all subgroups),
/// both tests for subgroup differences, then the other set of estimates.
pub fn subgroup_summary(sg: &SubgroupFit, common_tau2: bool) -> String {
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
    let main = std::mem::take(&mut s);
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
    let separate = std::mem::take(&mut s);
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
    let tests = std::mem::take(&mut s);
    let _ = writeln!(
        s,
        "\nSubgroup estimates with a common tau^2 (~factor({}) - 1):",
        sg.column
    );
    coefficient_table(&mut s, &sg.common);
    if scale.is_transformed() {
        for c in &sg.common.coefficients {
            let _ = writeln!(
                s,
                "  {}: back-transformed {} [{}, {}]",
                c.name,
                fmt(scale.back(c.estimate)),
                fmt(scale.back(c.ci_lb)),
                fmt(scale.back(c.ci_ub))
            );
        }
    }
    let common = s;
    if common_tau2 {
        format!("{main}{common}{tests}{separate}")
    } else {
        format!("{main}{separate}{tests}{common}")
    }
}

/// The comparison of two estimates as a short report.
pub fn two_estimates_summary(r: &TwoEstimates) -> String {
    let mut s = String::new();
    let (what, scale) = match r.contrast {
        Contrast::Ratio => ("Ratio of the two ratios", "log ratio"),
        Contrast::Difference => ("Difference of the two differences", "difference"),
    };
    let _ = writeln!(
        s,
        "{what}: {} ({}% CI {} to {})",
        fmt(r.estimate),
        r.level,
        fmt(r.ci_lb),
        fmt(r.ci_ub)
    );
    let _ = writeln!(
        s,
        "Test of interaction: {scale} d = {}, SE(d) = {}, z = {}, {}",
        fmt(r.d),
        fmt(r.se_d),
        fmt(r.z),
        p_clause(r.pval)
    );
    for n in &r.notes {
        let _ = writeln!(s, "Warning: {n}");
    }
    s
}

/// RERI, AP and S as a table.
pub fn additive_summary(r: &Additive) -> String {
    let mut s = String::new();
    let method = match r.method {
        CiMethod::Delta => "delta method (Hosmer & Lemeshow 1992)",
        CiMethod::Mover => "MOVER from the separate CIs (Zou 2008)",
    };
    let _ = writeln!(s, "Additive interaction; {}% CIs by {method}", r.level);
    let ci = |m: &InteractionMeasure| match (m.ci_lb, m.ci_ub) {
        (Some(l), Some(u)) => format!("[{}, {}]", fmt(l), fmt(u)),
        _ => "not defined".to_string(),
    };
    for (name, m) in [
        ("RERI (relative excess risk due to interaction)", &r.reri),
        ("AP   (attributable proportion due to interaction)", &r.ap),
        ("S    (synergy index)", &r.s),
    ] {
        let _ = writeln!(s, "{name:<50} {:>8} {}", fmt(m.estimate), ci(m));
    }
    let _ = writeln!(s, "No additive interaction: RERI = 0, AP = 0, S = 1.");
    for n in &r.notes {
        let _ = writeln!(s, "Note: {n}");
    }
    s
}

/// Permutation p-values next to the coefficient names.
pub fn permutation_summary(fit: &MetaregFit, t: &PermutationTest) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nPermutation test ({} {} permutations{}):",
        t.iterations,
        if t.exact {
            "exact: all distinct"
        } else {
            "random"
        },
        if t.failed > 0 {
            format!(", {} could not be fitted and were left out", t.failed)
        } else {
            String::new()
        }
    );
    let _ = writeln!(s, "  test of moderators: {}", p_clause(t.qm_pval));
    for (c, p) in fit.coefficients.iter().zip(&t.pval) {
        let _ = writeln!(s, "  {}: {}", c.name, p_clause(*p));
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
                " → back-transformed {} [{}, {}]",
                fmt(scale.back(p.pred)),
                fmt(scale.back(p.ci_lb)),
                fmt(scale.back(p.ci_ub))
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

// ---------------------------------------------------------------------------------------------
// Publication bias and sensitivity.

/// The Cochrane Handbook (ch. 13) advises against funnel-plot asymmetry tests with fewer than
/// 10 studies: their power is too low to tell chance from bias.
pub fn small_k_warning(k: usize) -> Option<String> {
    (k < 10).then(|| {
        format!(
            "Warning: only {k} {}. Tests for funnel-plot asymmetry have low power with fewer than 10 \
             studies and should not be used (Cochrane Handbook ch. 13).",
            if k == 1 { "study" } else { "studies" }
        )
    })
}

fn stat_with_df(name: &str, stat: f64, df: Option<f64>) -> String {
    match df {
        Some(df) => format!("t = {} (df = {df})", fmt(stat)),
        None => format!(
            "{} = {}",
            if name == "zval" { "z" } else { name },
            fmt(stat)
        ),
    }
}

/// Egger's regression test.
pub fn regtest_summary(r: &crate::bias::Regtest) -> String {
    use crate::bias::RegModel;
    let mut s = String::new();
    let model = match r.model {
        RegModel::Rma => "meta-regression model (same tau2 method and test)",
        RegModel::Lm => "weighted regression with multiplicative dispersion (lm)",
    };
    let _ = writeln!(s, "Regression test for funnel plot asymmetry (k = {})", r.k);
    let _ = writeln!(s, "Model: {model}; predictor: {}", r.predictor.name());
    let _ = writeln!(
        s,
        "Test for asymmetry: {}, {}",
        stat_with_df(r.stat_name(), r.stat, r.df),
        p_clause(r.pval)
    );
    if let Some(l) = r.limit {
        let _ = writeln!(
            s,
            "Limit estimate (as {} -> 0): {} (CI: {}, {})",
            r.predictor.name(),
            fmt(l.estimate),
            fmt(l.ci_lb),
            fmt(l.ci_ub)
        );
    }
    s
}

/// Begg and Mazumdar's rank correlation test.
pub fn ranktest_summary(r: &crate::bias::Ranktest) -> String {
    format!(
        "Rank correlation test for funnel plot asymmetry (k = {})\nKendall's tau = {}, {} ({})\n",
        r.k,
        fmt(r.tau),
        p_clause(r.pval),
        if r.exact {
            "exact"
        } else {
            "normal approximation, ties present"
        }
    )
}

/// Trim-and-fill: the number of imputed studies and the filled model.
pub fn trimfill_summary(t: &crate::bias::TrimFill) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Trim-and-fill: estimated number of missing studies on the {} side: {} (SE = {})",
        t.side.name(),
        t.k0,
        fmt(t.se_k0)
    );
    let _ = writeln!(s, "Estimator: {}", t.estimator.name());
    if let Some(p) = t.p_k0 {
        let _ = writeln!(s, "Test of H0: no missing studies: {}", p_clause(p));
    }
    if t.k0 > 0 {
        let _ = writeln!(s, "Filled studies (yi, vi):");
        for (y, v) in t.filled_yi.iter().zip(&t.filled_vi) {
            let _ = writeln!(s, "  {:>9} {:>9}", fmt(*y), fmt(*v));
        }
        let _ = writeln!(s, "\nModel with the filled studies:");
    } else {
        let _ = writeln!(s, "\nNo studies imputed; the original model:");
    }
    s.push_str(&rma_summary(&t.fit));
    s
}

fn series_table(sr: &crate::sensitivity::RefitSeries, head: &str) -> String {
    let mut s = String::new();
    let w = sr
        .labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(4)
        .max(5);
    let stat = if sr.stat_name() == "tval" { "t" } else { "z" };
    let _ = writeln!(s, "{head}");
    let _ = write!(
        s,
        "{:<w$} {:>8} {:>7} {:>8} {:>7} {:>8} {:>8} {:>9} {:>7}",
        "study", "estimate", "se", stat, "pval", "ci.lb", "ci.ub", "Q", "I2"
    );
    if !sr.method.is_fixed() {
        let _ = write!(s, " {:>8}", "tau2");
    }
    let _ = writeln!(s);
    for (label, f) in sr.labels.iter().zip(&sr.fits) {
        let _ = write!(s, "{label:<w$}");
        match f {
            Some(f) => {
                let _ = write!(
                    s,
                    " {:>8} {:>7} {:>8} {:>7} {:>8} {:>8} {:>9} {:>6.2}%",
                    fmt(f.estimate),
                    fmt(f.se),
                    fmt(f.stat),
                    fmt_p(f.pval),
                    fmt(f.ci_lb),
                    fmt(f.ci_ub),
                    fmt(f.q),
                    f.i2
                );
                if !sr.method.is_fixed() {
                    let _ = write!(s, " {:>8}", fmt(f.tau2));
                }
            }
            None => {
                let _ = write!(s, "  (model could not be fitted)");
            }
        }
        let _ = writeln!(s);
    }
    if sr.scale.is_transformed() {
        let _ = writeln!(
            s,
            "(estimates on the {} scale; back-transform for display with {})",
            match sr.scale {
                crate::measure::Scale::Log => "log",
                crate::measure::Scale::Logit => "logit",
                crate::measure::Scale::FisherZ => "Fisher z",
                crate::measure::Scale::Identity => "identity",
            },
            sr.scale.key_suffix().unwrap_or("")
        );
    }
    s
}

/// Leave-one-out table: row i is the model without study i.
pub fn leave1out_table(sr: &crate::sensitivity::RefitSeries) -> String {
    series_table(
        sr,
        &format!(
            "Leave-one-out analysis ({}): each row omits that study",
            sr.method.name()
        ),
    )
}

/// Cumulative meta-analysis table: row i is the model fitted to the first i studies.
pub fn cumul_table(sr: &crate::sensitivity::RefitSeries, order: &str) -> String {
    series_table(
        sr,
        &format!(
            "Cumulative meta-analysis ({}), order: {order}; each row adds that study",
            sr.method.name()
        ),
    )
}

/// Influence diagnostics table, influential studies starred.
pub fn influence_table(inf: &crate::sensitivity::Influence) -> String {
    let mut s = String::new();
    let w = inf
        .labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(4)
        .max(5);
    let _ = writeln!(
        s,
        "Influence diagnostics (* = influential by metafor's rules)"
    );
    let _ = writeln!(
        s,
        "{:<w$} {:>8} {:>8} {:>8} {:>7} {:>8} {:>9} {:>6} {:>7} {:>8}",
        "study",
        "rstudent",
        "dffits",
        "cook.d",
        "cov.r",
        "tau2.del",
        "QE.del",
        "hat",
        "weight",
        "dfbetas"
    );
    for i in 0..inf.labels.len() {
        let _ = writeln!(
            s,
            "{:<w$} {:>8} {:>8} {:>8} {:>7} {:>8} {:>9} {:>6.4} {:>6.2}% {:>8}{}",
            inf.labels[i],
            fmt(inf.rstudent[i]),
            fmt(inf.dffits[i]),
            fmt(inf.cooks_d[i]),
            fmt(inf.cov_r[i]),
            fmt(inf.tau2_del[i]),
            fmt(inf.qe_del[i]),
            inf.hat[i],
            inf.weight[i],
            fmt(inf.dfbetas[i]),
            if inf.is_infl[i] == Some(true) {
                " *"
            } else {
                ""
            }
        );
    }
    s
}

fn or_unavailable<T>(r: &crate::error::Result<T>, f: impl Fn(&T) -> String) -> String {
    match r {
        Ok(x) => f(x),
        Err(e) => format!("not available: {e}\n"),
    }
}

/// `evident bias`: the pooled model and every publication-bias check, in one readable report.
pub fn bias_report(
    fit: &RmaFit,
    regtest: &crate::error::Result<crate::bias::Regtest>,
    ranktest: &crate::error::Result<crate::bias::Ranktest>,
    trimfill: &crate::error::Result<crate::bias::TrimFill>,
    pet_peese: &crate::error::Result<crate::bias::PetPeese>,
    fsn: &crate::error::Result<crate::bias::Fsn>,
    peters: Option<&crate::error::Result<crate::bias::Regtest>>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Publication bias and small-study effects (k = {})",
        fit.k
    );
    if let Some(w) = small_k_warning(fit.k) {
        let _ = writeln!(s, "{w}");
    }
    let _ = writeln!(
        s,
        "\nPooled estimate: {} [{}, {}], {}",
        fmt(fit.estimate),
        fmt(fit.ci_lb),
        fmt(fit.ci_ub),
        p_clause(fit.pval)
    );
    let mut section = 0;
    let mut head = |s: &mut String, title: &str| {
        section += 1;
        let _ = writeln!(s, "\n{section}. {title}");
    };
    head(&mut s, "Egger's regression test");
    s.push_str(&or_unavailable(regtest, regtest_summary));
    if let Some(p) = peters {
        head(
            &mut s,
            "Peters' test (binary outcomes: effect on 1/n, weighted by inverse variance)",
        );
        s.push_str(&or_unavailable(p, regtest_summary));
    }
    head(&mut s, "Begg and Mazumdar's rank correlation test");
    s.push_str(&or_unavailable(ranktest, ranktest_summary));
    head(&mut s, "Trim-and-fill");
    s.push_str(&or_unavailable(trimfill, |t| {
        let f = &t.fit;
        let mut o = format!(
            "{} studies imputed on the {} side ({}); adjusted estimate {} [{}, {}], {}\n",
            t.k0,
            t.side.name(),
            t.estimator.name(),
            fmt(f.estimate),
            fmt(f.ci_lb),
            fmt(f.ci_ub),
            p_clause(f.pval)
        );
        if f.effects.scale.is_transformed() {
            let sc = f.effects.scale;
            o.push_str(&format!(
                "Back-transformed ({}): {} [{}, {}]\n",
                sc.key_suffix().unwrap_or(""),
                fmt(sc.back(f.estimate)),
                fmt(sc.back(f.ci_lb)),
                fmt(sc.back(f.ci_ub))
            ));
        }
        o
    }));
    head(&mut s, "PET-PEESE (Stanley & Doucouliagos 2014)");
    s.push_str(&or_unavailable(pet_peese, pet_peese_summary));
    head(&mut s, "Fail-safe N");
    s.push_str(&or_unavailable(fsn, fsn_summary));
    let _ = writeln!(
        s,
        "\nAsymmetry can arise from publication bias, but also from heterogeneity, chance or \
         small-study effects of other kinds; trim-and-fill's adjusted estimate is a sensitivity \
         analysis, not a corrected result."
    );
    s
}

/// `evident sensitivity`: leave-one-out and influence in one readable report.
pub fn sensitivity_report(
    fit: &RmaFit,
    l1o: &crate::error::Result<crate::sensitivity::RefitSeries>,
    inf: &crate::error::Result<crate::sensitivity::Influence>,
    baujat: &crate::error::Result<crate::sensitivity::Baujat>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Sensitivity analysis (k = {})", fit.k);
    if fit.k < 10 {
        let _ = writeln!(
            s,
            "Warning: only {} {}. With fewer than 10 studies single studies carry much weight \
             and these diagnostics (like tests for funnel-plot asymmetry, Cochrane Handbook \
             ch. 13) are fragile: read them as descriptions, not tests.",
            fit.k,
            if fit.k == 1 { "study" } else { "studies" }
        );
    }
    let _ = writeln!(
        s,
        "\nPooled estimate: {} [{}, {}], {}",
        fmt(fit.estimate),
        fmt(fit.ci_lb),
        fmt(fit.ci_ub),
        p_clause(fit.pval)
    );
    if let Ok(sr) = l1o {
        let fits: Vec<(usize, &crate::sensitivity::Refit)> = sr
            .fits
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.as_ref().map(|f| (i, f)))
            .collect();
        if let (Some(lo), Some(hi)) = (
            fits.iter()
                .min_by(|a, b| a.1.estimate.total_cmp(&b.1.estimate)),
            fits.iter()
                .max_by(|a, b| a.1.estimate.total_cmp(&b.1.estimate)),
        ) {
            let _ = writeln!(
                s,
                "Leave-one-out estimates range from {} (without {}) to {} (without {})",
                fmt(lo.1.estimate),
                sr.labels[lo.0],
                fmt(hi.1.estimate),
                sr.labels[hi.0]
            );
            let full_sig = fit.pval < 1.0 - fit.options.level.percent() / 100.0;
            let flips: Vec<&str> = fits
                .iter()
                .filter(|(_, f)| (f.pval < 1.0 - fit.options.level.percent() / 100.0) != full_sig)
                .map(|(i, _)| sr.labels[*i].as_str())
                .collect();
            if flips.is_empty() {
                let _ = writeln!(
                    s,
                    "Omitting any single study leaves the conclusion unchanged."
                );
            } else {
                let _ = writeln!(
                    s,
                    "Omitting one of these studies changes statistical significance: {}",
                    flips.join(", ")
                );
            }
        }
    }
    if let Ok(inf) = inf {
        let flagged: Vec<&str> = (0..inf.labels.len())
            .filter(|&i| inf.is_infl[i] == Some(true))
            .map(|i| inf.labels[i].as_str())
            .collect();
        if flagged.is_empty() {
            let _ = writeln!(s, "No study is influential by metafor's rules.");
        } else {
            let _ = writeln!(s, "Influential studies: {}", flagged.join(", "));
        }
    }
    if let Ok(b) = baujat {
        let top = |v: &[f64]| {
            let mut idx: Vec<usize> = (0..v.len()).filter(|&i| v[i].is_finite()).collect();
            idx.sort_by(|&a, &c| v[c].total_cmp(&v[a]));
            idx.iter()
                .take(3)
                .map(|&i| format!("{} ({})", b.labels[i], fmt(v[i])))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            s,
            "Largest contributions to heterogeneity (Baujat x): {}",
            top(&b.x)
        );
        let _ = writeln!(
            s,
            "Largest influence on the estimate (Baujat y): {}",
            top(&b.y)
        );
    }
    let _ = writeln!(s);
    s.push_str(&or_unavailable(l1o, leave1out_table));
    let _ = writeln!(s);
    s.push_str(&or_unavailable(inf, influence_table));
    s
}

/// PET-PEESE: both regressions and the estimate chosen.
pub fn pet_peese_summary(p: &crate::bias::PetPeese) -> String {
    let mut s = String::new();
    let line = |name: &str, r: &crate::bias::Regtest| {
        let l = r.limit.expect("PET and PEESE have a limit estimate");
        format!(
            "{name}: intercept {} [{}, {}], {}; slope {}, {}\n",
            fmt(l.estimate),
            fmt(l.ci_lb),
            fmt(l.ci_ub),
            p_clause(l.pval),
            fmt(r.slope),
            p_clause(r.pval)
        )
    };
    s.push_str(&line("PET   (yi ~ sei)", &p.pet));
    s.push_str(&line("PEESE (yi ~ vi) ", &p.peese));
    let _ = writeln!(
        s,
        "PET's intercept {} zero at two-sided {}: the {} estimate is reported: {} [{}, {}]",
        if p.choice == crate::bias::PetPeeseChoice::Peese {
            "differs from"
        } else {
            "does not differ from"
        },
        p.alpha,
        match p.choice {
            crate::bias::PetPeeseChoice::Pet => "PET",
            crate::bias::PetPeeseChoice::Peese => "PEESE",
        },
        fmt(p.estimate),
        fmt(p.ci_lb),
        fmt(p.ci_ub)
    );
    s
}

/// Fail-safe N.
pub fn fsn_summary(f: &crate::bias::Fsn) -> String {
    use crate::bias::FsnType;
    let what = match f.kind {
        FsnType::Rosenthal => "Rosenthal (Stouffer)",
        FsnType::Orwin { .. } => "Orwin",
        FsnType::Rosenberg => "Rosenberg",
    };
    let mut s = format!(
        "{what}: {} additional null studies would be needed",
        f.fsnum
    );
    match f.kind {
        FsnType::Orwin { .. } => {
            let _ = write!(
                s,
                " to reduce the mean effect {} to {}",
                fmt(f.mean_effect.unwrap_or(f64::NAN)),
                fmt(f.target.unwrap_or(f64::NAN))
            );
        }
        _ => {
            let _ = write!(
                s,
                " to make the result non-significant at alpha = {}",
                f.alpha
            );
        }
    }
    if let Some(p) = f.pval {
        let _ = write!(s, " (observed {})", p_clause(p));
    }
    s.push_str(".\nFail-safe N ignores heterogeneity and the sizes of effects (the Cochrane Handbook, ch. 13, advises against it); prefer regression tests and trim-and-fill.\n");
    s
}

/// GOSH summary: how many fits, the spread of estimates and I², and each study's pull.
pub fn gosh_summary(g: &crate::sensitivity::Gosh, labels: &[String]) -> String {
    let mut s = String::new();
    let ok: Vec<usize> = (0..g.len())
        .filter(|&r| g.estimate[r].is_finite())
        .collect();
    let _ = writeln!(
        s,
        "GOSH: {} models fitted to {} of the non-empty subsets of {} studies ({} failed)",
        g.len(),
        if g.exact { "all" } else { "a random sample" },
        g.k,
        g.len() - ok.len()
    );
    let range = |v: &[f64]| {
        ok.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                (lo.min(v[r]), hi.max(v[r]))
            })
    };
    let (elo, ehi) = range(&g.estimate);
    let (ilo, ihi) = range(&g.i2);
    let _ = writeln!(s, "Estimates range from {} to {}", fmt(elo), fmt(ehi));
    let _ = writeln!(s, "I^2 ranges from {ilo:.2}% to {ihi:.2}%");
    let w = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        s,
        "\n{:<w$} {:>13} {:>13} {:>9} {:>9}",
        "study", "est. with", "est. without", "I2 with", "I2 w/o"
    );
    for (j, label) in labels.iter().enumerate() {
        let c = g.with_without(j);
        let _ = writeln!(
            s,
            "{label:<w$} {:>13} {:>13} {:>8.2}% {:>8.2}%",
            fmt(c.estimate_with),
            fmt(c.estimate_without),
            c.i2_with,
            c.i2_without
        );
    }
    s
}
