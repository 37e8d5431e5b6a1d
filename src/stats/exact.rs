//! Confidence intervals for one binomial proportion and one Poisson rate, as R's `binom.test`,
//! `prop.test` and `poisson.test` give them (Clopper & Pearson 1934; Wilson 1927; Garwood 1936).
//!
//! Each returns `None` for counts that are not counts (negative, non-finite, more events than
//! trials, no trials or no person-time), never a number from an impossible input.

use super::{qbeta, qchisq};

/// Whether (x, n) is a proportion's data: 0 ≤ x ≤ n, n > 0, both finite.
fn proportion_data(x: f64, n: f64) -> bool {
    x.is_finite() && n.is_finite() && x >= 0.0 && n > 0.0 && x <= n
}

/// Clopper–Pearson "exact" interval of x events in n trials at two-sided error rate `alpha`
/// (Clopper & Pearson 1934, *Biometrika* 26:404–413): the beta quantiles `binom.test` reports,
/// 0 below x = 0 and 1 above x = n.
pub fn clopper_pearson(x: f64, n: f64, alpha: f64) -> Option<(f64, f64)> {
    if !(proportion_data(x, n) && alpha > 0.0 && alpha < 1.0) {
        return None;
    }
    let lb = if x == 0.0 {
        0.0
    } else {
        qbeta(alpha / 2.0, x, n - x + 1.0)
    };
    let ub = if x == n {
        1.0
    } else {
        qbeta(1.0 - alpha / 2.0, x + 1.0, n - x)
    };
    Some((lb, ub))
}

/// Wilson's score interval (Wilson 1927, *JASA* 22:209–212) at normal critical value `z`:
/// `prop.test(x, n, correct = FALSE)`'s interval, computed as R computes it.
pub fn wilson(x: f64, n: f64, z: f64) -> Option<(f64, f64)> {
    if !(proportion_data(x, n) && z > 0.0 && z.is_finite()) {
        return None;
    }
    let p = x / n;
    let z22n = z * z / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z22n / (2.0 * n)).sqrt();
    let lb = if p <= 0.0 {
        0.0
    } else {
        (p + z22n - half) / (1.0 + 2.0 * z22n)
    };
    let ub = if p >= 1.0 {
        1.0
    } else {
        (p + z22n + half) / (1.0 + 2.0 * z22n)
    };
    Some((lb.max(0.0), ub.min(1.0)))
}

/// Whether (x, t) is a rate's data: x ≥ 0 events over t > 0 person-time, both finite.
fn rate_data(x: f64, t: f64) -> bool {
    x.is_finite() && t.is_finite() && x >= 0.0 && t > 0.0
}

/// Garwood's (1936, *Biometrika* 28:437–442) exact interval of the rate of x events over
/// person-time t: the χ² (gamma) quantiles `poisson.test` reports, 0 below x = 0.
pub fn poisson_exact(x: f64, t: f64, alpha: f64) -> Option<(f64, f64)> {
    if !(rate_data(x, t) && alpha > 0.0 && alpha < 1.0) {
        return None;
    }
    let lb = if x == 0.0 {
        0.0
    } else {
        qchisq(alpha / 2.0, 2.0 * x) / 2.0
    };
    let ub = qchisq(1.0 - alpha / 2.0, 2.0 * (x + 1.0)) / 2.0;
    Some((lb / t, ub / t))
}

/// The score (Wilson-type) interval of a Poisson rate: the means μ with (x − μ)²/μ ≤ z², i.e.
/// x + z²/2 ± z·√(x + z²/4), over person-time t.
pub fn poisson_score(x: f64, t: f64, z: f64) -> Option<(f64, f64)> {
    if !(rate_data(x, t) && z > 0.0 && z.is_finite()) {
        return None;
    }
    let (c, half) = (x + z * z / 2.0, z * (x + z * z / 4.0).sqrt());
    // At x = 0 the lower root is 0 exactly; the subtraction would leave a rounding residue.
    let lb = if x == 0.0 { 0.0 } else { c - half };
    Some((lb / t, (c + half) / t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_counts_have_no_interval() {
        assert!(clopper_pearson(5.0, 4.0, 0.05).is_none());
        assert!(clopper_pearson(-1.0, 4.0, 0.05).is_none());
        assert!(clopper_pearson(1.0, 0.0, 0.05).is_none());
        assert!(wilson(f64::NAN, 4.0, 1.96).is_none());
        assert!(poisson_exact(1.0, 0.0, 0.05).is_none());
        assert!(poisson_score(-2.0, 10.0, 1.96).is_none());
    }

    #[test]
    fn the_ends_are_the_bounds_of_the_parameter() {
        assert_eq!(clopper_pearson(0.0, 31.0, 0.05).unwrap().0, 0.0);
        assert_eq!(clopper_pearson(31.0, 31.0, 0.05).unwrap().1, 1.0);
        assert_eq!(wilson(0.0, 31.0, 1.96).unwrap().0, 0.0);
        assert_eq!(wilson(31.0, 31.0, 1.96).unwrap().1, 1.0);
        assert_eq!(poisson_exact(0.0, 10.0, 0.05).unwrap().0, 0.0);
        assert_eq!(poisson_score(0.0, 10.0, 1.96).unwrap().0, 0.0);
    }
}
