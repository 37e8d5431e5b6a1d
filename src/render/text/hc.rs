//! Henmi–Copas (metafor's `print.hc.rma.uni`): the robust interval beside the model's.

use super::{fmt, pad};
use crate::bias::hc::HenmiCopas;
use std::fmt::Write;

/// metafor's two-row table (the model's method, and "HC" with the DerSimonian–Laird τ²), then
/// both back-transformed on ratio scales.
pub fn hc_summary(h: &HenmiCopas) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Henmi–Copas: fixed-effect estimate with a {}% CI robust to publication bias (tau^2 by DL); k = {}",
        h.level, h.k
    );
    let _ = writeln!(s);
    let name = format!("{} (model)", h.rma_method.name());
    let w = name.chars().count().max(7);
    let _ = writeln!(
        s,
        "{} {:>8} {:>7} {:>8} {:>8} {:>8}",
        pad("method", w),
        "tau2",
        "se",
        "estimate",
        "ci.lb",
        "ci.ub"
    );
    let rows = [
        (
            name.as_str(),
            h.rma_tau2,
            h.rma_se,
            h.rma_estimate,
            h.rma_ci_lb,
            h.rma_ci_ub,
        ),
        ("HC", h.tau2, h.se, h.estimate, h.ci_lb, h.ci_ub),
    ];
    for (label, tau2, se, est, lb, ub) in rows {
        let _ = writeln!(
            s,
            "{} {:>8} {:>7} {:>8} {:>8} {:>8}",
            pad(label, w),
            fmt(tau2),
            fmt(se),
            fmt(est),
            fmt(lb),
            fmt(ub)
        );
    }
    if let Some(sfx) = h.scale.key_suffix() {
        let b = |x: f64| fmt(h.scale.back(x));
        let _ = writeln!(
            s,
            "\nBack-transformed ({sfx}): model {} [{}, {}]; HC {} [{}, {}]",
            b(h.rma_estimate),
            b(h.rma_ci_lb),
            b(h.rma_ci_ub),
            b(h.estimate),
            b(h.ci_lb),
            b(h.ci_ub)
        );
    }
    s
}
