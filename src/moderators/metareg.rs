//! Meta-regression: the mixed-effects (or fixed-effects) model with moderators, as metafor's
//! `rma(yi, vi, mods = ~ ...)` (Berkey et al. 1995, *Stat Med* 14:395–411; Knapp & Hartung 2003).

use super::formula::{Formula, ModelMatrix};
use crate::effect::{EffectSet, Omitted};
use crate::error::{Error, Result};
use crate::model::design::Matrix;
use crate::model::fit::FitCore;
use crate::model::fit_core;
use crate::model::heterogeneity::{q_profile, Heterogeneity, QProfileControl, Tau2Ci};
use crate::model::rma;
use crate::model::FitStats;
use crate::model::PiType;
use crate::model::RmaOptions;
use crate::model::Test;
use crate::stats::{pchisq_upper, pf_upper, qt_upper};

/// One row of the coefficient table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Coefficient {
    /// Coefficient name as metafor's (`intrcpt`, `ablat`, `factor(alloc)random`).
    pub name: String,
    /// The estimated coefficient (metafor's `b`), on the analysis scale.
    pub estimate: f64,
    /// Its standard error (Knapp–Hartung adjusted when that test is used).
    pub se: f64,
    /// z or t statistic.
    pub stat: f64,
    /// Two-sided p-value of the test that the coefficient is 0.
    pub pval: f64,
    /// Lower bound of the confidence interval.
    pub ci_lb: f64,
    /// Upper bound of the confidence interval.
    pub ci_ub: f64,
}

/// The omnibus Wald test of several coefficients: χ²(df), or F(df, ddf) under Knapp–Hartung.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct OmnibusTest {
    /// χ² statistic, or the F statistic (χ²/df) when `ddf` is set.
    pub stat: f64,
    /// Numerator degrees of freedom: the number of coefficients tested (metafor's `QMdf[1]`).
    pub df: usize,
    /// Denominator degrees of freedom k − p under Knapp–Hartung (F test); `None` for the χ² test.
    pub ddf: Option<f64>,
    /// p-value of the test (metafor's `QMp`).
    pub pval: f64,
}

impl OmnibusTest {
    /// metafor's `QMdist`: `chisq` or `F`.
    pub fn dist(&self) -> &'static str {
        if self.ddf.is_some() {
            "F"
        } else {
            "chisq"
        }
    }
}

/// A predicted (fitted) value with its CI and, for random-effects models, prediction interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Predicted {
    /// The predicted value, on the analysis scale.
    pub pred: f64,
    /// Its standard error.
    pub se: f64,
    /// Lower bound of the confidence interval.
    pub ci_lb: f64,
    /// Upper bound of the confidence interval.
    pub ci_ub: f64,
    /// Lower bound of the prediction interval (metafor's `pi.lb`); `None` for FE.
    pub pi_lb: Option<f64>,
    /// Upper bound of the prediction interval (metafor's `pi.ub`); `None` for FE.
    pub pi_ub: Option<f64>,
}

/// A fitted meta-regression.
#[derive(Debug, Clone)]
pub struct MetaregFit {
    /// The studies in the model (rows with missing moderators removed).
    pub effects: EffectSet,
    /// Studies dropped for a missing moderator value.
    pub omitted: Vec<Omitted>,
    /// The options the model was fitted with.
    pub options: RmaOptions,
    /// The test actually used.
    pub test: Test,
    /// The model matrix X with its coefficient names.
    pub matrix: ModelMatrix,
    /// Number of studies in the model.
    pub k: usize,
    /// Number of coefficients, the intercept included.
    pub p: usize,
    /// The coefficient table, in the order of the model matrix columns.
    pub coefficients: Vec<Coefficient>,
    /// Covariance of the coefficients, row-major p × p.
    pub vb: Vec<f64>,
    /// t degrees of freedom (k − p) under Knapp–Hartung.
    pub df: Option<f64>,
    /// Critical value for the CIs at the chosen level (z or t quantile).
    pub crit: f64,
    /// Omnibus test of the moderators (all coefficients but the intercept).
    pub qm: OmnibusTest,
    /// Residual heterogeneity: QE with k − p df, I², H² of the residual τ².
    pub het: Heterogeneity,
    /// `tau2`: estimated residual between-study variance τ² (0 for FE).
    pub tau2: f64,
    /// Standard error of τ² (metafor's `se.tau2`); `None` for FE.
    pub se_tau2: Option<f64>,
    /// Q-profile confidence interval for the residual τ²; `None` for FE or when not asked for.
    pub tau2_ci: Option<Tau2Ci>,
    /// Pseudo-R² in percent (Raudenbush 2009), `None` without an intercept or when undefined.
    pub r2: Option<f64>,
    /// Log-likelihood and information criteria (metafor's `fit.stats`).
    pub fit: FitStats,
    /// Fitted values for the studies in the model.
    pub fitted: Vec<Predicted>,
    /// Fisher-scoring iterations of the τ² estimator (ML, REML, EB); 0 otherwise.
    pub iterations: usize,
    /// Notes on fallbacks and truncations, for every output to show.
    pub notes: Vec<String>,
}

