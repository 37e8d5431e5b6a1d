//! The report's pasteable text: the Methods and Results paragraphs, written from what was actually
//! done (estimator, test, continuity correction, which small-study methods ran), and the
//! references they cite.

use super::analysis::{fit_display, Analysis, Direction, GlmmRole, MvRun};
use crate::bias::panel::{ADVICE_SOURCE, ADVISED_K};
use crate::data::Data;
use crate::effect::StudyCi;
use crate::measure::{Measure, Scale};
use crate::model::heterogeneity::Tau2CiType;
use crate::model::{Method, RmaFit, Test};
use crate::multilevel::{Dfs, MvFit, SamplingCov};
use crate::render::decimal::decimals_for;
use crate::render::plot::format::{num, omnibus_stat};
use crate::render::pvalue::{p_value, PStyle};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Fewest decimals shown for estimates.
const D: usize = 2;

/// "95%".
pub fn level(fit: &RmaFit) -> String {
    let l = fit.options.level.percent();
    if l.fract() == 0.0 {
        format!("{l:.0}%")
    } else {
        format!("{l}%")
    }
}

/// An estimate and its bounds on the display scale, each with [`D`] decimals, or more where a
/// value would otherwise round to 0 (0.003, not 0.00; a bound of 77.40 keeps two).
pub fn display_triple(fit: &RmaFit, est: f64, lb: f64, ub: f64) -> [String; 3] {
    let b = |x: f64| fit.effects.scale.back(x);
    shown_triple(b(est), b(lb), b(ub))
}

/// [`display_triple`] of values already on the display scale (a study's x/n and its interval).
pub fn shown_triple(est: f64, lb: f64, ub: f64) -> [String; 3] {
    [est, lb, ub].map(|v| num(v, decimals_for(&[v], D, 6)))
}

/// "0.49 [0.34, 0.70]" of values already on the display scale.
pub fn shown_brackets(est: f64, lb: f64, ub: f64) -> String {
    let [e, l, u] = shown_triple(est, lb, ub);
    format!("{e} [{l}, {u}]")
}

/// "0.49 (95% CI 0.34 to 0.70)".
pub fn est_ci(fit: &RmaFit, est: f64, lb: f64, ub: f64) -> String {
    let [e, l, u] = display_triple(fit, est, lb, ub);
    format!("{e} ({} CI {l} to {u})", level(fit))
}

/// "0.49 [0.34, 0.70]".
pub fn brackets(fit: &RmaFit, est: f64, lb: f64, ub: f64) -> String {
    let [e, l, u] = display_triple(fit, est, lb, ub);
    format!("{e} [{l}, {u}]")
}

/// The effect's name inside a sentence: "proportion", but "OR" and "SMD" as they are.
pub fn mid_sentence(name: &str) -> String {
    let mut c = name.chars();
    match (c.next(), c.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase() => {
            a.to_lowercase().chain(name.chars().skip(1)).collect()
        }
        _ => name.to_string(),
    }
}

/// Whether the pooled value's test (against 0 on the analysis scale) is shown: for proportions
/// it tests p = 0.5 (logit) or p = 0, rarely a question, so only when the manifest asks.
pub fn shows_null_test(a: &Analysis) -> bool {
    !matches!(a.fit.effects.measure, Measure::PLO | Measure::PR) || a.spec.cfg.null_test
}

/// What the pooled value's test tests, for proportions: "p = 0.5".
fn null_name(m: Measure) -> Option<&'static str> {
    match m {
        Measure::PLO => Some("p = 0.5"),
        Measure::PR => Some("p = 0"),
        _ => None,
    }
}

/// "; p = 0.002" after an interval, or "" where the test is not shown.
fn p_clause(a: &Analysis, p: f64) -> String {
    if !shows_null_test(a) {
        return String::new();
    }
    match null_name(a.fit.effects.measure) {
        Some(h) => format!("; test of {h}: {}", p_value(p, PStyle::Journal)),
        None => format!("; {}", p_value(p, PStyle::Journal)),
    }
}

/// The estimator's paper.
pub fn method_ref(m: Method) -> &'static str {
    match m {
        Method::FE => "",
        Method::DL => " (DerSimonian & Laird 1986)",
        Method::HE => " (Hedges & Olkin 1985)",
        Method::HS => " (Hunter & Schmidt 2004)",
        Method::SJ => " (Sidik & Jonkman 2005)",
        Method::ML => " (Hardy & Thompson 1996)",
        Method::REML => " (Viechtbauer 2005)",
        Method::EB => " (Morris 1983)",
        Method::PM => " (Paule & Mandel 1982)",
    }
}

/// The effect as analysed, plural: "log risk ratios".
pub fn measure_words(m: Measure, scale: Scale) -> &'static str {
    match m {
        Measure::OR => "log odds ratios",
        Measure::RR => "log risk ratios",
        Measure::RD => "risk differences",
        Measure::PETO => "Peto log odds ratios",
        Measure::MD => "mean differences",
        Measure::SMD => "standardised mean differences (Hedges' g)",
        Measure::IRR => "log incidence rate ratios",
        Measure::IRD => "incidence rate differences",
        Measure::PR => "raw proportions",
        Measure::PLO => "logit-transformed proportions",
        Measure::ZCOR => "Fisher's z-transformed correlations",
        Measure::COR => "raw correlations",
        Measure::AS => "arcsine square-root risk differences",
        Measure::PHI => "phi coefficients",
        Measure::YUQ => "Yule's Q coefficients",
        Measure::YUY => "Yule's Y coefficients",
        Measure::OR2DN => "standardised mean differences converted from log odds ratios (normal)",
        Measure::OR2DL => "standardised mean differences converted from log odds ratios (logistic)",
        Measure::SMDH => "standardised mean differences with heteroscedastic SDs",
        Measure::ROM => "log ratios of means",
        Measure::VR => "log variability ratios",
        Measure::CVR => "log coefficient-of-variation ratios",
        Measure::PAS => "arcsine square-root transformed proportions",
        Measure::PFT => "Freeman–Tukey double arcsine transformed proportions",
        Measure::PLN => "log-transformed proportions",
        Measure::UCOR => "bias-corrected correlations",
        Measure::PCOR => "partial correlations",
        Measure::ZPCOR => "Fisher's z-transformed partial correlations",
        Measure::IR => "incidence rates",
        Measure::IRLN => "log incidence rates",
        Measure::IRS => "square-root transformed incidence rates",
        Measure::IRFT => "Freeman–Tukey transformed incidence rates",
        Measure::MN => "raw means",
        Measure::MNLN => "log means",
        Measure::CVLN => "log coefficients of variation",
        Measure::SDLN => "log standard deviations",
        Measure::MC => "raw mean changes",
        Measure::SMCC => "standardised mean changes (change-score standardisation)",
        Measure::SMCR => "standardised mean changes (raw-score standardisation)",
        Measure::SMCRH => {
            "standardised mean changes (raw-score standardisation, unequal variances)"
        }
        Measure::ROMC => "log ratios of means of paired measurements",
        Measure::GEN if scale == Scale::Log => "log ratios",
        Measure::GEN => "effect sizes",
    }
}

