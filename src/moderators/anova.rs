//! Likelihood-ratio tests of nested meta-regressions, as metafor's `anova(full, reduced)`: the
//! difference of the models' deviances referred to χ² with the difference of their parameter
//! counts (coefficients, plus τ² for random-effects models), their fit statistics, residual
//! heterogeneity, and the proportion of τ² the extra moderators account for.
//!
//! The test compares likelihoods, so both models are fitted by maximum likelihood (ML, or FE):
//! REML likelihoods of models with different fixed effects are not comparable (the REML
//! likelihood is that of error contrasts which depend on X; Welham & Thompson 1997), which
//! metafor only warns about; here it is refused, as are estimators without a likelihood.

use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::design::{Design, Matrix};
use crate::model::{FitStats, Method, RmaOptions};
use crate::moderators::metareg::{metareg, MetaregFit};
use crate::stats::pchisq_upper;
use nalgebra::DMatrix;

/// What the test reports of each model (one row of metafor's table).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelRow {
    /// The moderators, as given (`1` for the intercept-only model).
    pub formula: String,
    /// The random-effects terms of a multilevel model, with their structure (`~ outcome |
    /// trial` (UN)); empty for `rma` models.
    pub random: Vec<String>,
    /// Coefficient names.
    pub coefficients: Vec<String>,
    /// Parameters: coefficients, plus 1 for τ² in random-effects models (metafor's `parms`).
    pub parms: usize,
    /// Log-likelihood, deviance, AIC, BIC and AICc.
    pub fit: FitStats,
    /// Residual heterogeneity QE.
    pub qe: f64,
    /// Degrees of freedom of QE, k − p.
    pub qe_df: usize,
    /// (Residual) τ²; 0 for FE; NaN for multilevel models (metafor reports none).
    pub tau2: f64,
}

/// A likelihood-ratio test of a reduced model against the full model it is nested in.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Lrt {
    /// The model with more parameters.
    pub full: ModelRow,
    /// The model nested in it.
    pub reduced: ModelRow,
    /// The estimator both were fitted with (ML or FE; REML for multilevel models with the
    /// same fixed effects).
    pub method: Method,
    /// Number of studies.
    pub k: usize,
    /// The likelihood-ratio statistic, deviance(reduced) − deviance(full), at least 0.
    pub lrt: f64,
    /// Its degrees of freedom, the difference of the parameter counts.
    pub df: usize,
    /// p-value from χ²(df).
    pub pval: f64,
    /// Percentage of τ² (FE: of the residual variance QE/(k − p)) the full model accounts for,
    /// max(0, (reduced − full)/reduced) (metafor's `R2`); 0 when the reduced τ² is 0; NaN for
    /// multilevel models (metafor reports none).
    pub r2: f64,
}

fn row(formula: &str, fit: &MetaregFit) -> ModelRow {
    ModelRow {
        formula: formula.trim().to_string(),
        random: Vec::new(),
        coefficients: fit.names().to_vec(),
        parms: fit.p + usize::from(!fit.options.method.is_fixed()),
        fit: fit.fit,
        qe: fit.het.q,
        qe_df: fit.het.q_df,
        tau2: fit.tau2,
    }
}

/// Refuses comparisons whose likelihoods are not comparable (see the module's documentation).
fn check_method(method: Method) -> Result<()> {
    match method {
        Method::ML | Method::FE => Ok(()),
        Method::REML => Err(Error::invalid(
            "a likelihood-ratio test of models with different moderators needs ML estimation: \
             REML likelihoods of models with different fixed effects are not comparable \
             (metafor warns and compares them anyway)",
        )),
        other => Err(Error::invalid(format!(
            "a likelihood-ratio test needs a likelihood: fit the models by ML (or FE), not {}",
            other.name()
        ))),
    }
}

/// Whether every column of the design `reduced` lies in the column space of `full` (relative
/// tolerance 1e-8 on the least-squares residual): the fixed effects are nested.
pub(crate) fn spans(full: &DMatrix<f64>, reduced: &DMatrix<f64>) -> bool {
    let d = Matrix::new(full.clone());
    let ones = vec![1.0; full.nrows()];
    reduced.column_iter().all(|col| {
        let c: Vec<f64> = col.iter().copied().collect();
        let norm: f64 = c.iter().map(|x| x * x).sum();
        d.wls(&c, &ones)
            .is_some_and(|w| w.rss <= 1e-16 * norm.max(f64::MIN_POSITIVE))
    })
}

/// The likelihood-ratio test of the model with moderators `reduced` against the one with
/// `full` (metafor's `anova(full, reduced)`; the two may be given in either order, the one with
/// more parameters is the full model). Both are fitted with `opts`, whose method must be ML or FE.
pub fn anova(effects: &EffectSet, full: &str, reduced: &str, opts: &RmaOptions) -> Result<Lrt> {
    check_method(opts.method)?;
    let (mut f, mut r) = (
        metareg(effects, full, opts)?,
        metareg(effects, reduced, opts)?,
    );
    let (mut ff, mut rf) = (full, reduced);
    if f.p == r.p {
        return Err(Error::invalid(format!(
            "the models '{}' and '{}' have the same number of parameters ({}): a likelihood-ratio \
             test needs one nested in the other",
            full.trim(),
            reduced.trim(),
            f.p
        )));
    }
    if f.p < r.p {
        std::mem::swap(&mut f, &mut r);
        std::mem::swap(&mut ff, &mut rf);
    }
    if f.effects.yi != r.effects.yi || f.effects.vi != r.effects.vi {
        return Err(Error::invalid(format!(
            "the models are fitted to different studies ({} with '{}', {} with '{}'): a \
             moderator is missing for some; compare models on the same studies",
            f.k,
            ff.trim(),
            r.k,
            rf.trim()
        )));
    }
    if !spans(&f.matrix.x, &r.matrix.x) {
        return Err(Error::invalid(format!(
            "the model '{}' is not nested in '{}': a likelihood-ratio test compares a model with \
             one that contains it",
            rf.trim(),
            ff.trim()
        )));
    }
    let (full_row, reduced_row) = (row(ff, &f), row(rf, &r));
    let lrt = (reduced_row.fit.deviance - full_row.fit.deviance).max(0.0);
    let df = full_row.parms - reduced_row.parms;
    let r2 = if opts.method.is_fixed() {
        let s2 = |m: &ModelRow| m.qe / m.qe_df as f64;
        let (s2f, s2r) = (s2(&full_row), s2(&reduced_row));
        100.0 * ((s2r - s2f) / s2r).max(0.0)
    } else if reduced_row.tau2 == 0.0 {
        0.0
    } else {
        100.0 * ((reduced_row.tau2 - full_row.tau2) / reduced_row.tau2).max(0.0)
    };
    Ok(Lrt {
        k: f.k,
        method: opts.method,
        lrt,
        df,
        pval: pchisq_upper(lrt, df as f64),
        r2,
        full: full_row,
        reduced: reduced_row,
    })
}
