//! The weighted-least-squares quantities every τ² estimator and model fit needs.
//!
//! Estimators are written once against [`Design`]; the intercept-only model implements it with
//! O(k) closed forms (no k×k matrices), and meta-regression implements it with matrices.

/// Quantities of the projection P = W − WX(X'WX)⁻¹X'W for a weight vector w.
#[derive(Debug, Clone, Copy, Default)]
pub struct PQuantities {
    /// y'Py: the weighted residual sum of squares.
    pub ypy: f64,
    /// y'PPy.
    pub yppy: f64,
    /// tr(P).
    pub tr_p: f64,
    /// tr(PP) = Σ P²ᵢⱼ.
    pub tr_pp: f64,
}

/// Quantities involving the sampling variances V as well: tr(PV), tr(PVPV), Σ(PV∘P).
#[derive(Debug, Clone, Copy, Default)]
pub struct PvQuantities {
    /// tr(PV).
    pub tr_pv: f64,
    /// tr(PVPV).
    pub tr_pvpv: f64,
    /// Σ (PV ∘ P) = tr(PVP).
    pub sum_pv_p: f64,
    /// tr(PP).
    pub tr_pp: f64,
    /// tr(P).
    pub tr_p: f64,
}

/// A weighted least-squares fit.
#[derive(Debug, Clone)]
pub struct WlsFit {
    /// The coefficients b = (X'WX)⁻¹X'Wy.
    pub beta: Vec<f64>,
    /// (X'WX)⁻¹, row-major p×p.
    pub vb: Vec<f64>,
    /// Σ w (y − Xb)².
    pub rss: f64,
}

/// A model design (the X matrix): what the estimators need from it.
pub trait Design {
    /// Number of studies.
    fn k(&self) -> usize;
    /// Number of coefficients.
    fn p(&self) -> usize;
    /// P quantities for weights `w`.
    fn p_quantities(&self, y: &[f64], w: &[f64]) -> PQuantities;
    /// PV quantities for weights `w` and variances `v`.
    fn pv_quantities(&self, w: &[f64], v: &[f64]) -> PvQuantities;
    /// Weighted least squares with weights `w`; `None` when X'WX is singular.
    fn wls(&self, y: &[f64], w: &[f64]) -> Option<WlsFit>;
    /// log det(X'WX).
    fn log_det_xwx(&self, w: &[f64]) -> f64;
    /// log det(X'X).
    fn log_det_xx(&self) -> f64;
    /// Generalised Q, Σ wᵢ(yᵢ − Xb)² with wᵢ = 1/(vᵢ + τ²), the function PM and the Q-profile
    /// search evaluate many times.
    fn q_gen(&self, y: &[f64], v: &[f64], tau2: f64) -> f64 {
        let w: Vec<f64> = v.iter().map(|&vi| 1.0 / (vi + tau2)).collect();
        self.p_quantities(y, &w).ypy
    }
}

/// The intercept-only model (X = 1): every quantity in closed form, O(k).
#[derive(Debug, Clone, Copy)]
pub struct Intercept {
    /// Number of studies.
    pub k: usize,
}

impl Design for Intercept {
    fn k(&self) -> usize {
        self.k
    }
    fn p(&self) -> usize {
        1
    }

    fn p_quantities(&self, y: &[f64], w: &[f64]) -> PQuantities {
        // P = W − w wᵀ/S, so Py = w ∘ (y − b) with b the weighted mean.
        let (mut s, mut s2, mut s3, mut swy) = (0.0, 0.0, 0.0, 0.0);
        for (&wi, &yi) in w.iter().zip(y) {
            s += wi;
            s2 += wi * wi;
            s3 += wi * wi * wi;
            swy += wi * yi;
        }
        let b = swy / s;
        let (mut ypy, mut yppy) = (0.0, 0.0);
        for (&wi, &yi) in w.iter().zip(y) {
            let r = yi - b;
            ypy += wi * r * r;
            yppy += wi * wi * r * r;
        }
        PQuantities {
            ypy,
            yppy,
            tr_p: s - s2 / s,
            tr_pp: s2 - 2.0 * s3 / s + s2 * s2 / (s * s),
        }
    }

