//! The fitted random/fixed-effects model.

use super::design::{Design, Intercept};
use super::scale::Rescale;
use super::tau2::{self, Tau2Estimate};
use super::{Control, Method, PiType, RmaOptions, Test};
use crate::effect::{EffectSet, StudyCi, StudyIntervals};
use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::model::heterogeneity::{
    heterogeneity, q_profile, Heterogeneity, QProfileControl, Tau2Ci,
};
use crate::stats::{pnorm_two_sided, pt_two_sided, qnorm_upper, qt_upper};

/// An interval prediction for a new study.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Prediction {
    /// Lower bound (metafor's `pi.lb`), on the analysis scale.
    pub lb: f64,
    /// Upper bound (metafor's `pi.ub`), on the analysis scale.
    pub ub: f64,
    /// Degrees of freedom of the t quantile; `None` for the normal quantile.
    pub df: Option<f64>,
}

/// The modified Knapp–Hartung result (the scale factor truncated at 1: Knapp & Hartung 2003;
/// Röver, Knapp & Friede 2015; metafor's `test = "adhoc"`), given beside Knapp–Hartung when s² = 0
/// or its interval is narrower than the Wald interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ModifiedKh {
    /// Standard error with max(1, s²).
    pub se: f64,
    /// t statistic.
    pub stat: f64,
    /// Two-sided p-value, t with k − p df.
    pub pval: f64,
    /// Lower bound of the confidence interval, on the analysis scale.
    pub ci_lb: f64,
    /// Upper bound of the confidence interval, on the analysis scale.
    pub ci_ub: f64,
}

/// Knapp–Hartung's s² is 0 or makes the interval narrower than the Wald one (√s²·t < z): the
/// case in which its coverage is poor (Röver et al. 2015) and the modified version is given too.
pub fn kh_narrower_than_wald(
    test: super::Test,
    s2w: f64,
    crit_t: f64,
    level: super::Level,
) -> bool {
    test == super::Test::Knha && (s2w <= 0.0 || s2w.sqrt() * crit_t < level.z())
}

/// Log-likelihood and information criteria (metafor's `fit.stats`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FitStats {
    /// Log-likelihood (ML or REML, as `loglik_type` says).
    pub loglik: f64,
    /// Deviance: −2 log L under REML; under ML, relative to the saturated model.
    pub deviance: f64,
    /// Akaike information criterion.
    pub aic: f64,
    /// Bayesian information criterion.
    pub bic: f64,
    /// AIC with the small-sample correction (AICc).
    pub aicc: f64,
    /// `"REML"` for REML fits, else `"ML"`.
    pub loglik_type: &'static str,
}

/// How a fit's study weights and pooled estimate were obtained: the kernel's inverse-variance
/// model, or a display view of a Mantel–Haenszel or Peto pooling of the tables (built by
/// `crate::pool::view`), which outputs must name as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Weighting {
    /// Weights 1/(vi + τ²).
    #[default]
    InverseVariance,
    /// Mantel–Haenszel weights (Mantel & Haenszel 1959); with a random-effects method, RevMan 5's
    /// DerSimonian–Laird model with τ² from the Mantel–Haenszel Q (Deeks & Higgins 2010).
    MantelHaenszel,
    /// Peto's one-step odds ratio (Yusuf et al. 1985), weights the hypergeometric variances.
    Peto,
}