impl MetaregFit {
    /// Coefficient names, in the order of the model matrix columns.
    pub fn names(&self) -> &[String] {
        &self.matrix.names
    }

    /// The statistic's name: `zval` or `tval`.
    pub fn stat_name(&self) -> &'static str {
        if self.test.uses_t() {
            "tval"
        } else {
            "zval"
        }
    }

    /// The predicted effect for a row of moderator values `x` (one per coefficient, including
    /// the intercept's 1), with CI and prediction interval as metafor's `predict`.
    pub fn predict(&self, x: &[f64]) -> Result<Predicted> {
        let p = self.p;
        if x.len() != p {
            return Err(Error::invalid(format!(
                "prediction needs {p} values (one per coefficient: {}), got {}",
                self.names().join(", "),
                x.len()
            )));
        }
        let pred: f64 = x
            .iter()
            .zip(&self.coefficients)
            .map(|(a, c)| a * c.estimate)
            .sum();
        let mut var = 0.0;
        for r in 0..p {
            for c in 0..p {
                var += x[r] * self.vb[r * p + c] * x[c];
            }
        }
        let se = var.sqrt();
        let (pi_lb, pi_ub) = if self.options.method.is_fixed() {
            (None, None)
        } else {
            let sp = (var + self.tau2).sqrt();
            // Riley et al. 2011: t with k − p − 1 df whatever the test (as for `rma`).
            let crit = match self.options.pi_type {
                PiType::Metafor => self.crit,
                PiType::Riley => qt_upper(
                    self.options.level.alpha() / 2.0,
                    ((self.k - self.p) as f64 - 1.0).max(1.0),
                ),
            };
            (Some(pred - crit * sp), Some(pred + crit * sp))
        };
        Ok(Predicted {
            pred,
            se,
            ci_lb: pred - self.crit * se,
            ci_ub: pred + self.crit * se,
            pi_lb,
            pi_ub,
        })
    }
}

impl MetaregFit {
    /// Wald test (χ², or F under Knapp–Hartung) of the coefficients whose names contain
    /// `pattern`, e.g. all levels of `factor(alloc)` jointly (metafor's `btt = "alloc"`).
    pub fn wald_test(&self, pattern: &str) -> Result<(Vec<String>, OmnibusTest)> {
        let btt: Vec<usize> = (0..self.p)
            .filter(|&j| self.names()[j].contains(pattern))
            .collect();
        if btt.is_empty() {
            return Err(Error::invalid(format!(
                "no coefficient name contains '{pattern}' (coefficients: {})",
                self.names().join(", ")
            )));
        }
        let beta: Vec<f64> = self.coefficients.iter().map(|c| c.estimate).collect();
        let names = btt.iter().map(|&j| self.names()[j].clone()).collect();
        Ok((names, omnibus(&beta, &self.vb, self.p, &btt, self.df)))
    }

