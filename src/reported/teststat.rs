//! p-values from test statistics, and standardised mean differences from two-group t or F.
//!
//! Conversions as in Borenstein et al., *Introduction to Meta-Analysis* (2009), ch. 7, with the
//! exact Hedges correction and the large-sample variance metafor's `escalc("SMD")` uses.

use crate::error::{Error, Result};
use crate::stats;

/// A reported test statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TestStat {
    /// Standard normal z.
    Z(f64),
    /// Student t with df.
    T {
        /// The t statistic.
        t: f64,
        /// Its degrees of freedom.
        df: f64,
    },
    /// χ² with 1 df.
    Chisq1(f64),
    /// F with (1, df2) df.
    F1 {
        /// The F statistic.
        f: f64,
        /// Its denominator degrees of freedom.
        df2: f64,
    },
}

impl TestStat {
    /// Two-sided p-value (the χ² and F(1, ·) tests are two-sided by construction).
    pub fn pval(self) -> Result<f64> {
        let bad = |what: &str| Err(Error::invalid(what.to_string()));
        match self {
            TestStat::Z(z) if z.is_finite() => Ok(stats::pnorm_two_sided(z)),
            TestStat::T { t, df } if t.is_finite() && df > 0.0 => Ok(stats::pt_two_sided(t, df)),
            TestStat::Chisq1(x) if x >= 0.0 && x.is_finite() => Ok(stats::pchisq_upper(x, 1.0)),
            TestStat::F1 { f, df2 } if f >= 0.0 && f.is_finite() && df2 > 0.0 => {
                Ok(stats::pf_upper(f, 1.0, df2))
            }
            TestStat::T { .. } | TestStat::F1 { .. } => {
                bad("a t or F statistic needs a finite value and positive degrees of freedom")
            }
            TestStat::Chisq1(_) => bad("a chi-square statistic must be a non-negative number"),
            TestStat::Z(_) => bad("a z statistic must be a finite number"),
        }
    }
}

/// A standardised mean difference (Hedges' g) with its sampling variance.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Smd {
    /// Hedges' g.
    pub yi: f64,
    /// Its large-sample sampling variance.
    pub vi: f64,
}

/// Two-group t statistic (group 1 minus group 2) → Hedges' g: d = t·√(1/n₁ + 1/n₂), g = J·d with
/// the exact J(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)), m = n₁ + n₂ − 2, and
/// v = 1/n₁ + 1/n₂ + g² / (2(n₁ + n₂)) (Hedges 1981; metafor's `escalc("SMD")`, vtype LS).
pub fn smd_from_t(t: f64, n1: f64, n2: f64) -> Result<Smd> {
    if !(n1 >= 2.0 && n2 >= 2.0 && t.is_finite()) {
        return Err(Error::invalid(
            "an SMD from t needs a finite t and group sizes of at least 2",
        ));
    }
    let m = n1 + n2 - 2.0;
    let j = (stats::lgamma(m / 2.0) - (m / 2.0).sqrt().ln() - stats::lgamma((m - 1.0) / 2.0)).exp();
    let g = j * t * (1.0 / n1 + 1.0 / n2).sqrt();
    Ok(Smd {
        yi: g,
        vi: 1.0 / n1 + 1.0 / n2 + g * g / (2.0 * (n1 + n2)),
    })
}

/// F(1, n₁ + n₂ − 2) of a two-group comparison → Hedges' g through t = ±√F; F carries no sign, so
/// the direction (true when group 1 is higher) must be given.
pub fn smd_from_f(f: f64, n1: f64, n2: f64, group1_higher: bool) -> Result<Smd> {
    if !(f >= 0.0) {
        return Err(Error::invalid(
            "an F statistic must be a non-negative number",
        ));
    }
    let t = f.sqrt();
    smd_from_t(if group1_higher { t } else { -t }, n1, n2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs()
    }

    #[test]
    fn p_values_match_r() {
        // 2 * pnorm(-2.1) = 0.035728841125633112
        assert!(close(
            TestStat::Z(2.1).pval().unwrap(),
            0.035728841125633112,
            1e-12
        ));
        // 2 * pt(-2.1, 18) = 0.050090405709568346
        let p = TestStat::T { t: -2.1, df: 18.0 }.pval().unwrap();
        assert!(close(p, 0.050090405709568346, 1e-10));
        // pchisq(4.41, 1, lower.tail = FALSE) = 0.035728841125633092 (= z² case)
        assert!(close(
            TestStat::Chisq1(4.41).pval().unwrap(),
            0.035728841125633092,
            1e-10
        ));
        // pf(4.41, 1, 18, lower.tail = FALSE) = 0.050090405709568346 (= t² case)
        let p = TestStat::F1 { f: 4.41, df2: 18.0 }.pval().unwrap();
        assert!(close(p, 0.050090405709568346, 1e-10));
        assert!(TestStat::T { t: 1.0, df: 0.0 }.pval().is_err());
        assert!(TestStat::Chisq1(-1.0).pval().is_err());
    }

    #[test]
    fn smd_matches_escalc() {
        // The t of a two-group comparison, then metafor's SMD from the means:
        // m1=10.2, sd1=2.1, n1=15; m2=8.7, sd2=2.6, n2=17
        // sp <- sqrt((14*2.1^2 + 16*2.6^2)/30); t <- (10.2-8.7)/(sp*sqrt(1/15+1/17))
        //   t = 1.7793045857050462
        // escalc("SMD", m1i=10.2, sd1i=2.1, n1i=15, m2i=8.7, sd2i=2.6, n2i=17)
        //   yi = 0.61439884630992392, vi = 0.13138841392760270
        let s = smd_from_t(1.7793045857050462, 15.0, 17.0).unwrap();
        assert!(close(s.yi, 0.61439884630992392, 1e-12));
        assert!(close(s.vi, 0.13138841392760270, 1e-12));
        let s2 = smd_from_f(1.7793045857050462f64.powi(2), 15.0, 17.0, true).unwrap();
        assert!(close(s2.yi, s.yi, 1e-13));
    }
}