/// A fitted intercept-only random- (or fixed-) effects model.
#[derive(Debug, Clone)]
pub struct RmaFit {
    /// The studies pooled.
    pub effects: EffectSet,
    /// The options the model was fitted with.
    pub options: RmaOptions,
    /// The test actually used (metafor falls back from Knapp–Hartung to z for k = 1).
    pub test: Test,
    /// Number of studies.
    pub k: usize,
    /// The pooled estimate (metafor's `b`), on the analysis scale (log for ratios).
    pub estimate: f64,
    /// Its standard error (Knapp–Hartung adjusted when that test is used).
    pub se: f64,
    /// z or t statistic.
    pub stat: f64,
    /// t degrees of freedom under Knapp–Hartung.
    pub df: Option<f64>,
    /// Two-sided p-value of the test that the effect is 0.
    pub pval: f64,
    /// Lower bound of the confidence interval, on the analysis scale.
    pub ci_lb: f64,
    /// Upper bound of the confidence interval, on the analysis scale.
    pub ci_ub: f64,
    /// Prediction interval (metafor's default); `None` for FE.
    pub pi: Option<Prediction>,
    /// Riley/Higgins prediction interval with k − p − 1 df; `None` for FE.
    pub pi_riley: Option<Prediction>,
    /// `tau2`: estimated between-study variance τ² (0 for FE).
    pub tau2: f64,
    /// Standard error of τ² (metafor's `se.tau2`); `None` for FE and k = 1.
    pub se_tau2: Option<f64>,
    /// Q-profile confidence interval for τ² (metafor's `confint`); `None` for FE, k = 1 or when not asked for.
    pub tau2_ci: Option<Tau2Ci>,
    /// Cochran's Q, I², H² and the typical within-study variance.
    pub het: Heterogeneity,
    /// Model weights in percent, one per study.
    pub weights: Vec<f64>,
    /// Log-likelihood and information criteria.
    pub fit: FitStats,
    /// Knapp–Hartung scale factor s² (1 under z).
    pub s2w: f64,
    /// The modified Knapp–Hartung result, when Knapp–Hartung's s² is 0 or its interval is
    /// narrower than the Wald one ([`kh_narrower_than_wald`]); `None` otherwise.
    pub modified_kh: Option<ModifiedKh>,
    /// Fisher-scoring iterations of the τ² estimator (ML, REML, EB); 0 otherwise.
    pub iterations: usize,
    /// Notes on what was done (fallbacks, truncations), for every output to show.
    pub notes: Vec<String>,
    /// Inverse-variance for the kernel's fits; Mantel–Haenszel or Peto for views of those poolings.
    pub weighting: Weighting,
}

impl RmaFit {
    /// Study `i`'s own Wald CI at the model's level, `yi ± z·√vi` (what forest plots and study
    /// tables show; metafor's `summary.escalc`). Derived on demand, so fits that are never drawn
    /// (batches, refits) do not pay for it.
    ///
    /// When the effects carry their own study intervals (exact ones for proportions and rates),
    /// those are returned instead, mapped onto the analysis scale (±∞ where the scale cannot
    /// reach a bound, as logit 0): drawn on [`RmaFit::on_display_scale`]'s view they are exact.
    pub fn study_ci(&self, i: usize) -> (f64, f64) {
        if let Some(s) = &self.effects.study_ci {
            let f = |x: f64| self.effects.scale.forward(x);
            return (f(s.ci_lb[i]), f(s.ci_ub[i]));
        }
        let z = self.options.level.z();
        let (y, v) = (self.effects.yi[i], self.effects.vi[i]);
        (y - z * v.sqrt(), y + z * v.sqrt())
    }

    /// Study `i`'s estimate and interval on the display scale (proportion, rate, ratio): the
    /// attached study interval with x/n when there is one, else the back-transformed Wald one.
    pub fn study_display(&self, i: usize) -> (f64, f64, f64) {
        if let Some(s) = &self.effects.study_ci {
            return (s.estimate[i], s.ci_lb[i], s.ci_ub[i]);
        }
        let (lb, ub) = self.study_ci(i);
        let b = |x: f64| self.effects.scale.back(x);
        (b(self.effects.yi[i]), b(lb), b(ub))
    }

    /// The fit as seen on its display scale, for a plot drawn on the natural axis (proportions
    /// 0–1, rates): every estimate and bound back-transformed, the scale made the identity, the
    /// study estimates the attached x/n when there are study intervals. Nothing is refitted.
    pub fn on_display_scale(&self) -> RmaFit {
        let scale = self.effects.scale;
        let b = |x: f64| scale.back(x);
        let mut v = self.clone();
        // The view's study intervals are the display ones, Wald's back-transformed when the
        // studies carry none (a Wald interval of the back-transformed yi would be wrong).
        let rows: Vec<_> = (0..self.k).map(|i| self.study_display(i)).collect();
        let s = StudyIntervals {
            method: self
                .effects
                .study_ci
                .as_ref()
                .map_or(StudyCi::Wald, |s| s.method),
            estimate: rows.iter().map(|r| r.0).collect(),
            ci_lb: rows.iter().map(|r| r.1).collect(),
            ci_ub: rows.iter().map(|r| r.2).collect(),
        };
        v.effects.yi = s.estimate.clone();
        v.effects.study_ci = Some(s);
        v.effects.scale = Scale::Identity;
        (v.estimate, v.ci_lb, v.ci_ub) = (b(self.estimate), b(self.ci_lb), b(self.ci_ub));
        for p in [&mut v.pi, &mut v.pi_riley].into_iter().flatten() {
            (p.lb, p.ub) = (b(p.lb), b(p.ub));
        }
        if let Some(m) = &mut v.modified_kh {
            (m.ci_lb, m.ci_ub) = (b(m.ci_lb), b(m.ci_ub));
        }
        v
    }

