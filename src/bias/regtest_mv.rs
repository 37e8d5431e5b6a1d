//! Egger's test and PET-PEESE's regressions on a multilevel model, with cluster-robust
//! inference: the small-study regressions for dependent effect sizes.

use super::regtest::Predictor;
use crate::data::Studies;
use crate::error::{Error, Result};
use crate::multilevel::{rma_mv, MvFit, MvOptions, PrecisionTerm};
use crate::robust::{robust_mv, RobustFit, RobustType};

/// One coefficient's test: model-based, or cluster-robust when the regression has clusters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MvTest {
    /// The estimate.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// z or t statistic.
    pub stat: f64,
    /// t degrees of freedom (Satterthwaite's under CR2); `None` for a z test.
    pub df: Option<f64>,
    /// Two-sided p-value.
    pub pval: f64,
    /// Lower confidence bound.
    pub ci_lb: f64,
    /// Upper confidence bound.
    pub ci_ub: f64,
}

/// The regression of the effects on their standard errors (Egger, PET) or variances (PEESE) in
/// a multilevel model.
#[derive(Debug, Clone)]
pub struct MvRegtest {
    /// √vi or vi.
    pub predictor: Predictor,
    /// The multilevel model with the predictor as its last moderator.
    pub fit: MvFit,
    /// Its cluster-robust inference, when clustered.
    pub robust: Option<RobustFit>,
    /// The slope of the predictor: the test for funnel-plot asymmetry.
    pub slope: MvTest,
    /// The intercept, the estimate for an infinitely precise study (PET's or PEESE's estimate);
    /// `None` when the model has moderators besides the predictor or no intercept.
    pub limit: Option<MvTest>,
}

/// Egger's regression test (`Sei`) or PEESE's regression (`Vi`) of a multilevel model: metafor's
/// `rma.mv(yi ~ sqrt(vi), random = ...)` (or `yi ~ vi`), with the model's moderators if any,
/// tested cluster-robustly by `robust` = (cluster column, estimator) as clubSandwich's
/// `coef_test(vcov = "CR2")` (Rodgers & Pustejovsky 2021, *Psychol Methods* 26:141–160).
pub fn regtest_mv(
    studies: &Studies,
    opts: &MvOptions,
    predictor: Predictor,
    robust: Option<(&str, RobustType)>,
) -> Result<MvRegtest> {
    let term = match predictor {
        Predictor::Sei => PrecisionTerm::Sei,
        Predictor::Vi => PrecisionTerm::Vi,
        other => {
            return Err(Error::invalid(format!(
                "the regression test of a multilevel model takes the standard error (sei) or \
                 the variance (vi) as predictor, not {}",
                other.name()
            )))
        }
    };
    let o = MvOptions {
        precision: Some(term),
        ..opts.clone()
    };
    let fit = rma_mv(studies, &o)?;
    let robust = robust
        .map(|(column, method)| robust_mv(&fit, studies, column, method))
        .transpose()?;
    let test = |j: usize| match &robust {
        Some(r) => {
            let c = &r.coefficients[j];
            MvTest {
                estimate: c.estimate,
                se: c.se,
                stat: c.tval,
                df: Some(c.df),
                pval: c.pval,
                ci_lb: c.ci_lb,
                ci_ub: c.ci_ub,
            }
        }
        None => {
            let c = &fit.coefficients[j];
            MvTest {
                estimate: c.estimate,
                se: c.se,
                stat: c.stat,
                df: c.df,
                pval: c.pval,
                ci_lb: c.ci_lb,
                ci_ub: c.ci_ub,
            }
        }
    };
    let p = fit.p;
    let slope = test(p - 1);
    let limit = (fit.intercept && p == 2).then(|| test(0));
    Ok(MvRegtest {
        predictor,
        slope,
        limit,
        fit,
        robust,
    })
}
