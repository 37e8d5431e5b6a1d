//! GLMM fits (metafor's `print.rma.glmm`): the model and its likelihood, τ² (and σ² of the
//! random study intercepts in UM.RS), I² and H², the Wald and likelihood-ratio tests of
//! heterogeneity, the moderators' omnibus test, the coefficients and the fit statistics.

use super::moderators::omnibus_clause;
use super::{
    coefficient_table, fit_stats_and_notes, fmt, measure_label, prediction_and_back, q_clause,
    test_label, wald_cells, wald_head,
};
use crate::glmm::{Coef, GlmmFit, GlmmModel};
use crate::measure::Measure;
use crate::model::{FitStats, Test};
use std::fmt::Write;

/// The summary of an `rma.glmm` fit.
pub fn glmm_summary(fit: &GlmmFit) -> String {
    let mut s = String::new();
    glmm_header(&mut s, fit);
    glmm_heterogeneity(&mut s, fit);
    if let Some(q) = &fit.qm {
        let _ = writeln!(s, "Test of moderators: {}\n", omnibus_clause(q));
    }
    glmm_coefficients(&mut s, fit);
    let stats = FitStats {
        loglik_type: "ML",
        loglik: fit.loglik,
        deviance: fit.deviance,
        aic: fit.aic,
        bic: fit.bic,
        aicc: fit.aicc,
    };
    fit_stats_and_notes(&mut s, &stats, &[]);
    s
}

/// The likelihood the model maximises, in words (metafor's "Model Type" for the 2×2 models).
fn likelihood(measure: Measure, model: GlmmModel) -> &'static str {
    match (measure, model) {
        (Measure::PLO, _) => "binomial-normal (logit link)",
        (Measure::IRLN, _) => "Poisson-normal (log link)",
        (Measure::IRR, GlmmModel::UmFs) => "Poisson-normal, fixed study effects",
        (Measure::IRR, GlmmModel::UmRs) => "Poisson-normal, random study effects",
        (Measure::IRR, _) => "binomial-normal, conditional on each study's total count",
        (_, GlmmModel::UmFs) => "binomial-normal, fixed study effects",
        (_, GlmmModel::UmRs) => "binomial-normal, random study effects",
        (_, GlmmModel::CmEl) => "non-central hypergeometric-normal, exact conditional",
        (_, GlmmModel::CmAl) => "binomial-normal, approximate conditional",
    }
}

/// How the random effect is integrated out, as metafor does it for the model.
fn integration(measure: Measure, model: GlmmModel) -> &'static str {
    match (measure, model) {
        (Measure::OR | Measure::IRR, GlmmModel::UmRs) => "the Laplace approximation (as lme4)",
        (Measure::OR, GlmmModel::CmEl) => "adaptive quadrature of the exact likelihood",
        _ => "7-point adaptive Gauss–Hermite quadrature",
    }
}

/// The model, its likelihood, the measure and the test.
fn glmm_header(s: &mut String, fit: &GlmmFit) {
    let kind = if fit.has_mods {
        "Mixed-effects GLMM"
    } else {
        "Random-effects GLMM"
    };
    let p = if fit.has_mods {
        format!(", p = {}", fit.p)
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "{kind} (model {}: {}; ML by {}); k = {}{p}",
        fit.model.name(),
        likelihood(fit.measure, fit.model),
        integration(fit.measure, fit.model),
        fit.k
    );
    let df = (fit.test == Test::T).then_some(fit.df as f64);
    let _ = writeln!(
        s,
        "Measure: {}; inference: {}",
        measure_label(fit.measure),
        test_label(fit.test, df)
    );
    if !fit.omitted.is_empty() {
        const SHOWN: usize = 5;
        let n = fit.omitted.len();
        let rows = if n == 1 { "row" } else { "rows" };
        let mut labels: Vec<&str> = fit
            .omitted
            .iter()
            .take(SHOWN)
            .map(|o| o.label.as_str())
            .collect();
        let more = format!("{} more", n.saturating_sub(SHOWN));
        if n > SHOWN {
            labels.push(&more);
        }
        // Why each was left out: the command's warnings.
        let _ = writeln!(s, "Omitted: {n} {rows} ({})", labels.join(", "));
    }
    let _ = writeln!(s);
}

/// τ², σ² (UM.RS), I², H² and the two tests of heterogeneity.
fn glmm_heterogeneity(s: &mut String, fit: &GlmmFit) {
    let _ = writeln!(s, "tau^2 = {}", fmt(fit.tau2));
    let _ = writeln!(s, "tau   = {}", fmt(fit.tau2.sqrt()));
    if let Some(sigma2) = fit.sigma2 {
        let _ = writeln!(s, "sigma^2 = {} (random study intercepts)", fmt(sigma2));
    }
    if fit.i2.is_finite() && fit.h2.is_finite() {
        let _ = writeln!(s, "I^2   = {:.2}%\nH^2   = {}", fit.i2, fmt(fit.h2));
    } else {
        let _ = writeln!(s, "I^2   = NA\nH^2   = NA");
    }
    let df = format!("df = {}", fit.qe_df);
    let what = if fit.has_mods { "residual " } else { "" };
    let _ = writeln!(
        s,
        "\nTests for {what}heterogeneity:\n{}\n{}\n",
        q_clause("Wld", &df, fit.qe_wld, fit.qe_wld_pval),
        q_clause("LRT", &df, fit.qe_lrt, fit.qe_lrt_pval)
    );
}

/// The coefficient table (moderators) or the pooled estimate with its prediction interval and
/// back-transform.
fn glmm_coefficients(s: &mut String, fit: &GlmmFit) {
    let stat_name = if fit.test == Test::T { "tval" } else { "zval" };
    let cells = |c: &Coef| [c.estimate, c.se, c.stat, c.pval, c.ci_lb, c.ci_ub];
    if fit.has_mods {
        let rows: Vec<(&str, [f64; 6])> = fit
            .coefs
            .iter()
            .map(|c| (c.name.as_str(), cells(c)))
            .collect();
        return coefficient_table(s, stat_name, &rows);
    }
    let Some(c) = fit.coefs.first() else { return };
    let _ = writeln!(s, "{}", wald_head(stat_name));
    let _ = writeln!(
        s,
        "{}",
        wald_cells(c.estimate, c.se, c.stat, c.pval, c.ci_lb, c.ci_ub)
    );
    prediction_and_back(
        s,
        fit.measure.scale(),
        (c.estimate, c.ci_lb, c.ci_ub),
        fit.pi,
    );
}
