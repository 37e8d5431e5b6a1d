//! Fitting at extreme scales: effects and variances far from 1 are fitted rescaled by exact
//! powers of two, so that results are scale-invariant (as metafor's are at ordinary scales).
//!
//! Beyond |log₂ max vᵢ| > 100 the sums of wᵢ² and wᵢ⁴ (I², tr PP, the SEs of τ²) overflow or
//! lose their precision, and the absolute tolerances and search bounds of τ² (PM, Q-profile,
//! profile likelihood: 100 in τ² units) stop meaning anything. Multiplying yᵢ by 2^-s and vᵢ by
//! 2^-2s is exact, so only those failures go away; every result is scaled back exactly too.

/// Largest variances within [2^-100, 2^100] are fitted as they are (bit for bit as metafor).
const SCALE_LIMIT: f64 = 100.0;

/// The power of two by which one analysis's data are rescaled: effects are multiplied by
/// [`Rescale::effect`], variances and τ² by [`Rescale::variance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rescale {
    s: i32,
}

impl Rescale {
    /// The rescaling that brings the largest |vᵢ| near 1, when it lies outside
    /// [2^-100, 2^100]; `None` at ordinary scales.
    pub fn of(v: &[f64]) -> Option<Rescale> {
        let m = v.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
        if !(m.is_finite() && m > 0.0) {
            return None;
        }
        let e = m.log2();
        // 2^±2s must itself be a normal double: subnormal variances are brought up to 2^-52.
        (e.abs() > SCALE_LIMIT).then(|| Rescale {
            s: ((e / 2.0).floor() as i32).clamp(-511, 511),
        })
    }

    /// The factor 2^-s applied to effects (and coefficients, SEs, intervals).
    pub fn effect(self) -> f64 {
        pow2(-self.s)
    }

    /// The factor 2^-2s applied to variances and τ².
    pub fn variance(self) -> f64 {
        pow2(-2 * self.s)
    }

    /// The factor 2^s that takes rescaled effects back.
    pub fn effect_back(self) -> f64 {
        pow2(self.s)
    }

    /// The factor 2^2s that takes rescaled variances and τ² back.
    pub fn variance_back(self) -> f64 {
        pow2(2 * self.s)
    }

    /// ln 2^s: the log-likelihood of the original data is that of the rescaled data minus
    /// (number of variance terms) · ln 2^s.
    pub fn ln_effect_back(self) -> f64 {
        f64::from(self.s) * std::f64::consts::LN_2
    }

    /// The values times [`Rescale::effect`].
    pub fn effects(self, y: &[f64]) -> Vec<f64> {
        let c = self.effect();
        y.iter().map(|x| x * c).collect()
    }

    /// The values times [`Rescale::variance`].
    pub fn variances(self, v: &[f64]) -> Vec<f64> {
        let c = self.variance();
        v.iter().map(|x| x * c).collect()
    }
}

/// 2^e as a product of exact powers of two (one 2^e alone would overflow near |e| = 1024).
fn pow2(e: i32) -> f64 {
    2f64.powi(e / 2) * 2f64.powi(e - e / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_scales_are_left_alone_and_extreme_ones_brought_near_one() {
        assert_eq!(Rescale::of(&[1e-30, 0.5, 1e29]), None);
        assert_eq!(Rescale::of(&[0.0, f64::NAN]), None);
        for m in [1e150, 1e-120, 1e-160, 1e300, 1e-300, 5e-324] {
            let r = Rescale::of(&[m, m / 7.0]).expect("extreme");
            let scaled = m * r.variance();
            let near = if m < 1e-307 { 1e-16..=4.0 } else { 0.25..=4.0 };
            assert!(near.contains(&scaled), "{m:e} -> {scaled:e}");
            // Exact: powers of two only.
            assert_eq!(scaled * r.variance_back(), m, "{m:e}");
            assert_eq!(r.effect() * r.effect(), r.variance());
            assert_eq!(r.effect_back() * r.effect(), 1.0);
        }
    }
}
