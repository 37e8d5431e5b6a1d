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
        let [l, d1, d2, ..] = self.ll4(o, eta);
        (l, d1, d2)
    }

    /// log f(y | η) and its first four η-derivatives (the third moves the AGQ scale, the fourth
    /// its derivatives).
    pub fn ll4(self, o: &Obs, eta: f64) -> [f64; 5] {
        match self {
            Family::Binomial => {
                let (e, p, v) = logistic(eta);
                // log(1 + e^η) without overflow on either side.
                let log1pe = eta.max(0.0) + e.ln_1p();
                let [d1, d2, d3, d4] = binomial_derivatives(o, p, v);
                [o.lchoose + o.y * eta - o.n * log1pe, d1, d2, d3, d4]
            }
            Family::Poisson => {
                let mu = eta.exp();
                [o.y * eta - mu - o.lfactorial, o.y - mu, -mu, -mu, -mu]
            }
            Family::Fnch => o
                .fnch
                .as_ref()
                .map_or([f64::NAN, 0.0, 0.0, 0.0, 0.0], |f| f.ll4(eta)),
        }
    }

    /// The first four η-derivatives of log f(y | η) without the density, which the mode search
    /// and the nodes' movement never use (for the binomial its logarithm costs as much as the
    /// rest).
    pub fn dll4(self, o: &Obs, eta: f64) -> [f64; 4] {
        match self {
            Family::Binomial => {
                let (_, p, v) = logistic(eta);
                binomial_derivatives(o, p, v)
            }
            _ => {
                let [_, d1, d2, d3, d4] = self.ll4(o, eta);
                [d1, d2, d3, d4]
            }
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

/// e^−|η|, p = 1/(1 + e^−η) and p(1 − p) = e/(1 + e)², from one exponential and without
/// overflow or cancellation on either side.
fn logistic(eta: f64) -> (f64, f64, f64) {
    let e = (-eta.abs()).exp();
    let p = if eta > 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    (e, p, e / ((1.0 + e) * (1.0 + e)))
}

/// The binomial log density's η-derivatives y − np, −nv, −nv(1 − 2p) and −nv(1 − 6v), as
/// dv/dη = v(1 − 2p) and d[v(1 − 2p)]/dη = v(1 − 6v).
fn binomial_derivatives(o: &Obs, p: f64, v: f64) -> [f64; 4] {
    [
        o.y - o.n * p,
        -o.n * v,
        -o.n * v * (1.0 - 2.0 * p),
        -o.n * v * (1.0 - 6.0 * v),
    ]
}

/// Nodes and log weights of the n-point Gauss–Hermite rule for the standard normal density
/// (lme4's `GHrule(7)`), by the Golub–Welsch eigen-decomposition of the Jacobi matrix (log
/// weights, as every evaluation of a study adds them to log densities), heaviest first.
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
    // Heaviest first: the largest log term of a sum over the nodes is then usually its first,
    // and the running maximum that keeps the sum from overflowing rarely moves.
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.total_cmp(&b.0)));
    out
}

/// Runs `f` on `n` zeroed values, on the stack when few (the fit evaluates studies millions of
/// times; an allocation each time was a fifth of its instructions).
pub fn scratch<R>(n: usize, f: impl FnOnce(&mut [f64]) -> R) -> R {
    // Three sizes, as zeroing a larger one for a handful of values costs as much as using them.
    if n <= 8 {
        f(&mut [0.0; 8][..n])
    } else if n <= 48 {
        f(&mut [0.0; 48][..n])
    } else if n <= 128 {
        f(&mut [0.0; 128][..n])
    } else {
        f(&mut vec![0.0; n])
    }
}

/// A study's observations at (β, τ): the fixed parts of their linear predictors and the number
/// of parameters θ = (β, τ).
struct Point<'a> {
    obs: &'a [Obs],
    eta0: &'a [f64],
    tau: f64,
    n: usize,
}

