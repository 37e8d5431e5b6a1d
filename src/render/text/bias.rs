//! Publication bias and small-study effects: Egger's regression test (metafor's `regtest`), Begg
//! and Mazumdar's rank test (`ranktest`), trim-and-fill (`trimfill`), fail-safe N (`fsn`),
//! PET-PEESE (Stanley & Doucouliagos 2014), and all of them in the `evident bias` report.

use super::rma::rma_summary;
use super::{back_line, estimate_ci_p, fmt, or_unavailable, pooled_line};
use crate::bias::panel::FewStudies;
use crate::bias::{BiasReport, Fsn, MvRegtest, PetPeese, Ranktest, Regtest, TrimFill};
use crate::model::RmaFit;
use crate::render::pvalue::{p_value, PStyle};
use std::fmt::Write;

/// The Cochrane Handbook (ch. 13) advises against funnel-plot asymmetry tests with fewer than
/// 10 studies: their power is too low to tell chance from bias.
pub fn small_k_warning(k: usize) -> Option<String> {
    FewStudies::check(k).map(FewStudies::warning)
}

fn stat_with_df(name: &str, stat: f64, df: Option<f64>) -> String {
    match df {
        // Satterthwaite's df are not whole: printed as the other numbers.
        Some(df) if df.fract() != 0.0 => format!("t = {} (df = {})", fmt(stat), fmt(df)),
        Some(df) => format!("t = {} (df = {df})", fmt(stat)),
        None => format!(
            "{} = {}",
            if name == "zval" { "z" } else { name },
            fmt(stat)
        ),
    }
}

/// Egger's regression test.
pub fn regtest_summary(r: &Regtest) -> String {
    use crate::bias::RegModel;
    let mut s = String::new();
    let model = match r.model {
        RegModel::Rma => "meta-regression model (same tau2 method and test)",
        RegModel::Lm => "weighted regression with multiplicative dispersion (lm)",
    };
    let _ = writeln!(s, "Regression test for funnel plot asymmetry (k = {})", r.k);
    let _ = writeln!(s, "Model: {model}; predictor: {}", r.predictor.name());
    if !r.moderators.is_empty() {
        let _ = writeln!(
            s,
            "Added to the meta-regression on: {}",
            r.moderators.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "Test for asymmetry: {}, {}",
        stat_with_df(r.stat_name(), r.stat, r.df),
        p_value(r.pval, PStyle::Metafor)
    );
    if let Some(l) = r.limit {
        let _ = writeln!(
            s,
            "Limit estimate (as {} -> 0): {} (CI: {}, {})",
            r.predictor.name(),
            fmt(l.estimate),
            fmt(l.ci_lb),
            fmt(l.ci_ub)
        );
    }
    s
}

/// The multilevel regression test: the test and limit estimate, then the model (and its
/// cluster-robust table) as `pool --random` prints them.
pub fn mv_regtest_summary(r: &MvRegtest) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Regression test for funnel plot asymmetry, multilevel model (k = {})",
        r.fit.k
    );
    let how = match &r.robust {
        Some(rob) => format!(
            "cluster-robust {} tests ({}) by '{}', {} clusters",
            rob.method.name(),
            rob.method.df_name(),
            rob.cluster,
            rob.n_clusters
        ),
        None => "model-based tests".to_string(),
    };
    let _ = writeln!(s, "Predictor: {}; {how}", r.predictor.name());
    let t = &r.slope;
    let _ = writeln!(
        s,
        "Test for asymmetry: {}, {}",
        stat_with_df(if t.df.is_some() { "tval" } else { "zval" }, t.stat, t.df),
        p_value(t.pval, PStyle::Metafor)
    );
    if let Some(l) = r.limit {
        let _ = writeln!(
            s,
            "Limit estimate (as {} -> 0): {} (CI: {}, {})",
            r.predictor.name(),
            fmt(l.estimate),
            fmt(l.ci_lb),
            fmt(l.ci_ub)
        );
    }
    s.push('\n');
    s.push_str(&super::mv_summary(&r.fit));
    if let Some(rob) = &r.robust {
        s.push_str(&super::robust_summary(rob));
    }
    s
}

/// Begg and Mazumdar's rank correlation test.
pub fn ranktest_summary(r: &Ranktest) -> String {
    format!(
        "Rank correlation test for funnel plot asymmetry (k = {})\nKendall's tau = {}, {} ({})\n",
        r.k,
        fmt(r.tau),
        p_value(r.pval, PStyle::Metafor),
        if r.exact {
            "exact"
        } else {
            "normal approximation, ties present"
        }
    )
}

/// Trim-and-fill: the number of imputed studies and the filled model.
pub fn trimfill_summary(t: &TrimFill) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Trim-and-fill: estimated number of missing studies on the {} side: {} (SE = {})",
        t.side.name(),
        t.k0,
        fmt(t.se_k0)
    );
    let _ = writeln!(s, "Estimator: {}", t.estimator.name());
    if let Some(p) = t.p_k0 {
        let _ = writeln!(
            s,
            "Test of H0: no missing studies: {}",
            p_value(p, PStyle::Metafor)
        );
    }
    if t.k0 > 0 {
        let _ = writeln!(s, "Filled studies (yi, vi):");
        for (y, v) in t.filled_yi.iter().zip(&t.filled_vi) {
            let _ = writeln!(s, "  {:>9} {:>9}", fmt(*y), fmt(*v));
        }
        let _ = writeln!(s, "\nModel with the filled studies:");
    } else {
        let _ = writeln!(s, "\nNo studies imputed; the original model:");
    }
    s.push_str(&rma_summary(&t.fit));
    s
}

