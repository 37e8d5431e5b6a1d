//! Combining independent one-sided p-values when nothing else was reported.
//!
//! Fisher (1932), Stouffer et al. (1949; weighted: Mosteller & Bush 1954), Tippett (1931),
//! Wilkinson (1951) and Edgington (1972); see Heard & Rubin-Delanchy, Biometrika 2018, for a review.

use crate::error::{Error, Result};
use crate::stats;
use std::str::FromStr;

/// A way of combining p-values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CombineMethod {
    /// X = −2 Σ ln pᵢ ~ χ²(2k).
    Fisher,
    /// Z = Σ wᵢ Φ⁻¹(1 − pᵢ) / √Σ wᵢ² ~ N(0, 1).
    Stouffer,
    /// p₍₁₎, with P = 1 − (1 − p₍₁₎)ᵏ.
    Tippett,
    /// The r-th smallest p, with P = I_{p₍ᵣ₎}(r, k − r + 1) (r = 1 is Tippett).
    Wilkinson {
        /// Which order statistic, 1-based.
        r: usize,
    },
    /// S = Σ pᵢ, with P = P(sum of k uniforms <= S) (Irwin–Hall).
    Edgington,
}

impl CombineMethod {
    /// The method's name, as the CLI accepts it and JSON writes it.
    pub fn name(self) -> &'static str {
        match self {
            CombineMethod::Fisher => "fisher",
            CombineMethod::Stouffer => "stouffer",
            CombineMethod::Tippett => "tippett",
            CombineMethod::Wilkinson { .. } => "wilkinson",
            CombineMethod::Edgington => "edgington",
        }
    }
}

impl FromStr for CombineMethod {
    type Err = Error;
    /// `fisher`, `stouffer`, `tippett`, `edgington`, `wilkinson` (r = 1) or `wilkinson:R`.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "fisher" => CombineMethod::Fisher,
            "stouffer" => CombineMethod::Stouffer,
            "tippett" => CombineMethod::Tippett,
            "edgington" => CombineMethod::Edgington,
            "wilkinson" => CombineMethod::Wilkinson { r: 1 },
            _ => match t.strip_prefix("wilkinson:").map(str::parse::<usize>) {
                Some(Ok(r)) if r >= 1 => CombineMethod::Wilkinson { r },
                _ => {
                    return Err(Error::invalid(format!(
                        "unknown method '{s}': expected fisher, stouffer, tippett, edgington, \
                         wilkinson or wilkinson:R (R-th smallest p, R >= 1)"
                    )))
                }
            },
        })
    }
}

/// The combined test.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Combined {
    /// The method used.
    pub method: CombineMethod,
    /// Number of p-values combined.
    pub k: usize,
    /// The combined statistic: X (Fisher), Z (Stouffer), p₍ᵣ₎ (Tippett, Wilkinson) or S (Edgington).
    pub statistic: f64,
    /// Degrees of freedom (Fisher's χ²) or the order r (Wilkinson); none otherwise.
    pub df: Option<f64>,
    /// The combined one-sided p-value.
    pub pval: f64,
}

/// A two-sided p-value turned one-sided in the direction of interest: p/2 when the effect went that
/// way, 1 − p/2 when it went the other way.
pub fn one_sided(p_two_sided: f64, in_direction: bool) -> f64 {
    if in_direction {
        p_two_sided / 2.0
    } else {
        1.0 - p_two_sided / 2.0
    }
}

