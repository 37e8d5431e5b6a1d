//! Mantel–Haenszel and Peto fits as the plots and the report draw them, and RevMan 5's
//! random-effects model for binary data (Deeks & Higgins 2010, *RevMan 5 statistical
//! algorithms*).
//!
//! A view is an [`RmaFit`] marked with its [`Weighting`]: each study keeps its own estimate and
//! Wald interval (the per-study effects behind Q), the weights are the Mantel–Haenszel or Peto
//! weights in percent, and the pooled estimate, its interval, z test, Q, I² and H² are the
//! table pooling's. The renderers draw it like any fit and name the method from `weighting`.

use super::mh::MhFit;
use super::{rma_mh, MhOptions, TablePooling};
use crate::data::Studies;
use crate::effect::{EffectSet, EscalcOptions};
use crate::error::{Error, Result};
use crate::measure::Measure;
use crate::model::fit::{FitStats, RmaFit, Weighting};
use crate::model::heterogeneity::{fe_i2_h2, Heterogeneity};
use crate::model::{rma, Method, RmaOptions, Test};

/// The effect set of the per-study effects behind a table pooling's Q: escalc with the
/// first-element options `add[0]`, `to[0]`, `drop00[0]`, as `rma.mh` and `rma.peto` compute them.
pub fn study_effects(studies: &Studies, measure: Measure, o: &MhOptions) -> Result<EffectSet> {
    let eo = EscalcOptions {
        add: o.add[0],
        to: o.to[0],
        drop00: o.drop00[0],
        ..EscalcOptions::default()
    };
    EffectSet::from_studies(studies, measure, &eo)
}

/// Fits the studies by `by` and returns the fit with its view ([`table_view`]).
pub fn fit_with_view(
    studies: &Studies,
    by: TablePooling,
    o: &MhOptions,
) -> Result<(MhFit, RmaFit)> {
    let fit = by.fit(studies, o)?;
    let measure = match by {
        TablePooling::MantelHaenszel(m) => m,
        TablePooling::Peto => Measure::PETO,
    };
    let view = table_view(&fit, study_effects(studies, measure, o)?)?;
    Ok((fit, view))
}

/// Heterogeneity of a table pooling's Q, with metafor's typical within-study variance of the
/// effects (so that τ²/(τ² + vt) is the I² of a DerSimonian–Laird fit from this Q).
fn table_het(q: f64, df: usize, q_pval: f64, vi: &[f64]) -> Heterogeneity {
    let (i2, h2) = if df == 0 { (0.0, 1.0) } else { fe_i2_h2(q, df) };
    Heterogeneity {
        q,
        q_df: df,
        q_pval,
        i2,
        h2,
        vt: df as f64 / dl_denominator(vi),
    }
}

/// Σw − Σw²/Σw with w = 1/vi: the denominator of DerSimonian–Laird's τ².
fn dl_denominator(vi: &[f64]) -> f64 {
    let sw: f64 = vi.iter().map(|v| 1.0 / v).sum();
    let sw2: f64 = vi.iter().map(|v| 1.0 / (v * v)).sum();
    sw - sw2 / sw
}

/// Checks that `effects` are the per-study effects of `fit` (same studies, same yi).
fn check_effects(fit: &MhFit, effects: &EffectSet) -> Result<()> {
    let same = effects.k() == fit.yi.len()
        && effects.yi.iter().zip(&fit.yi).all(|(a, b)| a == b)
        && effects.labels == fit.labels;
    if same {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "the {} fit has {} studies with an effect, the effect set {}: they must be the same \
             studies",
            fit.method_name(),
            fit.yi.len(),
            effects.k()
        )))
    }
}

/// The view of a Mantel–Haenszel or Peto fit for drawing and reporting (see the module
/// documentation); `effects` are the per-study effects of its Q ([`study_effects`]).
pub fn table_view(fit: &MhFit, effects: EffectSet) -> Result<RmaFit> {
    check_effects(fit, &effects)?;
    let weights = effects
        .rows
        .iter()
        .map(|&r| fit.study_weights.get(r).copied().flatten().unwrap_or(0.0))
        .collect();
    let options = RmaOptions {
        method: Method::FE,
        test: Test::Z,
        level: fit.level,
        ..RmaOptions::default()
    };
    let nan = f64::NAN;
    Ok(RmaFit {
        k: effects.k(),
        het: table_het(fit.q, fit.q_df, fit.q_pval, &effects.vi),
        effects,
        options,
        test: Test::Z,
        estimate: fit.estimate,
        se: fit.se,
        stat: fit.zval,
        df: None,
        pval: fit.pval,
        ci_lb: fit.ci_lb,
        ci_ub: fit.ci_ub,
        pi: None,
        pi_riley: None,
        tau2: 0.0,
        se_tau2: None,
        tau2_ci: None,
        weights,
        // A table pooling has no likelihood.
        fit: FitStats {
            loglik: nan,
            deviance: nan,
            aic: nan,
            bic: nan,
            aicc: nan,
            loglik_type: "none",
        },
        s2w: 1.0,
        modified_kh: None,
        iterations: 0,
        notes: fit.note.iter().map(|n| n.to_string()).collect(),
        weighting: if fit.peto {
            Weighting::Peto
        } else {
            Weighting::MantelHaenszel
        },
    })
}

/// RevMan 5's random-effects model for 2×2 and incidence data (Deeks & Higgins 2010): Q with
/// inverse-variance weights around the Mantel–Haenszel estimate, τ² by DerSimonian–Laird from
/// that Q, and the inverse-variance estimate with weights 1/(vi + τ²). `rma` gives the level,
/// test and prediction interval. Returns the Mantel–Haenszel fit and the random-effects fit
/// (its Q, I² and H² the Mantel–Haenszel ones, its `weighting` Mantel–Haenszel).
pub fn revman5_random(
    studies: &Studies,
    measure: Measure,
    o: &MhOptions,
    rma_opts: &RmaOptions,
) -> Result<(MhFit, RmaFit)> {
    let mh = rma_mh(studies, measure, o)?;
    let effects = study_effects(studies, measure, o)?;
    check_effects(&mh, &effects)?;
    let k = effects.k();
    let tau2 = if k > 1 {
        ((mh.q - (k - 1) as f64) / dl_denominator(&effects.vi)).max(0.0)
    } else {
        0.0
    };
    let opts = RmaOptions {
        method: Method::DL,
        tau2_fixed: Some(tau2),
        tau2_ci: false,
        ..*rma_opts
    };
    let mut fit = rma(&effects, &opts)?;
    fit.het = table_het(mh.q, mh.q_df, mh.q_pval, &fit.effects.vi);
    fit.se_tau2 = None;
    fit.options.tau2_fixed = None;
    // τ² is estimated here, from the Mantel–Haenszel Q; the kernel's note on a τ² given by the
    // user does not apply (every output names the model from `weighting`).
    fit.notes.retain(|n| !n.starts_with("tau2 fixed at "));
    fit.weighting = Weighting::MantelHaenszel;
    Ok((mh, fit))
}
