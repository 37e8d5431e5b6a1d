//! BLUPs of a meta-regression's study effects (metafor's `blup` and `ranef` on a model with
//! moderators): the shrinkage of [`crate::model::blup`] towards each study's fitted value Xᵢb.

use crate::model::blup::{blups_from_parts, BlupModel, Blups};
use crate::moderators::metareg::MetaregFit;

/// The BLUPs of a meta-regression: study i shrinks towards its fitted value, with Var(Xᵢb) from
/// the (Knapp–Hartung scaled) covariance of the coefficients.
pub fn metareg_blup(fit: &MetaregFit) -> Blups {
    let fitted: Vec<(f64, f64)> = fit.fitted.iter().map(|f| (f.pred, f.se * f.se)).collect();
    blups_from_parts(
        &fit.effects.labels,
        &fit.effects.yi,
        &fit.effects.vi,
        &fitted,
        &BlupModel {
            tau2: fit.tau2,
            crit: fit.crit,
            df: fit.df,
            options: fit.options,
            scale: fit.effects.scale,
        },
    )
}