/// Where the effects came from: "the 2×2 tables (events and non-events in each group)".
fn source_words(d: &Data) -> &'static str {
    match d {
        Data::TwoByTwo { .. } => "the 2×2 tables (events and non-events in each group)",
        Data::Means { .. } => "the means, standard deviations and sample sizes of each group",
        Data::Incidence { .. } => "the event counts and person-times of each group",
        Data::Proportion { .. } => "the numbers of events and participants",
        Data::Correlation { .. } => "the correlations and sample sizes",
        Data::Rate { .. } => "the event counts and person-times",
        Data::Mean { .. } => "the means, standard deviations and sample sizes",
        Data::PrePost { .. } => {
            "the means and standard deviations at both occasions, the sample sizes and the \
             correlations between occasions"
        }
        Data::Regression { .. } => {
            "the regression t statistics, sample sizes and numbers of predictors"
        }
        Data::Precomputed { .. } | Data::ReportedRatio { .. } => "the values given",
    }
}

/// How results are shown when the analysis scale is not the display scale.
fn back_words(m: Measure, s: Scale) -> &'static str {
    match (m, s) {
        (_, Scale::Identity) => "",
        (Measure::PLN, Scale::Log) => "; results are back-transformed to proportions for display",
        (Measure::IRLN, Scale::Log) => "; results are back-transformed to rates for display",
        (Measure::MNLN, Scale::Log) => "; results are back-transformed to means for display",
        (Measure::CVLN, Scale::Log) => {
            "; results are back-transformed to coefficients of variation for display"
        }
        (Measure::SDLN, Scale::Log) => {
            "; results are back-transformed to standard deviations for display"
        }
        (_, Scale::Log) => "; results are back-transformed to ratios for display",
        (_, Scale::Logit | Scale::Arcsine | Scale::FreemanTukey(_)) => {
            "; results are back-transformed to proportions for display"
        }
        (_, Scale::FisherZ) => "; results are back-transformed to correlations for display",
        (_, Scale::SquareRoot | Scale::FreemanTukeyRate(_)) => {
            "; results are back-transformed to rates for display"
        }
    }
}

/// How each study's own interval was found, when it is not the Wald interval of its effect
/// size: single proportions and rates shown as x/n with an exact or score interval.
fn study_ci_sentence(fit: &RmaFit) -> &'static str {
    let Some(s) = &fit.effects.study_ci else {
        return "";
    };
    let rate = crate::effect::StudyIntervals::of_rates(fit.effects.measure);
    match (s.method, rate) {
        (StudyCi::Wald, _) => "",
        (StudyCi::Exact, false) => "Each study's proportion is shown with its exact Clopper–Pearson confidence interval (Clopper & Pearson 1934), whatever the scale of pooling. ",
        (StudyCi::Wilson, false) => "Each study's proportion is shown with its Wilson score confidence interval (Wilson 1927), whatever the scale of pooling. ",
        (StudyCi::Exact, true) => "Each study's rate is shown with its exact Poisson confidence interval (Garwood 1936), whatever the scale of pooling. ",
        (StudyCi::Wilson, true) => "Each study's rate is shown with its Poisson score confidence interval (the construction of Wilson 1927), whatever the scale of pooling. ",
    }
}

/// The first sentence: what the effects are and where they came from.
fn effects_sentence(a: &Analysis) -> String {
    let set = &a.fit.effects;
    match a.studies.data {
        Data::ReportedRatio { .. } => format!(
            "The reported {}s and their confidence intervals were converted to log ratios, with standard errors from the width of each interval{}. ",
            a.effect_name,
            back_words(set.measure, set.scale)
        ),
        Data::Precomputed { .. } => format!(
            "The {} and their sampling variances were taken as given{}. ",
            measure_words(set.measure, set.scale),
            back_words(set.measure, set.scale)
        ),
        _ => format!(
            "Effect sizes were computed as {} from {}{}. ",
            measure_words(set.measure, set.scale),
            source_words(&a.studies.data),
            back_words(set.measure, set.scale)
        ),
    }
}

/// Rows with no events, or only events, in both groups.
fn double_zero_count(a: &Analysis) -> usize {
    let rows = |cells: [&[Option<f64>]; 4], total: bool| {
        (0..cells[0].len())
            .filter(|&i| match cells.map(|c| c[i]) {
                [Some(x), Some(y), Some(u), Some(v)] if total => {
                    (x == 0.0 && u == 0.0) || (y == 0.0 && v == 0.0)
                }
                [Some(x), _, Some(u), _] => !total && x == 0.0 && u == 0.0,
                _ => false,
            })
            .count()
    };
    match &a.studies.data {
        Data::TwoByTwo { ai, bi, ci, di } => rows([ai, bi, ci, di], true),
        Data::Incidence { x1i, t1i, x2i, t2i } => rows([x1i, t1i, x2i, t2i], false),
        _ => 0,
    }
}

