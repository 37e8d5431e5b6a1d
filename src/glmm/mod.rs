//! Generalized linear mixed models for 2×2 tables, proportions and incidence counts, as metafor's
//! `rma.glmm` fits them by ML (Stijnen, Hamza & Özdemir 2010, *Stat Med* 29:3046–3067).
//!
//! Built: binomial-normal for single proportions (PLO) and Poisson-normal for single rates
//! (IRLN); UM.FS for OR (binomial) and IRR (Poisson); CM.AL for OR and CM.EL for IRR (the
//! conditional binomial with offset log(n1/n2) or log(t1/t2)); CM.EL for OR (the exact
//! noncentral hypergeometric likelihood, [`fnch`]); UM.RS for OR and IRR (random study
//! intercepts and group effects, by Laplace as lme4 evaluates it: [`pirls`] and `umrs`). Every fit
//! maximises by [`separable`]'s damped Newton steps, study by study.

pub mod agq;
pub mod fnch;
pub mod laplace;
pub mod pirls;
pub mod separable;
mod umrs;

use crate::data::{Data, Studies};
use crate::effect::{EffectSet, EscalcOptions};
use crate::error::{Error, Result};
use crate::measure::Measure;
use crate::model::Test;
use crate::moderators::formula::Formula;
use crate::moderators::metareg::OmnibusTest;
use crate::stats::{pchisq_upper, pf_upper, pnorm_two_sided, pt_two_sided, qnorm_upper, qt_upper};
use agq::{Family, Model, Obs};
use nalgebra::{DMatrix, DVector};
use separable::{Optimum, Separable};

/// metafor's `model` argument of `rma.glmm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum GlmmModel {
    /// Unconditional model with fixed study effects.
    UmFs,
    /// Unconditional model with random study effects.
    UmRs,
    /// Conditional model, exact likelihood.
    CmEl,
    /// Conditional model, approximate likelihood.
    CmAl,
}

impl GlmmModel {
    /// metafor's spelling.
    pub fn name(self) -> &'static str {
        match self {
            GlmmModel::UmFs => "UM.FS",
            GlmmModel::UmRs => "UM.RS",
            GlmmModel::CmEl => "CM.EL",
            GlmmModel::CmAl => "CM.AL",
        }
    }
}

impl std::str::FromStr for GlmmModel {
    type Err = Error;
    /// metafor's spelling, in any case (`UM.FS`, `um.rs`, ...).
    fn from_str(s: &str) -> Result<Self> {
        let up = s.trim().to_ascii_uppercase();
        [
            GlmmModel::UmFs,
            GlmmModel::UmRs,
            GlmmModel::CmEl,
            GlmmModel::CmAl,
        ]
        .into_iter()
        .find(|m| m.name() == up)
        .ok_or_else(|| {
            Error::invalid(format!(
                "unknown GLMM model '{s}': expected UM.FS, UM.RS, CM.EL or CM.AL"
            ))
        })
    }
}

/// Settings of a GLMM fit.
#[derive(Debug, Clone)]
pub struct GlmmOptions {
    /// The model (ignored for PLO, as metafor).
    pub model: GlmmModel,
    /// z or t (`Test::T`) inference.
    pub test: Test,
    /// Right-hand side of the moderator formula, if any.
    pub mods: Option<String>,
    /// Confidence level in percent.
    pub level: f64,
}

impl Default for GlmmOptions {
    fn default() -> Self {
        GlmmOptions {
            model: GlmmModel::UmFs,
            test: Test::Z,
            mods: None,
            level: 95.0,
        }
    }
}

/// One coefficient with its Wald inference.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Coef {
    /// metafor's name (`intrcpt`, moderator names).
    pub name: String,
    /// Estimate.
    pub estimate: f64,
    /// Standard error.
    pub se: f64,
    /// z or t statistic.
    pub stat: f64,
    /// Two-sided p-value.
    pub pval: f64,
    /// Lower confidence bound.
    pub ci_lb: f64,
    /// Upper confidence bound.
    pub ci_ub: f64,
}

