//! Likelihood-ratio tests of nested models (metafor's `print.anova.rma`).

use super::fmt;
use crate::model::Method;
use crate::moderators::anova::{Lrt, ModelRow};
use crate::render::pvalue::{p_number, PStyle};
use std::fmt::Write;

/// metafor's table: df (parameters), AIC, BIC, AICc, logLik, LRT, pval, QE, τ² and R² (rma
/// random-effects models), one row per model, then what each model contains.
pub fn anova_summary(t: &Lrt) -> String {
    let mut s = String::new();
    // Multilevel models have neither a single tau^2 nor R^2 (metafor leaves them out).
    let re = !t.method.is_fixed() && !t.r2.is_nan();
    let how = match t.method {
        Method::REML => ": restricted maximum likelihood",
        m if m.is_fixed() => ": fixed effects",
        _ => ": maximum likelihood",
    };
    let _ = writeln!(
        s,
        "Likelihood-ratio test of nested models ({}{how}); k = {}",
        t.method.name(),
        t.k
    );
    let _ = writeln!(s);
    let _ = write!(
        s,
        "{:<8} {:>3} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7} {:>9}",
        "", "df", "AIC", "BIC", "AICc", "logLik", "LRT", "pval", "QE"
    );
    if re {
        let _ = write!(s, " {:>8}", "tau^2");
    }
    if re {
        let _ = write!(s, " {:>7}", "R^2");
    }
    let _ = writeln!(s);
    let cells = |s: &mut String, name: &str, m: &ModelRow| {
        let f = &m.fit;
        let _ = write!(
            s,
            "{name:<8} {:>3} {:>9} {:>9} {:>9} {:>9}",
            m.parms,
            fmt(f.aic),
            fmt(f.bic),
            fmt(f.aicc),
            fmt(f.loglik)
        );
    };
    cells(&mut s, "Full", &t.full);
    let _ = write!(s, " {:>8} {:>7} {:>9}", "", "", fmt(t.full.qe));
    if re {
        let _ = write!(s, " {:>8}", fmt(t.full.tau2));
    }
    let _ = writeln!(s);
    cells(&mut s, "Reduced", &t.reduced);
    let _ = write!(
        s,
        " {:>8} {:>7} {:>9}",
        fmt(t.lrt),
        p_number(t.pval, PStyle::Metafor),
        fmt(t.reduced.qe)
    );
    if re {
        let _ = write!(s, " {:>8}", fmt(t.reduced.tau2));
    }
    if re {
        let _ = write!(s, " {:>7}", format!("{:.2}%", t.r2));
    }
    let _ = writeln!(s);
    let _ = writeln!(s);
    for (name, m) in [("Full", &t.full), ("Reduced", &t.reduced)] {
        let _ = write!(s, "{name}: {} ({})", m.formula, m.coefficients.join(", "));
        if !m.random.is_empty() {
            let _ = write!(s, "; random {}", m.random.join(", "));
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "LRT = {} on {} df, {}",
        fmt(t.lrt),
        t.df,
        crate::render::pvalue::p_value(t.pval, PStyle::Metafor)
    );
    s
}
