//! Interaction from reported results: the comparison of two estimates (Altman & Bland 2003) and
//! additive interaction (RERI, AP and the synergy index S).

use super::fmt;
use crate::render::pvalue::{p_value, PStyle};
use crate::reported::interaction::{
    Additive, CiMethod, Contrast, Measure as InteractionMeasure, TwoEstimates,
};
use std::fmt::Write;

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
        p_value(r.pval, PStyle::Metafor)
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