/// Trim-and-fill in the bias report: the imputed studies and the adjusted estimate only.
fn trimfill_brief(t: &TrimFill) -> String {
    let f = &t.fit;
    let mut o = format!(
        "{} {} imputed on the {} side ({}); adjusted estimate {}\n",
        t.k0,
        if t.k0 == 1 { "study" } else { "studies" },
        t.side.name(),
        t.estimator.name(),
        estimate_ci_p(f.estimate, f.ci_lb, f.ci_ub, f.pval)
    );
    let sc = f.effects.scale;
    if sc.is_transformed() {
        let _ = writeln!(o, "{}", back_line(sc, f.estimate, f.ci_lb, f.ci_ub));
    }
    o
}

/// `evident bias`: the pooled model and every publication-bias check, in one readable report.
pub fn bias_report(fit: &RmaFit, r: &BiasReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Publication bias and small-study effects (k = {})",
        fit.k
    );
    if let Some(w) = small_k_warning(fit.k) {
        let _ = writeln!(s, "{w}");
    }
    pooled_line(&mut s, fit);
    let mut section = 0;
    let mut head = |s: &mut String, title: &str| {
        section += 1;
        let _ = writeln!(s, "\n{section}. {title}");
    };
    head(&mut s, "Egger's regression test");
    s.push_str(&or_unavailable(&r.panel.regtest, regtest_summary));
    if let Some(p) = &r.peters {
        head(
            &mut s,
            "Peters' test (binary outcomes: effect on 1/n, weighted by inverse variance)",
        );
        s.push_str(&or_unavailable(p, regtest_summary));
    }
    head(&mut s, "Begg and Mazumdar's rank correlation test");
    s.push_str(&or_unavailable(&r.panel.ranktest, ranktest_summary));
    head(&mut s, "Trim-and-fill");
    s.push_str(&or_unavailable(&r.panel.trimfill, trimfill_brief));
    head(&mut s, "PET-PEESE (Stanley & Doucouliagos 2014)");
    s.push_str(&or_unavailable(&r.pet_peese, pet_peese_summary));
    head(&mut s, "Fail-safe N");
    s.push_str(&or_unavailable(&r.fsn, fsn_summary));
    let _ = writeln!(
        s,
        "\nAsymmetry can arise from publication bias, but also from heterogeneity, chance or \
         small-study effects of other kinds; trim-and-fill's adjusted estimate is a sensitivity \
         analysis, not a corrected result."
    );
    s
}

/// PET-PEESE: both regressions and the estimate chosen.
pub fn pet_peese_summary(p: &PetPeese) -> String {
    use crate::bias::PetPeeseChoice;
    let mut s = String::new();
    let line = |name: &str, r: &Regtest| {
        let l = r.limit.expect("PET and PEESE have a limit estimate");
        format!(
            "{name}: intercept {}; slope {}, {}\n",
            estimate_ci_p(l.estimate, l.ci_lb, l.ci_ub, l.pval),
            fmt(r.slope),
            p_value(r.pval, PStyle::Metafor)
        )
    };
    s.push_str(&line("PET   (yi ~ sei)", &p.pet));
    s.push_str(&line("PEESE (yi ~ vi) ", &p.peese));
    let _ = writeln!(
        s,
        "PET's intercept {} zero at two-sided {}: the {} estimate is reported: {} [{}, {}]",
        if p.choice == PetPeeseChoice::Peese {
            "differs from"
        } else {
            "does not differ from"
        },
        p.alpha,
        p.choice.name(),
        fmt(p.estimate),
        fmt(p.ci_lb),
        fmt(p.ci_ub)
    );
    s
}

/// Fail-safe N.
pub fn fsn_summary(f: &Fsn) -> String {
    use crate::bias::FsnType;
    let what = match f.kind {
        FsnType::Rosenthal => "Rosenthal (Stouffer)",
        FsnType::Orwin { .. } => "Orwin",
        FsnType::Rosenberg => "Rosenberg",
    };
    let mut s = format!(
        "{what}: {} additional null studies would be needed",
        f.fsnum
    );
    match f.kind {
        FsnType::Orwin { .. } => {
            let _ = write!(
                s,
                " to reduce the mean effect {} to {}",
                fmt(f.mean_effect.unwrap_or(f64::NAN)),
                fmt(f.target.unwrap_or(f64::NAN))
            );
        }
        _ => {
            let _ = write!(
                s,
                " to make the result non-significant at alpha = {}",
                f.alpha
            );
        }
    }
    if let Some(p) = f.pval {
        let _ = write!(s, " (observed {})", p_value(p, PStyle::Metafor));
    }
    s.push_str(".\nFail-safe N ignores heterogeneity and the sizes of effects (the Cochrane Handbook, ch. 13, advises against it); prefer regression tests and trim-and-fill.\n");
    s
}