/// How the AGQ nodes u* + s·z move with θ: the mode and scale, their gradients and Hessians
/// (row-major).
struct Moving<'a> {
    u: f64,
    s: f64,
    du: &'a [f64],
    ds: &'a [f64],
    d2u: &'a [f64],
    d2s: &'a [f64],
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

    /// Σ ∂log f/∂u and Σ ∂²log f/∂u² over a study at u, without the densities.
    fn study_slope(&self, obs: &[Obs], eta0: &[f64], tau: f64, u: f64) -> (f64, f64) {
        let (mut d1, mut d2) = (0.0, 0.0);
        for (o, &e) in obs.iter().zip(eta0) {
            let b = o.c * tau;
            let [l1, l2, ..] = self.family.dll4(o, e + b * u);
            d1 += b * l1;
            d2 += b * b * l2;
        }
        (d1, d2)
    }

    /// The conditional mode of u (τ ≠ 0), searched from `start`, and Σ ∂²log f/∂u² there (with
    /// `curvature`; else that of the last Newton iterate, within 1e-9 of the mode); `None` when
    /// Newton fails.
    fn mode(
        &self,
        obs: &[Obs],
        eta0: &[f64],
        tau: f64,
        start: f64,
        curvature: bool,
    ) -> Option<(f64, f64)> {
        // Newton on g′ = 0 for the log posterior g(u) = l(u) − u²/2, which is strictly concave
        // (every family is an exponential family in η), halving steps that do not shrink |g′|:
        // Newton's direction descends g′², so no density is needed. A start at the mode of a
        // nearby θ (the previous evaluation's) saves most of the steps.
        let mut u = if start.is_finite() { start } else { 0.0 };
        let (mut d1, mut d2) = self.study_slope(obs, eta0, tau, u);
        for _ in 0..200 {
            let mut step = -(d1 - u) / (d2 - 1.0);
            let mut tries = 0;
            loop {
                let v = u + step;
                let (n1, n2) = self.study_slope(obs, eta0, tau, v);
                let tiny = step.abs() < 1e-13 * (1.0 + u.abs());
                if (n1 - v).abs() <= (d1 - u).abs() || tiny || tries > 60 {
                    u = v;
                    (d1, d2) = (n1, n2);
                    break;
                }
                step /= 2.0;
                tries += 1;
            }
            if step.abs() < 1e-13 * (1.0 + u.abs()) {
                return (u.is_finite() && d2.is_finite()).then_some((u, d2));
            }
            // Quadratic convergence: a next step this small leaves an error near its square, so
            // it is taken without the evaluation that would confirm it.
            let next = -(d1 - u) / (d2 - 1.0);
            if !curvature && next.abs() < 1e-9 * (1.0 + u.abs()) {
                let u = u + next;
                return (u.is_finite() && d2.is_finite()).then_some((u, d2));
            }
        }
        None
    }

    /// The AGQ log marginal likelihood of one study, the mode searched from `start`; `None` when
    /// the mode search fails.
    pub fn study(
        &self,
        i: usize,
        beta: &[f64],
        tau: f64,
        rule: &[(f64, f64)],
        start: f64,
    ) -> Option<StudyFit> {
        let obs = &self.studies[i];
        Self::with_eta0(obs, beta, |eta0| {
            if tau == 0.0 {
                let l = self.study_ll(obs, eta0, 0.0, 0.0).0;
                return Some(StudyFit { ll: l, mode: 0.0 });
            }
            let (u, d2) = self.mode(obs, eta0, tau, start, true)?;
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

    /// The exact gradient and Hessian of [`Model::study`] in θ = (β, τ), written into `grad` (of
    /// length β's + 1) and `hess` (row-major), the mode searched from `start`; the study's fit,
    /// or `None` when the mode search fails. The AGQ's nodes u* + s·z move with the mode u* and
    /// the scale s = (−g″)^−½ of the log posterior g; their first and second θ-derivatives
    /// follow from g′(u*; θ) = 0 by the implicit function theorem (Pinheiro & Bates 1995, §3).
    #[allow(clippy::too_many_arguments)]
    pub fn study_derivatives(
        &self,
        i: usize,
        beta: &[f64],
        tau: f64,
        rule: &[(f64, f64)],
        start: f64,
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Option<StudyFit> {
        let obs = &self.studies[i];
        grad.fill(0.0);
        hess.fill(0.0);
        Self::with_eta0(obs, beta, |eta0| {
            let n = grad.len();
            let at = Point { obs, eta0, tau, n };
            if tau == 0.0 {
                return Some(self.derivatives_at_zero(&at, grad, hess));
            }
            let (u, _) = self.mode(obs, eta0, tau, start, false)?;
            scratch(9 * n + 6 * n * n, |buf| {
                let (moving, rest) = buf.split_at_mut(2 * n + 2 * n * n);
                let (tmp, nodes) = rest.split_at_mut(3 * n + 2 * n * n);
                let s = self.mode_derivatives(&at, u, moving, tmp);
                let (du, rest) = moving.split_at(n);
                let (ds, rest) = rest.split_at(n);
                let (d2u, d2s) = rest.split_at(n * n);
                let m = Moving {
                    u,
                    s,
                    du,
                    ds,
                    d2u,
                    d2s,
                };
                let ll = self.nodes_derivatives(&at, &m, rule, nodes, grad, hess)?;
                Some(StudyFit { ll, mode: u })
            })
        })
    }

    /// τ = 0: the nodes collapse onto u = 0 and the likelihood is even in τ, so the τ-gradient
    /// and the (β, τ) cross-derivatives vanish and ∂²/∂τ² is the integral's limit
    /// (Σ c·l′)² + Σ c²·l″.
    fn derivatives_at_zero(&self, at: &Point, grad: &mut [f64], hess: &mut [f64]) -> StudyFit {
        let n = grad.len();
        let (mut ll, mut c1, mut c2) = (0.0, 0.0, 0.0);
        for (o, &e) in at.obs.iter().zip(at.eta0) {
            let (l0, l1, l2) = self.family.ll(o, e);
            ll += l0;
            c1 += o.c * l1;
            c2 += o.c * o.c * l2;
            for (a, xa) in o.x.iter().enumerate() {
                grad[a] += xa * l1;
                for (b, xb) in o.x.iter().enumerate() {
                    hess[a * n + b] += l2 * xa * xb;
                }
            }
        }
        hess[n * n - 1] = c1 * c1 + c2;
        StudyFit { ll, mode: 0.0 }
    }

    /// At the mode `u`: the scale s (returned) and, into `out`, du*/dθ, ds/dθ, d²u*/dθ² and
    /// d²s/dθ² (`tmp` is scratch of 3n + 2n²). With g's partial derivatives at the mode,
    /// du* = −g_uθ/g_uu and d²u* = −(g_uθθ + g_uuθ du*' + du* g_uuθ' + g_uuu du* du*')/g_uu;
    /// G = g_uu(u*(θ), θ) moves by dG = g_uuθ + g_uuu du* and d²G = g_uuθθ + g_uuuθ du*' +
    /// du* g_uuuθ' + g_uuuu du* du*' + g_uuu d²u*, and s = (−G)^−½.
    fn mode_derivatives(&self, at: &Point, u: f64, out: &mut [f64], tmp: &mut [f64]) -> f64 {
        let (n, t) = (at.n, at.n - 1);
        let (guth, rest) = tmp.split_at_mut(n);
        let (guuth, rest) = rest.split_at_mut(n);
        let (guuuth, rest) = rest.split_at_mut(n);
        let (guthth, guuthth) = rest.split_at_mut(n * n);
        let (mut g2, mut g3, mut g4) = (-1.0, 0.0, 0.0);
        for (o, &e) in at.obs.iter().zip(at.eta0) {
            let b = o.c * at.tau;
            let [l1, l2, l3, l4] = self.family.dll4(o, e + b * u);
            g2 += l2 * b * b;
            g3 += l3 * b * b * b;
            g4 += l4 * b * b * b * b;
            // a = ∂η/∂θ = (x, c·u) and m = ∂²η/∂u∂θ, c at τ and 0 elsewhere.
            let a = |k: usize| if k < t { o.x[k] } else { o.c * u };
            let m = |k: usize| if k < t { 0.0 } else { o.c };
            for k in 0..n {
                let (ak, mk) = (a(k), m(k));
                guth[k] += l2 * b * ak + l1 * mk;
                guuth[k] += l3 * b * b * ak + 2.0 * l2 * b * mk;
                guuuth[k] += l4 * b * b * b * ak + 3.0 * l3 * b * b * mk;
                for j in 0..n {
                    let (aj, mj) = (a(j), m(j));
                    let cross = ak * mj + mk * aj;
                    guthth[k * n + j] += l3 * b * ak * aj + l2 * cross;
                    guuthth[k * n + j] +=
                        l4 * b * b * ak * aj + 2.0 * l3 * b * cross + 2.0 * l2 * mk * mj;
                }
            }
        }
        let (du, rest) = out.split_at_mut(n);
        let (ds, rest) = rest.split_at_mut(n);
        let (d2u, d2s) = rest.split_at_mut(n * n);
        let s = 1.0 / (-g2).sqrt();
        let (s3, s5) = (s * s * s, s * s * s * s * s);
        for k in 0..n {
            du[k] = -guth[k] / g2;
            ds[k] = guuth[k] + g3 * du[k]; // dG, made ds below
        }
        for k in 0..n {
            for j in 0..n {
                let kj = k * n + j;
                d2u[kj] =
                    -(guthth[kj] + guuth[k] * du[j] + guuth[j] * du[k] + g3 * du[k] * du[j]) / g2;
                let d2g = guuthth[kj]
                    + guuuth[k] * du[j]
                    + guuuth[j] * du[k]
                    + g4 * du[k] * du[j]
                    + g3 * d2u[kj];
                d2s[kj] = s3 / 2.0 * d2g + 0.75 * s5 * ds[k] * ds[j];
            }
        }
        ds.iter_mut().for_each(|d| *d *= s3 / 2.0);
        s
    }

    /// The AGQ sum over the nodes v = u* + s·z with its exact θ-derivatives (`tmp` scratch of
    /// 4n + 2n²): each node's log term t(θ) = g(v(θ); θ) + const has dt = g_θ + g_u dv and
    /// d²t = g_θθ + g_uθ dv' + dv g_uθ' + g_uu dv dv' + g_u d²v, and with the normalised node
    /// weights p, ll = log Σ eᵗ + log s has gradient Σ p dt + ds/s and Hessian
    /// Σ p (d²t + dt dt') − (Σ p dt)(Σ p dt)' + d²s/s − ds ds'/s². Returns ll.
    fn nodes_derivatives(
        &self,
        at: &Point,
        mv: &Moving,
        rule: &[(f64, f64)],
        tmp: &mut [f64],
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Option<f64> {
        let n = grad.len();
        let t = n - 1;
        let (gth, rest) = tmp.split_at_mut(n);
        let (guth, rest) = rest.split_at_mut(n);
        let (dv, rest) = rest.split_at_mut(n);
        let gthth = &mut rest[..n * n];
        // grad and the lower triangle of hess accumulate Σ e^(t − m) dt and
        // Σ e^(t − m) (d²t + dt dt'), m the largest t so far, total = Σ e^(t − m).
        let (mut m, mut total) = (f64::NEG_INFINITY, 0.0);
        for &(z, lw) in rule {
            let v = mv.u + mv.s * z;
            let (mut l, mut gu, mut guu) = (-v * v / 2.0, -v, -1.0);
            for g in gth
                .iter_mut()
                .chain(guth.iter_mut())
                .chain(gthth.iter_mut())
            {
                *g = 0.0;
            }
            for (o, &e) in at.obs.iter().zip(at.eta0) {
                let b = o.c * at.tau;
                let (l0, l1, l2) = self.family.ll(o, e + b * v);
                l += l0;
                gu += l1 * b;
                guu += l2 * b * b;
                // ∂η/∂θ = (x, c·v); ∂²η/∂u∂τ = c.
                let cv = o.c * v;
                for (k, &xk) in o.x.iter().enumerate() {
                    gth[k] += l1 * xk;
                    guth[k] += l2 * b * xk;
                    let w = l2 * xk;
                    for (j, &xj) in o.x[..=k].iter().enumerate() {
                        gthth[k * n + j] += w * xj;
                    }
                    gthth[t * n + k] += w * cv;
                }
                gth[t] += l1 * cv;
                guth[t] += l2 * b * cv + l1 * o.c;
                gthth[t * n + t] += l2 * cv * cv;
            }
            let tq = lw + l + z * z / 2.0;
            if !tq.is_finite() {
                return None;
            }
            if tq > m {
                let r = (m - tq).exp();
                total *= r;
                grad.iter_mut().chain(hess.iter_mut()).for_each(|g| *g *= r);
                m = tq;
            }
            let p = (tq - m).exp();
            total += p;
            for k in 0..n {
                dv[k] = mv.du[k] + z * mv.ds[k];
                gth[k] += gu * dv[k]; // dt
            }
            for k in 0..n {
                grad[k] += p * gth[k];
                let (gk, uk, vk) = (gth[k], guth[k], dv[k]);
                for j in 0..=k {
                    let kj = k * n + j;
                    let d2t = gthth[kj]
                        + uk * dv[j]
                        + guth[j] * vk
                        + guu * vk * dv[j]
                        + gu * (mv.d2u[kj] + z * mv.d2s[kj]);
                    hess[kj] += p * (d2t + gk * gth[j]);
                }
            }
        }
        for g in grad.iter_mut() {
            *g /= total;
        }
        let s2 = mv.s * mv.s;
        for k in 0..n {
            for j in 0..=k {
                let kj = k * n + j;
                let h = hess[kj] / total - grad[k] * grad[j] + mv.d2s[kj] / mv.s
                    - mv.ds[k] * mv.ds[j] / s2;
                hess[kj] = h;
                hess[j * n + k] = h;
            }
        }
        for (g, d) in grad.iter_mut().zip(mv.ds) {
            *g += d / mv.s;
        }
        Some(m + total.ln() + mv.s.ln())
    }

    /// Σ log f(y | μ̂) of study `i` at its conditional mode: what metafor reports as the ll of
    /// nAGQ = 7 fits (NaN when the mode search fails), the mode searched from `start`.
    pub fn conditional_study(&self, i: usize, beta: &[f64], tau: f64, start: f64) -> f64 {
        let obs = &self.studies[i];
        Self::with_eta0(obs, beta, |eta0| {
            let mode = if tau == 0.0 {
                Some(0.0)
            } else {
                self.mode(obs, eta0, tau, start, false).map(|m| m.0)
            };
            mode.map_or(f64::NAN, |u| self.study_ll(obs, eta0, tau, u).0)
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact gradient and Hessian of a study's AGQ log-likelihood against central
    /// differences of the likelihood and of the gradient; the likelihood is [`Model::study`]'s.
    fn check(model: &Model, beta: &[f64], tau: f64, n_rule: usize) {
        let rule = gh_rule(n_rule);
        let n = beta.len() + 1;
        let derivs = |t: &[f64]| {
            let (mut g, mut h) = (vec![0.0; n], vec![0.0; n * n]);
            let fit = model
                .study_derivatives(0, &t[..n - 1], t[n - 1], &rule, 0.3, &mut g, &mut h)
                .unwrap();
            (fit.ll, g, h)
        };
        let ll = |t: &[f64]| {
            model
                .study(0, &t[..n - 1], t[n - 1], &rule, 0.0)
                .unwrap()
                .ll
        };
        let mut t: Vec<f64> = beta.iter().copied().chain([tau]).collect();
        let (l0, g, hess) = derivs(&t);
        assert!((l0 - ll(&t)).abs() < 1e-12 * (1.0 + l0.abs()));
        for j in 0..n {
            let h = 1e-5;
            t[j] += h;
            let (up, gup) = (ll(&t), derivs(&t).1);
            t[j] -= 2.0 * h;
            let (down, gdown) = (ll(&t), derivs(&t).1);
            t[j] += h;
            let fd = (up - down) / (2.0 * h);
            assert!(
                (g[j] - fd).abs() < 1e-7 * (1.0 + fd.abs()),
                "{j}: {} vs {fd}",
                g[j]
            );
            for r in 0..n {
                let fd = (gup[r] - gdown[r]) / (2.0 * h);
                let got = hess[r * n + j];
                assert!(
                    (got - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                    "({r}, {j}): {got} vs {fd}"
                );
            }
        }
    }

    #[test]
    fn study_gradient_and_hessian_are_the_derivatives_of_the_agq_likelihood() {
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
        let single = Model {
            family: Family::Binomial,
            studies: vec![vec![Obs::new(3.0, 40.0, 0.0, vec![1.0, 0.7], 1.0)]],
        };
        check(&single, &[-2.0, 0.5], 0.6, 7);
        check(&single, &[-2.0, 0.5], 0.0, 7);
        let mut o = Obs::new(9.0, 20.0, 0.0, vec![1.0], 1.0);
        o.fnch = Some(Arc::new(Fnch::new(9.0, 40.0, 35.0, 20.0)));
        let fnch = Model {
            family: Family::Fnch,
            studies: vec![vec![o]],
        };
        check(&fnch, &[0.4], 0.9, 40);
    }
}
