//! CR2, the bias-reduced linearisation sandwich (Bell & McCaffrey 2002; McCaffrey, Bell & Botts
//! 2001), with Satterthwaite df and the HTZ Wald test (Tipton & Pustejovsky 2015), step for step
//! as clubSandwich 0.5.8 computes them for a working model with weights W_j = Θ_j⁻¹.

use super::{residuals, Clusters, RobustModel};
use crate::error::{Error, Result};
use crate::moderators::metareg::OmnibusTest;
use crate::stats::pf_upper;
use nalgebra::{DMatrix, DVector};

/// Eigenvalues at or below this are treated as 0 by [`matrix_power`] (clubSandwich's `10^-12`).
const EIGEN_TOL: f64 = 1e-12;

/// The CR2 variance with per-coefficient Satterthwaite df and the HTZ test of `btt`.
pub(super) struct Cr2 {
    pub vb: DMatrix<f64>,
    pub df: Vec<f64>,
    pub qm: OmnibusTest,
}

/// What each cluster contributes to the Satterthwaite and HTZ degrees of freedom:
/// F_j = B E_j R_j' (p × n_j) and H_j = B E_j X_j L (p × p), L = chol(B).
struct Terms {
    f: Vec<DMatrix<f64>>,
    h: Vec<DMatrix<f64>>,
}

/// x^power for a symmetric matrix, through its eigen-decomposition, eigenvalues ≤ 1e-12 set to
/// 0 (clubSandwich's `matrix_power`: a pseudo-inverse for negative powers).
fn matrix_power(x: &DMatrix<f64>, power: f64) -> DMatrix<f64> {
    let (vecs, vals) = eigen_power(x, power);
    &vecs * DMatrix::from_diagonal(&vals) * vecs.transpose()
}

/// left · x^power as [`matrix_power`], without forming the n × n power: (left V) Λ^power V'.
fn times_power(left: &DMatrix<f64>, x: &DMatrix<f64>, power: f64) -> DMatrix<f64> {
    let (vecs, vals) = eigen_power(x, power);
    let mut lv = left * &vecs;
    for (mut col, v) in lv.column_iter_mut().zip(vals.iter()) {
        col *= *v;
    }
    lv * vecs.transpose()
}

/// The eigenvectors of a symmetric x and its eigenvalues raised to `power` (0 at or below
/// [`EIGEN_TOL`]).
fn eigen_power(x: &DMatrix<f64>, power: f64) -> (DMatrix<f64>, DVector<f64>) {
    let sym = (x + x.transpose()) * 0.5;
    let eig = sym.symmetric_eigen();
    let vals = eig
        .eigenvalues
        .map(|v| if v > EIGEN_TOL { v.powf(power) } else { 0.0 });
    (eig.eigenvectors, vals)
}

/// The CR2 recipe: per cluster Θ_j, W_j = Θ_j⁻¹, R_j = chol(Θ_j) (Θ_j = R_j'R_j),
/// B = (Σ X_j'W_jX_j)⁻¹, G_j = R_j (I − X_j B X_j'W_j) Θ_j R_j', A_j = R_j' G_j^(-1/2) R_j,
/// E_j = X_j'W_jA_j and Var = B (Σ E_j e_j e_j' E_j') B.
pub(super) fn cr2(model: &RobustModel, clusters: &Clusters) -> Result<Cr2> {
    let p = model.x.ncols();
    let e = residuals(model);
    let mut blocks = Vec::with_capacity(clusters.n());
    let mut xwx = DMatrix::zeros(p, p);
    for (j, rows) in clusters.rows.iter().enumerate() {
        let theta = model.marginal.block(rows);
        let chol = theta.clone().cholesky().ok_or_else(|| {
            Error::invalid(format!(
                "cluster '{}' of '{}': its block of the model's covariance is not positive definite",
                clusters.labels[j], clusters.column
            ))
        })?;
        let r = chol.l().transpose();
        let w = crate::stats::linalg::cholesky_inverse(&chol);
        let xj = model.x.select_rows(rows);
        let ej = DVector::from_iterator(rows.len(), rows.iter().map(|&i| e[i]));
        xwx += xj.transpose() * &w * &xj;
        blocks.push((theta, r, w, xj, ej));
    }
    let b_chol = xwx
        .cholesky()
        .ok_or_else(|| Error::invalid("X'WX is singular: the coefficients are not identified"))?;
    let b = b_chol.inverse();
    let l = b
        .clone()
        .cholesky()
        .ok_or_else(|| Error::invalid("(X'WX)^-1 is not positive definite"))?
        .l();
    let mut meat = DMatrix::zeros(p, p);
    let mut terms = Terms {
        f: Vec::new(),
        h: Vec::new(),
    };
    for (theta, r, w, xj, ej) in &blocks {
        // (I − X_j B X_j'W_j) Θ_j = Θ_j − X_j B X_j', as W_j = Θ_j⁻¹.
        let g = r * (theta - xj * &b * xj.transpose()) * r.transpose();
        // E_j = X_j'W_j A_j with A_j = R_j' G_j^(-1/2) R_j, multiplied from the left (p rows)
        // so that no n × n product beyond G_j is formed.
        let ej_mat = times_power(&(xj.transpose() * w * r.transpose()), &g, -0.5) * r;
        let u = &ej_mat * ej;
        meat += &u * u.transpose();
        let be = &b * &ej_mat;
        terms.f.push(&be * r.transpose());
        terms.h.push(&be * xj * &l);
    }
    let vb = &b * meat * &b;
    let df: Vec<f64> = (0..p)
        .map(|c| {
            let unit = unit(p, c);
            let pm = p_matrix(&terms, &unit, &unit);
            pm.trace().powi(2) / pm.dot(&pm)
        })
        .collect();
    let qm = htz(model, &vb, &terms);
    Ok(Cr2 { vb, df, qm })
}

