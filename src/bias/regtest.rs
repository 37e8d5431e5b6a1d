//! Regression tests for funnel-plot asymmetry (metafor's `regtest`).

use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::design::{Design, Matrix};
use crate::model::fit_core;
use crate::model::RmaOptions;
use crate::stats::{pt_two_sided, qt_upper};
use std::str::FromStr;

/// Which model the regression test fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegModel {
    /// The meta-regression model with the predictor as moderator (same τ² method and test).
    Rma,
    /// Egger's classic weighted least squares `lm(yi ~ predictor, weights = 1/vi)`, t with k − 2 df.
    Lm,
}

impl RegModel {
    /// The name metafor uses (and the CLI accepts).
    pub fn name(self) -> &'static str {
        match self {
            RegModel::Rma => "rma",
            RegModel::Lm => "lm",
        }
    }
}

impl FromStr for RegModel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rma" => Ok(RegModel::Rma),
            "lm" => Ok(RegModel::Lm),
            _ => Err(Error::invalid(format!(
                "unknown regression-test model '{s}': expected rma or lm"
            ))),
        }
    }
}

/// The predictor of the regression test (metafor's `predictor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predictor {
    /// Standard error √vi (Egger et al. 1997).
    Sei,
    /// Sampling variance vi (the PEESE predictor).
    Vi,
    /// Sample size n.
    Ni,
    /// 1/n (Peters et al. 2006).
    Ninv,
    /// √n.
    SqrtNi,
    /// 1/√n.
    SqrtNinv,
}

impl Predictor {
    /// The name metafor uses (and the CLI accepts).
    pub fn name(self) -> &'static str {
        match self {
            Predictor::Sei => "sei",
            Predictor::Vi => "vi",
            Predictor::Ni => "ni",
            Predictor::Ninv => "ninv",
            Predictor::SqrtNi => "sqrtni",
            Predictor::SqrtNinv => "sqrtninv",
        }
    }

    fn needs_n(self) -> bool {
        matches!(
            self,
            Predictor::Ni | Predictor::Ninv | Predictor::SqrtNi | Predictor::SqrtNinv
        )
    }

    /// Whether the intercept is the estimate where the predictor vanishes (the "limit estimate").
    fn has_limit(self) -> bool {
        matches!(
            self,
            Predictor::Sei | Predictor::Vi | Predictor::Ninv | Predictor::SqrtNinv
        )
    }
}

impl FromStr for Predictor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let all = [
            Predictor::Sei,
            Predictor::Vi,
            Predictor::Ni,
            Predictor::Ninv,
            Predictor::SqrtNi,
            Predictor::SqrtNinv,
        ];
        let low = s.trim().to_ascii_lowercase();
        all.into_iter().find(|p| p.name() == low).ok_or_else(|| {
            Error::invalid(format!(
                "unknown predictor '{s}': expected sei, vi, ni, ninv, sqrtni or sqrtninv"
            ))
        })
    }
}

/// The estimate as the predictor goes to 0, with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// The intercept: the estimate for an infinitely precise study (metafor's `est`).
    pub estimate: f64,
    /// Standard error of the intercept.
    pub se: f64,
    /// Two-sided p-value of the test that the intercept is 0.
    pub pval: f64,
    /// Lower bound of the intercept's confidence interval (metafor's `ci.lb`).
    pub ci_lb: f64,
    /// Upper bound of the intercept's confidence interval (metafor's `ci.ub`).
    pub ci_ub: f64,
}

impl Limit {
    /// The intercept with its standard error, p-value and critical value of the test.
    fn new(estimate: f64, se: f64, pval: f64, crit: f64) -> Limit {
        Limit {
            estimate,
            se,
            pval,
            ci_lb: estimate - crit * se,
            ci_ub: estimate + crit * se,
        }
    }
}

/// A regression test for funnel-plot asymmetry.
#[derive(Debug, Clone)]
pub struct Regtest {
    /// The model fitted: meta-regression or weighted `lm`.
    pub model: RegModel,
    /// The predictor of asymmetry.
    pub predictor: Predictor,
    /// Number of studies.
    pub k: usize,
    /// Slope of the predictor.
    pub slope: f64,
    /// Standard error of the slope.
    pub slope_se: f64,
    /// z or t statistic of the slope.
    pub stat: f64,
    /// t degrees of freedom; `None` for a z test.
    pub df: Option<f64>,
    /// p-value of the test for funnel-plot asymmetry (the slope against 0; metafor's `pval`).
    pub pval: f64,
    /// Intercept with its CI, for predictors that vanish for an infinitely precise study.
    pub limit: Option<Limit>,
    /// τ² of the `rma` model (0 for FE and for `lm`).
    pub tau2: f64,
    /// The meta-regression's coefficients the predictor was added to (empty for the test of
    /// the intercept-only model).
    pub moderators: Vec<String>,
}