    /// The main prediction interval as chosen by `pi_type`.
    pub fn prediction(&self) -> Option<Prediction> {
        match self.options.pi_type {
            PiType::Metafor => self.pi,
            PiType::Riley => self.pi_riley,
        }
    }

    /// τ, the between-study standard deviation.
    pub fn tau(&self) -> f64 {
        self.tau2.sqrt()
    }

    /// The statistic's name: `zval` or `tval`.
    pub fn stat_name(&self) -> &'static str {
        if self.test.uses_t() {
            "tval"
        } else {
            "zval"
        }
    }
}

/// Fits the intercept-only model to an effect set.
///
/// # Examples
///
/// ```
/// use evident::{read_studies, rma, ColumnMap, CsvOptions, EffectSet, EscalcOptions, Measure};
/// use evident::{Method, RmaOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let set = EffectSet::from_studies(&studies, Measure::RR, &EscalcOptions::default())?;
/// let fit = rma(&set, &RmaOptions::default())?; // REML, as rma.uni
/// assert_eq!(fit.k, studies.labels.len());
/// assert!(fit.ci_lb < fit.estimate && fit.estimate < fit.ci_ub);
/// assert!(fit.tau2 >= 0.0 && (0.0..=1.0).contains(&fit.pval));
/// // The fixed-effect model is the random-effects one with τ² = 0: narrower here.
/// let fe = rma(&set, &RmaOptions { method: Method::FE, ..Default::default() })?;
/// assert!(fe.se < fit.se);
/// # Ok::<(), evident::Error>(())
/// ```
pub fn rma(effects: &EffectSet, opts: &RmaOptions) -> Result<RmaFit> {
    rma_owned(effects.clone(), opts)
}

/// [`rma`] taking the effect set by value (no copy of labels and moderators: batch runs use it).
pub fn rma_owned(effects: EffectSet, opts: &RmaOptions) -> Result<RmaFit> {
    let k = effects.k();
    if k == 0 {
        return Err(Error::invalid(
            "no studies with usable data: nothing to pool",
        ));
    }
    for (i, (&y, &v)) in effects.yi.iter().zip(&effects.vi).enumerate() {
        if !y.is_finite() || !v.is_finite() {
            return Err(Error::invalid(format!(
                "study '{}': effect or variance is not finite",
                effects.labels[i]
            )));
        }
        if (y * y).is_infinite() || (v * v).is_infinite() {
            return Err(Error::invalid(format!(
                "study {}: effect {y:e} or variance {v:e} is too large to analyse (its square overflows)",
                effects.study_ref(i)
            )));
        }
        if v < 0.0 {
            return Err(Error::invalid(format!(
                "study '{}': negative sampling variance {v}",
                effects.labels[i]
            )));
        }
    }
    let d = Intercept { k };
    let core = fit_core(&d, &effects, opts)?;
    Ok(assemble(&d, effects, opts, core))
}

/// What every model fit shares, whatever its design: τ², weights, coefficients with their
/// (Knapp–Hartung scaled) covariance, heterogeneity and fit statistics.
#[derive(Debug, Clone)]
pub struct FitCore {
    /// The test actually used (z when Knapp–Hartung falls back at k = 1).
    pub test: Test,
    /// `tau2`: estimated between-study variance τ² (0 for FE).
    pub tau2: f64,
    /// Standard error of τ² (metafor's `se.tau2`); `None` for FE and k = 1.
    pub se_tau2: Option<f64>,
    /// Fisher-scoring iterations of the τ² estimator (ML, REML, EB); 0 otherwise.
    pub iterations: usize,
    /// Model weights 1/(vi + τ²).
    pub w: Vec<f64>,
    /// Coefficients (metafor's `b`), intercept first.
    pub beta: Vec<f64>,
    /// Covariance of beta, row-major p × p, already multiplied by s2w.
    pub vb: Vec<f64>,
    /// The first coefficient's variance before the Knapp–Hartung scaling.
    pub vb0_wald: f64,
    /// Knapp–Hartung scale factor s² (1 under z).
    pub s2w: f64,
    /// t degrees of freedom (k − p) under Knapp–Hartung.
    pub df: Option<f64>,
    /// Critical value for CIs at the chosen level.
    pub crit: f64,
    /// Cochran's Q, I², H² and the typical within-study variance.
    pub het: Heterogeneity,
    /// Log-likelihood and information criteria.
    pub fit: FitStats,
    /// Notes on fallbacks and truncations, for every output to show.
    pub notes: Vec<String>,
}