/// Combines one-sided p-values; `weights` only with Stouffer's method.
///
/// # Examples
///
/// ```
/// use evident::combine;
/// use evident::reported::combine::CombineMethod;
/// let p = [0.01, 0.20, 0.04, 0.30]; // one-sided
/// let fisher = combine(&p, CombineMethod::Fisher, None)?;
/// assert!(fisher.k == 4 && (0.0..=1.0).contains(&fisher.pval));
/// // Wilkinson's method with r = 1 is Tippett's.
/// let tippett = combine(&p, CombineMethod::Tippett, None)?;
/// let wilkinson = combine(&p, CombineMethod::Wilkinson { r: 1 }, None)?;
/// assert!((tippett.pval - wilkinson.pval).abs() < 1e-12);
/// # Ok::<(), evident::Error>(())
/// ```
pub fn combine(p: &[f64], method: CombineMethod, weights: Option<&[f64]>) -> Result<Combined> {
    let k = p.len();
    if k == 0 {
        return Err(Error::invalid("no p-values to combine"));
    }
    if let Some(&bad) = p.iter().find(|&&x| !(x > 0.0 && x <= 1.0)) {
        return Err(Error::invalid(format!(
            "p-values to combine must lie in (0, 1], got {bad} (a p of 0 is a bound: use its upper \
             limit, e.g. 0.001 for p < 0.001)"
        )));
    }
    if weights.is_some() && method != CombineMethod::Stouffer {
        return Err(Error::invalid("weights apply to Stouffer's method only"));
    }
    let kf = k as f64;
    let mut sorted = p.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (statistic, df, pval) = match method {
        CombineMethod::Fisher => {
            let x = -2.0 * p.iter().map(|x| x.ln()).sum::<f64>();
            (x, Some(2.0 * kf), stats::pchisq_upper(x, 2.0 * kf))
        }
        CombineMethod::Stouffer => {
            let w: Vec<f64> = match weights {
                Some(w) if w.len() != k => {
                    return Err(Error::invalid(format!(
                        "{} weights for {k} p-values",
                        w.len()
                    )))
                }
                Some(w) => {
                    if let Some(&bad) = w.iter().find(|&&x| !(x > 0.0 && x.is_finite())) {
                        return Err(Error::invalid(format!(
                            "weights must be positive numbers, got {bad}"
                        )));
                    }
                    w.to_vec()
                }
                None => vec![1.0; k],
            };
            if p.contains(&1.0) {
                return Err(Error::invalid(
                    "Stouffer's method needs p < 1 (Φ⁻¹(0) is infinite)",
                ));
            }
            let z = stouffer_z(p, &w);
            if !z.is_finite() {
                return Err(Error::invalid(format!(
                    "Stouffer's combined z is not a finite number ({z}) for these weights"
                )));
            }
            (z, None, stats::pnorm_upper(z))
        }
        CombineMethod::Tippett => {
            let m = sorted[0];
            // 1 − (1 − m)^k without cancellation for small m.
            (m, None, -(kf * (-m).ln_1p()).exp_m1())
        }
        CombineMethod::Wilkinson { r } => {
            if r > k {
                return Err(Error::invalid(format!(
                    "Wilkinson's r = {r} exceeds the number of p-values, {k}"
                )));
            }
            let pr = sorted[r - 1];
            (
                pr,
                Some(r as f64),
                stats::pbeta(pr, r as f64, (k - r + 1) as f64),
            )
        }
        CombineMethod::Edgington => {
            let s: f64 = p.iter().sum();
            (s, None, irwin_hall_cdf(s, k))
        }
    };
    Ok(Combined {
        method,
        k,
        statistic,
        df,
        pval: pval.clamp(0.0, 1.0),
    })
}

/// Z = Σ wᵢ Φ⁻¹(1 − pᵢ) / √Σ wᵢ². Z does not change when every weight is scaled by one factor, so
/// weights whose squares overflow (1e200) or underflow (1e-200) are divided by the largest first;
/// ordinary weights are used as given.
fn stouffer_z(p: &[f64], w: &[f64]) -> f64 {
    let z_of = |w: &[f64]| {
        let num: f64 = p
            .iter()
            .zip(w)
            .map(|(p, w)| w * stats::qnorm_upper(*p))
            .sum();
        num / w.iter().map(|w| w * w).sum::<f64>().sqrt()
    };
    let ss: f64 = w.iter().map(|w| w * w).sum();
    if ss.is_finite() && ss >= f64::MIN_POSITIVE {
        return z_of(w);
    }
    let max = w.iter().copied().fold(0.0, f64::max);
    z_of(&w.iter().map(|w| w / max).collect::<Vec<_>>())
}

