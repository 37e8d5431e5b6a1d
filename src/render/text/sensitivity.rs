//! Sensitivity analyses: leave-one-out and cumulative refits (metafor's `leave1out`, `cumul`),
//! influence diagnostics (`influence`, Viechtbauer & Cheung 2010), GOSH (Olkin et al. 2012), and
//! the `evident sensitivity` report.

use super::{fmt, label_width, or_unavailable, pad, pooled_line, wald_cells, wald_head};
use crate::bias::panel::{FewStudies, ADVICE_SOURCE, ADVISED_K};
use crate::error::Result;
use crate::measure::Scale;
use crate::model::RmaFit;
use crate::sensitivity::{Baujat, Gosh, Influence, Refit, RefitSeries};
use std::fmt::Write;

fn series_table(sr: &RefitSeries, head: &str) -> String {
    let mut s = String::new();
    let w = label_width(sr.labels.iter().map(String::as_str), 5);
    let stat = if sr.stat_name() == "tval" { "t" } else { "z" };
    let _ = writeln!(s, "{head}");
    let _ = write!(
        s,
        "{} {} {:>9} {:>7}",
        pad("study", w),
        wald_head(stat),
        "Q",
        "I2"
    );
    if !sr.method.is_fixed() {
        let _ = write!(s, " {:>8}", "tau2");
    }
    let _ = writeln!(s);
    for (label, f) in sr.labels.iter().zip(&sr.fits) {
        s.push_str(&pad(label, w));
        match f {
            Some(f) => {
                let _ = write!(
                    s,
                    " {} {:>9} {:>6.2}%",
                    wald_cells(f.estimate, f.se, f.stat, f.pval, f.ci_lb, f.ci_ub),
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
                Scale::Log => "log",
                Scale::Logit => "logit",
                Scale::FisherZ => "Fisher z",
                Scale::Arcsine => "arcsine",
                Scale::FreemanTukey(_) => "Freeman–Tukey",
                Scale::SquareRoot => "square root",
                Scale::FreemanTukeyRate(_) => "Freeman–Tukey rate",
                Scale::Identity => "identity",
            },
            sr.scale.key_suffix().unwrap_or("")
        );
    }
    s
}

/// Leave-one-out table: row i is the model without study i.
pub fn leave1out_table(sr: &RefitSeries) -> String {
    series_table(
        sr,
        &format!(
            "Leave-one-out analysis ({}): each row omits that study",
            sr.method_name()
        ),
    )
}

/// Cumulative meta-analysis table: row i is the model fitted to the first i studies.
pub fn cumul_table(sr: &RefitSeries, order: &str) -> String {
    series_table(
        sr,
        &format!(
            "Cumulative meta-analysis ({}), order: {order}; each row adds that study",
            sr.method_name()
        ),
    )
}

/// Influence diagnostics table, influential studies starred.
pub fn influence_table(inf: &Influence) -> String {
    let mut s = String::new();
    let w = label_width(inf.labels.iter().map(String::as_str), 5);
    let _ = writeln!(
        s,
        "Influence diagnostics (* = influential by metafor's rules)"
    );
    // A meta-regression's DFBETAS get one column per coefficient, headed by its name.
    let by_coef = inf.coefficients.len() > 1;
    let dfb_head = if by_coef {
        inf.coefficients
            .iter()
            .map(|n| format!(" {n:>8}"))
            .collect::<String>()
    } else {
        format!(" {:>8}", "dfbetas")
    };
    let _ = writeln!(
        s,
        "{} {:>8} {:>8} {:>8} {:>7} {:>8} {:>9} {:>6} {:>7}{dfb_head}",
        pad("study", w),
        "rstudent",
        "dffits",
        "cook.d",
        "cov.r",
        "tau2.del",
        "QE.del",
        "hat",
        "weight",
    );
    for i in 0..inf.labels.len() {
        let dfb = if by_coef {
            inf.coefficients
                .iter()
                .zip(&inf.dfbetas_by_coef)
                .map(|(n, d)| format!(" {:>w$}", fmt(d[i]), w = n.chars().count().max(8)))
                .collect::<String>()
        } else {
            format!(" {:>8}", fmt(inf.dfbetas[i]))
        };
        let _ = writeln!(
            s,
            "{} {:>8} {:>8} {:>8} {:>7} {:>8} {:>9} {:>6.4} {:>6.2}%{dfb}{}",
            pad(&inf.labels[i], w),
            fmt(inf.rstudent[i]),
            fmt(inf.dffits[i]),
            fmt(inf.cooks_d[i]),
            fmt(inf.cov_r[i]),
            fmt(inf.tau2_del[i]),
            fmt(inf.qe_del[i]),
            inf.hat[i],
            inf.weight[i],
            if inf.is_infl[i] == Some(true) {
                " *"
            } else {
                ""
            }
        );
    }
    s
}

/// `evident sensitivity`: leave-one-out and influence in one readable report.
pub fn sensitivity_report(
    fit: &RmaFit,
    l1o: &Result<RefitSeries>,
    inf: &Result<Influence>,
    baujat: &Result<Baujat>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Sensitivity analysis (k = {})", fit.k);
    if let Some(few) = FewStudies::check(fit.k) {
        let _ = writeln!(
            s,
            "Warning: only {} {}. With fewer than {ADVISED_K} studies single studies carry much \
             weight and these diagnostics (like tests for funnel-plot asymmetry, {ADVICE_SOURCE}) \
             are fragile: read them as descriptions, not tests.",
            fit.k,
            few.noun()
        );
    }
    pooled_line(&mut s, fit);
    if let Ok(sr) = l1o {
        leave1out_findings(&mut s, fit, sr);
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
    if let Ok(b) = baujat {
        baujat_findings(&mut s, b);
    }
    let _ = writeln!(s);
    s.push_str(&or_unavailable(l1o, leave1out_table));
    let _ = writeln!(s);
    s.push_str(&or_unavailable(inf, influence_table));
    s
}

/// The range of the leave-one-out estimates, and the studies whose omission changes statistical
/// significance at the fit's level.
fn leave1out_findings(s: &mut String, fit: &RmaFit, sr: &RefitSeries) {
    let fits: Vec<(usize, &Refit)> = sr
        .fits
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.as_ref().map(|f| (i, f)))
        .collect();
    let (Some(lo), Some(hi)) = (
        fits.iter()
            .min_by(|a, b| a.1.estimate.total_cmp(&b.1.estimate)),
        fits.iter()
            .max_by(|a, b| a.1.estimate.total_cmp(&b.1.estimate)),
    ) else {
        return;
    };
    let _ = writeln!(
        s,
        "Leave-one-out estimates range from {} (without {}) to {} (without {})",
        fmt(lo.1.estimate),
        sr.labels[lo.0],
        fmt(hi.1.estimate),
        sr.labels[hi.0]
    );
    let alpha = fit.options.level.alpha();
    let full_sig = fit.pval < alpha;
    let flips: Vec<&str> = fits
        .iter()
        .filter(|(_, f)| (f.pval < alpha) != full_sig)
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

/// The three studies that contribute most to heterogeneity and those with most influence on the
/// estimate, by the Baujat plot's coordinates (Baujat et al. 2002).
fn baujat_findings(s: &mut String, b: &Baujat) {
    let top = |v: &[f64]| {
        let mut idx: Vec<usize> = (0..v.len()).filter(|&i| v[i].is_finite()).collect();
        idx.sort_by(|&a, &c| v[c].total_cmp(&v[a]));
        idx.iter()
            .take(3)
            .map(|&i| format!("{} ({})", b.labels[i], fmt(v[i])))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        s,
        "Largest contributions to heterogeneity (Baujat x): {}",
        top(&b.x)
    );
    let _ = writeln!(
        s,
        "Largest influence on the estimate (Baujat y): {}",
        top(&b.y)
    );
}

/// GOSH summary: how many fits, the spread of estimates and I², and each study's pull.
pub fn gosh_summary(g: &Gosh, labels: &[String]) -> String {
    let mut s = String::new();
    let ok: Vec<usize> = (0..g.len())
        .filter(|&r| g.estimate[r].is_finite())
        .collect();
    let _ = writeln!(
        s,
        "GOSH: {} models fitted to {} of the non-empty subsets of {} studies ({} failed)",
        g.len(),
        if g.exact { "all" } else { "a random sample" },
        g.k,
        g.len() - ok.len()
    );
    let range = |v: &[f64]| {
        ok.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                (lo.min(v[r]), hi.max(v[r]))
            })
    };
    let (elo, ehi) = range(&g.estimate);
    let (ilo, ihi) = range(&g.i2);
    let _ = writeln!(s, "Estimates range from {} to {}", fmt(elo), fmt(ehi));
    let _ = writeln!(s, "I^2 ranges from {ilo:.2}% to {ihi:.2}%");
    let w = label_width(labels.iter().map(String::as_str), 5);
    let _ = writeln!(
        s,
        "\n{} {:>13} {:>13} {:>9} {:>9}",
        pad("study", w),
        "est. with",
        "est. without",
        "I2 with",
        "I2 w/o"
    );
    for (j, label) in labels.iter().enumerate() {
        let c = g.with_without(j);
        let _ = writeln!(
            s,
            "{} {:>13} {:>13} {:>8.2}% {:>8.2}%",
            pad(label, w),
            fmt(c.estimate_with),
            fmt(c.estimate_without),
            c.i2_with,
            c.i2_without
        );
    }
    s
}