impl FitCore {
    /// Two-sided p-value of a Wald statistic under this fit's test.
    pub fn pval(&self, stat: f64) -> f64 {
        match self.df {
            Some(df) => pt_two_sided(stat, df),
            None => pnorm_two_sided(stat),
        }
    }
}

/// Fits τ², coefficients and heterogeneity for any design, as metafor's `rma.uni`; data of
/// extreme scale are fitted rescaled ([`Rescale`]) and the results scaled back exactly.
pub fn fit_core<D: Design>(d: &D, effects: &EffectSet, opts: &RmaOptions) -> Result<FitCore> {
    let Some(r) = Rescale::of(&effects.vi) else {
        return fit_at_scale(d, effects, opts);
    };
    let mut scaled = effects.clone();
    scaled.yi = r.effects(&effects.yi);
    scaled.vi = r.variances(&effects.vi);
    let core = fit_at_scale(d, &scaled, &opts.rescaled(r))?;
    Ok(core.scaled_back(r, d, &scaled.vi, opts.method))
}

impl RmaOptions {
    /// The options in the units of data rescaled by `r`: every setting in τ² units is scaled
    /// with the variances (so a fixed τ² or a bound means the same), tolerances are not (they
    /// then act as on data of ordinary scale).
    fn rescaled(&self, r: Rescale) -> RmaOptions {
        let c2 = r.variance();
        RmaOptions {
            tau2_fixed: self.tau2_fixed.map(|t| t * c2),
            control: Control {
                tau2_min: self.control.tau2_min * c2,
                tau2_max: self.control.tau2_max.map(|t| t * c2),
                tau2_init: self.control.tau2_init.map(|t| t * c2),
                ..self.control
            },
            ..*self
        }
    }
}

impl FitCore {
    /// The fit of data rescaled by `r` in the original units: effects and coefficients times
    /// 2^s, variances times 2^2s, the log-likelihood less (number of variance terms)·ln 2^s.
    fn scaled_back<D: Design>(self, r: Rescale, d: &D, v: &[f64], method: Method) -> FitCore {
        let (e, c2) = (r.effect_back(), r.variance_back());
        let (k, p) = (d.k(), d.p());
        let reml = method == Method::REML;
        let terms = if reml { k - p } else { k };
        // ML deviance is relative to the saturated model, which shifts alike, unless some
        // vᵢ = 0 leaves it at −2 log L; k = p gives 0 either way.
        let deviance_shifts = reml || (k > p && v.iter().any(|&x| x <= 0.0));
        FitCore {
            tau2: self.tau2 * c2,
            se_tau2: self.se_tau2.map(|x| x * c2),
            w: self.w.iter().map(|x| x / c2).collect(),
            beta: self.beta.iter().map(|x| x * e).collect(),
            vb: self.vb.iter().map(|x| x * c2).collect(),
            vb0_wald: self.vb0_wald * c2,
            het: Heterogeneity {
                vt: self.het.vt * c2,
                ..self.het
            },
            fit: self
                .fit
                .shifted(-(terms as f64) * r.ln_effect_back(), deviance_shifts),
            ..self
        }
    }
}

impl FitStats {
    /// The statistics with the log-likelihood changed by `dll` (the criteria follow it; the
    /// deviance too when it is −2 log L).
    fn shifted(self, dll: f64, deviance_too: bool) -> FitStats {
        FitStats {
            loglik: self.loglik + dll,
            deviance: self.deviance - if deviance_too { 2.0 * dll } else { 0.0 },
            aic: self.aic - 2.0 * dll,
            bic: self.bic - 2.0 * dll,
            aicc: self.aicc - 2.0 * dll,
            ..self
        }
    }
}

