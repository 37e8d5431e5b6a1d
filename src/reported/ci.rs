//! Standard errors from confidence intervals and p-values.
//!
//! Altman & Bland, "How to obtain the standard error from a confidence interval / P value", BMJ
//! 2011;343:d2090 and d2304 — with the exact normal quantile, not their closed-form approximation.

use super::effect::{to_scale, Effect};
use super::pvalue::PValue;
use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::stats;
use crate::stats::level::Level;

/// Whether a p-value is two-sided or one-sided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sides {
    /// Two-sided.
    Two,
    /// One-sided.
    One,
}

/// Estimate with a CI (at `level` percent) → SE = (g(ub) − g(lb)) / (2 z₁₋α/₂), g = log for ratios.
pub fn from_ci(estimate: f64, lb: f64, ub: f64, level: Level, scale: Scale) -> Result<Effect> {
    check_ci(lb, ub)?;
    if estimate < lb || estimate > ub {
        return Err(Error::invalid(format!(
            "the estimate {estimate} lies outside its CI [{lb}, {ub}]"
        )));
    }
    let (l, u) = (
        to_scale(scale, lb, "CI bound")?,
        to_scale(scale, ub, "CI bound")?,
    );
    let y = to_scale(scale, estimate, "estimate")?;
    let se = (u - l) / (2.0 * level.z());
    Effect::from_se(y, se, level)
}

/// CI alone → point estimate at the CI's centre on the analysis scale (geometric midpoint for
/// ratios, arithmetic for differences), SE as [`from_ci`].
pub fn from_ci_only(lb: f64, ub: f64, level: Level, scale: Scale) -> Result<Effect> {
    check_ci(lb, ub)?;
    let (l, u) = (
        to_scale(scale, lb, "CI bound")?,
        to_scale(scale, ub, "CI bound")?,
    );
    Effect::from_se((l + u) / 2.0, (u - l) / (2.0 * level.z()), level)
}

/// Estimate with an SE already on the analysis scale (log SE for ratios).
pub fn from_se(estimate: f64, se: f64, level: Level, scale: Scale) -> Result<Effect> {
    let y = to_scale(scale, estimate, "estimate")?;
    Effect::from_se(y, se, level)
}

/// What a p-value says about the SE: a value when the p-value is exact, a bound when it is a bound.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromP {
    /// An exact p-value gives the SE, hence the CI.
    Exact(Effect),
    /// `p < b` gives SE ≤ `se`; the estimate is on the analysis scale.
    SeAtMost {
        /// The estimate, on the analysis scale.
        yi: f64,
        /// The upper bound on its SE.
        se: f64,
    },
    /// `p > b` gives SE ≥ `se`.
    SeAtLeast {
        /// The estimate, on the analysis scale.
        yi: f64,
        /// The lower bound on its SE.
        se: f64,
    },
}

/// Estimate with a p-value → SE = |g(estimate)| / z, z = z₁₋p/2 (two-sided) or z₁₋p (one-sided).
///
/// A bound ("p < 0.001") stays a bound on the SE; it is never turned into a made-up exact value.
pub fn from_p(estimate: f64, p: PValue, sides: Sides, level: Level, scale: Scale) -> Result<FromP> {
    let y = to_scale(scale, estimate, "estimate")?;
    if y == 0.0 {
        return Err(Error::invalid(
            "an estimate at the null value (0, or 1 for a ratio) gives no SE from its p-value",
        ));
    }
    let z_of = |p: f64| -> Result<f64> {
        if !(p > 0.0 && p < 1.0) || (sides == Sides::One && p >= 0.5) {
            return Err(Error::invalid(format!(
                "the p-value {p} gives no finite, positive SE (needs 0 < p < 1{})",
                if sides == Sides::One {
                    ", and p < 0.5 one-sided"
                } else {
                    ""
                }
            )));
        }
        Ok(match sides {
            Sides::Two => stats::qnorm_upper(p / 2.0),
            Sides::One => stats::qnorm_upper(p),
        })
    };
    Ok(match p {
        PValue::Exact { value, .. } => {
            let se = y.abs() / z_of(value)?;
            let mut e = Effect::from_se(y, se, level)?;
            // Keep the reported p rather than its round trip through the normal quantile.
            e.pval = match sides {
                Sides::Two => value,
                Sides::One => 2.0 * value,
            };
            FromP::Exact(e)
        }
        PValue::Below { bound } => FromP::SeAtMost {
            yi: y,
            se: y.abs() / z_of(bound)?,
        },
        PValue::Above { bound } => FromP::SeAtLeast {
            yi: y,
            se: y.abs() / z_of(bound)?,
        },
    })
}

