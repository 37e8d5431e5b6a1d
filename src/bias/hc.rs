//! Henmi & Copas (2010, *Stat Med* 29:2969–2983): a confidence interval for the fixed-effect
//! (inverse-variance) estimate that allows for heterogeneity and is robust to publication bias,
//! as metafor's `hc`. The estimate is the FE mean; its SE uses the DerSimonian–Laird τ²; the
//! interval's half-width u₀·SE solves an equation in the exact distribution of the estimate
//! (a normal mixed over the approximate gamma distribution of Cochran's Q), found with R's
//! `uniroot` on [0, 2] (tolerance as metafor's `control`).
//!
//! metafor integrates with R's `integrate` (QUADPACK, relative tolerance eps^0.25 ≈ 1.2e-4);
//! here an adaptive Gauss–Kronrod rule is run to 1e-13, so the integral is exact to double
//! precision and the interval carries only the root finder's tolerance, as metafor's does.

use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::model::{Method, RmaFit};
use crate::stats::quadrature::integrate;
use crate::stats::{dnorm, pchisq, zeroin};

/// The Henmi–Copas interval beside the random-effects model it accompanies.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HenmiCopas {
    /// Number of studies.
    pub k: usize,
    /// The estimate: the fixed-effect (inverse-variance) mean (metafor's `beta`).
    pub estimate: f64,
    /// Its standard error allowing for τ² (metafor's `se`).
    pub se: f64,
    /// Lower bound of the Henmi–Copas CI.
    pub ci_lb: f64,
    /// Upper bound of the Henmi–Copas CI.
    pub ci_ub: f64,
    /// The DerSimonian–Laird τ² the method uses (metafor's `tau2`).
    pub tau2: f64,
    /// The interval's half-width in units of the SE: u₀ = √(1 + τ² W₂) t₀, W₂ = Σwᵢ²/Σwᵢ.
    pub u0: f64,
    /// The model's estimate (metafor's `beta.rma`).
    pub rma_estimate: f64,
    /// The model's SE.
    pub rma_se: f64,
    /// The model's CI.
    pub rma_ci_lb: f64,
    /// The model's CI.
    pub rma_ci_ub: f64,
    /// The model's τ².
    pub rma_tau2: f64,
    /// The model's τ² estimator.
    pub rma_method: Method,
    /// Confidence level, in percent.
    pub level: f64,
    /// The scale of the effects, for back-transformed output.
    pub scale: Scale,
}

/// R's `pgamma(q, shape, scale = scale)` through the χ² distribution: 2q/scale ~ χ²(2 shape).
fn pgamma(q: f64, shape: f64, scale: f64) -> f64 {
    if q.is_nan() || shape.is_nan() || scale.is_nan() {
        f64::NAN
    } else if q <= 0.0 {
        0.0
    } else if q.is_infinite() {
        1.0
    } else {
        pchisq(2.0 * q / scale, 2.0 * shape)
    }
}

/// The moments of Q that Henmi & Copas's approximation needs (their section 3), from the FE
/// weights: Wⱼ = Σwᵢʲ/Σwᵢ for j = 2, 3, 4.
struct Moments {
    k: f64,
    w1: f64,
    w2: f64,
    w3: f64,
    w4: f64,
    tau2: f64,
    vr: f64,
}

impl Moments {
    fn eq(&self, r: f64) -> f64 {
        let Moments {
            k,
            w1,
            w2,
            w3,
            tau2,
            vr,
            ..
        } = *self;
        (k - 1.0) + tau2 * (w1 - w2) + tau2 * tau2 * (r * r / (vr * vr) - 1.0 / vr) * (w3 - w2 * w2)
    }

    fn vq(&self, r: f64) -> f64 {
        let Moments {
            k,
            w1,
            w2,
            w3,
            w4,
            tau2,
            vr,
        } = *self;
        let (rsq, rv2) = (r * r, 1.0 / (vr * vr));
        let t2 = tau2 * tau2;
        2.0 * (k - 1.0)
            + 4.0 * tau2 * (w1 - w2)
            + 2.0 * t2 * (w1 * w2 - 2.0 * w3 + w2 * w2)
            + 4.0 * t2 * (rv2 * rsq - 1.0 / vr) * (w3 - w2 * w2)
            + 4.0 * t2 * tau2 * (rv2 * rsq - 1.0 / vr) * (w4 - 2.0 * w2 * w3 + w2 * w2 * w2)
            + 2.0 * t2 * t2 * (rv2 - 2.0 / (vr * vr * vr) * rsq) * (w3 - w2 * w2).powi(2)
    }

