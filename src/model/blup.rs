//! Best linear unbiased predictions of the study effects, as metafor's `blup` and `ranef`
//! (Raudenbush & Bryk 1985, *J Educ Stat* 10:75–98; Robinson 1991, *Stat Sci* 6:15–32).
//!
//! With λᵢ = τ²/(τ² + vᵢ), study i's true effect θᵢ = Xᵢβ + uᵢ is predicted by the shrunken
//! estimate λᵢ yᵢ + (1 − λᵢ) Xᵢb (`blup`) and its random effect uᵢ by λᵢ (yᵢ − Xᵢb) (`ranef`),
//! with metafor's variances λᵢvᵢ + (1 − λᵢ)² Var(Xᵢb) and λᵢvᵢ + λᵢ² Var(Xᵢb) and intervals with
//! the model's critical value (t(k − p) under Knapp–Hartung, whose scaled Var(Xᵢb) they use).

use crate::measure::Scale;
use crate::model::{Method, RmaFit, RmaOptions};

/// One study's prediction with its standard error and interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct StudyPrediction {
    /// The predicted value (metafor's `pred`), on the analysis scale.
    pub pred: f64,
    /// Its standard error (metafor's `se`).
    pub se: f64,
    /// Lower bound of the prediction interval (metafor's `pi.lb`).
    pub pi_lb: f64,
    /// Upper bound of the prediction interval (metafor's `pi.ub`).
    pub pi_ub: f64,
}

/// The BLUPs of every study's true effect and random effect.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Blups {
    /// Study labels, in the model's order.
    pub labels: Vec<String>,
    /// Predicted true effects θᵢ (metafor's `blup`).
    pub blup: Vec<StudyPrediction>,
    /// Predicted random effects uᵢ (metafor's `ranef`): all 0 with SE 0 for the FE model.
    pub ranef: Vec<StudyPrediction>,
    /// The critical value of the intervals (z or t quantile).
    pub crit: f64,
    /// t degrees of freedom of the intervals; `None` for the normal quantile.
    pub df: Option<f64>,
    /// The τ² the predictions shrink with (0 for FE: then the BLUPs are the fitted values).
    pub tau2: f64,
    /// The τ² estimator of the model.
    pub method: Method,
    /// Confidence level of the intervals, in percent.
    pub level: f64,
    /// The scale of the effects (BLUPs and their intervals back-transform with it).
    pub scale: Scale,
}

/// What [`blups_from_parts`] needs of the model besides the data.
#[derive(Debug, Clone, Copy)]
pub struct BlupModel {
    /// τ² (0 for FE).
    pub tau2: f64,
    /// The critical value of the intervals (z or t quantile).
    pub crit: f64,
    /// t degrees of freedom of the intervals; `None` for the normal quantile.
    pub df: Option<f64>,
    /// The options the model was fitted with (estimator and level).
    pub options: RmaOptions,
    /// The scale of the effects.
    pub scale: Scale,
}

/// The BLUPs from a fit's parts: `yi`, `vi`, the fitted values Xᵢb with their variances
/// Var(Xᵢb) (already Knapp–Hartung scaled), and the model. The FE model's random effects are
/// reported as 0 with SE 0, as metafor's `ranef`.
pub fn blups_from_parts(
    labels: &[String],
    yi: &[f64],
    vi: &[f64],
    fitted: &[(f64, f64)],
    model: &BlupModel,
) -> Blups {
    let (tau2, crit) = (model.tau2, model.crit);
    let fixed = model.options.method.is_fixed();
    let interval = |pred: f64, var: f64| {
        let se = var.sqrt();
        StudyPrediction {
            pred,
            se,
            pi_lb: pred - crit * se,
            pi_ub: pred + crit * se,
        }
    };
    let mut blup = Vec::with_capacity(yi.len());
    let mut ranef = Vec::with_capacity(yi.len());
    for ((&y, &v), &(xb, var_xb)) in yi.iter().zip(vi).zip(fitted) {
        let li = tau2 / (tau2 + v);
        blup.push(interval(
            li * y + (1.0 - li) * xb,
            li * v + (1.0 - li) * (1.0 - li) * var_xb,
        ));
        ranef.push(if fixed {
            interval(0.0, 0.0)
        } else {
            interval(li * (y - xb), li * v + li * li * var_xb)
        });
    }
    Blups {
        labels: labels.to_vec(),
        blup,
        ranef,
        crit,
        df: model.df,
        tau2,
        method: model.options.method,
        level: model.options.level.percent(),
        scale: model.scale,
    }
}

/// The BLUPs of an intercept-only fit (metafor's `blup(res)` and `ranef(res)`).
pub fn blup(fit: &RmaFit) -> Blups {
    let fitted = vec![(fit.estimate, fit.se * fit.se); fit.k];
    blups_from_parts(
        &fit.effects.labels,
        &fit.effects.yi,
        &fit.effects.vi,
        &fitted,
        &BlupModel {
            tau2: fit.tau2,
            crit: critical(fit),
            df: fit.df,
            options: fit.options,
            scale: fit.effects.scale,
        },
    )
}

/// The z or t(k − p) quantile of the fit's level and test, as the fit's own CI uses.
fn critical(fit: &RmaFit) -> f64 {
    let a = fit.options.level.alpha() / 2.0;
    match fit.df {
        Some(df) => crate::stats::qt_upper(a, df),
        None => crate::stats::qnorm_upper(a),
    }
}
