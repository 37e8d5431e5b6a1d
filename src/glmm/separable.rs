//! Newton maximisation of a log-likelihood that is a sum of per-study terms, each depending on
//! parameters shared by all studies and on at most one parameter of its own (UM.FS's study
//! intercepts, the study × group effects of UM.RS's saturated fit). The Hessian is then an
//! arrowhead matrix, so a Newton step and the shared parameters' covariance cost O(k) by block
//! elimination (the Schur complement; Golub & Van Loan 2013, *Matrix Computations*, §3.2).

use nalgebra::{DMatrix, DVector};

/// Study i's log-likelihood at θ with its exact gradient and Hessian (row-major) in θ written
/// into the last two arguments; `None` where it cannot be evaluated.
pub type StudyExact<'a> = dyn Fn(usize, &[f64], &mut [f64], &mut [f64]) -> Option<f64> + 'a;

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
    /// Its exact gradient and Hessian in θ, if known; else central differences of the term
    /// (2n² + 1 evaluations of a study).
    pub exact: Option<&'a StudyExact<'a>>,
}

/// A maximum found by [`Separable::maximum`].
pub struct Optimum {
    /// The full parameter vector there.
    pub x: Vec<f64>,
    /// The log-likelihood there.
    pub ll: f64,
    /// The shared coordinates that were free, and the derivatives over them there.
    free: Vec<bool>,
    arrow: Arrow,
}

impl Optimum {
    fn new(x: Vec<f64>, arrow: Arrow, free: &[bool]) -> Optimum {
        Optimum {
            x,
            ll: arrow.ll,
            free: free.to_vec(),
            arrow,
        }
    }
}

/// What a trial point of a Newton step gives.
enum Trial {
    /// Its log-likelihood is no lower: the derivatives there.
    Better(Arrow),
    /// Lower, or not finite.
    Worse,
    /// No lower, but its derivatives cannot be evaluated.
    Failed,
}