    fn pv_quantities(&self, w: &[f64], v: &[f64]) -> PvQuantities {
        // With Pᵢⱼ = wᵢδᵢⱼ − wᵢwⱼ/S: Pᵢⱼ² = δᵢⱼ(wᵢ² − 2wᵢ³/S) + wᵢ²wⱼ²/S².
        let (mut s, mut s2, mut s3) = (0.0, 0.0, 0.0);
        let (mut w1v, mut w2v, mut w3v, mut w2v2, mut w3v2) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&wi, &vi) in w.iter().zip(v) {
            let w2 = wi * wi;
            let w3 = w2 * wi;
            s += wi;
            s2 += w2;
            s3 += w3;
            w1v += wi * vi;
            w2v += w2 * vi;
            w3v += w3 * vi;
            w2v2 += w2 * vi * vi;
            w3v2 += w3 * vi * vi;
        }
        PvQuantities {
            tr_pv: w1v - w2v / s,
            tr_pvpv: w2v2 - 2.0 * w3v2 / s + w2v * w2v / (s * s),
            sum_pv_p: w2v - 2.0 * w3v / s + s2 * w2v / (s * s),
            tr_pp: s2 - 2.0 * s3 / s + s2 * s2 / (s * s),
            tr_p: s - s2 / s,
        }
    }

    fn wls(&self, y: &[f64], w: &[f64]) -> Option<WlsFit> {
        let (mut s, mut swy) = (0.0, 0.0);
        for (&wi, &yi) in w.iter().zip(y) {
            s += wi;
            swy += wi * yi;
        }
        if !(s > 0.0) || !s.is_finite() {
            return None;
        }
        let b = swy / s;
        let rss = w
            .iter()
            .zip(y)
            .map(|(&wi, &yi)| wi * (yi - b) * (yi - b))
            .sum();
        Some(WlsFit {
            beta: vec![b],
            vb: vec![1.0 / s],
            rss,
        })
    }

    fn log_det_xwx(&self, w: &[f64]) -> f64 {
        w.iter().sum::<f64>().ln()
    }

    fn log_det_xx(&self) -> f64 {
        (self.k as f64).ln()
    }

    fn q_gen(&self, y: &[f64], v: &[f64], tau2: f64) -> f64 {
        // Two passes, no allocation: the weighted mean, then the weighted squares about it.
        let (mut s, mut swy) = (0.0, 0.0);
        for (&vi, &yi) in v.iter().zip(y) {
            let w = 1.0 / (vi + tau2);
            s += w;
            swy += w * yi;
        }
        let b = swy / s;
        v.iter()
            .zip(y)
            .map(|(&vi, &yi)| (yi - b) * (yi - b) / (vi + tau2))
            .sum()
    }
}

/// A general model matrix X (k × p), for meta-regression.
///
/// Up to [`EXPLICIT_MAX_K`] studies the quantities go through the explicit k × k projection P,
/// as metafor computes them (and as every committed output was produced, to the last bit).
/// Beyond it P is never formed: every quantity comes from the p × p Cholesky factor of X'WX,
/// O(k·p²) time and O(k·p) memory, so k = 100,000 studies costs megabytes, not the 80 GB (and
/// O(k²p) time per τ² iteration) of a k × k P. The two routes agree to rounding (≈ 1e-15).
#[derive(Debug, Clone)]
pub struct Matrix {
    /// The k × p model matrix.
    pub x: nalgebra::DMatrix<f64>,
}

/// X as the estimators best see it: the closed-form [`Intercept`] design when X is a single
/// column of ones, else the [`Matrix`] one.
#[derive(Debug, Clone)]
pub enum Auto {
    /// X = 1.
    Intercept(Intercept),
    /// Any other X.
    Matrix(Matrix),
}

