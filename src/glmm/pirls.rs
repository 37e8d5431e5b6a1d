//! lme4's `glmer` deviance for a model with a study intercept and a study × group random effect
//! (metafor's UM.RS), evaluated as lme4 1.1 does (Bates, Mächler, Bolker & Walker 2015, *J Stat
//! Softw* 67(1), §3.6 and §5). Stage 1 (nAGQ = 0) maximises the penalised likelihood jointly in
//! (β, u) by penalised IRLS and optimises θ on its Laplace deviance; stage 2 (nAGQ = 1) runs
//! penalised IRLS on u alone from stage 1's linear predictor at every (θ, β), stops once the
//! penalised deviance changes by less than 1e-7 relatively (`tolPwrss`), and takes log|L|² from
//! the weights at the start of the last iteration. That is ~1e-4 away from the exact Laplace
//! approximation at the mode in the log-likelihood, which moves estimates by ~1e-4 and standard
//! errors by ~1 %: emulated, so that metafor's numbers are what the fit reproduces.

use super::agq::{Family, Obs};
use nalgebra::{DMatrix, DVector, Matrix2, Vector2};

/// Stage 1's θ and β and its linear predictor by study, offsets excluded (lme4's `lp0`).
pub type Stage1 = ([f64; 2], Vec<f64>, Vec<Vec<f64>>);

/// The observations by study, each with its fixed-effects row `x` and group coding `c`; the
/// random effects of an observation are σ·a + τ·c·b.
pub struct Glmer<'a> {
    /// The response family.
    pub family: Family,
    /// Observations by study.
    pub studies: &'a [Vec<Obs>],
    /// Each observation's saturated log f (by study), computed once: every deviance needs it.
    sat: Vec<Vec<f64>>,
}

