//! Likelihood-ratio tests of nested multilevel models, as metafor's `anova(full, reduced)` for
//! two `rma.mv` fits: the difference of their deviances referred to χ² with the difference of
//! their parameter counts (coefficients plus estimated variance components and correlations),
//! with both models' fit statistics and residual heterogeneity.
//!
//! Random parts may differ freely (a three-level model against two levels, CS against UN): that
//! is the test REML is for. Fixed effects may differ only under ML: REML likelihoods of models
//! with different X are likelihoods of different error contrasts and not comparable (Welham &
//! Thompson 1997, *J R Stat Soc B* 59:701–714), which metafor only warns about; here it is
//! refused.

use super::{rma_mv, MvFit, MvOptions, RandomFormula};
use crate::data::Studies;
use crate::error::{Error, Result};
use crate::model::{FitStats, Method};
use crate::moderators::anova::{spans, Lrt, ModelRow};
use crate::stats::pchisq_upper;

/// How a model is described: its moderators (`1` for none) and random terms with structures.
fn row(opts: &MvOptions, fit: &MvFit) -> ModelRow {
    // The structures as fitted (one given structure serves both terms, as in metafor).
    let mut structs = fit.terms().into_iter().map(|g| g.structure);
    let random = opts
        .random
        .iter()
        .map(|r| match RandomFormula::parse(r) {
            Ok(RandomFormula::Structured { .. }) => {
                format!("{r} ({})", structs.next().map_or("CS", |s| s.name()))
            }
            _ => r.clone(),
        })
        .collect();
    ModelRow {
        formula: opts.mods.clone().unwrap_or_else(|| "1".into()),
        random,
        coefficients: fit.coefficients.iter().map(|c| c.name.clone()).collect(),
        parms: fit.parms,
        fit: FitStats {
            loglik: fit.loglik,
            deviance: fit.deviance,
            aic: fit.aic,
            bic: fit.bic,
            aicc: fit.aicc,
            loglik_type: if fit.method == Method::ML {
                "ML"
            } else {
                "REML"
            },
        },
        qe: fit.qe.0,
        qe_df: fit.qe.1,
        tau2: f64::NAN,
    }
}

/// The likelihood-ratio test of two nested multilevel models fitted to `studies` (metafor's
/// `anova(full, reduced)`; either order, the one with more parameters is the full model). Both
/// must use the same effects, sampling covariances and method.
pub fn mv_anova(studies: &Studies, a: &MvOptions, b: &MvOptions) -> Result<Lrt> {
    if a.method != b.method {
        return Err(Error::invalid(format!(
            "the models are fitted by {:?} and {:?}: a likelihood-ratio test compares two fits of one method",
            a.method, b.method
        )));
    }
    if a.measure != b.measure || a.escalc != b.escalc || a.v != b.v {
        return Err(Error::invalid(
            "the models differ in their outcomes or sampling covariances: a likelihood-ratio test compares models of the same data",
        ));
    }
    let (fa, fb) = (rma_mv(studies, a)?, rma_mv(studies, b)?);
    if fa.parms == fb.parms {
        return Err(Error::invalid(format!(
            "the models have the same number of parameters ({}): a likelihood-ratio test needs one nested in the other",
            fa.parms
        )));
    }
    let ((f, fo), (r, ro)) = if fa.parms > fb.parms {
        ((fa, a), (fb, b))
    } else {
        ((fb, b), (fa, a))
    };
    if f.rows != r.rows {
        return Err(Error::invalid(format!(
            "the models are fitted to different rows (k = {} and {}): a moderator is missing for some; compare models on the same rows",
            f.k, r.k
        )));
    }
    let (xf, xr) = (f.design(), r.design());
    if f.method == Method::REML && xf != xr {
        return Err(Error::invalid(
            "REML likelihoods of models with different fixed effects are not comparable: fit both by ML to test moderators (metafor warns and compares them anyway)",
        ));
    }
    if !spans(&xf, &xr) {
        return Err(Error::invalid(
            "the fixed effects of the model with fewer parameters are not nested in the other's: a likelihood-ratio test compares a model with one that contains it",
        ));
    }
    let (full, reduced) = (row(fo, &f), row(ro, &r));
    let lrt = (reduced.fit.deviance - full.fit.deviance).max(0.0);
    let df = full.parms - reduced.parms;
    Ok(Lrt {
        k: f.k,
        method: f.method,
        lrt,
        df,
        pval: pchisq_upper(lrt, df as f64),
        r2: f64::NAN,
        full,
        reduced,
    })
}