/// The gradient and the arrowhead Hessian over the free coordinates.
struct Arrow {
    /// The log-likelihood at the point.
    ll: f64,
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
    /// The arrowhead over the shared coordinates marked in `keep`, a subset of the `free` ones
    /// it was computed over.
    fn restricted(&self, free: &[bool], keep: &[bool]) -> Arrow {
        let pos: Vec<usize> = (0..free.len())
            .filter(|&j| free[j])
            .enumerate()
            .filter(|&(_, j)| keep[j])
            .map(|(r, _)| r)
            .collect();
        let m = pos.len();
        Arrow {
            ll: self.ll,
            g_own: self.g_own.clone(),
            d: self.d.clone(),
            c: DMatrix::from_fn(self.c.nrows(), m, |i, c| self.c[(i, pos[c])]),
            g_sh: DVector::from_fn(m, |r, _| self.g_sh[pos[r]]),
            s: DMatrix::from_fn(m, m, |r, c| self.s[(pos[r], pos[c])]),
        }
    }

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

/// Takes the Newton step from the derivatives in hand at a converged `x`: with quadratic
/// convergence it leaves about the square of the error, at no evaluation (the ll and derivatives
/// kept are those at `x`, wrong by the square and the size of the step). A step that is not
/// small is not taken.
fn polish(x: &mut [f64], a: &Arrow, idx: &[usize]) {
    let Some((d_own, d_sh)) = a.step(0.0) else {
        return;
    };
    let dmax = d_own.iter().fold(d_sh.amax(), |m, v| m.max(v.abs()));
    let size = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if !(dmax < 1e-6 * (1.0 + size)) {
        return;
    }
    let no = d_own.len();
    for (v, d) in x.iter_mut().zip(&d_own) {
        *v += d;
    }
    for (r, &j) in idx.iter().enumerate() {
        x[no + j] += d_sh[r];
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

    /// The derivatives of every term in its free coordinates (`free` marks the shared ones),
    /// exact when known, else by central differences at relative step `h`, assembled into the
    /// arrowhead with the log-likelihood `ll` (NaN when only differences are known: the caller
    /// has it); `None` if any is not finite.
    fn arrow(&self, x: &[f64], free: &[bool], h: f64) -> Option<Arrow> {
        let idx: Vec<usize> = (0..free.len()).filter(|&j| free[j]).collect();
        let (ns, no) = (idx.len(), self.n_own());
        let mut a = Arrow {
            ll: if self.exact.is_some() { 0.0 } else { f64::NAN },
            g_own: vec![0.0; no],
            d: vec![0.0; no],
            c: DMatrix::zeros(no, ns),
            g_sh: DVector::zeros(ns),
            s: DMatrix::zeros(ns, ns),
        };
        // A study's free coordinates: the free shared ones, then its own.
        let sub: Vec<usize> = idx
            .iter()
            .copied()
            .chain(self.local.then_some(free.len()))
            .collect();
        let nt = free.len() + usize::from(self.local);
        let (mut base, mut g, mut hs) = (vec![0.0; nt], vec![0.0; nt], vec![0.0; nt * nt]);
        for i in 0..self.k {
            base[..free.len()].copy_from_slice(&x[no..]);
            if self.local {
                base[free.len()] = x[i];
            }
            match self.exact {
                Some(exact) => a.ll += exact(i, &base, &mut g, &mut hs)?,
                None => {
                    let at: Vec<f64> = sub.iter().map(|&j| base[j]).collect();
                    let f = |y: &[f64]| {
                        let mut t = base.clone();
                        for (&j, &v) in sub.iter().zip(y) {
                            t[j] = v;
                        }
                        (self.term)(i, &t).unwrap_or(f64::NEG_INFINITY)
                    };
                    let (gd, hd) = super::agq::derivatives(&f, &at, h);
                    for (r, &jr) in sub.iter().enumerate() {
                        g[jr] = gd[r];
                        for (c, &jc) in sub.iter().enumerate() {
                            hs[jr * nt + jc] = hd[(r, c)];
                        }
                    }
                }
            }
            let finite =
                |j: usize| g[j].is_finite() && sub.iter().all(|&c| hs[j * nt + c].is_finite());
            if !sub.iter().all(|&j| finite(j)) {
                return None;
            }
            for (r, &jr) in idx.iter().enumerate() {
                a.g_sh[r] += g[jr];
                for (c, &jc) in idx.iter().enumerate() {
                    a.s[(r, c)] += hs[jr * nt + jc];
                }
            }
            if self.local {
                let o = free.len();
                a.g_own[i] = g[o];
                a.d[i] = hs[o * nt + o];
                for (c, &jc) in idx.iter().enumerate() {
                    a.c[(i, c)] = hs[o * nt + jc];
                }
            }
        }
        (!a.ll.is_nan() || self.exact.is_none()).then_some(a)
    }

    /// The arrowhead at a trial point `y` if its log-likelihood is finite and at least `fx`:
    /// with exact derivatives one evaluation gives both (a point where they fail is rejected),
    /// otherwise the value comes first and the differences only where it is accepted.
    fn trial(&self, y: &[f64], free: &[bool], fx: f64) -> Trial {
        if self.exact.is_some() {
            return match self.arrow(y, free, 1e-5) {
                Some(a) if a.ll.is_finite() && a.ll >= fx => Trial::Better(a),
                _ => Trial::Worse,
            };
        }
        let fy = self.value(y);
        if !(fy.is_finite() && fy >= fx) {
            return Trial::Worse;
        }
        match self.arrow(y, free, 1e-5) {
            Some(a) => Trial::Better(Arrow { ll: fy, ..a }),
            None => Trial::Failed,
        }
    }

    /// Maximises from `x0` by Levenberg-damped Newton steps, `free` marking the shared
    /// coordinates that move (own parameters always move). `None` when it does not converge.
    pub fn maximise(&self, x0: &[f64], free: &[bool]) -> Option<Vec<f64>> {
        self.maximum(x0, free).map(|o| o.x)
    }

    /// [`Separable::maximise`], with the log-likelihood and the derivatives at the maximum.
    pub fn maximum(&self, x0: &[f64], free: &[bool]) -> Option<Optimum> {
        let mut x = x0.to_vec();
        let mut a = match self.trial(&x, free, f64::NEG_INFINITY) {
            Trial::Better(a) => a,
            _ => return None,
        };
        let no = self.n_own();
        let idx: Vec<usize> = (0..free.len()).filter(|&j| free[j]).collect();
        let mut lambda = 1e-6;
        for _ in 0..500 {
            let fx = a.ll;
            if a.amax_g() < 1e-8 * (1.0 + fx.abs()) {
                polish(&mut x, &a, &idx);
                return Some(Optimum::new(x, a, free));
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
                match self.trial(&y, free, fx) {
                    Trial::Better(next) => {
                        let dmax = d_own.iter().fold(d_sh.amax(), |m, v| m.max(v.abs()));
                        let size = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                        let small = dmax < 1e-11 * (1.0 + size);
                        x = y;
                        let gain = next.ll - fx;
                        a = next;
                        lambda = (lambda / 10.0).max(1e-12);
                        improved = true;
                        if small || gain < 1e-15 * (1.0 + a.ll.abs()) {
                            return Some(Optimum::new(x, a, free));
                        }
                        break;
                    }
                    Trial::Worse => lambda *= 10.0,
                    Trial::Failed => return None,
                }
            }
            if !improved {
                return None;
            }
        }
        None
    }

    /// The covariance of the shared coordinates marked in `keep`: the corresponding block of
    /// the inverse information (−Hessian, exact or by central differences at relative step
    /// 1e-4, the own parameters eliminated exactly). `None` if the information is not positive definite.
    pub fn shared_cov(&self, x: &[f64], keep: &[bool]) -> Option<DMatrix<f64>> {
        let a = self.arrow(x, keep, 1e-4)?;
        let (m, _) = a.schur(0.0)?;
        Some(m.cholesky()?.inverse())
    }

    /// [`Separable::shared_cov`] at a maximum: from the exact derivatives found there when the
    /// `keep` coordinates were among those maximised over.
    pub fn optimum_cov(&self, opt: &Optimum, keep: &[bool]) -> Option<DMatrix<f64>> {
        let inside = keep.iter().zip(&opt.free).all(|(k, f)| !k || *f);
        if self.exact.is_none() || !inside {
            return self.shared_cov(&opt.x, keep);
        }
        let (m, _) = opt.arrow.restricted(&opt.free, keep).schur(0.0)?;
        Some(m.cholesky()?.inverse())
    }

    /// The information of the own parameters after eliminating the shared ones marked in
    /// `keep`, D − C S⁻¹ C' (the inverse of their covariance); `None` without own parameters
    /// or if the shared block is not positive definite. Rows of absent parameters are zero.
    pub fn own_information(&self, x: &[f64], keep: &[bool]) -> Option<DMatrix<f64>> {
        if !self.local {
            return None;
        }
        let a = self.arrow(x, keep, 1e-4)?;
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
        exact: None,
    };
    one.maximise(x0, free)
}