/// [`fit_core`] on data of ordinary scale.
fn fit_at_scale<D: Design>(d: &D, effects: &EffectSet, opts: &RmaOptions) -> Result<FitCore> {
    // Settings that cannot converge are refused before any fit, not reported as non-convergence.
    opts.control.validate()?;
    let y = &effects.yi;
    let v = &effects.vi;
    let k = d.k();
    let p = d.p();
    if k < p {
        return Err(Error::invalid(format!(
            "{k} studies cannot support a model with {p} coefficients"
        )));
    }
    let mut notes = Vec::new();
    let mut test = opts.test;
    if k == 1 && test != Test::Z {
        notes.push(if test == Test::T {
            "k = 1: the t test needs k > 1, so the z test was used (as metafor does)".into()
        } else {
            "k = 1: Knapp–Hartung needs k > 1, so the z test was used (as metafor does)".into()
        });
        test = Test::Z;
    }
    if opts.method.is_fixed() && test.scales_se() {
        notes.push("Knapp–Hartung is meant for random-effects models; applied to the FE model as requested".into());
    }
    // metafor estimates τ² and QE from the mean-centred yi (`Ymc`); identical whenever the model
    // spans a constant, different for models through the origin, so do the same.
    let mean = y.iter().sum::<f64>() / k as f64;
    let yc: Vec<f64> = y.iter().map(|yi| yi - mean).collect();
    let est = estimate_tau2(d, &yc, effects, opts)?;
    notes.extend(option_notes(opts));
    if est.ll0_reset {
        notes.push("Fisher scoring may have stopped at a local maximum; tau2 set to 0 (log-likelihood higher there)".into());
    }
    let fixed = opts.method.is_fixed();
    let tau2 = if fixed { 0.0 } else { est.tau2 };
    let w: Vec<f64> = v.iter().map(|vi| 1.0 / (vi + tau2)).collect();
    if let Some(i) = w.iter().position(|x| x.is_infinite()) {
        return Err(Error::ZeroWeight {
            study: Some((effects.study_ref(i), v[i])),
            tau2: Some(tau2),
        });
    }
    let wls = d
        .wls(y, &w)
        .ok_or_else(|| Error::invalid("the model matrix is rank-deficient for these weights"))?;
    // Unweighted: the plain mean and its variance; Knapp–Hartung's s² still comes from the
    // weighted fit, as metafor's.
    let (beta, vb_wald, rss_f) = if opts.weighted {
        (wls.beta.clone(), wls.vb.clone(), wls.rss)
    } else {
        unweighted(d, y, v, tau2, &w)?
    };
    let mut s2w = 1.0;
    if test.scales_se() {
        s2w = if wls.rss <= f64::EPSILON {
            0.0
        } else {
            wls.rss / (k - p) as f64
        };
        if test == Test::Adhoc && s2w < 1.0 {
            s2w = 1.0;
        }
    }
    let alpha = opts.level.alpha();
    let (crit, df) = if test.uses_t() {
        let ddf = (k - p) as f64;
        (qt_upper(alpha / 2.0, ddf), Some(ddf))
    } else {
        (qnorm_upper(alpha / 2.0), None)
    };
    if kh_narrower_than_wald(test, s2w, crit, opts.level) {
        notes.push(kh_note(s2w));
    }
    // QE is the residual Q of the model for the observed yi. metafor 3.8-1 computes it on the
    // mean-centred yi, which is the same when the model spans a constant but not otherwise
    // (e.g. contrast-coded network models); keep its bits where it is right, be right elsewhere.
    let centred_qe_wrong = !spans_constant(d);
    if centred_qe_wrong {
        notes.push(QE_NO_INTERCEPT.into());
    }
    let het = heterogeneity(d, if centred_qe_wrong { y } else { &yc }, v, tau2, fixed);
    if let Some(why) = het.undefined_reason() {
        notes.push(why.into());
    }
    let tau2_estimated = !fixed && opts.tau2_fixed.is_none();
    let fit = fit_stats(d, v, tau2, &w, rss_f, opts.method, tau2_estimated);
    Ok(FitCore {
        test,
        tau2,
        se_tau2: if fixed { None } else { est.se_tau2 },
        iterations: est.iterations,
        vb: vb_wald.iter().map(|x| x * s2w).collect(),
        vb0_wald: vb_wald[0],
        beta,
        w,
        s2w,
        df,
        crit,
        het,
        fit,
        notes,
    })
}