impl Auto {
    /// The design of `x`.
    pub fn new(x: nalgebra::DMatrix<f64>) -> Auto {
        if x.ncols() == 1 && x.iter().all(|&v| v == 1.0) {
            Auto::Intercept(Intercept { k: x.nrows() })
        } else {
            Auto::Matrix(Matrix::new(x))
        }
    }
}

/// Forwards each [`Design`] method to the design inside.
macro_rules! forward {
    ($self:ident, $d:ident => $call:expr) => {
        match $self {
            Auto::Intercept($d) => $call,
            Auto::Matrix($d) => $call,
        }
    };
}

impl Design for Auto {
    fn k(&self) -> usize {
        forward!(self, d => d.k())
    }
    fn p(&self) -> usize {
        forward!(self, d => d.p())
    }
    fn p_quantities(&self, y: &[f64], w: &[f64]) -> PQuantities {
        forward!(self, d => d.p_quantities(y, w))
    }
    fn pv_quantities(&self, w: &[f64], v: &[f64]) -> PvQuantities {
        forward!(self, d => d.pv_quantities(w, v))
    }
    fn wls(&self, y: &[f64], w: &[f64]) -> Option<WlsFit> {
        forward!(self, d => d.wls(y, w))
    }
    fn log_det_xwx(&self, w: &[f64]) -> f64 {
        forward!(self, d => d.log_det_xwx(w))
    }
    fn log_det_xx(&self) -> f64 {
        forward!(self, d => d.log_det_xx())
    }
    fn q_gen(&self, y: &[f64], v: &[f64], tau2: f64) -> f64 {
        forward!(self, d => d.q_gen(y, v, tau2))
    }
}

/// The largest k for which [`Matrix`] forms the k × k projection P (8 MB at this size).
pub const EXPLICIT_MAX_K: usize = 1000;

/// P = W − WX(X'WX)⁻¹X'W in factored form: with LLᵀ = X'WX and uᵢ = wᵢL⁻¹xᵢ,
/// Pᵢⱼ = wᵢδᵢⱼ − uᵢ·uⱼ.
struct Factored<'a> {
    /// The weights.
    w: &'a [f64],
    /// Column i is uᵢ (p × k).
    u: nalgebra::DMatrix<f64>,
    /// The Cholesky factor of X'WX.
    chol: nalgebra::Cholesky<f64, nalgebra::Dyn>,
}

impl Factored<'_> {
    /// Σᵢⱼ P²ᵢⱼ aᵢ bⱼ = Σᵢ wᵢaᵢbᵢ(wᵢ − 2‖uᵢ‖²) + tr(G_a G_b), G_c = Σᵢ cᵢuᵢuᵢᵀ (p × p).
    fn sum_p2(&self, a: &[f64], b: &[f64]) -> f64 {
        let mut diag = 0.0;
        for (i, ((&wi, &ai), &bi)) in self.w.iter().zip(a).zip(b).enumerate() {
            diag += wi * ai * bi * (wi - 2.0 * self.u.column(i).norm_squared());
        }
        let (ga, gb) = (self.gram(a), self.gram(b));
        diag + ga.component_mul(&gb).sum()
    }

    /// G_c = Σᵢ cᵢuᵢuᵢᵀ.
    fn gram(&self, c: &[f64]) -> nalgebra::DMatrix<f64> {
        let scaled = nalgebra::DMatrix::from_fn(self.u.nrows(), self.u.ncols(), |r, i| {
            c[i] * self.u[(r, i)]
        });
        scaled * self.u.transpose()
    }

    /// Pᵢᵢ = wᵢ − ‖uᵢ‖².
    fn p_diag(&self, i: usize) -> f64 {
        self.w[i] - self.u.column(i).norm_squared()
    }

    /// tr(P).
    fn tr_p(&self) -> f64 {
        (0..self.w.len()).map(|i| self.p_diag(i)).sum()
    }
}