/// The continuity correction and the handling of double-zero studies, for count data.
fn zero_cells_sentence(a: &Analysis) -> String {
    let set = &a.fit.effects;
    let counts = matches!(
        a.studies.data,
        Data::TwoByTwo { .. }
            | Data::Incidence { .. }
            | Data::Proportion { .. }
            | Data::Rate { .. }
    );
    if !counts || matches!(set.measure, Measure::PETO) {
        return String::new();
    }
    let e = &set.escalc;
    let n = set.n_corrected;
    let mut s = if n == 0 {
        "No study had a zero cell, so no continuity correction was needed. ".to_string()
    } else if e.to.name() == "all" {
        format!(
            "A continuity correction of {} was added to every cell of all studies, as {} {} a zero cell. ",
            e.add,
            n,
            if n == 1 { "study had" } else { "studies had" }
        )
    } else {
        format!(
            "A continuity correction of {} was added to every cell of the {} with a zero cell (no events or only events). ",
            e.add,
            if n == 1 { "one study".to_string() } else { format!("{n} studies") }
        )
    };
    let dz = double_zero_count(a);
    if e.drop00 {
        s.push_str("Studies with no events (or only events) in both groups were excluded, as they carry no information on the relative effect. ");
    } else if dz > 0 {
        s.push_str(&format!(
            "{} with no events (or only events) in both groups {} kept, with the continuity correction. ",
            if dz == 1 { "One study".to_string() } else { format!("{dz} studies") },
            if dz == 1 { "was" } else { "were" }
        ));
    }
    s
}

/// The model, τ² estimator and the test of the pooled estimate.
fn model_sentences(fit: &RmaFit) -> String {
    let m = fit.options.method;
    let mut s = if let Some(t) = crate::render::pooling::table_methods(fit) {
        t
    } else if m.is_fixed() {
        "They were pooled with a fixed-effect (inverse-variance) model. ".to_string()
    } else {
        format!(
            "They were pooled with an inverse-variance random-effects model, with the between-study variance τ² estimated by the {}{}. ",
            m.description(),
            method_ref(m)
        )
    };
    let l = level(fit);
    s.push_str(&match fit.test {
        Test::Z => format!("The {l} confidence interval of the pooled estimate is a Wald-type interval from the normal distribution. "),
        Test::Knha => format!("The {l} confidence interval and the test of the pooled estimate use the Hartung–Knapp–Sidik–Jonkman method, with the t distribution on k − 1 degrees of freedom (Hartung & Knapp 2001; Knapp & Hartung 2003). "),
        Test::Adhoc => format!("The {l} confidence interval uses the modified Hartung–Knapp method, with its variance scale truncated at 1 so that it is never narrower than the Wald interval (Röver, Knapp & Friede 2015). "),
        Test::T => format!("The {l} confidence interval and the test of the pooled estimate use the t distribution on k − 1 degrees of freedom with the unadjusted (Wald) standard error. "),
    });
    if fit.modified_kh.is_some() {
        s.push_str("As the Knapp–Hartung interval was narrower than the Wald interval, where its coverage is poor, the modified Knapp–Hartung interval (variance scale truncated at 1) is reported beside it (Röver, Knapp & Friede 2015). ");
    }
    s.push_str("Heterogeneity was assessed with Cochran's Q and I² (Higgins & Thompson 2002)");
    match fit.tau2_ci.map(|c| c.ci_type) {
        None => {}
        Some(Tau2CiType::QProfile) => s.push_str(", with confidence intervals for τ² and I² from the Q-profile method (Viechtbauer 2007)"),
        Some(Tau2CiType::ProfileLikelihood) => s.push_str(", with confidence intervals for τ² and I² from the profile likelihood (Hardy & Thompson 1996; Viechtbauer 2007)"),
    }
    if !m.is_fixed() {
        s.push_str(&format!(
            "; a {l} prediction interval gives the range of effects expected in a new study (Higgins, Thompson & Spiegelhalter 2009)"
        ));
    }
    s.push_str(". ");
    s
}

/// What was done about small-study effects and robustness, as it was done.
fn small_study_methods(a: &Analysis) -> String {
    let k = a.fit.k;
    let mut s = String::new();
    if k < ADVISED_K {
        s.push_str(&format!("Funnel-plot asymmetry was not tested (no Egger's or Begg's test, no trim-and-fill): with fewer than {ADVISED_K} studies such tests cannot tell chance from small-study effects ({ADVICE_SOURCE}). "));
    } else {
        let mut done = Vec::new();
        if a.regtest.is_ok() {
            done.push("Egger's regression test (Egger et al. 1997)");
        }
        if a.ranktest.is_ok() {
            done.push("Begg's rank correlation test (Begg & Mazumdar 1994)");
        }
        if a.trimfill.is_ok() {
            done.push("trim-and-fill (Duval & Tweedie 2000)");
        }
        if a.pet_peese.is_ok() {
            done.push("PET-PEESE (Stanley & Doucouliagos 2014)");
        }
        if a.three_psm.is_ok() {
            done.push("a three-parameter selection model (Vevea & Hedges 1995)");
        }
        s.push_str("Small-study effects were examined with a funnel plot");
        match done.split_last() {
            None => {}
            Some((last, [])) => s.push_str(&format!(" and {last}")),
            Some((last, rest)) => s.push_str(&format!(", {} and {last}", rest.join(", "))),
        }
        s.push_str(". ");
    }
    if a.leave1out.is_ok() {
        s.push_str("Robustness was examined by leaving out one study at a time. ");
    }
    s
}