/// τ² estimated by the method, or fixed by the analyst; a zero weight is named by its study.
fn estimate_tau2<D: Design>(
    d: &D,
    yc: &[f64],
    effects: &EffectSet,
    opts: &RmaOptions,
) -> Result<Tau2Estimate> {
    let v = &effects.vi;
    match opts.tau2_fixed {
        Some(t) if !opts.method.is_fixed() => tau2::fixed(d, yc, v, opts.method, t),
        _ => tau2::estimate(d, yc, v, opts.method, &opts.control),
    }
    .map_err(|e| match e {
        // The estimator cannot name the study; the effect set can.
        Error::ZeroWeight { study: None, .. } => {
            let i = (0..v.len())
                .min_by(|&a, &b| v[a].total_cmp(&v[b]))
                .unwrap_or(0);
            Error::ZeroWeight {
                study: Some((effects.study_ref(i), v[i])),
                tau2: None,
            }
        }
        other => other,
    })
}

/// What every output says about a fixed τ² or unweighted estimation.
fn option_notes(opts: &RmaOptions) -> Vec<String> {
    let mut notes = Vec::new();
    if let (Some(t), false) = (opts.tau2_fixed, opts.method.is_fixed()) {
        notes.push(format!(
            "tau2 fixed at {t}, not estimated (its SE by the {} formula, as metafor's rma(tau2 = …))",
            opts.method.name()
        ));
    }
    if !opts.weighted {
        notes.push("unweighted estimate of the pooled effect (metafor's weighted = FALSE)".into());
    }
    notes
}

/// The note of a model whose columns do not span a constant.
pub const QE_NO_INTERCEPT: &str = "model without intercept: QE is the residual Q of the observed yi (metafor 3.8-1 computes it on mean-centred yi and reports a different, wrong QE here)";

/// Whether the model's columns span the constant (an intercept, or factor dummies without one):
/// the least-squares residual of a column of ones is then 0.
fn spans_constant<D: Design>(d: &D) -> bool {
    let ones = vec![1.0; d.k()];
    d.wls(&ones, &ones)
        .is_none_or(|f| f.rss <= 1e-10 * d.k() as f64)
}

/// What every output says when Knapp–Hartung is narrower than Wald.
fn kh_note(s2w: f64) -> String {
    let why = if s2w <= 0.0 {
        "s² = 0 (the effects agree exactly with the fitted model), so its standard errors are 0, the interval has zero width and the test is meaningless".to_string()
    } else {
        format!("s² = {s2w:.4}, so its interval is narrower than the Wald interval")
    };
    format!("Knapp–Hartung: {why}; the modified Knapp–Hartung (s² truncated at 1, never narrower than Wald; Knapp & Hartung 2003, Röver et al. 2015; test adhoc) is given beside it")
}

/// Fits the intercept-only model with a given design.
pub fn rma_design<D: Design>(d: &D, effects: &EffectSet, opts: &RmaOptions) -> Result<RmaFit> {
    let core = fit_core(d, effects, opts)?;
    Ok(assemble(d, effects.clone(), opts, core))
}

/// Builds the intercept-only fit from the shared core.
fn assemble<D: Design>(d: &D, effects: EffectSet, opts: &RmaOptions, core: FitCore) -> RmaFit {
    let k = d.k();
    let p = d.p();
    let estimate = core.beta[0];
    let se = core.vb[0].sqrt();
    let stat = estimate / se;
    let pval = core.pval(stat);
    let crit = core.crit;
    let tau2 = core.tau2;
    let fixed = opts.method.is_fixed();
    let (pi, pi_riley) = if fixed {
        (None, None)
    } else {
        let sp = (se * se + tau2).sqrt();
        let pi = Prediction {
            lb: estimate - crit * sp,
            ub: estimate + crit * sp,
            df: core.df,
        };
        // Riley: t with k − p − 1 df whatever the test (metafor's pi.type = "riley").
        let rdf = ((k - p) as f64 - 1.0).max(1.0);
        let rc = qt_upper(opts.level.alpha() / 2.0, rdf);
        (
            Some(pi),
            Some(Prediction {
                lb: estimate - rc * sp,
                ub: estimate + rc * sp,
                df: Some(rdf),
            }),
        )
    };
    let tau2_ci = if fixed || !opts.tau2_ci || k == 1 || opts.tau2_fixed.is_some() {
        None
    } else {
        q_profile(
            d,
            &effects.yi,
            &effects.vi,
            tau2,
            core.het.vt,
            opts.level.percent(),
            &QProfileControl {
                tol: opts.qprofile_tol,
                maxiter: 1000,
            },
        )
    };
    let sw: f64 = core.w.iter().sum();
    let weights = if opts.weighted {
        core.w.iter().map(|x| 100.0 * x / sw).collect()
    } else {
        vec![100.0 / k as f64; k]
    };
    let modified_kh = kh_narrower_than_wald(core.test, core.s2w, crit, opts.level).then(|| {
        let se = (core.s2w.max(1.0) * core.vb0_wald).sqrt();
        let stat = estimate / se;
        ModifiedKh {
            se,
            stat,
            pval: core.pval(stat),
            ci_lb: estimate - crit * se,
            ci_ub: estimate + crit * se,
        }
    });
    RmaFit {
        effects,
        options: *opts,
        test: core.test,
        k,
        estimate,
        se,
        stat,
        df: core.df,
        pval,
        ci_lb: estimate - crit * se,
        ci_ub: estimate + crit * se,
        pi,
        pi_riley,
        tau2,
        se_tau2: core.se_tau2,
        tau2_ci,
        het: core.het,
        weights,
        fit: core.fit,
        s2w: core.s2w,
        modified_kh,
        iterations: core.iterations,
        notes: core.notes,
        weighting: Weighting::InverseVariance,
    }
}

