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

// ---------------------------------------------------------------------------------------------
// Publication bias and sensitivity.

/// The Cochrane Handbook (§13.3.5.4) advises against funnel-plot asymmetry tests with fewer than
/// 10 studies: their power is too low to tell chance from bias.
pub fn small_k_warning(k: usize) -> Option<String> {
    (k < 10).then(|| {
        format!(
            "Warning: only {k} studies. Tests for funnel-plot asymmetry have low power with fewer than 10 \
             studies and should not be used (Cochrane Handbook §13.3.5.4)."
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
                crate::Scale::Log => "log",
                crate::Scale::Logit => "logit",
                crate::Scale::FisherZ => "Fisher z",
                crate::Scale::Identity => "identity",
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

fn or_unavailable<T>(r: &crate::Result<T>, f: impl Fn(&T) -> String) -> String {
    match r {
        Ok(x) => f(x),
        Err(e) => format!("not available: {e}\n"),
    }
}

/// `evident bias`: the pooled model and every publication-bias check, in one readable report.
pub fn bias_report(
    fit: &RmaFit,
    regtest: &crate::Result<crate::bias::Regtest>,
    ranktest: &crate::Result<crate::bias::Ranktest>,
    trimfill: &crate::Result<crate::bias::TrimFill>,
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
    let _ = writeln!(s, "\n1. Egger's regression test");
    s.push_str(&or_unavailable(regtest, regtest_summary));
    let _ = writeln!(s, "\n2. Begg and Mazumdar's rank correlation test");
    s.push_str(&or_unavailable(ranktest, ranktest_summary));
    let _ = writeln!(s, "\n3. Trim-and-fill");
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
    l1o: &crate::Result<crate::sensitivity::RefitSeries>,
    inf: &crate::Result<crate::sensitivity::Influence>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Sensitivity analysis (k = {})", fit.k);
    if fit.k < 10 {
        let _ = writeln!(
            s,
            "Warning: only {} studies. With fewer than 10 studies single studies carry much weight \
             and these diagnostics (like tests for funnel-plot asymmetry, Cochrane Handbook \
             §13.3.5.4) are fragile: read them as descriptions, not tests.",
            fit.k
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
            let full_sig = fit.pval < 1.0 - fit.options.level / 100.0;
            let flips: Vec<&str> = fits
                .iter()
                .filter(|(_, f)| (f.pval < 1.0 - fit.options.level / 100.0) != full_sig)
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
    let _ = writeln!(s);
    s.push_str(&or_unavailable(l1o, leave1out_table));
    let _ = writeln!(s);
    s.push_str(&or_unavailable(inf, influence_table));
    s
}
