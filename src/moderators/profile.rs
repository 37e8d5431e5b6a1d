//! The profile-likelihood CI for a meta-regression's residual τ² (metafor's
//! `confint(rma(yi, vi, mods = ...), type = "PL")`), with [`crate::model::profile`].

use crate::error::Result;
use crate::model::design::Matrix;
use crate::model::heterogeneity::{QProfileControl, Tau2Ci};
use crate::model::profile::pl_ci;
use crate::moderators::metareg::MetaregFit;

/// The profile-likelihood CI for the residual τ² of an ML or REML meta-regression.
pub fn metareg_pl_ci(fit: &MetaregFit) -> Result<Tau2Ci> {
    pl_ci(
        &Matrix::new(fit.matrix.x.clone()),
        &fit.effects.yi,
        &fit.effects.vi,
        fit.options.method,
        fit.tau2,
        fit.het.vt,
        fit.options.level.percent(),
        &QProfileControl::default(),
    )
}
