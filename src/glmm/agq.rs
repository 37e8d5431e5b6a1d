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
        let [l, d1, d2, _] = self.ll3(o, eta);
        (l, d1, d2)
    }

    /// log f(y | η) and its first three η-derivatives (the third moves the AGQ scale).
    pub fn ll3(self, o: &Obs, eta: f64) -> [f64; 4] {
        match self {
            Family::Binomial => {
                // One exponential, e^−|η|: log(1 + e^η) and p(1 − p) = e/(1 + e)² without
                // overflow or cancellation on either side.
                let e = (-eta.abs()).exp();
                let log1pe = eta.max(0.0) + e.ln_1p();
                let p = if eta > 0.0 {
                    1.0 / (1.0 + e)
                } else {
                    e / (1.0 + e)
                };
                let v = e / ((1.0 + e) * (1.0 + e));
                let l = o.lchoose + o.y * eta - o.n * log1pe;
                [l, o.y - o.n * p, -o.n * v, -o.n * v * (1.0 - 2.0 * p)]
            }
            Family::Poisson => {
                let mu = eta.exp();
                [o.y * eta - mu - o.lfactorial, o.y - mu, -mu, -mu]
            }
            Family::Fnch => o
                .fnch
                .as_ref()
                .map_or([f64::NAN, 0.0, 0.0, 0.0], |f| f.ll3(eta)),
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

/// Nodes and log weights of the n-point Gauss–Hermite rule for the standard normal density
/// (lme4's `GHrule(7)`), by the Golub–Welsch eigen-decomposition of the Jacobi matrix (log
/// weights, as every evaluation of a study adds them to log densities).
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
        .map(|i| (eig.eigenvalues[i], eig.eigenvectors[(0, i)].powi(2).ln()))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// A gradient in θ, written into the second argument; `None` where it cannot be evaluated.
pub type GradFn<'a> = dyn Fn(&[f64], &mut [f64]) -> Option<()> + 'a;

/// Runs `f` on `n` zeroed values, on the stack when few (the fit evaluates studies millions of
/// times; an allocation each time was a fifth of its instructions).
pub fn scratch<R>(n: usize, f: impl FnOnce(&mut [f64]) -> R) -> R {
    // Two sizes, as zeroing the larger one for a handful of values costs as much as using them.
    if n <= 8 {
        f(&mut [0.0; 8][..n])
    } else if n <= 48 {
        f(&mut [0.0; 48][..n])
    } else {
        f(&mut vec![0.0; n])
    }
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

    /// Runs `f` on the fixed parts of a study's linear predictors.
    fn with_eta0<R>(obs: &[Obs], beta: &[f64], f: impl FnOnce(&[f64]) -> R) -> R {
        scratch(obs.len(), |e| {
            for (v, o) in e.iter_mut().zip(obs) {
                *v = Self::eta0(o, beta);
            }
            f(e)
        })
    }

    /// The conditional mode of u (τ ≠ 0) and Σ ∂²log f/∂u² there; `None` when Newton fails.
    fn mode(&self, obs: &[Obs], eta0: &[f64], tau: f64) -> Option<(f64, f64)> {
        // Newton on the concave log posterior l(u) − u²/2, halving steps that overshoot; the
        // derivatives of an accepted point serve the next step.
        let mut u = 0.0;
        let (mut f, mut d1, mut d2) = self.study_ll(obs, eta0, tau, u);
        for _ in 0..200 {
            let mut step = -(d1 - u) / (d2 - 1.0);
            let mut tries = 0;
            loop {
                let (l, n1, n2) = self.study_ll(obs, eta0, tau, u + step);
                let f_new = l - (u + step) * (u + step) / 2.0;
                if f_new >= f - 1e-14 * f.abs().max(1.0) || tries > 60 {
                    u += step;
                    (f, d1, d2) = (f_new, n1, n2);
                    break;
                }
                step /= 2.0;
                tries += 1;
            }
            if step.abs() < 1e-13 * (1.0 + u.abs()) {
                return u.is_finite().then_some((u, d2));
            }
        }
        None
    }

    /// The AGQ log marginal likelihood of one study; `None` when the mode search fails.
    pub fn study(&self, i: usize, beta: &[f64], tau: f64, rule: &[(f64, f64)]) -> Option<StudyFit> {
        let obs = &self.studies[i];
        Self::with_eta0(obs, beta, |eta0| {
            if tau == 0.0 {
                let l = self.study_ll(obs, eta0, 0.0, 0.0).0;
                return Some(StudyFit { ll: l, mode: 0.0 });
            }
            let (u, d2) = self.mode(obs, eta0, tau)?;
            let s = 1.0 / (1.0 - d2).sqrt();
            let term = |&(z, lw): &(f64, f64)| {
                let v = u + s * z;
                lw + self.study_ll(obs, eta0, tau, v).0 - v * v / 2.0 + z * z / 2.0
            };
            scratch(rule.len(), |terms| {
                for (t, r) in terms.iter_mut().zip(rule) {
                    *t = term(r);
                }
                let m = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = terms.iter().map(|t| (t - m).exp()).sum();
                Some(StudyFit {
                    ll: m + sum.ln() + s.ln(),
                    mode: u,
                })
            })
        })
    }

    /// The exact gradient of [`Model::study`] in (β, τ): the AGQ's nodes u* + s·z move with the
    /// mode u* and the scale s = (−g″)^−½ of the log posterior g, du*/dθ = −∂g′/∂θ ÷ g″ by the
    /// implicit function theorem and ds/dθ = s³/2 · (∂g″/∂θ + g‴·du*/dθ). `grad` (of length
    /// β's + 1) receives it; `None` when the mode search fails.
    pub fn study_grad(
        &self,
        i: usize,
        beta: &[f64],
        tau: f64,
        rule: &[(f64, f64)],
        grad: &mut [f64],
    ) -> Option<()> {
        let obs = &self.studies[i];
        grad.fill(0.0);
        Self::with_eta0(obs, beta, |eta0| {
            if tau == 0.0 {
                // The likelihood is even in τ and the nodes do not move.
                for (o, &e) in obs.iter().zip(eta0) {
                    let b = self.family.ll(o, e).1;
                    grad.iter_mut().zip(&o.x).for_each(|(g, x)| *g += x * b);
                }
                return Some(());
            }
            let (u, _) = self.mode(obs, eta0, tau)?;
            self.nodes_grad(obs, eta0, tau, u, rule, grad)
        })
    }

    /// [`Model::study_grad`] at the mode `u` (τ ≠ 0).
    fn nodes_grad(
        &self,
        obs: &[Obs],
        eta0: &[f64],
        tau: f64,
        u: f64,
        rule: &[(f64, f64)],
        grad: &mut [f64],
    ) -> Option<()> {
        let n = grad.len();
        scratch(3 * n, |buf| {
            // du, ds: ∂g′/∂θ and ∂g″/∂θ at the mode, made du*/dθ and ds/dθ below; gv: ∂g/∂θ at
            // a node.
            let (du, rest) = buf.split_at_mut(n);
            let (ds, gv) = rest.split_at_mut(n);
            let (mut g2, mut g3) = (-1.0, 0.0);
            for (o, &e) in obs.iter().zip(eta0) {
                let ct = o.c * tau;
                let [_, l1, l2, l3] = self.family.ll3(o, e + ct * u);
                g2 += ct * ct * l2;
                g3 += ct * ct * ct * l3;
                for (k, x) in o.x.iter().enumerate() {
                    du[k] += ct * x * l2;
                    ds[k] += ct * ct * x * l3;
                }
                du[n - 1] += o.c * l1 + ct * o.c * u * l2;
                ds[n - 1] += 2.0 * o.c * ct * l2 + ct * ct * o.c * u * l3;
            }
            let s = 1.0 / (-g2).sqrt();
            for (a, b) in du.iter_mut().zip(ds.iter_mut()) {
                *a /= -g2;
                *b = s * s * s / 2.0 * (*b + g3 * *a);
            }
            // Σⱼ pⱼ dtⱼ/dθ, the node weights pⱼ ∝ e^tⱼ normalised on the fly (m the largest tⱼ
            // so far, total = Σ e^(tⱼ − m)).
            let (mut m, mut total) = (f64::NEG_INFINITY, 0.0);
            for &(z, lw) in rule {
                let v = u + s * z;
                let (mut l, mut gp) = (-v * v / 2.0, -v);
                gv.iter_mut().for_each(|g| *g = 0.0);
                for (o, &e) in obs.iter().zip(eta0) {
                    let (a, l1, _) = self.family.ll(o, e + o.c * tau * v);
                    l += a;
                    gp += o.c * tau * l1;
                    gv.iter_mut().zip(&o.x).for_each(|(g, x)| *g += x * l1);
                    gv[n - 1] += o.c * v * l1;
                }
                let t = lw + l + z * z / 2.0;
                if !t.is_finite() {
                    return None;
                }
                if t > m {
                    let r = (m - t).exp();
                    total *= r;
                    grad.iter_mut().for_each(|g| *g *= r);
                    m = t;
                }
                let p = (t - m).exp();
                total += p;
                for (k, g) in grad.iter_mut().enumerate() {
                    *g += p * (gv[k] + gp * (du[k] + z * ds[k]));
                }
            }
            for (g, d) in grad.iter_mut().zip(ds.iter()) {
                *g = *g / total + d / s;
            }
            Some(())
        })
    }

    /// Σ log f(y | μ̂) of study `i` at its conditional mode: what metafor reports as the ll of
    /// nAGQ = 7 fits (NaN when the mode search fails).
    pub fn conditional_study(&self, i: usize, beta: &[f64], tau: f64, rule: &[(f64, f64)]) -> f64 {
        let obs = &self.studies[i];
        let mode = self.study(i, beta, tau, rule).map_or(f64::NAN, |s| s.mode);
        Self::with_eta0(obs, beta, |eta0| self.study_ll(obs, eta0, tau, mode).0)
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

/// The gradient at `x` (`g` writes it into its second argument) and the Hessian by forward
/// differences of it (steps relative to |x|), symmetrised; `None` where `g` fails or is not
/// finite. For Newton steps: their convergence rests on the exact gradient, and an O(h) error
/// in the Hessian only shrinks each step's gain by that factor.
pub fn gradient_derivatives(g: &GradFn, x: &[f64], h: f64) -> Option<(DVector<f64>, DMatrix<f64>)> {
    let n = x.len();
    let mut g0 = DVector::zeros(n);
    g(x, g0.as_mut_slice())?;
    let mut hess = DMatrix::zeros(n, n);
    let mut gp = vec![0.0; n];
    let mut y = x.to_vec();
    for i in 0..n {
        y[i] = x[i] + h * (1.0 + x[i].abs());
        let step = y[i] - x[i];
        g(&y, &mut gp)?;
        y[i] = x[i];
        for r in 0..n {
            hess[(r, i)] = (gp[r] - g0[r]) / step;
        }
    }
    let hess = (&hess + hess.transpose()) / 2.0;
    g0.iter()
        .chain(hess.iter())
        .all(|v| v.is_finite())
        .then_some((g0, hess))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact gradient of a study's AGQ log-likelihood against central differences of it.
    fn check(model: &Model, beta: &[f64], tau: f64, n_rule: usize) {
        let rule = gh_rule(n_rule);
        let mut g = vec![0.0; beta.len() + 1];
        model.study_grad(0, beta, tau, &rule, &mut g).unwrap();
        let ll = |t: &[f64]| {
            model
                .study(0, &t[..beta.len()], t[beta.len()], &rule)
                .unwrap()
                .ll
        };
        let mut t: Vec<f64> = beta.iter().copied().chain([tau]).collect();
        for (j, gj) in g.iter().enumerate() {
            let h = 1e-5;
            t[j] += h;
            let up = ll(&t);
            t[j] -= 2.0 * h;
            let down = ll(&t);
            t[j] += h;
            let fd = (up - down) / (2.0 * h);
            assert!(
                (gj - fd).abs() < 1e-7 * (1.0 + fd.abs()),
                "{j}: {gj} vs {fd}"
            );
        }
    }

    #[test]
    fn study_gradient_is_the_derivative_of_the_agq_likelihood() {
        let arms = |n: f64| {
            vec![
                Obs::new(7.0, n, 0.0, vec![1.0, 1.0], 0.5),
                Obs::new(2.0, 30.0, 0.0, vec![1.0, 0.0], -0.5),
            ]
        };
        let binomial = Model {
            family: Family::Binomial,
            studies: vec![arms(25.0)],
        };
        check(&binomial, &[-1.2, 0.4], 0.8, 7);
        check(&binomial, &[2.5, -3.0], 1.7, 7);
        check(&binomial, &[-1.2, 0.4], 0.0, 7);
        let poisson = Model {
            family: Family::Poisson,
            studies: vec![vec![
                Obs::new(4.0, 0.0, 2.0_f64.ln(), vec![1.0, 1.0], 0.5),
                Obs::new(9.0, 0.0, 3.0_f64.ln(), vec![1.0, 0.0], -0.5),
            ]],
        };
        check(&poisson, &[0.3, -0.5], 0.6, 7);
        let mut o = Obs::new(9.0, 20.0, 0.0, vec![1.0], 1.0);
        o.fnch = Some(Arc::new(Fnch::new(9.0, 40.0, 35.0, 20.0)));
        let fnch = Model {
            family: Family::Fnch,
            studies: vec![vec![o]],
        };
        check(&fnch, &[0.4], 0.9, 40);
    }
}