/// The sentences on what the pooling options added: the common-τ² subgroup model, factor
/// references, predictions, Wald tests, permutation tests and cluster-robust inference.
fn options_methods(a: &Analysis) -> String {
    let cfg = &a.spec.cfg;
    let mut s = String::new();
    if cfg.common_tau2 && matches!(a.subgroup, Some(Ok(_))) {
        s.push_str("The subgroup estimates shown first are those of a mixed-effects model with one τ² common to all subgroups; the separate fits follow. ");
    }
    if matches!(a.metareg, Some(Ok(_))) {
        if !cfg.reference.is_empty() {
            s.push_str(&format!(
                "Factors were coded against the reference level{} {}. ",
                if cfg.reference.len() == 1 { "" } else { "s" },
                cfg.reference.join(", ")
            ));
        }
        let x = &a.metareg_extras;
        if !x.wald.is_empty() {
            s.push_str("Sets of coefficients were tested jointly with Wald-type tests. ");
        }
        if !x.predictions.is_empty() {
            s.push_str("Predicted effects at the given moderator values are reported with confidence and prediction intervals. ");
        }
    }
    let perms = [
        a.extras
            .permutation
            .as_ref()
            .map(|(_, t)| ("the pooled estimate (sign flips)", t)),
        a.metareg_extras
            .permutation
            .as_ref()
            .map(|t| ("the meta-regression's coefficients", t)),
        a.subgroup_permutation
            .as_ref()
            .map(|t| ("the subgroups' mixed-effects model", t)),
    ];
    for (what, t) in perms.into_iter().flatten() {
        let how = match t.exact {
            true => format!("all {} distinct permutations (exact)", t.iterations),
            false => format!(
                "{} random permutations (seed {})",
                t.iterations,
                cfg.seed.unwrap_or(1)
            ),
        };
        s.push_str(&format!(
            "Permutation p-values of {what} were computed from {how} (Higgins & Thompson 2004). "
        ));
    }
    let robust = a
        .extras
        .robust
        .as_ref()
        .or(a.metareg_extras.robust.as_ref());
    s.push_str(&robust.map_or(String::new(), robust_sentence));
    if cfg.reported {
        s.push_str("Each row's effect and standard error were recomputed from what its paper reported (counts, an estimate with its confidence interval, a standard error or a p-value), each by its own rule");
        s.push_str(match cfg.include_p_bounds {
            true => "; rows giving only a bound on the p-value (p < b) were pooled at the largest standard error the bound admits. ",
            false => "; rows giving only a bound on the p-value were left out. ",
        });
    }
    if cfg.no_correct && a.tables.is_some() {
        s.push_str("The Mantel–Haenszel tests were computed without continuity correction. ");
    }
    s
}

/// The Methods sentences of a multilevel model: the model, the sampling covariances, the
/// covariance structure, the tests.
fn multilevel_methods(mv: &MvRun) -> String {
    let o = &mv.options;
    let mut s = format!(
        "They were pooled with a multilevel random-effects model (Konstantopoulos 2011) with random effects {}, the variance components estimated by {} (metafor's rma.mv; Viechtbauer 2010). ",
        o.random.join(" and "),
        if o.method == Method::ML { "maximum likelihood" } else { "restricted maximum likelihood" }
    );
    for g in mv.fit.terms() {
        s.push_str(&format!(
            "The term {} has the {} covariance structure. ",
            g.formula,
            g.structure.name()
        ));
    }
    match &o.v {
        SamplingCov::Diag => {}
        SamplingCov::Vcalc { cluster, obs, rho } => s.push_str(&format!(
            "Sampling errors of different observations ('{obs}') within a cluster ('{cluster}') were assumed to correlate with a working correlation ρ = {rho} (metafor's vcalc). "
        )),
        SamplingCov::Blocks { columns, cluster } => s.push_str(&format!(
            "Known sampling covariances within each cluster ('{cluster}') were taken from the columns {}. ",
            columns.join(", ")
        )),
    }
    let l = num(o.level.percent(), 0);
    s.push_str(&match (o.test, o.dfs) {
        (Test::T, Dfs::Contain) => format!("Tests and {l}% confidence intervals use the t distribution with the containment degrees of freedom. "),
        (Test::T, _) => format!("Tests and {l}% confidence intervals use the t distribution on k − p degrees of freedom. "),
        _ => format!("Tests and {l}% confidence intervals are Wald-type, from the normal distribution. "),
    });
    s.push_str("Heterogeneity was assessed with the test for residual heterogeneity (QE) and the multilevel I². ");
    if let Some(m) = &o.mods {
        let m = m.trim();
        s.push_str(&format!(
            "The model is a multilevel meta-regression on {}, its moderators tested together with the omnibus Wald test (QM); it has no pooled estimate, so the forest plot draws each estimate with its fitted value from the model (a grey diamond spanning the fitted value's {}% confidence interval, as metafor's forest() of a meta-regression) and no pooled diamond. ",
            m.strip_prefix('~').unwrap_or(m).trim(),
            num(o.level.percent(), 0)
        ));
    }
    s
}

/// The Results sentence of a multilevel model: the pooled estimate, the variance components
/// and the multilevel I² (of the σ² components; none for a `~ inner | outer` term alone).
fn multilevel_results(a: &Analysis, mv: &MvRun) -> String {
    let fit = &a.fit;
    if mv.fit.has_moderators() {
        return multilevel_metareg_results(mv);
    }
    let mut parts = component_parts(&mv.fit);
    if !mv.fit.components.is_empty() {
        parts.push(format!("multilevel I² = {}%", num(mv.fit.i2_total, 0)));
    }
    format!(
        "Across {} estimates, the pooled {} was {} ({}); {}.",
        fit.k,
        effect_words(a),
        est_ci(fit, fit.estimate, fit.ci_lb, fit.ci_ub),
        p_value(fit.pval, PStyle::Journal),
        parts.join("; ")
    )
}

/// The variance components in words: "σ² = 0.0651 for district", then each `~ inner | outer`
/// term's "τ² = … and ρ = … for ~ school | district" (the second term's γ² and φ).
fn component_parts(fit: &MvFit) -> Vec<String> {
    let mut parts: Vec<String> = fit
        .components
        .iter()
        .map(|c| format!("σ² = {} for {}", num(c.sigma2, 4), c.name))
        .collect();
    for g in fit.terms() {
        let (var, cor) = g.term.symbols();
        let t: Vec<String> = g.components.tau2.iter().map(|t| num(*t, 4)).collect();
        let r: Vec<String> = g.components.rho.iter().map(|r| num(*r, 4)).collect();
        let r = if r.is_empty() {
            String::new()
        } else {
            format!(" and {cor} = {}", r.join(", "))
        };
        parts.push(format!("{var} = {}{r} for {}", t.join(", "), g.formula));
    }
    parts
}

