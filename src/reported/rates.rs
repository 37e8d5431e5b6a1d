//! Rates from events over person-time: exact Poisson intervals, rate ratios, percentage changes.
//!
//! Exact limits from the χ² (gamma) quantiles (Garwood, Biometrika 1936) and the exact conditional
//! test of two rates by the binomial split of the events (Przyborowski & Wileński 1940), as R's
//! `poisson.test` computes them; the Wald log rate ratio as metafor's `escalc("IRR")`.

use super::counts::{binom_test_p, clopper_pearson, Interval};
use super::effect::Effect;
use crate::error::{Error, Result};
use crate::stats;
use crate::stats::level::Level;

fn check(x: f64, t: f64) -> Result<()> {
    if !(x >= 0.0 && x.fract() == 0.0 && x.is_finite() && t > 0.0 && t.is_finite()) {
        return Err(Error::invalid(format!(
            "{x} events over {t} person-time: expected a whole number of events and positive time"
        )));
    }
    Ok(())
}

/// The rate x/t with Garwood's exact Poisson limits (R: `poisson.test(x, t)$conf.int`).
pub fn poisson_rate(x: f64, t: f64, level: Level) -> Result<Interval> {
    check(x, t)?;
    let alpha = level.alpha();
    Ok(Interval {
        estimate: x / t,
        ci_lb: if x == 0.0 {
            0.0
        } else {
            stats::qchisq(alpha / 2.0, 2.0 * x) / 2.0 / t
        },
        ci_ub: stats::qchisq(1.0 - alpha / 2.0, 2.0 * x + 2.0) / 2.0 / t,
    })
}

/// Wald log rate ratio of group 1 over group 2; var = 1/x₁ + 1/x₂ (0.5 added to both counts when one
/// is zero, metafor's default).
pub fn rate_ratio_wald(x1: f64, t1: f64, x2: f64, t2: f64, level: Level) -> Result<Effect> {
    check(x1, t1)?;
    check(x2, t2)?;
    let (x1, x2) = if x1 == 0.0 || x2 == 0.0 {
        (x1 + 0.5, x2 + 0.5)
    } else {
        (x1, x2)
    };
    Effect::from_se(
        ((x1 / t1) / (x2 / t2)).ln(),
        (1.0 / x1 + 1.0 / x2).sqrt(),
        level,
    )
}

/// Exact conditional rate ratio: given x₁ + x₂ events, x₁ is binomial with p = t₁/(t₁+t₂) under H₀;
/// Clopper–Pearson limits of p map to the ratio (R: `poisson.test(c(x1, x2), c(t1, t2))`).
pub fn rate_ratio_exact(x1: f64, t1: f64, x2: f64, t2: f64, level: Level) -> Result<ExactRatio> {
    check(x1, t1)?;
    check(x2, t2)?;
    let n = x1 + x2;
    if n == 0.0 {
        return Err(Error::invalid(
            "no events in either group: the rate ratio is undefined",
        ));
    }
    let p0 = t1 / (t1 + t2);
    let cp = clopper_pearson(x1, n, level)?;
    let to_ratio = |p: f64| p / (1.0 - p) * t2 / t1;
    Ok(ExactRatio {
        estimate: (x1 / t1) / (x2 / t2),
        ci_lb: to_ratio(cp.ci_lb),
        ci_ub: to_ratio(cp.ci_ub),
        pval: binom_test_p(x1, n, p0)?,
    })
}

/// An exact ratio estimate with its limits and two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ExactRatio {
    /// The ratio estimate, not logged.
    pub estimate: f64,
    /// Lower exact confidence limit.
    pub ci_lb: f64,
    /// Upper exact confidence limit.
    pub ci_ub: f64,
    /// Two-sided exact p-value.
    pub pval: f64,
}

/// "Reduced by 50%" is a change of −50 %, a ratio of 0.5: ratio = 1 + change/100.
pub fn ratio_from_percent_change(change: f64) -> Result<f64> {
    if !(change > -100.0) || !change.is_finite() {
        return Err(Error::invalid(format!(
            "a percentage change of {change}% gives no positive ratio (a reduction is below 100%)"
        )));
    }
    Ok(1.0 + change / 100.0)
}

/// The percentage change a ratio stands for: 100·(ratio − 1).
pub fn percent_change_from_ratio(ratio: f64) -> f64 {
    100.0 * (ratio - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const L95: Level = Level::NINETY_FIVE;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn exact_poisson_rate() {
        // poisson.test(7, 20)$conf.int: 0.14071815257599335 0.72113376808511886
        let r = poisson_rate(7.0, 20.0, L95).unwrap();
        assert!(close(r.ci_lb, 0.14071815257599335, 1e-11));
        assert!(close(r.ci_ub, 0.72113376808511886, 1e-11));
        // poisson.test(0, 10)$conf.int: 0 0.36888794541139353
        let r = poisson_rate(0.0, 10.0, L95).unwrap();
        assert_eq!(r.ci_lb, 0.0);
        assert!(close(r.ci_ub, 0.36888794541139353, 1e-11));
    }

    #[test]
    fn relapse_rate_halved() {
        // Fernández et al. 2002 (seed 001): "annual relapse rate reduced by approximately 50 %".
        // With, say, 6 relapses in 9 patient-years (second year) against 12 in 9 (first year):
        // poisson.test(c(6, 12), c(9, 9)): estimate 0.5, CI 0.15397140746429661 1.4394692175069979,
        //   p = 0.23788452148437511
        let e = rate_ratio_exact(6.0, 9.0, 12.0, 9.0, L95).unwrap();
        assert!(close(e.estimate, 0.5, 1e-15));
        assert!(close(e.ci_lb, 0.15397140746429661, 1e-10));
        assert!(close(e.ci_ub, 1.4394692175069979, 1e-10));
        assert!(close(e.pval, 0.23788452148437511, 1e-10));
        // escalc("IRR", x1i=6, t1i=9, x2i=12, t2i=9): yi = -0.69314718055994529 (-log 2), vi = 0.25
        let w = rate_ratio_wald(6.0, 9.0, 12.0, 9.0, L95).unwrap();
        assert!(close(w.yi, -std::f64::consts::LN_2, 1e-14) && close(w.vi(), 0.25, 1e-14));
        assert_eq!(ratio_from_percent_change(-50.0).unwrap(), 0.5);
        assert_eq!(percent_change_from_ratio(0.5), -50.0);
        assert!(ratio_from_percent_change(-120.0).is_err());
        assert!(rate_ratio_exact(0.0, 1.0, 0.0, 1.0, L95).is_err());
    }
}