fn check_ci(lb: f64, ub: f64) -> Result<()> {
    if !(lb <= ub) {
        return Err(Error::invalid(format!(
            "the CI bounds are reversed or missing: lower {lb} > upper {ub}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const L95: Level = Level::NINETY_FIVE;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn lupus_or_from_ci() {
        // Sun et al. (BMC Rheumatology, seed 004): adjusted OR = 2.82; 95% CI, 1.89-4.22.
        // R: se <- (log(4.22) - log(1.89)) / (2 * qnorm(0.975)); z <- log(2.82) / se; 2 * pnorm(-z)
        //    se = 0.20491659676207538, z = 5.0593114532043346, p = 4.2077310635580044e-07
        let e = from_ci(2.82, 1.89, 4.22, L95, Scale::Log).unwrap();
        assert!(close(e.sei, 0.20491659676207538, 1e-13));
        assert!(close(e.zval, 5.0593114532043346, 1e-13));
        assert!(close(e.pval, 4.2077310635580044e-07, 1e-10));
        assert!(close(e.yi, 2.82f64.ln(), 1e-15));
    }

    #[test]
    fn difference_from_90_percent_ci() {
        // R: se <- (2.5 - 0.3) / (2 * qnorm(0.95)); 2 * pnorm(-1.4 / se)
        //    se = 0.66875251510294642, p = 0.036308996712862932
        let e = from_ci(1.4, 0.3, 2.5, Level::new(90.0).unwrap(), Scale::Identity).unwrap();
        assert!(close(e.sei, 0.66875251510294642, 1e-13));
        assert!(close(e.pval, 0.036308996712862932, 1e-11));
    }

    #[test]
    fn ci_only_uses_geometric_midpoint() {
        // R: exp((log(1.15) + log(4.02)) / 2) = 2.1501162759255599
        let e = from_ci_only(1.15, 4.02, L95, Scale::Log).unwrap();
        assert!(close(e.yi.exp(), 2.1501162759255599, 1e-14));
    }

    #[test]
    fn se_from_exact_p() {
        // Altman & Bland (BMJ 2011;343:d2304) method with the exact quantile:
        // R: z <- qnorm(1 - 0.045 / 2); se <- abs(log(0.5)) / z; c(z, se)
        //    z = 2.0046544617650963, se = 0.34576890620323159
        match from_p(
            0.5,
            PValue::parse("0.045").unwrap(),
            Sides::Two,
            L95,
            Scale::Log,
        )
        .unwrap()
        {
            FromP::Exact(e) => {
                assert!(close(e.sei, 0.34576890620323159, 1e-13));
                assert!(close(e.zval, -2.0046544617650963, 1e-13));
                assert_eq!(e.pval, 0.045);
            }
            other => panic!("{other:?}"),
        }
        // one-sided: R: abs(log(0.5)) / qnorm(1 - 0.0225) = 0.34576890620323159
        match from_p(0.5, PValue::exact(0.0225), Sides::One, L95, Scale::Log).unwrap() {
            FromP::Exact(e) => assert!(close(e.sei, 0.34576890620323159, 1e-13)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn p_bound_gives_se_bound() {
        // R: abs(log(2.82)) / qnorm(1 - 0.001 / 2) = 0.31506715172010336
        match from_p(
            2.82,
            PValue::parse("<0.001").unwrap(),
            Sides::Two,
            L95,
            Scale::Log,
        )
        .unwrap()
        {
            FromP::SeAtMost { se, .. } => assert!(close(se, 0.31506715172010336, 1e-13)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            from_p(
                1.3,
                PValue::parse(">0.05").unwrap(),
                Sides::Two,
                L95,
                Scale::Log
            )
            .unwrap(),
            FromP::SeAtLeast { .. }
        ));
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        let msg = |r: Result<Effect>| r.unwrap_err().to_string();
        assert!(msg(from_ci(2.0, 3.0, 1.0, L95, Scale::Log)).contains("reversed"));
        assert!(msg(from_ci(5.0, 1.0, 3.0, L95, Scale::Log)).contains("outside its CI"));
        // Refused levels: a Level cannot hold one (stats::level tests).
        assert!(msg(from_ci(2.0, -1.0, 3.0, L95, Scale::Log)).contains("positive"));
        assert!(msg(from_se(2.0, -0.1, L95, Scale::Log)).contains("non-negative"));
        assert!(from_p(1.0, PValue::exact(0.2), Sides::Two, L95, Scale::Log).is_err());
        assert!(from_p(2.0, PValue::exact(1.0), Sides::Two, L95, Scale::Log).is_err());
    }
}
