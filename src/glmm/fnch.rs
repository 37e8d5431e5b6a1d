//! Fisher's noncentral hypergeometric distribution of the events in group 1 of a 2×2 table given
//! both margins, the exact conditional likelihood of an odds ratio (Fog 2008, *Commun Stat Simul
//! Comput* 37:258–273; BiasedUrn's `dFNCHypergeo`), computed in log space.

/// metafor clamps log ψ to ±12·log 10 before calling BiasedUrn ("beyond these values the results
/// become unstable"), so the likelihood is flat beyond it.
pub const LOG_PSI_MAX: f64 = 12.0 * std::f64::consts::LN_10;

/// X = events in group 1 of a table with group sizes `m1`, `m2` and `n` events in all.
#[derive(Debug, Clone)]
pub struct Fnch {
    /// The observed events in group 1.
    x: f64,
    /// The smallest value in the support, max(0, n − m2).
    lo: f64,
    /// log C(m1, y) + log C(m2, n − y) for y = lo, lo + 1, …: the central weights, computed once.
    lcoef: Vec<f64>,
}

impl Fnch {
    /// The distribution of X given the margins, and the observed `x`.
    pub fn new(x: f64, m1: f64, m2: f64, n: f64) -> Fnch {
        let lo = (n - m2).max(0.0);
        let hi = n.min(m1);
        let len = (hi - lo).max(0.0) as usize + 1;
        let lcoef = (0..len)
            .map(|j| {
                let y = lo + j as f64;
                crate::stats::lchoose(m1, y) + crate::stats::lchoose(m2, n - y)
            })
            .collect();
        Fnch { x, lo, lcoef }
    }

    /// Whether `x` is at an end of the support (the conditional MLE of log ψ is then infinite).
    pub fn at_boundary(&self) -> bool {
        self.x <= self.lo || self.x >= self.lo + (self.lcoef.len() - 1) as f64
    }

    /// `Some(false)` when `x` is the smallest value of the support, `Some(true)` the largest.
    pub fn bound(&self) -> Option<bool> {
        if self.x <= self.lo {
            Some(false)
        } else if self.x >= self.lo + (self.lcoef.len() - 1) as f64 {
            Some(true)
        } else {
            None
        }
    }

    /// log P(X = x; ψ = e^η) and its first two η-derivatives, x − E[X] and −Var[X] (zero where the
    /// clamp of log ψ applies).
    pub fn ll(&self, eta: f64) -> (f64, f64, f64) {
        let [l, d1, d2, ..] = self.ll4(eta);
        (l, d1, d2)
    }

    /// As [`Fnch::ll`] with the third and fourth η-derivatives, −κ₃ and −κ₄ (the cumulants of X:
    /// log P is η·x minus X's cumulant generating function, up to a constant).
    pub fn ll4(&self, eta: f64) -> [f64; 5] {
        let clamped = eta.abs() > LOG_PSI_MAX;
        let e = eta.clamp(-LOG_PSI_MAX, LOG_PSI_MAX);
        let terms = self
            .lcoef
            .iter()
            .enumerate()
            .map(|(j, c)| c + (self.lo + j as f64) * e);
        let (jm, m) = terms
            .clone()
            .enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |a, (j, t)| if t > a.1 { (j, t) } else { a },
            );
        // Moments about the most likely value, so the central ones do not cancel.
        let (mut s0, mut s1, mut s2, mut s3, mut s4) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (j, t) in terms.enumerate() {
            let w = (t - m).exp();
            let y = j as f64 - jm as f64;
            let y2 = y * y;
            s0 += w;
            s1 += w * y;
            s2 += w * y2;
            s3 += w * y2 * y;
            s4 += w * y2 * y2;
        }
        let (mean, r2, r3, r4) = (s1 / s0, s2 / s0, s3 / s0, s4 / s0);
        let var = (r2 - mean * mean).max(0.0);
        let k3 = r3 - 3.0 * mean * r2 + 2.0 * mean * mean * mean;
        let mu4 = r4 - 4.0 * mean * r3 + 6.0 * mean * mean * r2 - 3.0 * mean.powi(4);
        let k4 = mu4 - 3.0 * var * var;
        let j = (self.x - self.lo) as usize;
        let l = self.lcoef[j] + self.x * e - m - s0.ln();
        if clamped {
            [l, 0.0, 0.0, 0.0, 0.0]
        } else {
            [l, self.x - self.lo - jm as f64 - mean, -var, -k3, -k4]
        }
    }

    /// The conditional MLE of log ψ by Newton's method (the log-likelihood is concave), with the
    /// maximised log-likelihood and the Fisher information Var[X] there; at a boundary of the
    /// support the clamp value, its log-likelihood and information 0.
    pub fn mle(&self) -> (f64, f64, f64) {
        if self.at_boundary() {
            let eta = if self.x <= self.lo {
                -LOG_PSI_MAX
            } else {
                LOG_PSI_MAX
            };
            return (eta, self.ll(eta).0, 0.0);
        }
        let mut eta = 0.0;
        for _ in 0..200 {
            let (_, d1, d2) = self.ll(eta);
            let step = (-d1 / d2).clamp(-2.0, 2.0);
            eta += step;
            if step.abs() < 1e-13 * (1.0 + eta.abs()) {
                break;
            }
        }
        let (l, _, d2) = self.ll(eta);
        (eta, l, -d2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::lchoose;

    #[test]
    fn central_case_is_the_hypergeometric() {
        // ψ = 1: P(X = 3) for m1 = 10, m2 = 12, n = 7 is C(10,3)C(12,4)/C(22,7).
        let f = Fnch::new(3.0, 10.0, 12.0, 7.0);
        let want = lchoose(10.0, 3.0) + lchoose(12.0, 4.0) - lchoose(22.0, 7.0);
        assert!((f.ll(0.0).0 - want).abs() < 1e-12);
    }

    #[test]
    fn derivatives_match_finite_differences_and_mle_solves_the_score() {
        let f = Fnch::new(90.0, 1159.0, 1157.0, 208.0);
        let h = 1e-5;
        for eta in [-1.0, -0.2, 0.5] {
            let (_, d1, d2) = f.ll(eta);
            let fd1 = (f.ll(eta + h).0 - f.ll(eta - h).0) / (2.0 * h);
            let fd2 = (f.ll(eta + h).1 - f.ll(eta - h).1) / (2.0 * h);
            assert!((d1 - fd1).abs() < 1e-6, "{d1} {fd1}");
            assert!((d2 - fd2).abs() < 1e-6, "{d2} {fd2}");
            let [.., d3, d4] = f.ll4(eta);
            let fd3 = (f.ll4(eta + h)[2] - f.ll4(eta - h)[2]) / (2.0 * h);
            let fd4 = (f.ll4(eta + h)[3] - f.ll4(eta - h)[3]) / (2.0 * h);
            assert!((d3 - fd3).abs() < 1e-6 * (1.0 + d3.abs()), "{d3} {fd3}");
            assert!((d4 - fd4).abs() < 1e-5 * (1.0 + d4.abs()), "{d4} {fd4}");
        }
        let (eta, _, info) = f.mle();
        assert!(f.ll(eta).1.abs() < 1e-9 && info > 0.0);
        let b = Fnch::new(0.0, 22.0, 21.0, 1.0);
        assert!(b.at_boundary() && b.mle().0 == -LOG_PSI_MAX && b.mle().2 == 0.0);
    }
}