/// The Results sentence of a multilevel meta-regression: the coefficients (analysis scale)
/// with their CIs, the test of the moderators and the variance components.
fn multilevel_metareg_results(mv: &MvRun) -> String {
    let fit = &mv.fit;
    let l = num(fit.level.percent(), 0);
    let coefs: Vec<String> = fit
        .coefficients
        .iter()
        .map(|c| {
            format!(
                "{} {} ({l}% CI {} to {}; {})",
                c.name,
                num(c.estimate, 4),
                num(c.ci_lb, 4),
                num(c.ci_ub, 4),
                p_value(c.pval, PStyle::Journal)
            )
        })
        .collect();
    let comps = component_parts(fit);
    let mut s = format!(
        "Across {} estimates, the multilevel meta-regression gave {}. {}.",
        fit.k,
        coefs.join(", "),
        moderators_test(mv)
    );
    if !comps.is_empty() {
        s.push_str(&format!(
            " Residual variance components: {}.",
            comps.join("; ")
        ));
    }
    s
}

/// "Test of moderators (coefficients 2:3): QM(2) = 9.9312, p-val = 0.007", as `print.rma.mv`
/// names the tested coefficients.
pub fn moderators_test(mv: &MvRun) -> String {
    let (fit, qm) = (&mv.fit, &mv.fit.qm);
    let first = if fit.intercept && fit.p > 1 { 2 } else { 1 };
    let tested = match fit.p - first + 1 {
        1 => format!("coefficient {first}"),
        _ => format!("coefficients {first}:{}", fit.p),
    };
    format!(
        "Test of moderators ({tested}): {}, {}",
        omnibus_stat(qm, 4),
        p_value(qm.pval, PStyle::Metafor)
    )
}

/// How the cluster-robust inference was done, with its reference.
fn robust_sentence(r: &crate::robust::RobustFit) -> String {
    let how = match r.method {
        crate::robust::RobustType::CR1 => "the CR1 sandwich estimator (scaled by n/(n − p)) with t and F tests on n − p degrees of freedom, as metafor's robust() (Hedges, Tipton & Johnson 2010)",
        crate::robust::RobustType::CR2 => "the bias-reduced CR2 sandwich estimator with Satterthwaite degrees of freedom and the HTZ test, as clubSandwich (Pustejovsky & Tipton 2018)",
    };
    format!(
        "Cluster-robust standard errors, tests and confidence intervals, with the {} clusters of '{}', used {how}. ",
        r.n_clusters, r.cluster
    )
}

/// The GLMM's Results sentence: the pooled result (leading) or the sensitivity analysis.
fn glmm_results(a: &Analysis, effect: &str) -> Option<String> {
    let (g, f) = a.glmm_fit()?;
    let (e, l, u) = fit_display(f)?;
    let [e, l, u] = shown_triple(e, l, u);
    let tau2 = num(f.tau2, 2);
    let ci = format!("{} CI {l} to {u}", level(&a.fit));
    Some(match g.spec.role {
        GlmmRole::Primary => format!(
            "Across {} studies, the pooled {effect} from the {} was {e} ({ci}; τ² = {tau2}).",
            f.k,
            g.name()
        ),
        GlmmRole::Sensitivity => format!(
            " In the sensitivity analysis with the {} (maximum likelihood), the pooled OR was {e} ({ci}; τ² = {tau2}).",
            g.name()
        ),
    })
}

/// The GLMM's Methods sentence (Stijnen, Hamza & Özdemir 2010; for proportions also Schwarzer
/// et al. 2019 on the inverse-variance back-transforms).
fn glmm_methods(a: &Analysis) -> String {
    let Some(g) = &a.glmm else {
        return String::new();
    };
    let how = "fitted by maximum likelihood with adaptive Gauss–Hermite quadrature and z tests (as metafor's rma.glmm)";
    let why = match &g.fit {
        Ok(_) => None,
        Err(e) => Some(e.strip_prefix("not fitted: ").unwrap_or(e)),
    };
    let model = g.spec.model.name();
    match (g.spec.role, why) {
        (GlmmRole::Primary, None) => format!(
            "Following current guidance for single proportions (Stijnen et al. 2010; Schwarzer et al. 2019), the proportions were pooled with the binomial-normal generalized linear mixed model (random-effects logistic regression on the counts), {how}; the inverse-variance analysis is reported as a sensitivity analysis. "
        ),
        (GlmmRole::Primary, Some(why)) => format!(
            "Current guidance for single proportions is to pool them with the binomial-normal generalized linear mixed model (Stijnen et al. 2010; Schwarzer et al. 2019), but it could not be fitted here ({why}), so the inverse-variance analysis is reported. "
        ),
        (GlmmRole::Sensitivity, None) => format!(
            "Because some studies have a zero cell, a generalized linear mixed model for the odds ratio ({model}; Stijnen et al. 2010) was {how}, as a sensitivity analysis. "
        ),
        (GlmmRole::Sensitivity, Some(why)) => format!(
            "Because some studies have a zero cell, a generalized linear mixed model for the odds ratio ({model}; Stijnen et al. 2010) was to be fitted as a sensitivity analysis, but it could not be fitted here ({why}). "
        ),
    }
}