impl Regtest {
    /// The statistic's name: `zval` or `tval`.
    pub fn stat_name(&self) -> &'static str {
        if self.df.is_some() {
            "tval"
        } else {
            "zval"
        }
    }
}

/// Total sample size of each study in `set` (metafor's `ni`): n1 + n2 for 2×2 tables and means,
/// n for proportions and correlations; `None` when the data carry no sample sizes.
pub fn sample_sizes(studies: &crate::data::Studies, set: &EffectSet) -> Option<Vec<f64>> {
    use crate::data::Data;
    let at = |v: &crate::data::studies::Values, r: usize| v.get(r).copied().flatten();
    set.rows
        .iter()
        .map(|&r| match &studies.data {
            Data::TwoByTwo { ai, bi, ci, di } => {
                Some(at(ai, r)? + at(bi, r)? + at(ci, r)? + at(di, r)?)
            }
            Data::Means { n1i, n2i, .. } => Some(at(n1i, r)? + at(n2i, r)?),
            Data::Proportion { ni, .. }
            | Data::Correlation { ni, .. }
            | Data::Mean { ni, .. }
            | Data::PrePost { ni, .. }
            | Data::Regression { ni, .. } => at(ni, r),
            _ => None,
        })
        .collect()
}

/// metafor refuses a meta-regression when the coefficients and τ² outnumber the studies.
pub(crate) fn check_parameters(k: usize, p: usize, opts: &RmaOptions) -> Result<()> {
    let needed = p + usize::from(!opts.method.is_fixed());
    if needed > k {
        return Err(Error::invalid(format!(
            "{k} studies cannot support a model with {needed} parameters ({p} coefficients{})",
            if opts.method.is_fixed() {
                ""
            } else {
                " and tau2"
            }
        )));
    }
    Ok(())
}

/// Regression test for funnel-plot asymmetry: the effect regressed on a precision predictor.
///
/// Egger, Davey Smith, Schneider & Minder 1997, *BMJ* 315:629–634 (`Lm` with `Sei`); the
/// meta-regression form of Sterne & Egger 2005 (*Publication Bias in Meta-Analysis*, ch. 6) as
/// metafor's `regtest` (`Rma`); Peters et al. 2006, *JAMA* 295:676–680 (`Lm` with `Ninv`).
/// `ni` (sample sizes, one per study) is needed only for the sample-size predictors.
///
/// # Examples
///
/// ```
/// use evident::bias::{Predictor, RegModel};
/// use evident::{read_studies, regtest, ColumnMap, CsvOptions, EffectSet, EscalcOptions};
/// use evident::{Measure, RmaOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let set = EffectSet::from_studies(&studies, Measure::RR, &EscalcOptions::default())?;
/// // Egger's test as metafor's default: the standard error as a moderator of rma.
/// let eg = regtest(&set, &RmaOptions::default(), RegModel::Rma, Predictor::Sei, None)?;
/// assert_eq!(eg.k, set.k());
/// assert!((eg.stat - eg.slope / eg.slope_se).abs() < 1e-12);
/// assert!((0.0..=1.0).contains(&eg.pval));
/// # Ok::<(), evident::Error>(())
/// ```
pub fn regtest(
    set: &EffectSet,
    opts: &RmaOptions,
    model: RegModel,
    predictor: Predictor,
    ni: Option<&[f64]>,
) -> Result<Regtest> {
    let k = set.k();
    let pred = predictor_values(set, predictor, ni)?;
    debug_assert!(!predictor.needs_n() || ni.is_some());
    if k > 0 && pred.iter().all(|&x| x == pred[0]) {
        return Err(Error::invalid(format!(
            "the predictor {} is the same for every study: there is no funnel asymmetry to test",
            predictor.name()
        )));
    }
    let x = nalgebra::DMatrix::from_fn(k, 2, |i, j| if j == 0 { 1.0 } else { pred[i] });
    let design = Matrix::new(x);
    let r = match model {
        RegModel::Rma => regtest_rma(set, opts, &design, predictor),
        RegModel::Lm => regtest_lm(set, opts, &design, predictor),
    }?;
    if !r.stat.is_finite() {
        // A residual variance of 0 (e.g. identical effects under Knapp–Hartung or lm) gives
        // t = ±inf or NaN, which metafor prints as a finding; it tests nothing.
        return Err(Error::invalid(format!(
            "the regression fits every study exactly (residual variance 0, e.g. identical effects): its {} statistic is {} and tests nothing",
            r.stat_name(),
            r.stat
        )));
    }
    Ok(r)
}