impl Matrix {
    /// Wraps a k × p model matrix.
    pub fn new(x: nalgebra::DMatrix<f64>) -> Matrix {
        Matrix { x }
    }

    /// The Cholesky factor of X'WX; `None` when it is not positive definite (rank-deficient).
    fn xwx_chol(&self, w: &[f64]) -> Option<nalgebra::Cholesky<f64, nalgebra::Dyn>> {
        let p = self.x.ncols();
        let mut a = nalgebra::DMatrix::<f64>::zeros(p, p);
        for (i, &wi) in w.iter().enumerate() {
            let row = self.x.row(i);
            for r in 0..p {
                for c in 0..p {
                    a[(r, c)] += wi * row[r] * row[c];
                }
            }
        }
        a.cholesky()
    }

    /// (X'WX)⁻¹ by Cholesky; `None` when X'WX is not positive definite (rank-deficient design).
    fn xwx_inv(&self, w: &[f64]) -> Option<nalgebra::DMatrix<f64>> {
        self.xwx_chol(w).map(|ch| ch.inverse())
    }

    /// The projection P = W − WX(X'WX)⁻¹X'W; `None` for a rank-deficient design.
    fn projection(&self, w: &[f64]) -> Option<nalgebra::DMatrix<f64>> {
        let k = self.x.nrows();
        let inv = self.xwx_inv(w)?;
        let wx = nalgebra::DMatrix::from_fn(k, self.x.ncols(), |i, j| w[i] * self.x[(i, j)]);
        let mut pm = -(&wx * inv * wx.transpose());
        for i in 0..k {
            pm[(i, i)] += w[i];
        }
        Some(pm)
    }

    /// P quantities through the explicit P (small k).
    fn p_quantities_explicit(&self, y: &[f64], w: &[f64]) -> Option<PQuantities> {
        let pm = self.projection(w)?;
        let yv = nalgebra::DVector::from_column_slice(y);
        let py = &pm * &yv;
        Some(PQuantities {
            ypy: yv.dot(&py),
            yppy: py.dot(&py),
            tr_p: pm.trace(),
            tr_pp: pm.iter().map(|x| x * x).sum(),
        })
    }

    /// PV quantities through the explicit P (small k).
    fn pv_quantities_explicit(&self, w: &[f64], v: &[f64]) -> Option<PvQuantities> {
        let pm = self.projection(w)?;
        let k = pm.nrows();
        let (mut tr_pv, mut tr_pvpv, mut sum_pv_p, mut tr_pp) = (0.0, 0.0, 0.0, 0.0);
        for i in 0..k {
            tr_pv += pm[(i, i)] * v[i];
            for j in 0..k {
                let p2 = pm[(i, j)] * pm[(i, j)];
                tr_pvpv += p2 * v[i] * v[j];
                sum_pv_p += p2 * v[j];
                tr_pp += p2;
            }
        }
        Some(PvQuantities {
            tr_pv,
            tr_pvpv,
            sum_pv_p,
            tr_pp,
            tr_p: pm.trace(),
        })
    }

    /// P quantities without forming P (large k): Py = W(y − Xb), b = (X'WX)⁻¹X'Wy.
    fn p_quantities_factored(&self, y: &[f64], w: &[f64]) -> Option<PQuantities> {
        let f = self.factored(w)?;
        let p = self.x.ncols();
        let mut xwy = nalgebra::DVector::<f64>::zeros(p);
        for (i, (&wi, &yi)) in w.iter().zip(y).enumerate() {
            for c in 0..p {
                xwy[c] += wi * self.x[(i, c)] * yi;
            }
        }
        let b = f.chol.solve(&xwy);
        let (mut ypy, mut yppy) = (0.0, 0.0);
        for (i, (&wi, &yi)) in w.iter().zip(y).enumerate() {
            let r = yi - self.x.row(i).transpose().dot(&b);
            ypy += wi * r * r;
            yppy += wi * wi * r * r;
        }
        let ones = vec![1.0; w.len()];
        Some(PQuantities {
            ypy,
            yppy,
            tr_p: f.tr_p(),
            tr_pp: f.sum_p2(&ones, &ones),
        })
    }