/// The Methods paragraph (plain text).
pub fn methods(a: &Analysis) -> String {
    let fit = &a.fit;
    let mut s = effects_sentence(a);
    s.push_str(&zero_cells_sentence(a));
    s.push_str(study_ci_sentence(fit));
    s.push_str(&glmm_methods(a));
    if fit.k == 1 {
        s.push_str(&format!(
            "Only one study was included, so nothing was pooled: its estimate and {} confidence interval are reported as they are. ",
            level(fit)
        ));
    } else if let Some(mv) = &a.multilevel {
        s.push_str(&multilevel_methods(mv));
        s.push_str(&mv.robust.as_ref().map_or(String::new(), robust_sentence));
    } else {
        s.push_str(&model_sentences(fit));
        if let Some(by) = &a.spec.cfg.by {
            s.push_str(&format!("Subgroups defined by '{by}' were pooled separately and compared with the test for subgroup differences (Q between subgroups). "));
        }
        if !a.spec.cfg.mods.is_empty() {
            s.push_str(&format!(
                "A meta-regression on {} was fitted with the same estimator. ",
                a.spec.cfg.mods.join(", ")
            ));
        }
        s.push_str(&options_methods(a));
        s.push_str(&small_study_methods(a));
    }
    s.push_str(&format!(
        "Analyses were run with evident {VERSION}, which reproduces the R package metafor (Viechtbauer 2010)."
    ));
    s
}

/// The effect's name inside a sentence: "effect size" for generic effects.
pub fn effect_words(a: &Analysis) -> String {
    match a.effect_name.as_str() {
        "Effect" => "effect size".to_string(),
        n => mid_sentence(n),
    }
}

/// The Results paragraph (plain text).
pub fn results(a: &Analysis) -> String {
    let fit = &a.fit;
    let k = fit.k;
    let name = effect_words(a);
    if let Some(mv) = &a.multilevel {
        return multilevel_results(a, mv);
    }
    if k == 1 {
        // The study as its row shows it (x/n with its own interval for proportions).
        let [e, l, u] = match &fit.effects.study_ci {
            Some(_) => {
                let (e, l, u) = fit.study_display(0);
                shown_triple(e, l, u)
            }
            None => display_triple(fit, fit.estimate, fit.ci_lb, fit.ci_ub),
        };
        return format!("Single study: {name} {e} ({} CI {l} to {u}).", level(fit));
    }
    let model = crate::render::pooling::model_adjective(fit);
    let [e, l, u] = display_triple(fit, fit.estimate, fit.ci_lb, fit.ci_ub);
    let mut s = format!(
        "Across {k} studies, the pooled {model} {name} was {e} ({} CI {l} to {u}{}).",
        level(fit),
        p_clause(a, fit.pval)
    );
    s.push_str(&modified_kh_sentence(a));
    s.push_str(&ci_side(a));
    s.push_str(&heterogeneity_sentence(fit));
    if let Some(pi) = fit.prediction() {
        if !fit.options.method.is_fixed() {
            let [_, l, u] = display_triple(fit, fit.estimate, pi.lb, pi.ub);
            s.push_str(&format!(
                " The {} prediction interval was {l} to {u}.",
                level(fit)
            ));
        }
    }
    s.push_str(&subgroup_sentence(a));
    s.push_str(&small_study_results(a));
    match glmm_results(a, &name) {
        // The GLMM leads; the inverse-variance paragraph follows as the sensitivity analysis.
        Some(lead) if a.glmm_leads() => format!(
            "{lead} Sensitivity analysis with inverse-variance pooling: {}",
            mid_sentence(&s)
        ),
        Some(sensitivity) => s + &sensitivity,
        None => s,
    }
}

/// The modified Knapp–Hartung result, where the Knapp–Hartung interval is narrower than Wald's.
fn modified_kh_sentence(a: &Analysis) -> String {
    let fit = &a.fit;
    let Some(m) = &fit.modified_kh else {
        return String::new();
    };
    let why = if fit.s2w <= 0.0 {
        "The Knapp–Hartung scale factor is 0 (the studies agree exactly), so this interval has zero width and the p-value is meaningless"
    } else {
        "The Knapp–Hartung interval is narrower than the Wald interval"
    };
    let [e, l, u] = display_triple(fit, fit.estimate, m.ci_lb, m.ci_ub);
    format!(
        " {why}; the modified Knapp–Hartung result (never narrower than Wald) is {e} ({} CI {l} to {u}{}).",
        level(fit),
        p_clause(a, m.pval)
    )
}

/// On which side of no effect the confidence interval lies, named by the user's labels or
/// direction; empty where neither is given or no effect has no meaningful value on the scale.
fn ci_side(a: &Analysis) -> String {
    let fit = &a.fit;
    let null = fit.effects.scale.null_value();
    let lo_disp = fit.effects.scale.back(fit.ci_lb);
    let hi_disp = fit.effects.scale.back(fit.ci_ub);
    let meaningful_null = matches!(fit.effects.scale, Scale::Log)
        || matches!(
            fit.effects.measure,
            Measure::MD | Measure::SMD | Measure::RD | Measure::IRD | Measure::GEN
        );
    if !meaningful_null {
        return String::new();
    }
    if let Some([left, right]) = &a.spec.cfg.labels {
        if hi_disp < null {
            format!(" The confidence interval lies entirely on the side of “{left}”.")
        } else if lo_disp > null {
            format!(" The confidence interval lies entirely on the side of “{right}”.")
        } else {
            " The confidence interval includes no effect.".into()
        }
    } else if let Some(d) = a.spec.cfg.direction {
        let (favourable, unfavourable) = match d {
            Direction::Higher => (lo_disp > null, hi_disp < null),
            Direction::Lower => (hi_disp < null, lo_disp > null),
        };
        if favourable {
            " The whole confidence interval is on the favourable side of no effect.".into()
        } else if unfavourable {
            " The whole confidence interval is on the unfavourable side of no effect.".into()
        } else {
            " The confidence interval includes no effect.".into()
        }
    } else {
        String::new()
    }
}

/// τ² and its Q-profile CI with the same decimals (two, or two significant digits of the smallest
/// non-zero value), the CI as "empty set" when the Q-profile interval is empty.
pub fn tau2_and_ci(fit: &RmaFit) -> (String, Option<String>) {
    let ci = fit.tau2_ci.as_ref();
    let mut vals = vec![fit.tau2];
    if let Some(c) = ci.filter(|c| !c.null) {
        vals.extend([c.tau2_lb, c.tau2_ub]);
    }
    let d = decimals_for(&vals, 2, 8);
    let d = if d > 2 { d + 1 } else { d };
    let est = num(fit.tau2, d);
    let ci = ci.map(|c| {
        if c.null {
            "empty set".to_string()
        } else {
            format!(
                "{}{} to {}{}",
                c.lb_censor.sign(),
                num(c.tau2_lb, d),
                c.ub_censor.sign(),
                num(c.tau2_ub, d)
            )
        }
    });
    (est, ci)
}