/// The predictor's value for each study; the sample-size predictors need `ni`.
fn predictor_values(set: &EffectSet, predictor: Predictor, ni: Option<&[f64]>) -> Result<Vec<f64>> {
    Ok(match predictor {
        Predictor::Sei => set.vi.iter().map(|v| v.sqrt()).collect(),
        Predictor::Vi => set.vi.clone(),
        _ => {
            let ni = ni.ok_or_else(|| {
                Error::invalid(format!(
                    "predictor '{}' needs the studies' sample sizes, which these data do not give",
                    predictor.name()
                ))
            })?;
            if ni.len() != set.k() || ni.iter().any(|n| !(*n > 0.0)) {
                return Err(Error::invalid(
                    "sample sizes must be positive, one per study",
                ));
            }
            ni.iter()
                .map(|&n| match predictor {
                    Predictor::Ni => n,
                    Predictor::Ninv => 1.0 / n,
                    Predictor::SqrtNi => n.sqrt(),
                    _ => 1.0 / n.sqrt(),
                })
                .collect()
        }
    })
}

/// The meta-regression form: the model's τ² method and test, the predictor as moderator.
fn regtest_rma(
    set: &EffectSet,
    opts: &RmaOptions,
    design: &Matrix,
    predictor: Predictor,
) -> Result<Regtest> {
    let k = set.k();
    check_parameters(k, 2, opts)?;
    let core = fit_core(design, set, opts)?;
    let se = core.vb[3].sqrt();
    let stat = core.beta[1] / se;
    let limit = predictor.has_limit().then(|| {
        let s0 = core.vb[0].sqrt();
        Limit::new(core.beta[0], s0, core.pval(core.beta[0] / s0), core.crit)
    });
    Ok(Regtest {
        model: RegModel::Rma,
        predictor,
        k,
        slope: core.beta[1],
        slope_se: se,
        stat,
        df: core.df,
        pval: core.pval(stat),
        limit,
        tau2: core.tau2,
        moderators: Vec::new(),
    })
}

/// Egger's weighted least squares, t with k − 2 df.
fn regtest_lm(
    set: &EffectSet,
    opts: &RmaOptions,
    design: &Matrix,
    predictor: Predictor,
) -> Result<Regtest> {
    let k = set.k();
    if k < 3 {
        return Err(Error::TooFewStudies {
            what: "the weighted regression test",
            k,
            needed: 3,
        });
    }
    let w: Vec<f64> = set.vi.iter().map(|v| 1.0 / v).collect();
    if w.iter().any(|x| !x.is_finite()) {
        return Err(Error::invalid(
            "the weighted regression test needs positive sampling variances",
        ));
    }
    let fit = design.wls(&set.yi, &w).ok_or_else(|| {
        Error::invalid("the predictor is constant: the regression cannot be fitted")
    })?;
    // lm estimates the residual variance: σ² = RSS/(k − 2) scales (X'WX)⁻¹.
    let df = (k - 2) as f64;
    let sigma2 = fit.rss / df;
    let se = (sigma2 * fit.vb[3]).sqrt();
    let stat = fit.beta[1] / se;
    let alpha = opts.level.alpha();
    let crit = qt_upper(alpha / 2.0, df);
    let limit = predictor.has_limit().then(|| {
        let s0 = (sigma2 * fit.vb[0]).sqrt();
        Limit::new(fit.beta[0], s0, pt_two_sided(fit.beta[0] / s0, df), crit)
    });
    Ok(Regtest {
        model: RegModel::Lm,
        predictor,
        k,
        slope: fit.beta[1],
        slope_se: se,
        stat,
        df: Some(df),
        pval: pt_two_sided(stat, df),
        limit,
        tau2: 0.0,
        moderators: Vec::new(),
    })
}