/// metafor's `weighted = FALSE` for the intercept-only model: the mean of the yᵢ, its variance
/// Σ(vᵢ + τ²)/k², and the residual sum of squares with the model weights (for the likelihood).
fn unweighted<D: Design>(
    d: &D,
    y: &[f64],
    v: &[f64],
    tau2: f64,
    w: &[f64],
) -> Result<(Vec<f64>, Vec<f64>, f64)> {
    if d.p() != 1 || !spans_constant(d) {
        return Err(Error::invalid(
            "unweighted estimation is available for the intercept-only model only",
        ));
    }
    let k = y.len() as f64;
    let mean = y.iter().sum::<f64>() / k;
    let var = v.iter().map(|vi| vi + tau2).sum::<f64>() / (k * k);
    let rss = w
        .iter()
        .zip(y)
        .map(|(wi, yi)| wi * (yi - mean) * (yi - mean))
        .sum();
    Ok((vec![mean], vec![var], rss))
}

/// metafor's `fit.stats`: ML or REML log-likelihood, deviance, AIC, BIC, AICc. A fixed τ² is no
/// parameter.
fn fit_stats<D: Design>(
    d: &D,
    v: &[f64],
    tau2: f64,
    w: &[f64],
    rss: f64,
    method: Method,
    tau2_estimated: bool,
) -> FitStats {
    let k = d.k() as f64;
    let p = d.p() as f64;
    let ln2pi = (2.0 * std::f64::consts::PI).ln();
    let parms = p + if tau2_estimated { 1.0 } else { 0.0 };
    let sum_log_v: f64 = v.iter().map(|vi| (vi + tau2).ln()).sum();
    let ll_ml = -0.5 * k * ln2pi - 0.5 * sum_log_v - 0.5 * rss;
    let ll_reml = -0.5 * (k - p) * ln2pi + 0.5 * d.log_det_xx()
        - 0.5 * sum_log_v
        - 0.5 * d.log_det_xwx(w)
        - 0.5 * rss;
    let allvipos = v.iter().all(|&x| x > 0.0);
    let dev_ml = if k > p {
        if allvipos {
            let sat: f64 = v.iter().map(|vi| -0.5 * (ln2pi + vi.ln())).sum();
            -2.0 * (ll_ml - sat)
        } else {
            -2.0 * ll_ml
        }
    } else {
        0.0
    };
    let aicc = |ll: f64, n: f64| {
        let m = n.max(parms + 2.0);
        -2.0 * ll + 2.0 * parms * m / (m - parms - 1.0)
    };
    if method == Method::REML {
        FitStats {
            loglik: ll_reml,
            deviance: -2.0 * ll_reml,
            aic: -2.0 * ll_reml + 2.0 * parms,
            bic: -2.0 * ll_reml + parms * (k - p).ln(),
            aicc: aicc(ll_reml, k - p),
            loglik_type: "REML",
        }
    } else {
        FitStats {
            loglik: ll_ml,
            deviance: dev_ml,
            aic: -2.0 * ll_ml + 2.0 * parms,
            bic: -2.0 * ll_ml + parms * k.ln(),
            aicc: aicc(ll_ml, k),
            loglik_type: "ML",
        }
    }
}