/// " Heterogeneity: I² = … (95% CI …), τ² = … (95% CI …), Q = … (df = …, p …)."
pub fn heterogeneity_sentence(fit: &RmaFit) -> String {
    let h = &fit.het;
    if let Some(why) = h.undefined_reason() {
        return format!(" Heterogeneity: {why}.");
    }
    let l = level(fit);
    let mut het = format!(" Heterogeneity: I² = {:.0}%", h.i2);
    if let Some(ci) = fit.tau2_ci.as_ref().filter(|c| !c.null) {
        het.push_str(&format!(" ({l} CI {:.0}% to {:.0}%)", ci.i2_lb, ci.i2_ub));
    }
    if !fit.options.method.is_fixed() {
        let (t, ci) = tau2_and_ci(fit);
        het.push_str(&format!(", τ² = {t}"));
        match ci.as_deref() {
            Some("empty set") => het.push_str(&format!(
                " ({l} CI: empty set; the studies vary less than chance alone predicts)"
            )),
            Some(ci) => het.push_str(&format!(" ({l} CI {ci})")),
            None => {}
        }
    }
    het.push_str(&format!(
        ", Q = {:.2} (df = {}, {}).",
        h.q,
        h.q_df,
        p_value(h.q_pval, PStyle::Journal)
    ));
    het
}

/// The subgroup estimates and the test for subgroup differences.
fn subgroup_sentence(a: &Analysis) -> String {
    let Some(Ok(sg)) = &a.subgroup else {
        return String::new();
    };
    let by = a.spec.cfg.by.as_deref().unwrap_or("subgroup");
    let groups: Vec<String> = sg
        .groups
        .iter()
        .map(|g| {
            let f = &g.fit;
            let [e, l, u] = display_triple(f, f.estimate, f.ci_lb, f.ci_ub);
            format!("{} {e} ({} CI {l} to {u}; k = {})", g.level, level(f), f.k)
        })
        .collect();
    let q = &sg.q_between;
    format!(
        " By {by}: {}. The test for subgroup differences gave Q = {} (df = {}, {}).",
        groups.join("; "),
        num(q.q, 2),
        q.df,
        p_value(q.pval, PStyle::Journal)
    )
}

/// Egger's, Begg's and trim-and-fill's results, or why they were not done.
fn small_study_results(a: &Analysis) -> String {
    let fit = &a.fit;
    if fit.k < ADVISED_K {
        return format!(
            " Funnel-plot asymmetry was not tested: with {} studies such tests have too little power (at least {ADVISED_K} are needed; {ADVICE_SOURCE}).",
            fit.k
        );
    }
    let mut parts = Vec::new();
    match &a.regtest {
        Ok(r) => parts.push(format!(
            "Egger's test for funnel-plot asymmetry gave {}, {}",
            match r.df {
                Some(df) => format!("t = {} (df = {})", num(r.stat, 2), num(df, 0)),
                None => format!("z = {}", num(r.stat, 2)),
            },
            p_value(r.pval, PStyle::Journal)
        )),
        Err(why) => parts.push(format!("Egger's test was {why}")),
    }
    match &a.ranktest {
        Ok(r) => parts.push(format!(
            "Begg's rank correlation was τ = {}, {}",
            num(r.tau, 3),
            p_value(r.pval, PStyle::Journal)
        )),
        Err(why) => parts.push(format!("Begg's test was {why}")),
    }
    match &a.trimfill {
        Ok(t) if t.k0 == 0 => parts.push("trim-and-fill imputed no studies".into()),
        Ok(t) => parts.push(format!(
            "trim-and-fill imputed {} {} on the {} side, giving an adjusted {} of {}",
            t.k0,
            if t.k0 == 1 { "study" } else { "studies" },
            t.side.name(),
            mid_sentence(&a.effect_name),
            est_ci(&t.fit, t.fit.estimate, t.fit.ci_lb, t.fit.ci_ub)
        )),
        Err(why) => parts.push(format!("trim-and-fill was {why}")),
    }
    format!(" {}.", parts.join("; "))
}