    /// The predicted effect at values of the coefficients after the intercept (metafor's
    /// `predict(res, newmods = values)`): the intercept's 1 is added when the model has one.
    pub fn predict_at(&self, values: &[f64]) -> Result<Predicted> {
        if self.matrix.intercept {
            let mut row = Vec::with_capacity(values.len() + 1);
            row.push(1.0);
            row.extend_from_slice(values);
            let n = self.p - 1;
            if values.len() != n {
                return Err(Error::invalid(format!(
                    "prediction needs {n} value{} (for {}), got {}",
                    if n == 1 { "" } else { "s" },
                    self.names()[1..].join(", "),
                    values.len()
                )));
            }
            self.predict(&row)
        } else {
            self.predict(values)
        }
    }
}

/// Fits a meta-regression with moderators given as an R formula's right-hand side.
///
/// # Examples
///
/// ```
/// use evident::{metareg, read_studies, rma, ColumnMap, CsvOptions, EffectSet, EscalcOptions};
/// use evident::{Measure, RmaOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let set = EffectSet::from_studies(&studies, Measure::RR, &EscalcOptions::default())?;
/// let fit = metareg(&set, "ablat", &RmaOptions::default())?; // yi ~ absolute latitude
/// assert_eq!(fit.coefficients.len(), 2); // intercept and slope
/// assert!(fit.coefficients.iter().all(|c| c.ci_lb < c.estimate && c.estimate < c.ci_ub));
/// assert!((0.0..=1.0).contains(&fit.qm.pval));
/// // With no moderator, meta-regression is the intercept-only model of rma.
/// let one = metareg(&set, "1", &RmaOptions::default())?;
/// let full = rma(&set, &RmaOptions::default())?;
/// assert!((one.coefficients[0].estimate - full.estimate).abs() < 1e-10);
/// # Ok::<(), evident::Error>(())
/// ```
pub fn metareg(effects: &EffectSet, formula: &str, opts: &RmaOptions) -> Result<MetaregFit> {
    metareg_formula(effects, &Formula::parse(formula)?, opts)
}

/// Fits a meta-regression with a parsed formula.
pub fn metareg_formula(
    effects: &EffectSet,
    formula: &Formula,
    opts: &RmaOptions,
) -> Result<MetaregFit> {
    let mm = formula.model_matrix(effects)?;
    let omitted = mm.omitted(effects);
    let set = effects.subset(&mm.used);
    let redundant = mm.redundant.clone();
    let mut fit = fit_matrix(&set, mm, opts)?;
    if !redundant.is_empty() {
        fit.notes.push(redundant_note(&redundant));
    }
    if !omitted.is_empty() {
        fit.notes.push(format!(
            "{} stud{} with missing moderator values omitted from model fitting",
            omitted.len(),
            if omitted.len() == 1 { "y" } else { "ies" }
        ));
    }
    fit.omitted = omitted;
    Ok(fit)
}

