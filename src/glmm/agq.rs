//! The marginal likelihood of a GLMM with one scalar random effect per study, by adaptive
//! Gauss–Hermite quadrature centred at the conditional mode as lme4's `glmer(nAGQ = 7)`
//! computes it (Pinheiro & Bates 1995, *J Comput Graph Stat* 4:12–35), and its maximisation.

use super::fnch::Fnch;
use nalgebra::{DMatrix, DVector};
use std::sync::Arc;

/// The response distribution with its canonical link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Binomial counts, logit link.
    Binomial,
    /// Poisson counts, log link.
    Poisson,
    /// Fisher's noncentral hypergeometric (CM.EL of an odds ratio), η = log ψ.
    Fnch,
}

/// One observation: `y` events (of `n` trials for the binomial), linear predictor
/// η = x'β + offset + c·τ·u with the study's standard-normal random effect u.
#[derive(Debug, Clone)]
pub struct Obs {
    /// Events.
    pub y: f64,
    /// Trials (binomial only).
    pub n: f64,
    /// Known part of the linear predictor (log(n1/n2), log person-time, ...).
    pub offset: f64,
    /// The row of the fixed-effects design.
    pub x: Vec<f64>,
    /// Coefficient of τ·u (1 for PLO/CM, the group coding ±½ for UM.FS and UM.RS).
    pub c: f64,
    /// The table's conditional distribution ([`Family::Fnch`] only).
    pub fnch: Option<Arc<Fnch>>,
    /// log C(n, y), the binomial density's constant: computed once, as the quadrature
    /// evaluates the density thousands of times per study.
    pub lchoose: f64,
    /// log y!, the Poisson density's constant (computed once, as `lchoose`).
    pub lfactorial: f64,
}

impl Obs {
    /// An observation without a conditional distribution (binomial or Poisson).
    pub fn new(y: f64, n: f64, offset: f64, x: Vec<f64>, c: f64) -> Obs {
        Obs {
            y,
            n,
            offset,
            x,
            c,
            fnch: None,
            lchoose: crate::stats::lchoose(n, y),
            lfactorial: crate::stats::lgamma(y + 1.0),
        }
    }
}

/// The studies of a fit: each a group of observations sharing one random effect.
#[derive(Debug, Clone)]
pub struct Model {
    /// The family of every observation.
    pub family: Family,
    /// Observations by study.
    pub studies: Vec<Vec<Obs>>,
}

impl Family {
    /// log f(y | η), with the constants of R's `dbinom`/`dpois`, and its first two η-derivatives.
    pub fn ll(self, o: &Obs, eta: f64) -> (f64, f64, f64) {
        match self {
            Family::Binomial => {
                // log(1 + e^η) without overflow.
                let log1pe = if eta > 0.0 {
                    eta + (-eta).exp().ln_1p()
                } else {
                    eta.exp().ln_1p()
                };
                let p = 1.0 / (1.0 + (-eta).exp());
                let l = o.lchoose + o.y * eta - o.n * log1pe;
                (l, o.y - o.n * p, -o.n * p * (1.0 - p))
            }
            Family::Poisson => {
                let mu = eta.exp();
                let l = o.y * eta - mu - o.lfactorial;
                (l, o.y - mu, -mu)
            }
            Family::Fnch => o.fnch.as_ref().map_or((f64::NAN, 0.0, 0.0), |f| f.ll(eta)),
        }
    }

    /// log f(y | μ = y): the saturated model's contribution (0·log 0 = 0).
    pub fn ll_saturated(self, o: &Obs) -> f64 {
        let xlogx = |a: f64| if a > 0.0 { a * a.ln() } else { 0.0 };
        match self {
            Family::Binomial => o.lchoose + xlogx(o.y) + xlogx(o.n - o.y) - xlogx(o.n),
            Family::Poisson => xlogx(o.y) - o.y - o.lfactorial,
            Family::Fnch => o.fnch.as_ref().map_or(f64::NAN, |f| f.mle().1),
        }
    }
}

