//! Newton maximisation of a log-likelihood that is a sum of per-study terms, each depending on
//! parameters shared by all studies and on at most one parameter of its own (UM.FS's study
//! intercepts, the study × group effects of UM.RS's saturated fit). The Hessian is then an
//! arrowhead matrix, so a Newton step and the shared parameters' covariance cost O(k) by block
//! elimination (the Schur complement; Golub & Van Loan 2013, *Matrix Computations*, §3.2).

use nalgebra::{DMatrix, DVector};

/// Study i's gradient in θ written into the last argument; `None` where it cannot be evaluated.
pub type StudyGrad<'a> = dyn Fn(usize, &[f64], &mut [f64]) -> Option<()> + 'a;

/// The log-likelihood Σᵢ termᵢ. The full parameter vector is (own₀, …, own_{k−1}, shared…), the
/// own parameters present only when `local`; `term(i, θ)` gets θ = (shared…, ownᵢ) and returns
/// study i's log-likelihood, `None` where it cannot be evaluated.
pub struct Separable<'a> {
    /// Number of studies (terms).
    pub k: usize,
    /// Whether every study has a parameter of its own.
    pub local: bool,
    /// Study i's log-likelihood.
    pub term: &'a dyn Fn(usize, &[f64]) -> Option<f64>,
    /// Its exact gradient in θ, if known: the Newton steps then take the Hessian from
    /// differences of it (2n + 1 evaluations of a study instead of 2n² + 1 of the term).
    pub grad: Option<&'a StudyGrad<'a>>,
}

/// The gradient and the arrowhead Hessian over the free coordinates.
struct Arrow {
    /// ∂/∂ownᵢ and ∂²/∂ownᵢ² (empty without own parameters).
    g_own: Vec<f64>,
    d: Vec<f64>,
    /// ∂²/∂ownᵢ∂shared (row i).
    c: DMatrix<f64>,
    /// ∂/∂shared and ∂²/∂shared².
    g_sh: DVector<f64>,
    s: DMatrix<f64>,
}

impl Arrow {
    fn amax_g(&self) -> f64 {
        self.g_own
            .iter()
            .fold(self.g_sh.amax(), |m, v| m.max(v.abs()))
    }

    fn amax_h(&self) -> f64 {
        let m = self.d.iter().fold(self.s.amax(), |m, v| m.max(v.abs()));
        m.max(self.c.amax())
    }

    /// Whether study i's own parameter does not enter the likelihood at all (an arm at a
    /// boundary whose own parameter has gone to ±∞ in the limit the term takes).
    fn absent(&self, i: usize) -> bool {
        self.d[i] == 0.0 && self.g_own[i] == 0.0 && self.c.row(i).iter().all(|v| *v == 0.0)
    }

    /// The Schur complement of the own block in −H + μI (`None` if not positive definite),
    /// the own block's diagonal alongside.
    fn schur(&self, mu: f64) -> Option<(DMatrix<f64>, Vec<f64>)> {
        let ns = self.s.nrows();
        let mut m = -&self.s + DMatrix::identity(ns, ns) * mu;
        let mut dd = vec![1.0; self.d.len()];
        for (i, ddi) in dd.iter_mut().enumerate() {
            if self.absent(i) {
                continue;
            }
            *ddi = mu - self.d[i];
            if !(*ddi > 0.0) {
                return None;
            }
            let ci = self.c.row(i).transpose();
            m -= &ci * ci.transpose() / *ddi;
        }
        Some((m, dd))
    }

    /// Solves (−H + μI) δ = g: the damped Newton step (own, shared).
    fn step(&self, mu: f64) -> Option<(Vec<f64>, DVector<f64>)> {
        let (m, dd) = self.schur(mu)?;
        let mut rhs = self.g_sh.clone();
        for (i, &ddi) in dd.iter().enumerate() {
            rhs += self.c.row(i).transpose() * (self.g_own[i] / ddi);
        }
        let d_sh = m.cholesky()?.solve(&rhs);
        let d_own = (0..dd.len())
            .map(|i| (self.g_own[i] + self.c.row(i).dot(&d_sh.transpose())) / dd[i])
            .collect();
        Some((d_own, d_sh))
    }
}

