//! Per-study effect sizes as a table (metafor's `print` of an `escalc` object with
//! `summary()`'s standard errors and confidence intervals).

use super::{fmt, label_width, pad};
use crate::effect::Escalc;
use crate::model::Level;
use std::fmt::Write;

/// The table of `evident effects`: one row per study with yi, vi, sei and the `level` Wald CI
/// yi ± z·sei (blank cells for rows with no effect), columns aligned on the widest cell.
pub fn effects_table(labels: &[String], es: &Escalc, level: Level) -> String {
    let z = level.z();
    let cell = |x: Option<f64>| x.map_or(String::new(), fmt);
    let rows: Vec<[String; 6]> = (0..es.yi.len())
        .map(|i| {
            let (yi, vi) = (es.yi[i], es.vi[i]);
            let sei = vi.map(f64::sqrt);
            let ci = yi.zip(sei);
            [
                cell(yi),
                cell(vi),
                cell(sei),
                cell(ci.map(|(y, s)| y - z * s)),
                cell(ci.map(|(y, s)| y + z * s)),
                if es.corrected[i] {
                    "*".into()
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    let heads = ["yi", "vi", "sei", "ci.lb", "ci.ub"];
    let widths: Vec<usize> = (0..heads.len())
        .map(|j| {
            rows.iter()
                .map(|r| r[j].chars().count())
                .chain([heads[j].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let lw = label_width(labels.iter().map(String::as_str), 5);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Effect sizes: {} ({}); {level}% CI yi ± z·sei",
        es.measure.name(),
        es.measure.description()
    );
    let _ = write!(s, "\n{}", pad("study", lw));
    for (h, w) in heads.iter().zip(&widths) {
        let _ = write!(s, "  {h:>w$}");
    }
    let _ = writeln!(s);
    for (label, r) in labels.iter().zip(&rows) {
        let _ = write!(s, "{}", pad(label, lw));
        for (c, w) in r.iter().zip(&widths) {
            let _ = write!(s, "  {c:>w$}");
        }
        let _ = writeln!(s, "{}", if r[5].is_empty() { "" } else { " *" });
    }
    if es.corrected.iter().any(|&c| c) {
        let _ = writeln!(s, "\n* continuity correction added to the counts");
    }
    if es.yi.iter().any(Option::is_none) {
        let _ = writeln!(s, "Blank: no effect size for the row (see the warnings).");
    }
    s
}