    /// PV quantities without forming P (large k).
    fn pv_quantities_factored(&self, w: &[f64], v: &[f64]) -> Option<PvQuantities> {
        let f = self.factored(w)?;
        let ones = vec![1.0; w.len()];
        Some(PvQuantities {
            tr_pv: (0..w.len()).map(|i| f.p_diag(i) * v[i]).sum(),
            tr_pvpv: f.sum_p2(v, v),
            sum_pv_p: f.sum_p2(&ones, v),
            tr_pp: f.sum_p2(&ones, &ones),
            tr_p: f.tr_p(),
        })
    }

    /// P in factored form; `None` for a rank-deficient design.
    fn factored<'a>(&self, w: &'a [f64]) -> Option<Factored<'a>> {
        let chol = self.xwx_chol(w)?;
        let wxt = nalgebra::DMatrix::from_fn(self.x.ncols(), self.x.nrows(), |j, i| {
            w[i] * self.x[(i, j)]
        });
        let u = chol.l_dirty().solve_lower_triangular(&wxt)?;
        Some(Factored { w, u, chol })
    }
}

impl Design for Matrix {
    fn k(&self) -> usize {
        self.x.nrows()
    }
    fn p(&self) -> usize {
        self.x.ncols()
    }

    fn p_quantities(&self, y: &[f64], w: &[f64]) -> PQuantities {
        let q = if self.k() <= EXPLICIT_MAX_K {
            self.p_quantities_explicit(y, w)
        } else {
            self.p_quantities_factored(y, w)
        };
        q.unwrap_or(PQuantities {
            ypy: f64::NAN,
            yppy: f64::NAN,
            tr_p: f64::NAN,
            tr_pp: f64::NAN,
        })
    }

    fn pv_quantities(&self, w: &[f64], v: &[f64]) -> PvQuantities {
        let q = if self.k() <= EXPLICIT_MAX_K {
            self.pv_quantities_explicit(w, v)
        } else {
            self.pv_quantities_factored(w, v)
        };
        q.unwrap_or(PvQuantities {
            tr_pv: f64::NAN,
            tr_pvpv: f64::NAN,
            sum_pv_p: f64::NAN,
            tr_pp: f64::NAN,
            tr_p: f64::NAN,
        })
    }

    fn wls(&self, y: &[f64], w: &[f64]) -> Option<WlsFit> {
        let inv = self.xwx_inv(w)?;
        let p = self.x.ncols();
        let mut xwy = nalgebra::DVector::<f64>::zeros(p);
        for (i, (&wi, &yi)) in w.iter().zip(y).enumerate() {
            for c in 0..p {
                xwy[c] += wi * self.x[(i, c)] * yi;
            }
        }
        let beta = &inv * xwy;
        let fitted = &self.x * &beta;
        let rss = (0..y.len())
            .map(|i| w[i] * (y[i] - fitted[i]).powi(2))
            .sum();
        let mut vb = Vec::with_capacity(p * p);
        for r in 0..p {
            for c in 0..p {
                vb.push(inv[(r, c)]);
            }
        }
        Some(WlsFit {
            beta: beta.iter().copied().collect(),
            vb,
            rss,
        })
    }

    fn log_det_xwx(&self, w: &[f64]) -> f64 {
        let p = self.x.ncols();
        let wx = nalgebra::DMatrix::from_fn(self.x.nrows(), p, |i, j| w[i] * self.x[(i, j)]);
        (self.x.transpose() * wx).determinant().abs().ln()
    }

