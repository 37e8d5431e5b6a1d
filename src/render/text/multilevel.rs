//! The multilevel model's summary, laid out as metafor's `print.rma.mv`: the variance
//! components (estim, sqrt, nlvls, fixed, factor), the heterogeneity test and the coefficients.

use super::{fmt, q_clause, wald_cells, wald_head};
use crate::model::Method;
use crate::multilevel::MvFit;
use crate::render::pvalue::{p_value, PStyle};
use std::fmt::Write;

/// The text summary of an `rma.mv` fit.
pub fn mv_summary(fit: &MvFit) -> String {
    let mut s = String::new();
    let method = if fit.method == Method::ML {
        "ML"
    } else {
        "REML"
    };
    let _ = writeln!(s, "Multilevel model (k = {}; method: {method})\n", fit.k);
    let _ = writeln!(
        s,
        "  logLik = {}, deviance = {}, AIC = {}, BIC = {}, AICc = {}\n",
        fmt(fit.loglik),
        fmt(fit.deviance),
        fmt(fit.aic),
        fmt(fit.bic),
        fmt(fit.aicc)
    );
    let _ = writeln!(s, "Variance components:\n");
    let _ = writeln!(
        s,
        "{:<11} {:>8} {:>8} {:>6} {:>6}  factor",
        "", "estim", "sqrt", "nlvls", "fixed"
    );
    for (j, c) in fit.components.iter().enumerate() {
        let _ = writeln!(
            s,
            "{:<11} {:>8} {:>8} {:>6} {:>6}  {}",
            format!("sigma^2.{}", j + 1),
            fmt(c.sigma2),
            fmt(c.sigma2.sqrt()),
            c.nlevels,
            if c.fixed { "yes" } else { "no" },
            c.name
        );
    }
    let _ = writeln!(
        s,
        "\nTest for residual heterogeneity: {}",
        q_clause("QE", format!("df = {}", fit.qe.1), fit.qe.0, fit.qe.2)
    );
    let qm = &fit.qm;
    let qm_label = match qm.ddf {
        Some(ddf) => format!("F(df1 = {}, df2 = {ddf})", qm.df),
        None => format!("QM(df = {})", qm.df),
    };
    let _ = writeln!(
        s,
        "Test of moderators: {qm_label} = {}, {}",
        fmt(qm.stat),
        p_value(qm.pval, PStyle::Metafor)
    );
    let stat_name = if fit.coefficients.iter().any(|c| c.df.is_some()) {
        "tval"
    } else {
        "zval"
    };
    let _ = writeln!(s, "\nModel results:\n");
    let _ = writeln!(s, "{:<24} {} {:>6}", "", wald_head(stat_name), "df");
    for c in &fit.coefficients {
        let _ = writeln!(
            s,
            "{:<24} {} {:>6}",
            c.name,
            wald_cells(c.estimate, c.se, c.stat, c.pval, c.ci_lb, c.ci_ub),
            c.df.map_or(String::new(), |d| d.to_string())
        );
    }
    if let Some((lb, ub)) = fit.pi {
        let _ = writeln!(
            s,
            "\n{}% prediction interval: [{}, {}]",
            fit.level.percent(),
            fmt(lb),
            fmt(ub)
        );
    }
    for w in &fit.warnings {
        let _ = writeln!(s, "Note: {w}");
    }
    s
}
