//! Cluster-robust inference: metafor's `print.robust.rma` table and omnibus test.

use super::{fmt, label_width, pad};
use crate::render::pvalue::{p_number, p_value, PStyle};
use crate::robust::RobustFit;
use std::fmt::Write;

/// "Robust (CR2, Satterthwaite df): 11 clusters of 'district'", the coefficient table with
/// each coefficient's df, and the omnibus F test, after a blank line.
pub fn robust_summary(r: &RobustFit) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nRobust ({}, {}): {} clusters of '{}'",
        r.method.name(),
        r.method.df_name(),
        r.n_clusters,
        r.cluster
    );
    let width = label_width(r.coefficients.iter().map(|c| c.name.as_str()), 4);
    let _ = writeln!(
        s,
        "{} {:>8} {:>7} {:>8} {:>7} {:>7} {:>8} {:>8}",
        pad("", width),
        "estimate",
        "se",
        "tval",
        "df",
        "pval",
        "ci.lb",
        "ci.ub"
    );
    for c in &r.coefficients {
        let _ = writeln!(
            s,
            "{} {:>8} {:>7} {:>8} {:>7} {:>7} {:>8} {:>8}",
            pad(&c.name, width),
            fmt(c.estimate),
            fmt(c.se),
            fmt(c.tval),
            fmt(c.df),
            p_number(c.pval, PStyle::Metafor),
            fmt(c.ci_lb),
            fmt(c.ci_ub)
        );
    }
    let names: Vec<&str> = r
        .tested
        .iter()
        .map(|&j| r.coefficients[j].name.as_str())
        .collect();
    let _ = writeln!(
        s,
        "Test of {}: F({}, {}) = {}, {}",
        names.join(", "),
        r.qm.df,
        r.qm.ddf.map_or_else(|| "NA".to_owned(), fmt),
        fmt(r.qm.stat),
        p_value(r.qm.pval, PStyle::Metafor)
    );
    for w in &r.warnings {
        let _ = writeln!(s, "Note: {w}");
    }
    s
}