/// (in-text citation, full reference), alphabetical.
const REFERENCES: &[(&str, &str)] = &[
    ("Begg & Mazumdar 1994", "Begg CB, Mazumdar M (1994). Operating characteristics of a rank correlation test for publication bias. Biometrics 50:1088–1101."),
    ("Clopper & Pearson 1934", "Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the case of the binomial. Biometrika 26:404–413."),
    ("Deeks & Higgins 2010", "Deeks JJ, Higgins JPT (2010). Statistical algorithms in Review Manager 5. The Cochrane Collaboration."),
    ("DerSimonian & Laird 1986", "DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Controlled Clinical Trials 7:177–188."),
    ("Duval & Tweedie 2000", "Duval S, Tweedie R (2000). Trim and fill: a simple funnel-plot-based method of testing and adjusting for publication bias in meta-analysis. Biometrics 56:455–463."),
    ("Egger et al. 1997", "Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis detected by a simple, graphical test. BMJ 315:629–634."),
    ("Garwood 1936", "Garwood F (1936). Fiducial limits for the Poisson distribution. Biometrika 28:437–442."),
    ("Greenland & Robins 1985", "Greenland S, Robins JM (1985). Estimation of a common effect parameter from sparse follow-up data. Biometrics 41:55–68."),
    ("Hardy & Thompson 1996", "Hardy RJ, Thompson SG (1996). A likelihood approach to meta-analysis with random effects. Statistics in Medicine 15:619–629."),
    ("Hartung & Knapp 2001", "Hartung J, Knapp G (2001). A refined method for the meta-analysis of controlled clinical trials with binary outcome. Statistics in Medicine 20:3875–3889."),
    ("Hedges, Tipton & Johnson 2010", "Hedges LV, Tipton E, Johnson MC (2010). Robust variance estimation in meta-regression with dependent effect size estimates. Research Synthesis Methods 1:39–65."),
    ("Hedges & Olkin 1985", "Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis. Orlando: Academic Press."),
    ("Higgins & Thompson 2002", "Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Statistics in Medicine 21:1539–1558."),
    ("Higgins & Thompson 2004", "Higgins JPT, Thompson SG (2004). Controlling the risk of spurious findings from meta-regression. Statistics in Medicine 23:1663–1682."),
    ("Higgins, Thompson & Spiegelhalter 2009", "Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of random-effects meta-analysis. Journal of the Royal Statistical Society A 172:137–159."),
    ("Hunter & Schmidt 2004", "Hunter JE, Schmidt FL (2004). Methods of Meta-Analysis: Correcting Error and Bias in Research Findings, 2nd ed. Thousand Oaks: Sage."),
    ("Knapp & Hartung 2003", "Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression with a single covariate. Statistics in Medicine 22:2693–2710."),
    ("Mantel & Haenszel 1959", "Mantel N, Haenszel W (1959). Statistical aspects of the analysis of data from retrospective studies of disease. Journal of the National Cancer Institute 22:719–748."),
    ("Konstantopoulos 2011", "Konstantopoulos S (2011). Fixed effects and variance components estimation in three-level meta-analysis. Research Synthesis Methods 2:61–76."),
    ("Morris 1983", "Morris CN (1983). Parametric empirical Bayes inference: theory and applications. Journal of the American Statistical Association 78:47–55."),
    ("Cochrane Handbook", "Page MJ, Higgins JPT, Sterne JAC (2023). Chapter 13: Assessing risk of bias due to missing results in a synthesis. In: Higgins JPT et al. (eds), Cochrane Handbook for Systematic Reviews of Interventions, version 6.4. Cochrane."),
    ("Paule & Mandel 1982", "Paule RC, Mandel J (1982). Consensus values and weighting factors. Journal of Research of the National Bureau of Standards 87:377–385."),
    ("Röver, Knapp & Friede 2015", "Röver C, Knapp G, Friede T (2015). Hartung-Knapp-Sidik-Jonkman approach and its modification for random-effects meta-analysis with few studies. BMC Medical Research Methodology 15:99."),
    ("Pustejovsky & Tipton 2018", "Pustejovsky JE, Tipton E (2018). Small-sample methods for cluster-robust variance estimation and hypothesis testing in fixed effects models. Journal of Business & Economic Statistics 36(4):672–683."),
    ("Robins, Breslow & Greenland 1986", "Robins J, Breslow N, Greenland S (1986). Estimators of the Mantel-Haenszel variance consistent in both sparse data and large-strata limiting models. Biometrics 42:311–323."),
    ("Sato, Greenland & Robins 1989", "Sato T, Greenland S, Robins JM (1989). On the variance estimator for the Mantel-Haenszel risk difference. Biometrics 45:1323–1324."),
    ("Schwarzer et al. 2019", "Schwarzer G, Chemaitelly H, Abu-Raddad LJ, Rücker G (2019). Seriously misleading results using inverse of Freeman-Tukey double arcsine transformation in meta-analysis of single proportions. Research Synthesis Methods 10:476–483."),
    ("Sidik & Jonkman 2005", "Sidik K, Jonkman JN (2005). Simple heterogeneity variance estimation for meta-analysis. Journal of the Royal Statistical Society C 54:367–384."),
    ("Stanley & Doucouliagos 2014", "Stanley TD, Doucouliagos H (2014). Meta-regression approximations to reduce publication selection bias. Research Synthesis Methods 5:60–78."),
    ("Stijnen et al. 2010", "Stijnen T, Hamza TH, Özdemir P (2010). Random effects meta-analysis of event outcome in the framework of the generalized linear mixed model with applications in sparse data. Statistics in Medicine 29:3046–3067."),
    ("Vevea & Hedges 1995", "Vevea JL, Hedges LV (1995). A general linear model for estimating effect size in the presence of publication bias. Psychometrika 60:419–435."),
    ("Viechtbauer 2005", "Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the random-effects model. Journal of Educational and Behavioral Statistics 30:261–293."),
    ("Viechtbauer 2007", "Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in meta-analysis. Statistics in Medicine 26:37–52."),
    ("Viechtbauer 2010", "Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. Journal of Statistical Software 36(3):1–48."),
    ("Wilson 1927", "Wilson EB (1927). Probable inference, the law of succession, and statistical inference. Journal of the American Statistical Association 22:209–212."),
    ("Yusuf et al. 1985", "Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Beta blockade during and after myocardial infarction: an overview of the randomized trials. Progress in Cardiovascular Diseases 27:335–371."),
];

/// The references the page's text cites (Methods, Results, warnings), in the list's order: no
/// DerSimonian–Laird where DL was not used.
pub fn references(a: &Analysis) -> Vec<&'static str> {
    let mut text = methods(a);
    text.push_str(&results(a));
    a.warnings.iter().for_each(|w| text.push_str(w));
    REFERENCES
        .iter()
        .filter(|(cite, _)| text.contains(cite))
        .map(|(_, full)| *full)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Log-scale single-group measures are back-transformed to what they measure, not "ratios".
    #[test]
    fn back_words_name_what_a_log_measure_measures() {
        let cases = [
            (Measure::OR, "ratios"),
            (Measure::PLN, "proportions"),
            (Measure::IRLN, "rates"),
            (Measure::MNLN, "means"),
            (Measure::SDLN, "standard deviations"),
            (Measure::CVLN, "coefficients of variation"),
        ];
        for (m, word) in cases {
            let w = back_words(m, m.scale());
            assert!(w.ends_with(&format!("to {word} for display")), "{m}: {w}");
        }
        assert_eq!(back_words(Measure::MD, Measure::MD.scale()), "");
    }
}