fn unit(p: usize, c: usize) -> DVector<f64> {
    let mut v = DVector::zeros(p);
    v[c] = 1.0;
    v
}

/// P(c, d), J × J: δ_jl (c'F_j)·(d'F_j) − (c'H_j)·(d'H_l), the covariances behind the
/// Satterthwaite (c = d) and HTZ degrees of freedom; kept as diag(dg) − A B' (A, B: J × p), so
/// its sums cost O(J p²) and no J × J matrix is formed.
struct PMatrix {
    dg: DVector<f64>,
    a: DMatrix<f64>,
    b: DMatrix<f64>,
}

fn p_matrix(t: &Terms, c: &DVector<f64>, d: &DVector<f64>) -> PMatrix {
    let (n, p) = (t.f.len(), c.len());
    let a = DMatrix::from_fn(n, p, |j, r| t.h[j].column(r).dot(c));
    let b = DMatrix::from_fn(n, p, |j, r| t.h[j].column(r).dot(d));
    let dg = DVector::from_fn(n, |j, _| {
        (t.f[j].transpose() * c).dot(&(t.f[j].transpose() * d))
    });
    PMatrix { dg, a, b }
}

impl PMatrix {
    fn trace(&self) -> f64 {
        self.dg.sum() - self.a.component_mul(&self.b).sum()
    }

    /// Σ_jl X_jl Y_jl of X = self and Y = other.
    fn dot(&self, y: &PMatrix) -> f64 {
        let ab = |m: &PMatrix| DVector::from_fn(m.dg.len(), |j, _| m.a.row(j).dot(&m.b.row(j)));
        let cross = (self.b.transpose() * &y.b).component_mul(&(self.a.transpose() * &y.a));
        self.dg.dot(&y.dg) - self.dg.dot(&ab(y)) - y.dg.dot(&ab(self)) + cross.sum()
    }
}

/// The HTZ Wald test of `model.btt` (clubSandwich's `Wald_test(test = "HTZ")`):
/// Ω_st = tr P(e_s, e_t), contrasts transformed by Ω^(-1/2), ν = q(q + 1)/Σ_st var_st and
/// F = max(0, (ν − q + 1)/ν) · Q/q on (q, ν − q + 1) df.
fn htz(model: &RobustModel, vb: &DMatrix<f64>, t: &Terms) -> OmnibusTest {
    let (p, s) = (model.x.ncols(), &model.btt);
    let q = s.len();
    let omega = DMatrix::from_fn(q, q, |a, b| {
        p_matrix(t, &unit(p, s[a]), &unit(p, s[b])).trace()
    });
    let on = matrix_power(&omega, -0.5);
    let contrast: Vec<DVector<f64>> = (0..q)
        .map(|a| {
            let mut v = DVector::zeros(p);
            for b in 0..q {
                v[s[b]] += on[(a, b)];
            }
            v
        })
        .collect();
    let bm: Vec<Vec<PMatrix>> = (0..q)
        .map(|a| {
            (0..q)
                .map(|b| p_matrix(t, &contrast[a], &contrast[b]))
                .collect()
        })
        .collect();
    let mut total = 0.0;
    for a in 0..q {
        for b in 0..q {
            total += bm[a][b].dot(&bm[b][a]) + bm[a][a].dot(&bm[b][b]);
        }
    }
    let nu = (q * (q + 1)) as f64 / total;
    let vs = DMatrix::from_fn(q, q, |a, b| vb[(s[a], s[b])]);
    let bs = DVector::from_fn(q, |a, _| model.beta[s[a]]);
    let wald = vs.cholesky().map_or(f64::NAN, |c| bs.dot(&c.solve(&bs)));
    let ddf = nu - q as f64 + 1.0;
    let delta = (ddf / nu).max(0.0);
    let stat = (delta * wald / q as f64).max(0.0);
    OmnibusTest {
        stat,
        df: q,
        ddf: Some(ddf),
        pval: if ddf > 0.0 {
            pf_upper(stat, q as f64, ddf)
        } else {
            f64::NAN
        },
    }
}