/// A fitted GLMM with metafor's quantities.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GlmmFit {
    /// The measure.
    pub measure: Measure,
    /// The model fitted (as metafor records it).
    pub model: GlmmModel,
    /// Inference.
    pub test: Test,
    /// Studies in the fit.
    pub k: usize,
    /// Number of coefficients.
    pub p: usize,
    /// Whether the model has moderators.
    pub has_mods: bool,
    /// Coefficients.
    pub coefs: Vec<Coef>,
    /// Degrees of freedom of t tests (k − p).
    pub df: usize,
    /// Prediction interval (intercept-only models).
    pub pi: Option<(f64, f64)>,
    /// Between-study variance.
    pub tau2: f64,
    /// UM.RS: variance of the random study intercepts.
    pub sigma2: Option<f64>,
    /// I² (typical-variance definition).
    pub i2: f64,
    /// H².
    pub h2: f64,
    /// Typical within-study variance of the escalc yi/vi.
    pub vt: f64,
    /// Wald test of heterogeneity.
    pub qe_wld: f64,
    /// Its p-value, χ²(k − p).
    pub qe_wld_pval: f64,
    /// Likelihood-ratio test of heterogeneity.
    pub qe_lrt: f64,
    /// Its p-value, χ²(k − p).
    pub qe_lrt_pval: f64,
    /// Their df, k − p.
    pub qe_df: usize,
    /// Omnibus Wald test of the moderators (F(m, k − p) with QM/m when `test` is t).
    pub qm: Option<OmnibusTest>,
    /// metafor's log-likelihood.
    pub loglik: f64,
    /// Deviance, −2(ll − ll_sat).
    pub deviance: f64,
    /// AIC.
    pub aic: f64,
    /// BIC.
    pub bic: f64,
    /// AICc.
    pub aicc: f64,
    /// The rows left out: missing counts, and (2×2 tables) studies without events or without
    /// non-events in both groups, which carry no information on the odds ratio.
    pub omitted: Vec<crate::effect::Omitted>,
}

/// The fit's inputs after dropping uninformative studies: observations by study, the escalc
/// effects for I², and the coefficient names.
struct Prepared {
    model: Model,
    effects: EffectSet,
    x: DMatrix<f64>,
    names: Vec<String>,
    /// Saturated per-study effects and their weights, for the Wald test.
    sat: Vec<(f64, f64)>,
    /// Number of study intercepts in front of β (UM.FS).
    nuisance: usize,
}