/// Nodes and weights of the 7-point Gauss–Hermite rule for the standard normal density
/// (lme4's `GHrule(7)`), by the Golub–Welsch eigen-decomposition of the Jacobi matrix.
pub fn gh_rule(n: usize) -> Vec<(f64, f64)> {
    let j = DMatrix::from_fn(n, n, |r, c| {
        if r + 1 == c || c + 1 == r {
            (r.max(c) as f64).sqrt()
        } else {
            0.0
        }
    });
    let eig = j.symmetric_eigen();
    let mut out: Vec<(f64, f64)> = (0..n)
        .map(|i| (eig.eigenvalues[i], eig.eigenvectors[(0, i)].powi(2)))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// What one study contributes at (β, τ).
pub struct StudyFit {
    /// log of its marginal likelihood (AGQ).
    pub ll: f64,
    /// The conditional mode of u.
    pub mode: f64,
}

impl Model {
    /// The fixed part of an observation's linear predictor, offset + x'β.
    pub fn eta0(o: &Obs, beta: &[f64]) -> f64 {
        o.offset + o.x.iter().zip(beta).map(|(a, b)| a * b).sum::<f64>()
    }

    /// Σ log f(y | η) over a study at u, with the derivatives in u.
    fn study_ll(&self, obs: &[Obs], eta0: &[f64], tau: f64, u: f64) -> (f64, f64, f64) {
        let (mut l, mut d1, mut d2) = (0.0, 0.0, 0.0);
        for (o, &e) in obs.iter().zip(eta0) {
            let (a, b, c) = self.family.ll(o, e + o.c * tau * u);
            l += a;
            d1 += o.c * tau * b;
            d2 += (o.c * tau).powi(2) * c;
        }
        (l, d1, d2)
    }

    /// The AGQ log marginal likelihood of one study; `None` when the mode search fails.
    pub fn study(&self, i: usize, beta: &[f64], tau: f64, rule: &[(f64, f64)]) -> Option<StudyFit> {
        let obs = &self.studies[i];
        let eta0: Vec<f64> = obs.iter().map(|o| Self::eta0(o, beta)).collect();
        if tau == 0.0 {
            let l = self.study_ll(obs, &eta0, 0.0, 0.0).0;
            return Some(StudyFit { ll: l, mode: 0.0 });
        }
        // Newton on the concave log posterior l(u) − u²/2, halving steps that overshoot.
        let mut u = 0.0;
        let obj = |u: f64| self.study_ll(obs, &eta0, tau, u).0 - u * u / 2.0;
        let mut f = obj(u);
        let mut done = false;
        for _ in 0..200 {
            let (_, d1, d2) = self.study_ll(obs, &eta0, tau, u);
            let g = d1 - u;
            let h = d2 - 1.0;
            let mut step = -g / h;
            let mut tries = 0;
            loop {
                let f_new = obj(u + step);
                if f_new >= f - 1e-14 * f.abs().max(1.0) || tries > 60 {
                    u += step;
                    f = f_new;
                    break;
                }
                step /= 2.0;
                tries += 1;
            }
            if step.abs() < 1e-13 * (1.0 + u.abs()) {
                done = true;
                break;
            }
        }
        if !done || !u.is_finite() {
            return None;
        }
        let (_, _, d2) = self.study_ll(obs, &eta0, tau, u);
        let h = 1.0 - d2;
        let s = 1.0 / h.sqrt();
        let terms: Vec<f64> = rule
            .iter()
            .map(|&(z, w)| {
                let v = u + s * z;
                w.ln() + self.study_ll(obs, &eta0, tau, v).0 - v * v / 2.0 + z * z / 2.0
            })
            .collect();
        let m = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = terms.iter().map(|t| (t - m).exp()).sum();
        Some(StudyFit {
            ll: m + sum.ln() + s.ln(),
            mode: u,
        })
    }

    /// Σ log f(y | μ̂) of study `i` at its conditional mode: what metafor reports as the ll of
    /// nAGQ = 7 fits (NaN when the mode search fails).
    pub fn conditional_study(&self, i: usize, beta: &[f64], tau: f64, rule: &[(f64, f64)]) -> f64 {
        let obs = &self.studies[i];
        let mode = self.study(i, beta, tau, rule).map_or(f64::NAN, |s| s.mode);
        let eta0: Vec<f64> = obs.iter().map(|o| Self::eta0(o, beta)).collect();
        self.study_ll(obs, &eta0, tau, mode).0
    }

    /// Σ log f(y | μ = y).
    pub fn saturated_loglik(&self) -> f64 {
        self.studies
            .iter()
            .flatten()
            .map(|o| self.family.ll_saturated(o))
            .sum()
    }
}

/// Central-difference gradient and Hessian of `f` at `x` (steps relative to |x|).
pub fn derivatives(f: &dyn Fn(&[f64]) -> f64, x: &[f64], h: f64) -> (DVector<f64>, DMatrix<f64>) {
    let n = x.len();
    let step: Vec<f64> = x.iter().map(|v| h * (1.0 + v.abs())).collect();
    let at = |d: &[(usize, f64)]| {
        let mut y = x.to_vec();
        for &(i, s) in d {
            y[i] += s;
        }
        f(&y)
    };
    let f0 = f(x);
    let mut g = DVector::zeros(n);
    let mut hess = DMatrix::zeros(n, n);
    for i in 0..n {
        let (fp, fm) = (at(&[(i, step[i])]), at(&[(i, -step[i])]));
        g[i] = (fp - fm) / (2.0 * step[i]);
        hess[(i, i)] = (fp - 2.0 * f0 + fm) / (step[i] * step[i]);
        for j in 0..i {
            let v = (at(&[(i, step[i]), (j, step[j])])
                - at(&[(i, step[i]), (j, -step[j])])
                - at(&[(i, -step[i]), (j, step[j])])
                + at(&[(i, -step[i]), (j, -step[j])]))
                / (4.0 * step[i] * step[j]);
            hess[(i, j)] = v;
            hess[(j, i)] = v;
        }
    }
    (g, hess)
}
