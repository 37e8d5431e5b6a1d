//! Profile-likelihood confidence intervals for τ² (Hardy & Thompson 1996, *Stat Med*
//! 15:619–629), as metafor's `confint(res, type = "PL")`: the τ² where the likelihood-ratio
//! statistic −2(ℓ(τ²) − ℓ(τ̂²)), with the fixed effects re-estimated at each τ², reaches the
//! χ²₁ critical value. ℓ is the ML or REML log-likelihood the model was fitted with; the bounds
//! are searched with R's `uniroot` on metafor's range [min(0, τ̂²), max(100, 10 τ̂²)].

use crate::error::{Error, Result};
use crate::model::design::{Design, Intercept};
use crate::model::heterogeneity::{Censor, QProfileControl, Tau2Ci, Tau2CiType};
use crate::model::scale::Rescale;
use crate::model::{Method, RmaFit};
use crate::stats::{qchisq, zeroin};

/// The ML or REML log-likelihood of the model at a fixed τ² (metafor's `logLik` of
/// `rma.uni(..., tau2 = val)`, the formulas of `fit.stats`); `None` when the weighted
/// least-squares fit fails (some vᵢ + τ² ≤ 0 or a singular X'WX).
pub fn loglik_at<D: Design>(d: &D, y: &[f64], v: &[f64], tau2: f64, reml: bool) -> Option<f64> {
    if v.iter().any(|&vi| !(vi + tau2 > 0.0)) {
        return None;
    }
    let w: Vec<f64> = v.iter().map(|&vi| 1.0 / (vi + tau2)).collect();
    let rss = d.wls(y, &w)?.rss;
    let (k, p) = (d.k() as f64, d.p() as f64);
    let ln2pi = (2.0 * std::f64::consts::PI).ln();
    let sum_log_v: f64 = v.iter().map(|vi| (vi + tau2).ln()).sum();
    let ll = if reml {
        -0.5 * (k - p) * ln2pi + 0.5 * d.log_det_xx()
            - 0.5 * sum_log_v
            - 0.5 * d.log_det_xwx(&w)
            - 0.5 * rss
    } else {
        -0.5 * k * ln2pi - 0.5 * sum_log_v - 0.5 * rss
    };
    ll.is_finite().then_some(ll)
}