/// The note on columns dropped as redundant, worded after metafor's warning.
pub fn redundant_note(names: &[String]) -> String {
    format!(
        "redundant predictors dropped from the model (linear combinations of earlier columns, as metafor does): {}",
        names
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// metafor needs one study more than coefficients when τ² is estimated as well, and finite
/// effects with non-negative variances.
fn check_fittable(effects: &EffectSet, p: usize, fixed: bool) -> Result<()> {
    let k = effects.k();
    let need = if fixed { p } else { p + 1 };
    if k < need {
        return Err(Error::invalid(format!(
            "{k} studies cannot support a model with {p} coefficients{} (metafor: number of parameters larger than number of observations)",
            if fixed { "" } else { " and tau2" }
        )));
    }
    for (i, (&y, &v)) in effects.yi.iter().zip(&effects.vi).enumerate() {
        if !y.is_finite() || !v.is_finite() || v < 0.0 {
            return Err(Error::invalid(format!(
                "study '{}': effect or variance is not finite or negative",
                effects.labels[i]
            )));
        }
    }
    Ok(())
}

/// The coefficient table: estimates with their Wald (or Knapp–Hartung) tests and CIs.
fn coefficients(core: &FitCore, names: &[String]) -> Vec<Coefficient> {
    let p = names.len();
    let se: Vec<f64> = (0..p).map(|j| core.vb[j * p + j].sqrt()).collect();
    (0..p)
        .map(|j| {
            let b = core.beta[j];
            let stat = b / se[j];
            Coefficient {
                name: names[j].clone(),
                estimate: b,
                se: se[j],
                stat,
                pval: core.pval(stat),
                ci_lb: b - core.crit * se[j],
                ci_ub: b + core.crit * se[j],
            }
        })
        .collect()
}

/// Fits the model for a model matrix whose rows are the studies of `effects`.
fn fit_matrix(effects: &EffectSet, mm: ModelMatrix, opts: &RmaOptions) -> Result<MetaregFit> {
    let k = effects.k();
    let p = mm.x.ncols();
    let fixed = opts.method.is_fixed();
    check_fittable(effects, p, fixed)?;
    let design = Matrix::new(mm.x.clone());
    let core = fit_core(&design, effects, opts)?;
    let coefficients = coefficients(&core, &mm.names);
    // QM tests every coefficient but the intercept (metafor's default btt).
    let btt: Vec<usize> = if mm.intercept && p > 1 {
        (1..p).collect()
    } else {
        (0..p).collect()
    };
    let qm = omnibus(&core.beta, &core.vb, p, &btt, core.df);
    let tau2_ci = if fixed || !opts.tau2_ci {
        None
    } else {
        q_profile(
            &design,
            &effects.yi,
            &effects.vi,
            core.tau2,
            core.het.vt,
            opts.level.percent(),
            &QProfileControl {
                tol: opts.qprofile_tol,
                maxiter: 1000,
            },
        )
    };
    let r2 = if mm.intercept && p > 1 {
        pseudo_r2(effects, &mm, &core.beta, core.tau2, opts)
    } else {
        None
    };
    let notes = core.notes;
    let mut fit = MetaregFit {
        effects: effects.clone(),
        omitted: Vec::new(),
        options: *opts,
        test: core.test,
        k,
        p,
        coefficients,
        vb: core.vb.clone(),
        df: core.df,
        crit: core.crit,
        qm,
        het: core.het,
        tau2: core.tau2,
        se_tau2: core.se_tau2,
        tau2_ci,
        r2,
        fit: core.fit,
        fitted: Vec::new(),
        iterations: core.iterations,
        notes,
        matrix: mm,
    };
    fit.fitted = (0..k)
        .map(|i| {
            let row: Vec<f64> = fit.matrix.x.row(i).iter().copied().collect();
            fit.predict(&row)
        })
        .collect::<Result<_>>()?;
    Ok(fit)
}

/// Wald test of the coefficients `btt`: b' V⁻¹ b, divided by m and referred to F(m, ddf) under
/// Knapp–Hartung.
pub fn omnibus(beta: &[f64], vb: &[f64], p: usize, btt: &[usize], ddf: Option<f64>) -> OmnibusTest {
    let m = btt.len();
    let v = nalgebra::DMatrix::from_fn(m, m, |r, c| vb[btt[r] * p + btt[c]]);
    let b = nalgebra::DVector::from_fn(m, |r, _| beta[btt[r]]);
    let q = match v.cholesky() {
        Some(ch) => b.dot(&ch.solve(&b)),
        None => f64::NAN,
    };
    match ddf {
        Some(d) => {
            let f = q / m as f64;
            OmnibusTest {
                stat: f,
                df: m,
                ddf: Some(d),
                pval: if d > 0.0 {
                    pf_upper(f, m as f64, d)
                } else {
                    f64::NAN
                },
            }
        }
        None => OmnibusTest {
            stat: q,
            df: m,
            ddf: None,
            pval: pchisq_upper(q, m as f64),
        },
    }
}

/// metafor's pseudo-R² (%): for random-effects fits the proportional reduction of τ² against the
/// intercept-only model with the same method (Raudenbush 2009), truncated at 0; for FE fits the
/// adjusted R² of the weighted least-squares regression, truncated at 0.
fn pseudo_r2(
    effects: &EffectSet,
    mm: &ModelMatrix,
    beta: &[f64],
    tau2: f64,
    opts: &RmaOptions,
) -> Option<f64> {
    let y = &effects.yi;
    let k = y.len();
    if opts.method.is_fixed() {
        let mean = y.iter().sum::<f64>() / k as f64;
        if y.iter().all(|&v| v == mean) {
            return Some(0.0);
        }
        let w: Vec<f64> = effects.vi.iter().map(|v| 1.0 / v).collect();
        let f: Vec<f64> = (0..k)
            .map(|i| mm.x.row(i).iter().zip(beta).map(|(a, b)| a * b).sum())
            .collect();
        let sw: f64 = w.iter().sum();
        let fm: f64 = w.iter().zip(&f).map(|(a, b)| a * b).sum::<f64>() / sw;
        let mss: f64 = (0..k).map(|i| w[i] * (f[i] - fm).powi(2)).sum();
        let rss: f64 = (0..k).map(|i| w[i] * (y[i] - f[i]).powi(2)).sum();
        let r2 = mss / (mss + rss);
        let p = mm.x.ncols() as f64;
        let adj = 1.0 - (1.0 - r2) * ((k as f64 - 1.0) / (k as f64 - p));
        return Some((100.0 * adj).max(0.0));
    }
    let o = RmaOptions {
        tau2_ci: false,
        ..*opts
    };
    let t0 = rma(effects, &o).ok()?.tau2;
    if t0 == 0.0 {
        return Some(0.0);
    }
    Some((100.0 * (t0 - tau2) / t0).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Method;

    fn bcg() -> EffectSet {
        crate::effect::bcg_rr()
    }

    fn close(a: f64, b: f64, rtol: f64) {
        assert!((a - b).abs() <= 1e-12 + rtol * b.abs(), "{a} vs {b}");
    }

    fn opts(method: Method, test: Test) -> RmaOptions {
        RmaOptions {
            method,
            test,
            ..Default::default()
        }
    }

    /// (estimates, ses, pvals), QM, tau2, QE, R2, I2 — checked against metafor 3.8-1.
    #[allow(clippy::too_many_arguments)]
    fn check(
        fit: &MetaregFit,
        names: &[&str],
        coef: &[(f64, f64, f64)],
        qm: (f64, f64),
        tau2: f64,
        qe: f64,
        r2: Option<f64>,
        i2: f64,
    ) {
        assert_eq!(fit.names(), names);
        for (c, &(b, se, p)) in fit.coefficients.iter().zip(coef) {
            close(c.estimate, b, 1e-8);
            close(c.se, se, 1e-8);
            close(c.pval, p, 1e-6);
        }
        close(fit.qm.stat, qm.0, 1e-8);
        close(fit.qm.pval, qm.1, 1e-6);
        close(fit.tau2, tau2, 1e-8);
        close(fit.het.q, qe, 1e-8);
        match (fit.r2, r2) {
            (Some(a), Some(b)) => close(a, b, 1e-8),
            (None, None) => {}
            other => panic!("R2 {other:?}"),
        }
        close(fit.het.i2, i2, 1e-8);
    }

    // dat <- escalc("RR", ai=ai, bi=bi, ci=ci, di=di, data=d)   (d = bcg_rr/input.csv)
    #[test]
    fn text_factor_without_factor_pm_knha() {
        // rma(yi, vi, mods=~ablat+alloc, data=dat, method="PM", test="knha")
        let fit = metareg(&bcg(), "ablat + alloc", &opts(Method::PM, Test::Knha)).unwrap();
        check(
            &fit,
            &["intrcpt", "ablat", "allocrandom", "allocsystematic"],
            &[
                (
                    0.28445748533875187,
                    0.42526566250894976,
                    0.52034986630215518,
                ),
                (
                    -0.027045508671365279,
                    0.0096655762568098602,
                    0.020776116353332312,
                ),
                (
                    -0.27360217160751876,
                    0.3690900435393441,
                    0.47741438750636866,
                ),
                (
                    0.067555708312316484,
                    0.39923426803752093,
                    0.86937109708476146,
                ),
            ],
            (3.3527431068364142, 0.069143594742906128),
            0.16386904045123396,
            26.203436491648535,
            Some(48.48403651506225),
            72.664943064567098,
        );
        assert_eq!((fit.qm.df, fit.qm.ddf), (3, Some(9.0)));
    }

    #[test]
    fn interaction_reml() {
        // rma(yi, vi, mods=~ablat*year, data=dat, method="REML")
        let fit = metareg(&bcg(), "~ablat*year", &opts(Method::REML, Test::Z)).unwrap();
        check(
            &fit,
            &["intrcpt", "ablat", "year", "ablat:year"],
            &[
                (-30.241782286595093, 127.3070015124438, 0.81223010978428534),
                (0.53633546612099492, 2.7623491084272915, 0.84605123620193512),
                (
                    0.015417502192119143,
                    0.064454627788930186,
                    0.81095104130228557,
                ),
                (
                    -0.00028551925736060009,
                    0.0013989861223680233,
                    0.83828306837516231,
                ),
            ],
            (9.9223581352071903, 0.019237781360928175),
            0.14324347013123229,
            25.169902800989139,
            Some(54.270862856318637),
            70.516431730488108,
        );
    }

    #[test]
    fn no_intercept_tests_all_coefficients() {
        // rma(yi, vi, mods=~alloc-1, data=dat, method="DL"): QM on 3 df, no R2
        let fit = metareg(&bcg(), "alloc - 1", &opts(Method::DL, Test::Z)).unwrap();
        check(
            &fit,
            &["allocalternate", "allocrandom", "allocsystematic"],
            &[
                (
                    -0.51253015554772552,
                    0.54212220502083841,
                    0.34444733798934385,
                ),
                (
                    -0.99052549506652343,
                    0.31810127677675998,
                    0.0018465186623571582,
                ),
                (
                    -0.40829934245916089,
                    0.41417029290179114,
                    0.32421909815186223,
                ),
            ],
            (11.561835010084369, 0.0090452642401809922),
            0.55956875012770313,
            132.3676382627076,
            None,
            92.445283355321948,
        );
        assert_eq!(fit.qm.df, 3);
    }

    #[test]
    fn every_estimator() {
        // rma(yi, vi, mods=~ablat+year, data=dat, method=m) for m in HE, HS, SJ, EB, ML:
        // (ablat estimate, ablat se, QM, tau2, R2)
        let expected = [
            (
                Method::HE,
                -0.026323670011113593,
                0.014042151619913448,
                6.4436435326716497,
                0.23561076081653401,
                28.290724897816315,
            ),
            (
                Method::HS,
                -0.030959811575737146,
                0.0061720907509752385,
                35.378127962104919,
                0.025135517359015484,
                88.99316773563595,
            ),
            (
                Method::SJ,
                -0.026170701662369882,
                0.014493665136518001,
                6.0458135882430835,
                0.25322612318191423,
                26.710675662404139,
            ),
            (
                Method::EB,
                -0.027019561153986758,
                0.012252350756793024,
                8.4814801457307301,
                0.17163840543461481,
                46.037285388527806,
            ),
            (
                Method::ML,
                -0.030849959216921845,
                0.0062886255819973851,
                33.919241591472634,
                0.026897177103952098,
                90.394831704561454,
            ),
        ];
        let set = bcg();
        for (m, b, se, qm, tau2, r2) in expected {
            let fit = metareg(&set, "ablat + year", &opts(m, Test::Z)).unwrap();
            close(fit.coefficients[1].estimate, b, 1e-8);
            close(fit.coefficients[1].se, se, 1e-8);
            close(fit.qm.stat, qm, 1e-8);
            close(fit.tau2, tau2, 1e-8);
            close(fit.r2.unwrap(), r2, 1e-8);
        }
    }

    #[test]
    fn predicts_at_new_moderator_values() {
        // r <- rma(yi, vi, mods=~ablat, data=dat, test="knha"); predict(r, newmods=c(10, 50))
        let fit = metareg(&bcg(), "ablat", &opts(Method::REML, Test::Knha)).unwrap();
        let expected = [
            (
                10.0,
                -0.039552314905863362,
                0.21270262973613971,
                -0.5077076464675736,
                -0.80705292466569389,
                0.72794829485396706,
            ),
            (
                50.0,
                -1.203618752026457,
                0.19564650406121295,
                -1.6342338040889954,
                -1.94881476286849,
                -0.45842274118442394,
            ),
        ];
        for (x, pred, se, ci_lb, pi_lb, pi_ub) in expected {
            let p = fit.predict_at(&[x]).unwrap();
            close(p.pred, pred, 1e-8);
            close(p.se, se, 1e-8);
            close(p.ci_lb, ci_lb, 1e-8);
            close(p.pi_lb.unwrap(), pi_lb, 1e-8);
            close(p.pi_ub.unwrap(), pi_ub, 1e-8);
        }
        assert!(fit.predict(&[1.0]).is_err());
        // predict(r, newmods=10, pi.type="riley")$pi.lb: t with k - p - 1 = 10 df
        let riley = metareg(
            &bcg(),
            "ablat",
            &RmaOptions {
                pi_type: PiType::Riley,
                ..opts(Method::REML, Test::Knha)
            },
        )
        .unwrap()
        .predict_at(&[10.0])
        .unwrap();
        close(riley.pi_lb.unwrap(), -0.81652162780110937, 1e-8);
        assert!(fit.predict_at(&[1.0, 2.0]).is_err());
    }

    // rma(yi, vi, mods=as.formula(f), data=dat, method="DL"): rownames(r$beta) and r$QM
    #[test]
    fn factor_interactions_name_and_fit_as_metafor() {
        let set = bcg();
        let o = opts(Method::DL, Test::Z);
        for (f, names, qm) in [
            (
                "~alloc*ablat",
                &[
                    "intrcpt",
                    "allocrandom",
                    "allocsystematic",
                    "ablat",
                    "allocrandom:ablat",
                    "allocsystematic:ablat",
                ][..],
                8.71484556877581,
            ),
            (
                "~ablat:alloc",
                &[
                    "intrcpt",
                    "ablat:allocalternate",
                    "ablat:allocrandom",
                    "ablat:allocsystematic",
                ][..],
                16.5572521785574,
            ),
        ] {
            let fit = metareg(&set, f, &o).unwrap();
            assert_eq!(fit.names(), names, "{f}");
            close(fit.qm.stat, qm, 1e-12);
        }
    }

    // Without an intercept and with no constant in the column space, metafor 3.8-1 estimates
    // tau2 (and QE, 23.5293263768898) from the mean-centred yi; fit_core keeps its tau2 but gives
    // the residual QE: the weighted lm residual sum of squares (issue 14 item 24).
    // r <- rma(yi, vi, mods=~year + alloc:ablat - 1, data=dat, method="DL"): r$tau2, r$QM;
    // X <- model.matrix(~year + alloc:ablat - 1, data=dat); w <- 1/dat$vi
    // sum(w*resid(lm(dat$yi ~ X - 1, weights=w))^2)
    #[test]
    fn through_origin_as_metafor() {
        let fit = metareg(&bcg(), "year + alloc:ablat - 1", &opts(Method::DL, Test::Z)).unwrap();
        close(fit.het.q, 23.6183654542667, 1e-12);
        close(fit.tau2, 0.0853799943933028, 1e-8);
        close(fit.qm.stat, 52.7211191418318, 1e-8);
    }

    // rma(yi, vi, mods=~ablat+factor(alloc), data=dat, test=t, btt="alloc"): QM, QMp
    #[test]
    fn wald_test_of_a_factor() {
        for (test, qm, p) in [
            (Test::Z, 1.2850168744411197, 0.52597140164402156),
            (Test::Knha, 0.60072788702644064, 0.5689991431617154),
        ] {
            let fit = metareg(&bcg(), "ablat + factor(alloc)", &opts(Method::REML, test)).unwrap();
            let (names, t) = fit.wald_test("alloc").unwrap();
            assert_eq!(names, ["factor(alloc)random", "factor(alloc)systematic"]);
            close(t.stat, qm, 1e-8);
            close(t.pval, p, 1e-6);
        }
        let fit = metareg(&bcg(), "ablat", &opts(Method::REML, Test::Z)).unwrap();
        assert!(fit.wald_test("year").is_err());
    }

    #[test]
    fn too_many_coefficients_is_an_error() {
        let set = bcg().subset(&[0, 1, 2]);
        let e = metareg(&set, "ablat + year", &opts(Method::REML, Test::Z)).unwrap_err();
        assert!(e.to_string().contains("cannot support"), "{e}");
        assert!(metareg(&set, "ablat + year", &opts(Method::FE, Test::Z)).is_ok());
    }
}