    /// Henmi & Copas's equation for t: P(|T| > t) = α, as metafor's `eqn`.
    fn eqn(&self, x: f64, alpha: f64) -> f64 {
        let sdr = self.vr.sqrt();
        let finv = |f: f64| (self.w1 / self.w2 - 1.0) * (f * f - 1.0) + (self.k - 1.0);
        let integrand = |r: f64| {
            let (e, v) = (self.eq(sdr * r), self.vq(sdr * r));
            pgamma(finv(r / x), e * e / v, v / e) * dnorm(r)
        };
        // dnorm vanishes in double precision beyond 38.5: the tail [x + 40, ∞) adds nothing.
        integrate(integrand, x, x + 40.0).map_or(f64::NAN, |i| i - alpha / 2.0)
    }
}

/// Henmi–Copas for an intercept-only fit (metafor's `hc(res)`), with `tol` the root finder's
/// tolerance (metafor's default eps^0.25).
pub fn hc(fit: &RmaFit, tol: f64) -> Result<HenmiCopas> {
    let (y, v) = (&fit.effects.yi, &fit.effects.vi);
    let k = y.len();
    if k == 1 {
        return Err(Error::invalid(
            "Henmi–Copas needs at least 2 studies (k = 1)",
        ));
    }
    if v.iter().any(|&x| !(x > 0.0)) {
        return Err(Error::invalid(
            "Henmi–Copas cannot be used when some sampling variances are zero or negative",
        ));
    }
    let w: Vec<f64> = v.iter().map(|x| 1.0 / x).collect();
    let w1: f64 = w.iter().sum();
    let pw = |j: i32| w.iter().map(|x| x.powi(j)).sum::<f64>() / w1;
    let (w2, w3, w4) = (pw(2), pw(3), pw(4));
    let beta = w.iter().zip(y).map(|(a, b)| a * b).sum::<f64>() / w1;
    let q: f64 = w
        .iter()
        .zip(y)
        .map(|(a, b)| a * (b - beta) * (b - beta))
        .sum();
    let kf = k as f64;
    let tau2 = ((q - (kf - 1.0)) / (w1 - w2)).max(0.0);
    let se = ((tau2 * w2 + 1.0) / w1).sqrt();
    let m = Moments {
        k: kf,
        w1,
        w2,
        w3,
        w4,
        tau2,
        vr: 1.0 + tau2 * w2,
    };
    let alpha = fit.options.level.alpha();
    let t0 = zeroin::uniroot(|x| m.eqn(x, alpha), 0.0, 2.0, tol, 1000).map_err(|e| {
        Error::invalid(format!(
            "Henmi–Copas: the search for the interval's half-width failed ({e:?})"
        ))
    })?;
    let u0 = m.vr.sqrt() * t0;
    Ok(HenmiCopas {
        k,
        estimate: beta,
        se,
        ci_lb: beta - u0 * se,
        ci_ub: beta + u0 * se,
        tau2,
        u0,
        rma_estimate: fit.estimate,
        rma_se: fit.se,
        rma_ci_lb: fit.ci_lb,
        rma_ci_ub: fit.ci_ub,
        rma_tau2: fit.tau2,
        rma_method: fit.options.method,
        level: fit.options.level.percent(),
        scale: fit.effects.scale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The quadrature is exact for polynomials of degree ≤ 22 and converges on smooth integrands.
    #[test]
    fn integrate_is_exact_to_double_precision() {
        let i = integrate(|x| x.powi(5), 0.0, 1.0).unwrap();
        assert!((i - 1.0 / 6.0).abs() < 1e-15, "{i}");
        let i = integrate(dnorm, 0.0, 40.0).unwrap();
        assert!((i - 0.5).abs() < 1e-14, "{i}");
        let i = integrate(|x| (-x).exp(), 0.0, 40.0).unwrap();
        assert!((i - (1.0 - (-40f64).exp())).abs() < 1e-14, "{i}");
    }

    #[test]
    fn pgamma_is_the_gamma_cdf() {
        // Exponential with scale 2: P(X ≤ 3) = 1 − e^{−3/2}.
        assert!((pgamma(3.0, 1.0, 2.0) - (1.0 - (-1.5f64).exp())).abs() < 1e-14);
        assert_eq!(pgamma(-1.0, 2.0, 1.0), 0.0);
        assert_eq!(pgamma(f64::INFINITY, 2.0, 1.0), 1.0);
    }
}
