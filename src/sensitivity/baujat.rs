//! Data of the Baujat plot (metafor's `baujat`).

use super::refit_options;
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::design::Intercept;
use crate::model::fit_core;
use crate::model::rma;
use crate::model::RmaOptions;

/// Each study's contribution to heterogeneity (x) against its influence on the estimate (y).
#[derive(Debug, Clone)]
pub struct Baujat {
    /// Study labels.
    pub labels: Vec<String>,
    /// (yi − b)² / (vi + τ²): the study's squared standardized residual in the full model.
    pub x: Vec<f64>,
    /// (b₍₋ᵢ₎ − b)² / var(b₍₋ᵢ₎): the shift of the estimate when the study is left out; NaN where
    /// the refit fails.
    pub y: Vec<f64>,
}

/// The coordinates of the Baujat plot.
///
/// Baujat, Mahé, Pignon & Hill 2002, *Stat Med* 21:2641–2652, as generalized by metafor's
/// `baujat` (random-effects residuals; refits with the same method and test).
pub fn baujat(set: &EffectSet, opts: &RmaOptions) -> Result<Baujat> {
    let k = set.k();
    if k <= 1 {
        return Err(Error::TooFewStudies {
            what: "the Baujat plot",
            k,
            needed: 2,
        });
    }
    let ro = refit_options(opts);
    let full = rma(set, &ro)?;
    let x = set
        .yi
        .iter()
        .zip(&set.vi)
        .map(|(y, v)| (y - full.estimate).powi(2) / (v + full.tau2))
        .collect();
    let y = (0..k)
        .map(|i| {
            let idx: Vec<usize> = (0..k).filter(|&j| j != i).collect();
            match fit_core(&Intercept { k: k - 1 }, &set.subset(&idx), &ro) {
                Ok(r) => (r.beta[0] - full.estimate).powi(2) / r.vb[0],
                Err(_) => f64::NAN,
            }
        })
        .collect();
    Ok(Baujat {
        labels: set.labels.clone(),
        x,
        y,
    })
}