/// P(U₁ + … + U_k <= s) for independent uniforms: the exact alternating sum for k <= 30 (beyond
/// it the sum loses its precision) and the normal approximation N(k/2, k/12) above.
fn irwin_hall_cdf(s: f64, k: usize) -> f64 {
    let kf = k as f64;
    if s <= 0.0 {
        return 0.0;
    }
    if s >= kf {
        return 1.0;
    }
    if k > 30 {
        return stats::pnorm((s - kf / 2.0) / (kf / 12.0).sqrt());
    }
    let mut total = 0.0;
    for j in 0..=(s.floor() as usize) {
        let term = (stats::lchoose(kf, j as f64) + kf * (s - j as f64).ln()
            - stats::lgamma(kf + 1.0))
        .exp();
        total += if j % 2 == 0 { term } else { -term };
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stouffer_weights_of_any_magnitude() {
        // Issue 14: weights of 1e200 gave NaN. Z is scale-free: the same as with weights 1, 2, 3.
        let p = [0.01, 0.2, 0.04];
        let base = combine(&p, CombineMethod::Stouffer, Some(&[1.0, 2.0, 3.0])).unwrap();
        for s in [1e200, 1e-200, 1e300] {
            let w = [s, 2.0 * s, 3.0 * s];
            let r = combine(&p, CombineMethod::Stouffer, Some(&w)).unwrap();
            assert!((r.statistic - base.statistic).abs() <= 1e-12 * base.statistic.abs());
            assert!(r.pval.is_finite());
        }
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs()
    }

    // The four p-values of the ALS immunosuppression study (seed 002): 0.200, 0.200, 0.004, 0.031
    // (two-sided in the paper; combined here as given, to exercise the arithmetic).
    const P: [f64; 4] = [0.2, 0.2, 0.004, 0.031];

    #[test]
    fn matches_base_r() {
        // pchisq(-2 * sum(log(p)), 8, lower.tail = FALSE) = 0.0019418326142089312; X = 24.428209634454873
        let f = combine(&P, CombineMethod::Fisher, None).unwrap();
        assert!(close(f.pval, 0.0019418326142089312, 1e-10));
        assert!(close(f.statistic, 24.428209634454873, 1e-13));
        assert_eq!(f.df, Some(8.0));
        // z <- sum(qnorm(1 - p)) / 2; pnorm(z, lower.tail = FALSE) = 0.00096497993128148870
        let s = combine(&P, CombineMethod::Stouffer, None).unwrap();
        assert!(close(s.pval, 0.00096497993128148870, 1e-10));
        // w <- sqrt(c(31, 31, 31, 10)); sum(w * qnorm(1 - p)) / sqrt(sum(w^2)) then upper tail
        //   = 0.0015386756884410819
        let w = [31f64.sqrt(), 31f64.sqrt(), 31f64.sqrt(), 10f64.sqrt()];
        let s = combine(&P, CombineMethod::Stouffer, Some(&w)).unwrap();
        assert!(close(s.pval, 0.0015386756884410819, 1e-10));
        // 1 - (1 - 0.004)^4 = 0.015904255744000007
        let t = combine(&P, CombineMethod::Tippett, None).unwrap();
        assert!(close(t.pval, 0.015904255744000007, 1e-12));
        // pbeta(0.031, 2, 3) = 0.0055304425629999999
        let w2 = combine(&P, CombineMethod::Wilkinson { r: 2 }, None).unwrap();
        assert!(close(w2.pval, 0.0055304425629999999, 1e-10));
        // Edgington: S = 0.435 < 1, so P = S^4 / 4! = 0.435^4 / 24 = 0.0014919208593749999
        let e = combine(&P, CombineMethod::Edgington, None).unwrap();
        assert!(close(e.pval, 0.0014919208593749999, 1e-12));
        // S = 2.3 with k = 4: (2.3^4 - 4*1.3^4 + 6*0.3^4) / 24 = 0.69201249999999959
        let e = combine(&[0.5, 0.6, 0.7, 0.5], CombineMethod::Edgington, None).unwrap();
        assert!(close(e.pval, 0.69201249999999959, 1e-12));
    }

    #[test]
    fn directions_and_errors() {
        assert_eq!(one_sided(0.04, true), 0.02);
        assert_eq!(one_sided(0.04, false), 0.98);
        assert!(combine(&[0.0, 0.5], CombineMethod::Fisher, None).is_err());
        assert!(combine(&[1.2], CombineMethod::Fisher, None).is_err());
        assert!(combine(&[0.1], CombineMethod::Wilkinson { r: 2 }, None).is_err());
        assert!(combine(&[0.1], CombineMethod::Fisher, Some(&[1.0])).is_err());
        assert!("wilkinson:0".parse::<CombineMethod>().is_err());
        assert_eq!(
            "Wilkinson:3".parse::<CombineMethod>().unwrap(),
            CombineMethod::Wilkinson { r: 3 }
        );
    }
}
