//! S-values (Mathur & VanderWeele 2020): the selection ratio that would explain a result away.

use super::fmt;
use crate::bias::svalue::{Corrected, SValues, Sval};
use std::fmt::Write;

/// An S-value as a phrase.
fn sval(s: Sval) -> String {
    match s {
        Sval::Value(x) => fmt(x),
        Sval::NotPossible => "not possible (no selection ratio shifts it to q)".into(),
        Sval::Above(m) => format!("> {} (beyond the largest ratio searched)", fmt(m)),
        Sval::CiContainsQ => "not applicable (the uncorrected interval already contains q)".into(),
    }
}

/// "estimate (95% CI lb, ub)".
fn est_ci(estimate: f64, ci_lb: f64, ci_ub: f64, level: impl std::fmt::Display) -> String {
    format!(
        "{} ({level}% CI {}, {})",
        fmt(estimate),
        fmt(ci_lb),
        fmt(ci_ub)
    )
}

/// The S-values, the uncorrected and worst-case estimates and, when asked, the estimate
/// corrected at a given selection ratio.
pub fn svalue_summary(s: &SValues, at: Option<&Corrected>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "S-values for publication bias (Mathur & VanderWeele 2020), {} model; k = {}",
        if s.model.name() == "fixed" {
            "fixed-effect"
        } else {
            "robust random-effects"
        },
        s.k
    );
    let _ = writeln!(
        out,
        "Selection assumed to favour {} estimates; affirmative: p < {} in that direction \
         ({} affirmative, {} nonaffirmative studies{}).",
        if s.favor_positive {
            "positive"
        } else {
            "negative"
        },
        s.alpha_select,
        s.k_affirmative,
        s.k_nonaffirmative,
        match s.tau2 {
            Some(t) => format!(
                "; {} clusters; tau^2 of the weights {}",
                s.n_clusters,
                fmt(t)
            ),
            None => String::new(),
        }
    );
    let u = &s.uncorrected;
    let _ = writeln!(
        out,
        "\nUncorrected estimate: {}",
        est_ci(u.estimate, u.ci_lb, u.ci_ub, s.level)
    );
    match &s.worst {
        Some(w) => {
            let _ = writeln!(
                out,
                "Worst case (nonaffirmative studies only): {}",
                est_ci(w.estimate, w.ci_lb, w.ci_ub, s.level)
            );
        }
        None => {
            let _ = writeln!(out, "Worst case: none (no nonaffirmative study)");
        }
    }
    let _ = writeln!(
        out,
        "\nS-value to shift the estimate to q = {}: {}",
        fmt(s.q),
        sval(s.sval_est)
    );
    let _ = writeln!(
        out,
        "S-value to shift the confidence bound to q = {}: {}",
        fmt(s.q),
        sval(s.sval_ci)
    );
    if let Sval::Value(x) = s.sval_est {
        let _ = writeln!(
            out,
            "Affirmative studies would have to be {} times as likely to be published as \
             nonaffirmative ones to shift the estimate to q.",
            fmt(x)
        );
    }
    if let Some(c) = at {
        let _ = writeln!(
            out,
            "\nCorrected for eta = {}: {}, se = {}, p = {}",
            fmt(c.eta),
            est_ci(c.estimate, c.ci_lb, c.ci_ub, s.level),
            fmt(c.se),
            fmt(c.pval)
        );
    }
    out
}
