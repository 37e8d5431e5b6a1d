//! BLUPs of the study effects (metafor's `print` of `blup` and `ranef`).

use super::{fmt, label_width, pad};
use crate::model::blup::{Blups, StudyPrediction};
use std::fmt::Write;

fn cells(p: &StudyPrediction) -> String {
    format!(
        "{:>8} {:>7} {:>8} {:>8}",
        fmt(p.pred),
        fmt(p.se),
        fmt(p.pi_lb),
        fmt(p.pi_ub)
    )
}

/// The table of BLUPs: each study's predicted true effect (`blup`) and random effect (`ranef`).
pub fn blup_table(b: &Blups) -> String {
    let mut s = String::new();
    let quantile = match b.df {
        Some(df) => format!("t({df})"),
        None => "z".to_string(),
    };
    let _ = writeln!(
        s,
        "Best linear unbiased predictions ({}; tau^2 = {}); {}% prediction intervals, {quantile}",
        b.method.name(),
        fmt(b.tau2),
        b.level
    );
    let _ = writeln!(s);
    let w = label_width(b.labels.iter().map(String::as_str), 5);
    let back = b.scale.key_suffix();
    let _ = write!(
        s,
        "{} {:>8} {:>7} {:>8} {:>8}   {:>8} {:>7} {:>8} {:>8}",
        pad("study", w),
        "blup",
        "se",
        "pi.lb",
        "pi.ub",
        "ranef",
        "se",
        "pi.lb",
        "pi.ub"
    );
    if let Some(sfx) = back {
        let _ = write!(
            s,
            "   {:>9} {:>8} {:>8}",
            format!("blup_{sfx}"),
            "pi.lb",
            "pi.ub"
        );
    }
    let _ = writeln!(s);
    for ((label, bl), re) in b.labels.iter().zip(&b.blup).zip(&b.ranef) {
        let _ = write!(s, "{} {}   {}", pad(label, w), cells(bl), cells(re));
        if back.is_some() {
            let _ = write!(
                s,
                "   {:>9} {:>8} {:>8}",
                fmt(b.scale.back(bl.pred)),
                fmt(b.scale.back(bl.pi_lb)),
                fmt(b.scale.back(bl.pi_ub))
            );
        }
        let _ = writeln!(s);
    }
    if b.method.is_fixed() {
        let _ = writeln!(
            s,
            "Note: fixed-effect model: the BLUPs are the fitted values and the random effects 0"
        );
    }
    s
}