    fn log_det_xx(&self) -> f64 {
        (self.x.transpose() * &self.x).determinant().abs().ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The O(k·p²) factored quantities equal the definitions through the explicit P.
    #[test]
    fn factored_projection_equals_explicit() {
        let k = 9;
        let x = nalgebra::DMatrix::from_fn(k, 3, |i, j| match j {
            0 => 1.0,
            1 => (i as f64 * 0.7).sin() * 3.0,
            _ => (i * i) as f64 / 10.0,
        });
        let y: Vec<f64> = (0..k).map(|i| (i as f64 * 1.3).cos()).collect();
        let v: Vec<f64> = (0..k).map(|i| 0.05 + 0.03 * i as f64).collect();
        let w: Vec<f64> = v.iter().map(|x| 1.0 / (x + 0.1)).collect();
        let m = Matrix::new(x);
        let (a, b) = (
            m.p_quantities_factored(&y, &w).unwrap(),
            m.p_quantities_explicit(&y, &w).unwrap(),
        );
        let (c, d) = (
            m.pv_quantities_factored(&w, &v).unwrap(),
            m.pv_quantities_explicit(&w, &v).unwrap(),
        );
        for (got, want) in [
            (a.ypy, b.ypy),
            (a.yppy, b.yppy),
            (a.tr_p, b.tr_p),
            (a.tr_pp, b.tr_pp),
            (c.tr_pv, d.tr_pv),
            (c.tr_pvpv, d.tr_pvpv),
            (c.sum_pv_p, d.sum_pv_p),
            (c.tr_pp, d.tr_pp),
            (c.tr_p, d.tr_p),
        ] {
            assert!(
                (got - want).abs() < 1e-12 * want.abs().max(1.0),
                "{got} vs {want}"
            );
        }
        // Both agree with the public dispatch (explicit at this k).
        assert_eq!(m.p_quantities(&y, &w).tr_pp, b.tr_pp);
    }

    // A rank-deficient design gives NaN quantities on both routes, not a panic.
    #[test]
    fn rank_deficient_design_is_nan() {
        let x = nalgebra::DMatrix::from_fn(4, 2, |_, _| 1.0);
        let w = [1.0; 4];
        let m = Matrix::new(x);
        assert!(m.p_quantities(&[0.0, 1.0, 2.0, 3.0], &w).tr_p.is_nan());
        assert!(m.p_quantities_factored(&[0.0, 1.0, 2.0, 3.0], &w).is_none());
        assert!(m.pv_quantities_factored(&w, &w).is_none());
    }

    // The matrix design with a column of ones must agree with the closed forms.
    #[test]
    fn matrix_intercept_equals_closed_form() {
        let y = [0.1, -0.4, 0.7, 0.2, -1.1];
        let v = [0.3, 0.1, 0.2, 0.5, 0.25];
        let w: Vec<f64> = v.iter().map(|x| 1.0 / (x + 0.2)).collect();
        let m = Matrix::new(nalgebra::DMatrix::from_element(5, 1, 1.0));
        let i = Intercept { k: 5 };
        let (a, b) = (m.p_quantities(&y, &w), i.p_quantities(&y, &w));
        for (x, z) in [
            (a.ypy, b.ypy),
            (a.yppy, b.yppy),
            (a.tr_p, b.tr_p),
            (a.tr_pp, b.tr_pp),
        ] {
            assert!((x - z).abs() < 1e-12 * z.abs().max(1.0), "{x} vs {z}");
        }
        let (a, b) = (m.pv_quantities(&w, &v), i.pv_quantities(&w, &v));
        for (x, z) in [
            (a.tr_pv, b.tr_pv),
            (a.tr_pvpv, b.tr_pvpv),
            (a.sum_pv_p, b.sum_pv_p),
        ] {
            assert!((x - z).abs() < 1e-12 * z.abs().max(1.0), "{x} vs {z}");
        }
        assert!((m.log_det_xwx(&w) - i.log_det_xwx(&w)).abs() < 1e-12);
        assert!((m.log_det_xx() - i.log_det_xx()).abs() < 1e-12);
    }
}