impl<'a> Glmer<'a> {
    /// The model of `studies` under `family`.
    pub fn new(family: Family, studies: &'a [Vec<Obs>]) -> Glmer<'a> {
        let sat = studies
            .iter()
            .map(|g| g.iter().map(|o| family.ll_saturated(o)).collect())
            .collect();
        Glmer {
            family,
            studies,
            sat,
        }
    }

    fn z(o: &Obs, theta: [f64; 2]) -> Vector2<f64> {
        Vector2::new(theta[0], theta[1] * o.c)
    }

    /// IRLS weight and working residual (y − μ)/(dμ/dη)·… of an observation at η.
    fn weight(&self, o: &Obs, eta: f64) -> (f64, f64) {
        let [d1, d2, ..] = self.family.dll4(o, eta);
        let w = (-d2).max(1e-300);
        (w, d1 / w)
    }

    /// The penalised deviance Σ deviance residuals + ‖u‖² and −2 Σ log f (the "aic" term).
    fn deviances(&self, eta: &[Vec<f64>], u: &[Vector2<f64>]) -> (f64, f64) {
        let (mut dev, mut aic) = (0.0, 0.0);
        for (((g, e), ui), sat) in self.studies.iter().zip(eta).zip(u).zip(&self.sat) {
            for ((o, &ej), ls) in g.iter().zip(e).zip(sat) {
                let l = self.family.ll(o, ej).0;
                dev += 2.0 * (ls - l);
                aic -= 2.0 * l;
            }
            dev += ui.norm_squared();
        }
        (dev, aic)
    }

    /// One iteration's per-study pieces: the system matrix I + ΛZ'WZΛ and the right-hand side,
    /// with ΛZ'WX for the joint update added into `b` (2 × nb by columns, nb = `b.len()` / 2);
    /// `each` gets every observation's IRLS weight and working response.
    fn block(
        &self,
        g: &[Obs],
        eta: &[f64],
        off: &[f64],
        theta: [f64; 2],
        b: &mut [f64],
        mut each: impl FnMut(&Obs, f64, f64),
    ) -> (Matrix2<f64>, Vector2<f64>) {
        let (mut a, mut r) = (Matrix2::identity(), Vector2::zeros());
        for ((o, &e), &f) in g.iter().zip(eta).zip(off) {
            let (w, res) = self.weight(o, e);
            let z = Self::z(o, theta);
            let zw = e - f + res;
            each(o, w, zw);
            a += z * z.transpose() * w;
            r += z * (w * zw);
            for (bc, xc) in b.chunks_exact_mut(2).zip(&o.x) {
                bc[0] += w * z[0] * xc;
                bc[1] += w * z[1] * xc;
            }
        }
        (a, r)
    }

    /// Stage 2: lme4's Laplace deviance at (θ, β), penalised IRLS on u started from the linear
    /// predictor `lp0` (offsets excluded). `None` if it does not converge in 30 iterations.
    pub fn deviance(&self, theta: [f64; 2], beta: &[f64], lp0: &[Vec<f64>]) -> Option<f64> {
        let off: Vec<Vec<f64>> = self
            .studies
            .iter()
            .map(|g| g.iter().map(|o| super::agq::Model::eta0(o, beta)).collect())
            .collect();
        let mut eta: Vec<Vec<f64>> = self
            .studies
            .iter()
            .zip(lp0)
            .map(|(g, l)| g.iter().zip(l).map(|(o, v)| o.offset + v).collect())
            .collect();
        let k = self.studies.len();
        let mut u = vec![Vector2::zeros(); k];
        let mut old = f64::MAX;
        for _ in 0..30 {
            let mut ld = 0.0;
            let prev = u.clone();
            for i in 0..k {
                let (a, r) = self.block(
                    &self.studies[i],
                    &eta[i],
                    &off[i],
                    theta,
                    &mut [],
                    |_, _, _| {},
                );
                ld += a.determinant().ln();
                u[i] = a.lu().solve(&r)?;
            }
            let set = |eta: &mut Vec<Vec<f64>>, u: &[Vector2<f64>]| {
                for i in 0..k {
                    for (j, o) in self.studies[i].iter().enumerate() {
                        eta[i][j] = off[i][j] + Self::z(o, theta).dot(&u[i]);
                    }
                }
            };
            set(&mut eta, &u);
            let (mut pdev, aic) = self.deviances(&eta, &u);
            if ((old - pdev) / pdev).abs() < 1e-7 {
                return Some(aic + u.iter().map(|v| v.norm_squared()).sum::<f64>() + ld);
            }
            // lme4's step halving when the penalised deviance grew (log|L|² not refreshed).
            let mut tries = 0;
            while pdev > old && tries < 10 {
                for (ui, pi) in u.iter_mut().zip(&prev) {
                    *ui = (*ui + pi) / 2.0;
                }
                set(&mut eta, &u);
                pdev = self.deviances(&eta, &u).0;
                tries += 1;
            }
            old = pdev;
        }
        None
    }

    /// Stage 1 at θ: the joint mode of the penalised likelihood in (β, u) by penalised IRLS from
    /// `eta` (updated), its coefficients, and its Laplace deviance. `None` if not converged.
    fn joint(&self, theta: [f64; 2], eta: &mut [Vec<f64>], nb: usize) -> Option<(Vec<f64>, f64)> {
        let k = self.studies.len();
        let mut beta: DVector<f64> = DVector::zeros(nb);
        let mut u = vec![Vector2::zeros(); k];
        // Each study's ΛZ'WX (2 × nb by columns), (I + ΛZ'WZΛ)⁻¹ and right-hand side, kept
        // from one iteration to the next instead of allocated per study.
        let mut bs = vec![0.0; 2 * nb * k];
        let mut ar = vec![(Matrix2::<f64>::zeros(), Vector2::<f64>::zeros()); k];
        let mut ab = vec![0.0; 2 * nb];
        for _ in 0..100 {
            let mut s = DMatrix::zeros(nb, nb);
            let mut rb = DVector::zeros(nb);
            let mut ld = 0.0;
            for (i, (g, e)) in self.studies.iter().zip(eta.iter()).enumerate() {
                let b = &mut bs[2 * nb * i..2 * nb * (i + 1)];
                b.fill(0.0);
                let xwx = |o: &Obs, w: f64, zw: f64| {
                    let x = &o.x[..nb];
                    for c in 0..nb {
                        for r in 0..nb {
                            s[(r, c)] += x[r] * x[c] * w;
                        }
                        rb[c] += x[c] * (w * zw);
                    }
                };
                let (a, r) = super::agq::scratch(g.len(), |off| {
                    for (f, o) in off.iter_mut().zip(g) {
                        *f = o.offset;
                    }
                    self.block(g, e, off, theta, b, xwx)
                });
                let ainv = a.try_inverse()?;
                ld += a.determinant().ln();
                // (I + ΛZ'WZΛ)⁻¹ΛZ'WX eliminates u from the (β, u) system.
                for (abc, bc) in ab.chunks_exact_mut(2).zip(b.chunks_exact(2)) {
                    abc[0] = ainv[(0, 0)] * bc[0] + ainv[(0, 1)] * bc[1];
                    abc[1] = ainv[(1, 0)] * bc[0] + ainv[(1, 1)] * bc[1];
                }
                for c in 0..nb {
                    let abc = &ab[2 * c..2 * c + 2];
                    for rr in 0..nb {
                        s[(rr, c)] -= b[2 * rr] * abc[0] + b[2 * rr + 1] * abc[1];
                    }
                    rb[c] -= abc[0] * r[0] + abc[1] * r[1];
                }
                ar[i] = (ainv, r);
            }
            let new_beta = s.cholesky()?.solve(&rb);
            let mut change = (&new_beta - &beta).amax();
            beta = new_beta;
            for (i, (ainv, r)) in ar.iter().enumerate() {
                let b = &bs[2 * nb * i..2 * nb * (i + 1)];
                let bb = b
                    .chunks_exact(2)
                    .zip(beta.iter())
                    .fold([0.0; 2], |t, (bc, be)| {
                        [t[0] + bc[0] * be, t[1] + bc[1] * be]
                    });
                let ui = ainv * (r - Vector2::new(bb[0], bb[1]));
                change = change.max((ui - u[i]).amax());
                u[i] = ui;
                for (j, o) in self.studies[i].iter().enumerate() {
                    let xb: f64 = o.x.iter().zip(beta.iter()).map(|(a, b)| a * b).sum();
                    eta[i][j] = o.offset + xb + Self::z(o, theta).dot(&ui);
                }
            }
            if change < 1e-11 {
                let (_, aic) = self.deviances(eta, &u);
                let sq: f64 = u.iter().map(|v| v.norm_squared()).sum();
                return Some((beta.iter().copied().collect(), aic + sq + ld));
            }
        }
        None
    }

    /// Stage 1: θ (the coordinates marked `free`, from 1 as lme4 starts) minimising the joint
    /// Laplace deviance; returns θ, β and the linear predictor without offsets (lme4's `lp0`).
    pub fn stage1(&self, nb: usize, free: [bool; 2]) -> Option<Stage1> {
        let start: Vec<Vec<f64>> = self
            .studies
            .iter()
            .map(|g| g.iter().map(|o| self.start_eta(o)).collect())
            .collect();
        let th = |t: &[f64]| [t[0], if free[1] { t[1] } else { 0.0 }];
        let f = |t: &[f64]| {
            let mut eta = start.clone();
            self.joint(th(t), &mut eta, nb)
                .map_or(f64::NEG_INFINITY, |(_, d)| -d / 2.0)
        };
        let t0 = [1.0, if free[1] { 1.0 } else { 0.0 }];
        let t = super::separable::maximise(&f, &t0, &free)?;
        let theta = [t[0].abs(), t[1].abs()];
        let mut eta = start;
        let (beta, _) = self.joint(theta, &mut eta, nb)?;
        let lp0 = self
            .studies
            .iter()
            .zip(&eta)
            .map(|(g, e)| g.iter().zip(e).map(|(o, v)| v - o.offset).collect())
            .collect();
        Some((theta, beta, lp0))
    }

    /// glm's starting linear predictor: logit((y + ½)/(n + 1)) or log(y + 0.1).
    fn start_eta(&self, o: &Obs) -> f64 {
        match self.family {
            Family::Binomial => {
                let p = (o.y + 0.5) / (o.n + 1.0);
                (p / (1.0 - p)).ln()
            }
            _ => (o.y + 0.1).ln(),
        }
    }
}