fn count(v: &[Option<f64>], i: usize, what: &str, s: &Studies) -> Result<f64> {
    let x = v[i].ok_or_else(|| {
        Error::invalid(format!(
            "{}: line {}: column {what} is missing",
            s.source.display(),
            s.lines.get(i).copied().unwrap_or(0)
        ))
    })?;
    if !(x >= 0.0) || (what != "t1i" && what != "t2i" && what != "ti" && x.fract() != 0.0) {
        return Err(Error::invalid(format!(
            "{}: line {}: column {what} must be a non-negative whole number of events for a GLMM, got {x}",
            s.source.display(),
            s.lines.get(i).copied().unwrap_or(0)
        )));
    }
    Ok(x)
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// Saturated estimate and weight of a binomial logit (weight 0 at a boundary).
fn sat_binom(y: f64, n: f64) -> (f64, f64) {
    let p = y / n;
    if y <= 0.0 || y >= n {
        (0.0, 0.0)
    } else {
        (logit(p), n * p * (1.0 - p))
    }
}

/// The fixed-effects design: the moderators' model matrix, or the intercept alone.
/// The model matrix, its coefficient names, the positions of the studies it covers and the
/// studies left out for a missing moderator value.
type Design = (
    DMatrix<f64>,
    Vec<String>,
    Vec<usize>,
    Vec<crate::effect::Omitted>,
);

fn design(effects: &EffectSet, o: &GlmmOptions) -> Result<Design> {
    Ok(match &o.mods {
        Some(m) => {
            let mm = Formula::parse(m)?.model_matrix(effects)?;
            if !mm.redundant.is_empty() {
                return Err(Error::invalid(format!(
                    "moderator {} is constant or a linear combination of the others: the GLMM cannot estimate its coefficient",
                    mm.redundant.join(", ")
                )));
            }
            let omitted = mm.omitted(effects);
            (mm.x, mm.names, mm.used, omitted)
        }
        None => (
            DMatrix::from_element(effects.k(), 1, 1.0),
            vec!["intrcpt".to_string()],
            (0..effects.k()).collect(),
            Vec::new(),
        ),
    })
}

fn obs(y: f64, n: f64, offset: f64, x: Vec<f64>, c: f64) -> Obs {
    Obs::new(y, n, offset, x, c)
}

/// One study's observations and its saturated (estimate, weight) for the Wald test.
type StudyObs = (Vec<Obs>, (f64, f64));

/// The design rows of a two-arm study's arms: `lead` (the study intercept of UM.FS, the common
/// intercept of UM.RS) in front of the moderators' row, which enters arm 1 only.
fn arm_rows(xr: Vec<f64>) -> (Vec<f64>, Vec<f64>) {
    let p = xr.len();
    let mut x1 = vec![1.0];
    x1.extend(xr);
    let mut x2 = vec![1.0];
    x2.extend(vec![0.0; p]);
    (x1, x2)
}

/// A 2×2 table [a, b, c, d] of study `j` of `k` under `model`, `xr` its design row.
fn or_study(t: [f64; 4], model: GlmmModel, xr: Vec<f64>) -> Result<StudyObs> {
    let [a, b, c, d] = t;
    let (n1, n2) = (a + b, c + d);
    Ok(match model {
        GlmmModel::CmAl => {
            let off = (n1 / n2).ln();
            let (e, w) = sat_binom(a, a + c);
            (vec![obs(a, a + c, off, xr, 1.0)], (e - off, w))
        }
        GlmmModel::CmEl => {
            let f = fnch::Fnch::new(a, n1, n2, a + c);
            // The conditional MLE of each log OR and its information (0 at a boundary).
            let (e, _, w) = f.mle();
            let mut o = obs(a, a + c, 0.0, xr, 1.0);
            o.fnch = Some(std::sync::Arc::new(f));
            (vec![o], (e, w))
        }
        GlmmModel::UmFs | GlmmModel::UmRs => {
            let ((e1, w1), (e2, w2)) = (sat_binom(a, n1), sat_binom(c, n2));
            let w = if w1 > 0.0 && w2 > 0.0 {
                1.0 / (1.0 / w1 + 1.0 / w2)
            } else {
                0.0
            };
            let (x1, x2) = arm_rows(xr);
            let g = vec![obs(a, n1, 0.0, x1, 0.5), obs(c, n2, 0.0, x2, -0.5)];
            (g, (e1 - e2, w))
        }
    })
}

/// Two-group incidence [x1, t1, x2, t2] under `model`, `xr` its design row.
fn irr_study(t: [f64; 4], model: GlmmModel, xr: Vec<f64>) -> Result<StudyObs> {
    let [x1, t1, x2, t2] = t;
    Ok(match model {
        GlmmModel::CmAl | GlmmModel::CmEl => {
            let off = (t1 / t2).ln();
            let (e, w) = sat_binom(x1, x1 + x2);
            (vec![obs(x1, x1 + x2, off, xr, 1.0)], (e - off, w))
        }
        GlmmModel::UmFs | GlmmModel::UmRs => {
            let w = if x1 > 0.0 && x2 > 0.0 {
                1.0 / (1.0 / x1 + 1.0 / x2)
            } else {
                0.0
            };
            let (r1, r2) = arm_rows(xr);
            let g = vec![
                obs(x1, 0.0, t1.ln(), r1, 0.5),
                obs(x2, 0.0, t2.ln(), r2, -0.5),
            ];
            (g, ((x1 / t1).ln() - (x2 / t2).ln(), w))
        }
    })
}

/// The observations of study row `i` (design row `xr`).
fn study_obs(
    s: &Studies,
    measure: Measure,
    model: GlmmModel,
    i: usize,
    xr: Vec<f64>,
) -> Result<StudyObs> {
    let four = |cols: [(&[Option<f64>], &str); 4]| -> Result<[f64; 4]> {
        let mut out = [0.0; 4];
        for (o, (v, name)) in out.iter_mut().zip(cols) {
            *o = count(v, i, name, s)?;
        }
        Ok(out)
    };
    Ok(match (&s.data, measure) {
        (Data::Proportion { xi, ni }, Measure::PLO) => {
            let (y, n) = (count(xi, i, "xi", s)?, count(ni, i, "ni", s)?);
            (vec![obs(y, n, 0.0, xr, 1.0)], sat_binom(y, n))
        }
        (Data::Rate { xi, ti }, Measure::IRLN) => {
            let (y, t) = (count(xi, i, "xi", s)?, count(ti, i, "ti", s)?);
            let e = if y > 0.0 { (y / t).ln() } else { 0.0 };
            (vec![obs(y, 0.0, t.ln(), xr, 1.0)], (e, y))
        }
        (Data::TwoByTwo { ai, bi, ci, di }, Measure::OR) => {
            let t = four([(ai, "ai"), (bi, "bi"), (ci, "ci"), (di, "di")])?;
            or_study(t, model, xr)?
        }
        (Data::Incidence { x1i, t1i, x2i, t2i }, Measure::IRR) => {
            let t = four([(x1i, "x1i"), (t1i, "t1i"), (x2i, "x2i"), (t2i, "t2i")])?;
            irr_study(t, model, xr)?
        }
        _ => return Err(wrong_data(measure)),
    })
}

fn prepare(studies: &Studies, measure: Measure, o: &GlmmOptions) -> Result<Prepared> {
    let eo = EscalcOptions {
        drop00: true,
        ..EscalcOptions::default()
    };
    let effects = EffectSet::from_studies(studies, measure, &eo)?;
    let (x, names, used, no_moderator) = design(&effects, o)?;
    let mut omitted = effects.omitted.clone();
    omitted.extend(no_moderator);
    let mut effects = effects.subset(&used);
    effects.omitted = omitted;
    let k = effects.k();
    let mut groups = Vec::new();
    let mut sat = Vec::new();
    for j in 0..k {
        let xr = x.row(j).iter().copied().collect::<Vec<f64>>();
        let (g, s) = study_obs(studies, measure, o.model, effects.rows[j], xr)?;
        groups.push(g);
        sat.push(s);
    }
    let family = match (measure, o.model) {
        (Measure::IRLN, _) | (Measure::IRR, GlmmModel::UmFs | GlmmModel::UmRs) => Family::Poisson,
        (Measure::OR, GlmmModel::CmEl) => Family::Fnch,
        _ => Family::Binomial,
    };
    separation(&groups, family, measure)
        .map_err(|e| Error::invalid(format!("{}: {e}", studies.source.display())))?;
    let nuisance = match (measure, o.model) {
        (Measure::OR | Measure::IRR, GlmmModel::UmFs) => k,
        _ => 0,
    };
    Ok(Prepared {
        model: Model {
            family,
            studies: groups,
        },
        effects,
        x,
        names,
        sat,
        nuisance,
    })
}

/// Where a count lies: `Some(false)` at its minimum (no events), `Some(true)` at its maximum (only
/// events; binomial and conditional counts), `None` inside.
fn bound(o: &Obs, family: Family) -> Option<bool> {
    match family {
        Family::Fnch => o.fnch.as_ref().and_then(|f| f.bound()),
        Family::Binomial if o.y >= o.n => Some(true),
        _ if o.y <= 0.0 => Some(false),
        _ => None,
    }
}

/// Refuses complete separation: one group's count at the same end in every study makes the
/// ML estimate infinite (glm and glmer stop at an arbitrary large value with a huge se).
fn separation(groups: &[Vec<Obs>], family: Family, measure: Measure) -> Result<()> {
    let arms = groups.iter().map(Vec::len).min().unwrap_or(0);
    for arm in 0..arms {
        let first = bound(&groups[0][arm], family);
        if first.is_some() && groups.iter().all(|g| bound(&g[arm], family) == first) {
            let which = match (measure, arms, arm) {
                (Measure::PLO | Measure::IRLN, ..) => "the count (column xi)",
                (Measure::OR, 1, _) => "the table (column ai, given its margins)",
                (_, 1, _) => "the count (column x1i, given x1i + x2i)",
                (Measure::OR, _, 0) => "the first group's count (column ai)",
                (Measure::OR, ..) => "the second group's count (column ci)",
                (_, _, 0) => "the first group's count (column x1i)",
                _ => "the second group's count (column x2i)",
            };
            let end = if first == Some(true) {
                "only events"
            } else {
                "no events"
            };
            return Err(Error::invalid(format!(
                "complete separation: {which} shows {end} in every study, so the GLMM estimate is infinite"
            )));
        }
    }
    Ok(())
}

fn wrong_data(measure: Measure) -> Error {
    Error::invalid(format!(
        "a GLMM for measure {measure:?} needs {} data",
        match measure {
            Measure::PLO => "single-proportion (xi, ni)",
            Measure::OR => "2x2 table (ai, bi, ci, di)",
            Measure::IRR => "two-group incidence (x1i, t1i, x2i, t2i)",
            Measure::IRLN => "single-group incidence (xi, ti)",
            _ => "other",
        }
    ))
}

/// Fits metafor's `rma.glmm(..., method = "ML")` to the studies.
pub fn rma_glmm(studies: &Studies, measure: Measure, o: &GlmmOptions) -> Result<GlmmFit> {
    if !matches!(
        measure,
        Measure::PLO | Measure::IRLN | Measure::OR | Measure::IRR
    ) {
        return Err(Error::invalid(format!(
            "GLMMs are fitted for OR, IRR, PLO and IRLN, not {measure:?}"
        )));
    }
    if !matches!(o.test, Test::Z | Test::T) {
        return Err(Error::invalid(format!(
            "a GLMM takes z or t tests, not {}: the Knapp–Hartung adjustment is defined for \
             inverse-variance models",
            o.test.name()
        )));
    }
    if !(o.level > 0.0 && o.level < 100.0) {
        return Err(Error::invalid(format!(
            "the confidence level must lie between 0 and 100 percent, got {}",
            o.level
        )));
    }
    let model_used = match (measure, o.model) {
        (Measure::PLO | Measure::IRLN, _) => GlmmModel::UmFs,
        (Measure::IRR, GlmmModel::CmAl) => GlmmModel::CmEl,
        (_, m) => m,
    };
    let o = GlmmOptions {
        model: model_used,
        ..o.clone()
    };
    let prep = prepare(studies, measure, &o)?;
    let k = prep.effects.k();
    let p = prep.x.ncols();
    if p + 1 > k {
        let (studies_word, coefs_word) = (
            if k == 1 { "study" } else { "studies" },
            if p == 1 {
                "coefficient"
            } else {
                "coefficients"
            },
        );
        return Err(Error::invalid(format!(
            "{}: {k} {studies_word} cannot estimate {p} {coefs_word} and tau2 (a random-effects GLMM needs more studies than coefficients, k > p)",
            studies.source.display()
        )));
    }
    fit_prepared(&prep, measure, &o)
}

fn fit_failed(what: &str) -> Error {
    Error::invalid(format!(
        "the GLMM {what} fit did not converge (complete separation or counts that leave the parameter unidentified?)"
    ))
}

/// Starting values (study intercepts of UM.FS, β, τ): each study intercept at the study's pooled
/// logit or log rate, the rest 0.
fn start(prep: &Prepared, beta: &[f64]) -> Vec<f64> {
    let m = &prep.model;
    let mut s = vec![0.0; prep.nuisance + prep.x.ncols() + 1];
    for (j, g) in m.studies.iter().enumerate().take(prep.nuisance) {
        s[j] = pooled_link(m.family, g);
    }
    s[prep.nuisance..prep.nuisance + beta.len()].copy_from_slice(beta);
    s
}

/// The logit (binomial) or log (Poisson) of the pooled rate of `g`, ½ added to the events.
fn pooled_link(family: Family, g: &[Obs]) -> f64 {
    let (y, n): (f64, f64) = g.iter().fold((0.0, 0.0), |a, o| (a.0 + o.y, a.1 + o.n));
    match family {
        Family::Binomial => logit((y + 0.5) / (n + 1.0)),
        Family::Poisson => ((y + 0.5) / g.iter().map(|o| o.offset.exp()).sum::<f64>()).ln(),
        Family::Fnch => 0.0,
    }
}

/// Starts on the inverse-variance effects (the GLMM's scale): the equal-effects fit's β, and
/// the ML fit's β and τ as the DerSimonian–Laird random-effects model estimates them, τ kept
/// within [0.1, 5] so that the start is off the likelihood's stationary point at τ = 0 and
/// within reach of the quadrature. Zeros (and τ = 0.5) where an estimate is not finite.
fn iv_starts(prep: &Prepared) -> IvStarts {
    use crate::model::design::Design;
    let design = crate::model::design::Auto::new(prep.x.clone());
    let e = &prep.effects;
    let tau2 = crate::model::tau2::estimate(
        &design,
        &e.yi,
        &e.vi,
        crate::model::Method::DL,
        &crate::model::Control::default(),
    )
    .map_or(f64::NAN, |t| t.tau2.max(0.0));
    let beta_at = |tau2: f64| {
        let w: Vec<f64> = e.vi.iter().map(|v| 1.0 / (v + tau2)).collect();
        design
            .wls(&e.yi, &w)
            .map(|f| f.beta)
            .filter(|b| b.iter().all(|v| v.is_finite()))
            .unwrap_or_else(|| vec![0.0; design.p()])
    };
    let tau = if tau2.is_finite() { tau2.sqrt() } else { 0.5 };
    IvStarts {
        beta_ee: beta_at(0.0),
        beta_re: beta_at(tau * tau),
        tau: tau.clamp(0.1, 5.0),
    }
}

/// The inverse-variance starting values of a GLMM fit ([`iv_starts`]).
struct IvStarts {
    beta_ee: Vec<f64>,
    beta_re: Vec<f64>,
    tau: f64,
}

/// The equal-effects fit (τ, at `tau_at` of the full vector, held at 0) from `start`, then the
/// ML fit from it with the fixed effects (just before `tau_at`) at `re.beta_re` and τ at
/// `re.tau`; the last `nvar` coordinates, the random effects' SDs, made
/// non-negative (the likelihood is even in each). One start, as lme4, with two safeguards: if
/// that fit fails, or its likelihood is below the equal-effects fit's or below that at its β with
/// τ at one of 0.1, 0.5, 1.5 more than a factor of 3 from its τ, the fit is also run from those τ
/// and the best optimum kept. (A probe nearer lies where the Newton path from the start has
/// already climbed; the distant ones look for a second maximum, and cost a quarter of the fit.)
fn ee_and_ml(
    sep: &Separable,
    start: &[f64],
    tau_at: usize,
    nvar: usize,
    re: &IvStarts,
) -> Result<(Optimum, Optimum)> {
    let (no, n) = (sep.n_own(), start.len());
    let mut free = vec![true; n - no];
    free[tau_at - no] = false;
    let ee = sep
        .maximum(start, &free)
        .ok_or_else(|| fit_failed("equal-effects"))?;
    let from = |base: &[f64], tau: f64| {
        let mut s = base.to_vec();
        s[tau_at] = tau;
        s
    };
    let fit = |s: &[f64]| sep.maximum(s, &vec![true; n - no]);
    let mut ml_start = from(&ee.x, re.tau);
    ml_start[tau_at - re.beta_re.len()..tau_at].copy_from_slice(&re.beta_re);
    let mut best = fit(&ml_start);
    let probes = [0.1, 0.5, 1.5];
    let doubt = best.as_ref().is_none_or(|b| {
        let (tol, tau) = (1e-9 * (1.0 + b.ll.abs()), b.x[tau_at].abs());
        ee.ll > b.ll + tol
            || probes
                .iter()
                .filter(|&&p| !(p / 3.0 < tau && tau < 3.0 * p))
                .any(|&p| sep.value(&from(&b.x, p)) > b.ll + tol)
    });
    if doubt {
        for tau in probes {
            if let Some(c) = fit(&from(&ee.x, tau)) {
                if best.as_ref().is_none_or(|b| c.ll > b.ll + 1e-9) {
                    best = Some(c);
                }
            }
        }
    }
    let mut ml = best.ok_or_else(|| fit_failed("random-effects"))?;
    for t in ml.x[n - nvar..].iter_mut() {
        *t = t.abs();
    }
    Ok((ee, ml))
}

/// The covariance of the fixed effects (the shared coordinates before the last `nvar` SDs): their
/// block of the inverse information in (fixed effects, SDs), as lme4's `vcov` of a GLMM (own
/// parameters eliminated exactly). An SD at 0 is left out (the likelihood is even in it, so its
/// cross-derivatives vanish); if the information is singular, the fixed-effects block alone.
/// `cov` gives the covariance of the shared coordinates it is asked for (after the `no` own
/// ones). The signs of the SDs do not matter: flipping one flips its cross-derivatives only.
fn fixed_vcov(
    theta: &[f64],
    no: usize,
    nvar: usize,
    cov: impl Fn(&[bool]) -> Option<DMatrix<f64>>,
) -> Result<DMatrix<f64>> {
    let ns = theta.len() - no;
    let nb = ns - nvar;
    let keep: Vec<bool> = (0..ns)
        .map(|j| j < nb || theta[no + j].abs() > 1e-6)
        .collect();
    if let Some(v) = cov(&keep) {
        return Ok(v.view((0, 0), (nb, nb)).into_owned());
    }
    let fixed: Vec<bool> = (0..ns).map(|j| j < nb).collect();
    cov(&fixed).ok_or_else(|| fit_failed("random-effects (singular information)"))
}

/// What a fitted model hands to [`finish`].
struct Core {
    /// The moderators' coefficients and their covariance.
    beta: Vec<f64>,
    vbeta: DMatrix<f64>,
    tau2: f64,
    sigma2: Option<f64>,
    /// metafor's ll of the model, the equal-effects and the saturated fits.
    loglik: f64,
    ll_ee: f64,
    ll_sat: f64,
    qe_wld: f64,
    /// Parameters and observations counted by AIC/BIC.
    q: usize,
    n_eff: usize,
}

fn fit_prepared(prep: &Prepared, measure: Measure, o: &GlmmOptions) -> Result<GlmmFit> {
    if o.model == GlmmModel::UmRs {
        return umrs::fit(prep, measure, o);
    }
    let m = &prep.model;
    // CM.EL: metafor integrates the exact likelihood with integrate() and reports the maximised
    // marginal log-likelihood; an adaptive 40-point rule is exact to double precision for these
    // log-concave integrands. The lme4 fits use nAGQ = 7 and report the conditional ll.
    let exact = m.family == Family::Fnch;
    let rule = agq::gh_rule(if exact { 40 } else { 7 });
    let (off, p, k) = (prep.nuisance, prep.x.ncols(), prep.effects.k());
    // A study's θ is (β, τ[, its UM.FS intercept α]); its coefficients (α, β) or β.
    let coefs = |t: &[f64]| -> Vec<f64> {
        let mut b = t[p + 1..].to_vec();
        b.extend_from_slice(&t[..p]);
        b
    };
    let a = usize::from(off > 0);
    // Each study's latest conditional mode starts its next mode search: successive evaluations
    // are at nearby θ.
    let modes = std::cell::RefCell::new(vec![0.0; k]);
    let term = |i: usize, t: &[f64]| {
        agq::scratch(p + a, |b| {
            b[..a].copy_from_slice(&t[p + 1..]);
            b[a..].copy_from_slice(&t[..p]);
            let fit = m.study(i, b, t[p], &rule, modes.borrow()[i])?;
            modes.borrow_mut()[i] = fit.mode;
            Some(fit.ll)
        })
    };
    // The derivatives in (α, β, τ) reordered as θ = (β, τ[, α]).
    let at = |r: usize| if r < a { p + 1 + r } else { r - a };
    let derivs = |i: usize, t: &[f64], grad: &mut [f64], hess: &mut [f64]| {
        let n = p + a + 1;
        agq::scratch(p + a + n + n * n, |buf| {
            let (b, rest) = buf.split_at_mut(p + a);
            let (g, h) = rest.split_at_mut(n);
            b[..a].copy_from_slice(&t[p + 1..]);
            b[a..].copy_from_slice(&t[..p]);
            let fit = m.study_derivatives(i, b, t[p], &rule, modes.borrow()[i], g, h)?;
            modes.borrow_mut()[i] = fit.mode;
            for r in 0..n {
                grad[at(r)] = g[r];
                for c in 0..n {
                    hess[at(r) * n + at(c)] = h[r * n + c];
                }
            }
            Some(fit.ll)
        })
    };
    let sep = Separable {
        k,
        local: off > 0,
        term: &term,
        exact: Some(&derivs),
    };
    let iv = iv_starts(prep);
    let (ee, ml) = ee_and_ml(&sep, &start(prep, &iv.beta_ee), off + p, 1, &iv)?;
    let vbeta = fixed_vcov(&ml.x, off, 1, |keep| sep.optimum_cov(&ml, keep))?;
    let theta = &ml.x;
    let loglik = if exact {
        ml.ll
    } else {
        (0..k)
            .map(|i| {
                let b = coefs(&sep.args(theta, i));
                m.conditional_study(i, &b, theta[off + p], modes.borrow()[i])
            })
            .sum()
    };
    let (q, n_eff) = match off {
        0 => (p + 1, k),
        _ => (p + k + 1, 2 * k),
    };
    let core = Core {
        beta: theta[off..off + p].to_vec(),
        vbeta,
        tau2: theta[off + p].powi(2),
        sigma2: None,
        loglik,
        ll_ee: ee.ll,
        ll_sat: m.saturated_loglik(),
        qe_wld: wald_qe(prep),
        q,
        n_eff,
    };
    Ok(finish(core, prep, measure, o))
}

/// Inference, heterogeneity and fit statistics of a fitted GLMM.
fn finish(c: Core, prep: &Prepared, measure: Measure, o: &GlmmOptions) -> GlmmFit {
    let (p, k) = (prep.x.ncols(), prep.effects.k());
    let df = k - p;
    let t = o.test == Test::T;
    let crit = if t {
        qt_upper((1.0 - o.level / 100.0) / 2.0, df as f64)
    } else {
        qnorm_upper((1.0 - o.level / 100.0) / 2.0)
    };
    let coefs = wald(&c.beta, &c.vbeta, &prep.names, t, crit, df);
    let has_mods = o.mods.is_some();
    let pi = (!has_mods).then(|| {
        let s = (coefs[0].se.powi(2) + c.tau2).sqrt();
        (c.beta[0] - crit * s, c.beta[0] + crit * s)
    });
    let qm = (has_mods && p > 1).then(|| omnibus(&c.beta, &c.vbeta, t, df));
    let design = crate::model::design::Auto::new(prep.x.clone());
    let het = crate::model::heterogeneity::heterogeneity(
        &design,
        &prep.effects.yi,
        &prep.effects.vi,
        c.tau2,
        false,
    );
    let (qf, nf) = (c.q as f64, c.n_eff as f64);
    // Truncated at 0 as metafor; NaN (no test possible) stays NaN.
    let qe_wld = if c.qe_wld.is_nan() {
        f64::NAN
    } else {
        c.qe_wld.max(0.0)
    };
    let qe_lrt = (-2.0 * (c.ll_ee - c.ll_sat)).max(0.0);
    let nc = nf.max(qf + 2.0);
    let ll = c.loglik;
    GlmmFit {
        measure,
        model: o.model,
        test: o.test,
        k,
        p,
        has_mods,
        coefs,
        df,
        pi,
        tau2: c.tau2,
        sigma2: c.sigma2,
        i2: het.i2,
        h2: het.h2,
        vt: het.vt,
        qe_wld,
        qe_wld_pval: pchisq_upper(qe_wld, df as f64),
        qe_lrt,
        qe_lrt_pval: pchisq_upper(qe_lrt, df as f64),
        qe_df: df,
        qm,
        loglik: ll,
        deviance: -2.0 * (ll - c.ll_sat),
        aic: -2.0 * ll + 2.0 * qf,
        bic: -2.0 * ll + qf * nf.ln(),
        aicc: -2.0 * ll + 2.0 * qf * nc / (nc - qf - 1.0),
        omitted: prep.effects.omitted.clone(),
    }
}

/// Wald z or t inference for each coefficient.
fn wald(
    beta: &[f64],
    vbeta: &DMatrix<f64>,
    names: &[String],
    t: bool,
    crit: f64,
    df: usize,
) -> Vec<Coef> {
    let p = beta.len();
    (0..p)
        .map(|j| {
            let se = vbeta[(j, j)].sqrt();
            let stat = beta[j] / se;
            Coef {
                name: names[j].clone(),
                estimate: beta[j],
                se,
                stat,
                pval: if t {
                    pt_two_sided(stat, df as f64)
                } else {
                    pnorm_two_sided(stat)
                },
                ci_lb: beta[j] - crit * se,
                ci_ub: beta[j] + crit * se,
            }
        })
        .collect()
}

/// The Wald test of every coefficient after the intercept (F with QM/m under t).
fn omnibus(beta: &[f64], vbeta: &DMatrix<f64>, t: bool, df: usize) -> OmnibusTest {
    let p = beta.len();
    let btt: Vec<usize> = (1..p).collect();
    let mm = btt.len();
    let v = DMatrix::from_fn(mm, mm, |r, c| vbeta[(btt[r], btt[c])]);
    let b = DVector::from_fn(mm, |r, _| beta[btt[r]]);
    let q = v.cholesky().map_or(f64::NAN, |ch| b.dot(&ch.solve(&b)));
    if t {
        let fs = q / mm as f64;
        OmnibusTest {
            stat: fs,
            df: mm,
            ddf: Some(df as f64),
            pval: pf_upper(fs, mm as f64, df as f64),
        }
    } else {
        OmnibusTest {
            stat: q,
            df: mm,
            ddf: None,
            pval: pchisq_upper(q, mm as f64),
        }
    }
}

/// The Wald test that the saturated per-study effects lie in the column space of X: their
/// weighted residual sum of squares, the saturated fit's covariance being diagonal.
fn wald_qe(prep: &Prepared) -> f64 {
    use crate::model::design::Design;
    let (e, w): (Vec<f64>, Vec<f64>) = prep.sat.iter().copied().unzip();
    crate::model::design::Auto::new(prep.x.clone())
        .wls(&e, &w)
        .map_or(f64::NAN, |f| f.rss)
}

/// e'We − e'WX(X'WX)⁻¹X'We: the Wald statistic of e ∈ col(X) when W is e's inverse covariance
/// (NaN if X'WX is singular).
fn wald_residual(w: &DMatrix<f64>, x: &DMatrix<f64>, e: &DVector<f64>) -> f64 {
    let we = w * e;
    let xwe = x.transpose() * &we;
    match (x.transpose() * w * x).cholesky() {
        Some(ch) => e.dot(&we) - xwe.dot(&ch.solve(&xwe)),
        None => f64::NAN,
    }
}