/// The regression test of a meta-regression, as metafor's `regtest(rma(yi, vi, mods = …))`:
/// the predictor joins the model's moderators and its coefficient is the test; there is no
/// limit estimate unless the model is intercept-only. `ni` (one per study of the fit) is
/// needed only for the sample-size predictors.
pub fn regtest_metareg(
    fit: &crate::moderators::metareg::MetaregFit,
    model: RegModel,
    predictor: Predictor,
    ni: Option<&[f64]>,
) -> Result<Regtest> {
    let set = &fit.effects;
    let (k, p) = (fit.k, fit.p);
    let pred = predictor_values(set, predictor, ni)?;
    let mut x = fit.matrix.x.clone().insert_column(p, 0.0);
    for (i, v) in pred.iter().enumerate() {
        x[(i, p)] = *v;
    }
    if !crate::moderators::formula::redundant_columns(&x).is_empty() {
        return Err(Error::invalid(format!(
            "the model matrix is no longer of full rank after adding the predictor {} to the moderators ({}): the test cannot be fitted (metafor refuses too)",
            predictor.name(),
            fit.names().join(", ")
        )));
    }
    let design = Matrix::new(x);
    let s = match model {
        RegModel::Rma => slope_rma(&design, fit)?,
        RegModel::Lm => slope_lm(&design, fit)?,
    };
    let int_only = p == 1 && fit.matrix.intercept;
    let limit = (int_only && predictor.has_limit())
        .then(|| Limit::new(s.beta[0], s.se[0], s.pval[0], s.crit));
    Ok(Regtest {
        model,
        predictor,
        k,
        slope: s.beta[p],
        slope_se: s.se[p],
        stat: s.beta[p] / s.se[p],
        df: s.df,
        pval: s.pval[p],
        limit,
        tau2: s.tau2,
        moderators: if int_only {
            Vec::new()
        } else {
            fit.names().to_vec()
        },
    })
}

/// Coefficients of the test's regression with SEs and p-values.
struct Slopes {
    beta: Vec<f64>,
    se: Vec<f64>,
    pval: Vec<f64>,
    df: Option<f64>,
    crit: f64,
    tau2: f64,
}

fn slope_rma(design: &Matrix, fit: &crate::moderators::metareg::MetaregFit) -> Result<Slopes> {
    let q = design.p();
    check_parameters(fit.k, q, &fit.options)?;
    let core = fit_core(design, &fit.effects, &fit.options)?;
    let se: Vec<f64> = (0..q).map(|j| core.vb[j * q + j].sqrt()).collect();
    let pval = (0..q).map(|j| core.pval(core.beta[j] / se[j])).collect();
    Ok(Slopes {
        se,
        pval,
        df: core.df,
        crit: core.crit,
        tau2: core.tau2,
        beta: core.beta,
    })
}

fn slope_lm(design: &Matrix, fit: &crate::moderators::metareg::MetaregFit) -> Result<Slopes> {
    let (k, q) = (fit.k, design.p());
    let set = &fit.effects;
    if k <= q {
        return Err(Error::TooFewStudies {
            what: "the weighted regression test of this meta-regression",
            k,
            needed: q + 1,
        });
    }
    let w: Vec<f64> = set.vi.iter().map(|v| 1.0 / v).collect();
    if w.iter().any(|x| !x.is_finite()) {
        return Err(Error::invalid(
            "the weighted regression test needs positive sampling variances",
        ));
    }
    let f = design
        .wls(&set.yi, &w)
        .ok_or_else(|| Error::invalid("the regression cannot be fitted (singular design)"))?;
    // lm estimates the residual variance: σ² = RSS/(k − q) scales (X'WX)⁻¹.
    let df = (k - q) as f64;
    let sigma2 = f.rss / df;
    let se: Vec<f64> = (0..q).map(|j| (sigma2 * f.vb[j * q + j]).sqrt()).collect();
    let pval = (0..q)
        .map(|j| pt_two_sided(f.beta[j] / se[j], df))
        .collect();
    Ok(Slopes {
        se,
        pval,
        df: Some(df),
        crit: qt_upper(fit.options.level.alpha() / 2.0, df),
        tau2: 0.0,
        beta: f.beta,
    })
}