impl Separable<'_> {
    /// The number of own parameters at the front of the full vector.
    pub fn n_own(&self) -> usize {
        if self.local {
            self.k
        } else {
            0
        }
    }

    /// The log-likelihood at the full parameter vector `x` (−∞ where a term fails).
    pub fn value(&self, x: &[f64]) -> f64 {
        let mut total = 0.0;
        let (no, own) = (self.n_own(), usize::from(self.local));
        for i in 0..self.k {
            let v = super::agq::scratch(x.len() - no + own, |a| {
                a[..x.len() - no].copy_from_slice(&x[no..]);
                if self.local {
                    a[x.len() - no] = x[i];
                }
                (self.term)(i, a)
            });
            match v {
                Some(v) if v.is_finite() => total += v,
                _ => return f64::NEG_INFINITY,
            }
        }
        total
    }

    /// Study i's θ = (shared…, ownᵢ) from the full vector `x`.
    pub fn args(&self, x: &[f64], i: usize) -> Vec<f64> {
        let mut a = Vec::with_capacity(x.len() - self.n_own() + 1);
        a.extend_from_slice(&x[self.n_own()..]);
        if self.local {
            a.push(x[i]);
        }
        a
    }

    /// Central-difference derivatives of every term in its free coordinates (`free` marks the
    /// shared ones), of the exact gradient when `exact` and one is known, of the term otherwise,
    /// assembled into the arrowhead; `None` if any is not finite.
    fn arrow(&self, x: &[f64], free: &[bool], h: f64, exact: bool) -> Option<Arrow> {
        let idx: Vec<usize> = (0..free.len()).filter(|&j| free[j]).collect();
        let ns = idx.len();
        let no = self.n_own();
        let mut a = Arrow {
            g_own: vec![0.0; no],
            d: vec![0.0; no],
            c: DMatrix::zeros(no, ns),
            g_sh: DVector::zeros(ns),
            s: DMatrix::zeros(ns, ns),
        };
        for i in 0..self.k {
            let base = self.args(x, i);
            let mut sub: Vec<f64> = idx.iter().map(|&j| base[j]).collect();
            if self.local {
                sub.push(base[free.len()]);
            }
            let at = |y: &[f64]| {
                let mut t = base.clone();
                for (&j, &v) in idx.iter().zip(y) {
                    t[j] = v;
                }
                if self.local {
                    t[free.len()] = y[ns];
                }
                t
            };
            let (g, hs) = match self.grad.filter(|_| exact) {
                Some(grad) => {
                    let gf = |y: &[f64], out: &mut [f64]| {
                        super::agq::scratch(2 * base.len(), |buf| {
                            let (t, g) = buf.split_at_mut(base.len());
                            t.copy_from_slice(&base);
                            for (&j, &v) in idx.iter().zip(y) {
                                t[j] = v;
                            }
                            if self.local {
                                t[free.len()] = y[ns];
                            }
                            grad(i, t, g)?;
                            for (o, &j) in out.iter_mut().zip(&idx) {
                                *o = g[j];
                            }
                            if self.local {
                                out[ns] = g[free.len()];
                            }
                            Some(())
                        })
                    };
                    super::agq::gradient_derivatives(&gf, &sub, h)?
                }
                None => {
                    let f = |y: &[f64]| (self.term)(i, &at(y)).unwrap_or(f64::NEG_INFINITY);
                    let (g, hs) = super::agq::derivatives(&f, &sub, h);
                    if g.iter().chain(hs.iter()).any(|v| !v.is_finite()) {
                        return None;
                    }
                    (g, hs)
                }
            };
            a.g_sh += g.rows(0, ns);
            a.s += hs.view((0, 0), (ns, ns));
            if self.local {
                a.g_own[i] = g[ns];
                a.d[i] = hs[(ns, ns)];
                a.c.row_mut(i).copy_from(&hs.view((ns, 0), (1, ns)));
            }
        }
        Some(a)
    }

    /// Maximises from `x0` by Levenberg-damped Newton steps, `free` marking the shared
    /// coordinates that move (own parameters always move). `None` when it does not converge.
    pub fn maximise(&self, x0: &[f64], free: &[bool]) -> Option<Vec<f64>> {
        let mut x = x0.to_vec();
        let mut fx = self.value(&x);
        if !fx.is_finite() {
            return None;
        }
        let no = self.n_own();
        let idx: Vec<usize> = (0..free.len()).filter(|&j| free[j]).collect();
        let mut lambda = 1e-6;
        for _ in 0..500 {
            let a = self.arrow(&x, free, 1e-5, true)?;
            if a.amax_g() < 1e-8 * (1.0 + fx.abs()) {
                return Some(x);
            }
            let mut improved = false;
            for _ in 0..40 {
                let Some((d_own, d_sh)) = a.step(lambda * (1.0 + a.amax_h())) else {
                    lambda *= 10.0;
                    continue;
                };
                let mut y = x.clone();
                for (v, d) in y.iter_mut().zip(&d_own) {
                    *v += d;
                }
                for (r, &j) in idx.iter().enumerate() {
                    y[no + j] += d_sh[r];
                }
                let fy = self.value(&y);
                if fy.is_finite() && fy >= fx {
                    let dmax = d_own.iter().fold(d_sh.amax(), |m, v| m.max(v.abs()));
                    let small = dmax < 1e-11 * (1.0 + x.iter().fold(0.0f64, |m, v| m.max(v.abs())));
                    x = y;
                    let gain = fy - fx;
                    fx = fy;
                    lambda = (lambda / 10.0).max(1e-12);
                    improved = true;
                    if small || gain < 1e-15 * (1.0 + fx.abs()) {
                        return Some(x);
                    }
                    break;
                }
                lambda *= 10.0;
            }
            if !improved {
                return None;
            }
        }
        None
    }

    /// The covariance of the shared coordinates marked in `keep`: the corresponding block of
    /// the inverse information (−Hessian, central differences at relative step 1e-4, the own
    /// parameters eliminated exactly). `None` if the information is not positive definite.
    pub fn shared_cov(&self, x: &[f64], keep: &[bool]) -> Option<DMatrix<f64>> {
        let a = self.arrow(x, keep, 1e-4, false)?;
        let (m, _) = a.schur(0.0)?;
        Some(m.cholesky()?.inverse())
    }

    /// The information of the own parameters after eliminating the shared ones marked in
    /// `keep`, D − C S⁻¹ C' (the inverse of their covariance); `None` without own parameters
    /// or if the shared block is not positive definite. Rows of absent parameters are zero.
    pub fn own_information(&self, x: &[f64], keep: &[bool]) -> Option<DMatrix<f64>> {
        if !self.local {
            return None;
        }
        let a = self.arrow(x, keep, 1e-4, false)?;
        let s = (-&a.s).cholesky()?;
        let sc = s.solve(&a.c.transpose());
        let mut info = -(&a.c * sc);
        for i in 0..self.k {
            info[(i, i)] -= a.d[i];
        }
        Some(info)
    }
}

/// Maximises a single function `f` from `x0` by the same damped Newton steps, `free` marking the
/// coordinates that move. `None` when it does not converge.
pub fn maximise(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], free: &[bool]) -> Option<Vec<f64>> {
    let term = |_: usize, t: &[f64]| Some(f(t));
    let one = Separable {
        k: 1,
        local: false,
        term: &term,
        grad: None,
    };
    one.maximise(x0, free)
}