/// The profile-likelihood CI for τ² of a model fitted by ML or REML with design `d` (intercept
/// only or meta-regression), τ̂² `tau2_hat` and typical within-study variance `vt` (for the I²
/// and H² bounds), at `level` percent.
///
/// As metafor: a bound whose search range end is already inside the interval is that end (the
/// upper one marked `>`); a search that fails leaves the bound NaN (metafor: NA with a warning).
#[allow(clippy::too_many_arguments)]
pub fn pl_ci<D: Design>(
    d: &D,
    y: &[f64],
    v: &[f64],
    method: Method,
    tau2_hat: f64,
    vt: f64,
    level: f64,
    con: &QProfileControl,
) -> Result<Tau2Ci> {
    match Rescale::of(v) {
        None => pl_ci_at_scale(d, y, v, method, tau2_hat, vt, level, con),
        Some(r) => {
            let c2 = r.variance();
            let (ys, vs) = (r.effects(y), r.variances(v));
            pl_ci_at_scale(d, &ys, &vs, method, tau2_hat * c2, vt * c2, level, con)
                .map(|ci| ci.scaled_back(r))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn pl_ci_at_scale<D: Design>(
    d: &D,
    y: &[f64],
    v: &[f64],
    method: Method,
    tau2_hat: f64,
    vt: f64,
    level: f64,
    con: &QProfileControl,
) -> Result<Tau2Ci> {
    let reml = match method {
        Method::REML => true,
        Method::ML => false,
        other => {
            return Err(Error::invalid(format!(
                "a profile-likelihood CI for tau2 needs a likelihood: the model must be fitted \
                 by ML or REML, not {}",
                other.name()
            )))
        }
    };
    if d.k() <= 1 {
        return Err(Error::invalid(
            "a CI for tau2 needs at least 2 studies (k = 1)",
        ));
    }
    let ll = |t: f64| loglik_at(d, y, v, t, reml);
    let ll_hat = ll(tau2_hat).ok_or_else(|| {
        Error::invalid("the log-likelihood at the estimated tau2 cannot be computed")
    })?;
    let objective = qchisq(level / 100.0, 1.0);
    // metafor's `.profile.rma.uni`: a refit that fails stops the search (NaN ends uniroot).
    let f = |t: f64| ll(t).map_or(f64::NAN, |l| -2.0 * (l - ll_hat) - objective);
    let tmin = tau2_hat.min(0.0);
    let tmax = 100f64.max(10.0 * tau2_hat).max(10.0 * tmin);
    let root =
        |lo: f64, hi: f64| zeroin::uniroot(&f, lo, hi, con.tol, con.maxiter).unwrap_or(f64::NAN);
    let (mut lb_c, mut ub_c) = (Censor::None, Censor::None);
    let flo = f(tmin);
    let lb = if flo.is_nan() {
        f64::NAN
    } else if flo < 0.0 {
        if tmin > 0.0 {
            lb_c = Censor::Below;
        }
        tmin
    } else {
        root(tmin, tau2_hat)
    };
    let fhi = f(tmax);
    let ub = if fhi.is_nan() {
        f64::NAN
    } else if fhi < 0.0 {
        ub_c = Censor::Above;
        tmax
    } else {
        root(tau2_hat, tmax)
    };
    let i2 = |t: f64| 100.0 * t / (vt + t);
    let h2 = |t: f64| t / vt + 1.0;
    Ok(Tau2Ci {
        tau2_lb: lb,
        tau2_ub: ub,
        lb_censor: lb_c,
        ub_censor: ub_c,
        null: false,
        tau_lb: lb.max(0.0).sqrt(),
        tau_ub: ub.max(0.0).sqrt(),
        i2_lb: i2(lb),
        i2_ub: i2(ub),
        h2_lb: h2(lb),
        h2_ub: h2(ub),
        ci_type: Tau2CiType::ProfileLikelihood,
    })
}

/// The profile-likelihood CI for τ² of an intercept-only fit (metafor's
/// `confint(rma(...), type = "PL")`), at the fit's level with metafor's search control.
pub fn rma_pl_ci(fit: &RmaFit) -> Result<Tau2Ci> {
    pl_ci(
        &Intercept { k: fit.k },
        &fit.effects.yi,
        &fit.effects.vi,
        fit.options.method,
        fit.tau2,
        fit.het.vt,
        fit.options.level.percent(),
        &QProfileControl::default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effect::EffectSet;
    use crate::measure::{Measure, Scale};
    use crate::model::{rma, RmaOptions};

    // The profile starts at the fit's own log-likelihood: at τ̂² the statistic is 0.
    #[test]
    fn loglik_at_the_estimate_is_the_fits() {
        let set = EffectSet::from_yi_vi(
            vec![-0.9, -1.6, -1.4, 0.2, -0.3],
            vec![0.36, 0.21, 0.43, 0.05, 0.1],
            Measure::GEN,
            Scale::Identity,
        );
        for method in [Method::ML, Method::REML] {
            let o = RmaOptions {
                method,
                ..Default::default()
            };
            let fit = rma(&set, &o).unwrap();
            let d = Intercept { k: fit.k };
            let ll = loglik_at(&d, &set.yi, &set.vi, fit.tau2, method == Method::REML).unwrap();
            assert!(
                (ll - fit.fit.loglik).abs() < 1e-12,
                "{method:?}: {ll} vs {}",
                fit.fit.loglik
            );
            let ci = rma_pl_ci(&fit).unwrap();
            assert!(ci.tau2_lb <= fit.tau2 && fit.tau2 < ci.tau2_ub, "{ci:?}");
        }
        let fit = rma(
            &set,
            &RmaOptions {
                method: Method::DL,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(rma_pl_ci(&fit).is_err());
    }
}
