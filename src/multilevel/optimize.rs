//! Maximising the (restricted) likelihood over the variance components: Newton steps with the
//! analytic observed Hessian on the log-variance scale, Fisher scoring where the Hessian is not
//! negative definite (Jennrich & Sampson 1976, *Technometrics* 18:11–17), step halving, and
//! components that reach 0 fixed at the boundary once the Karush–Kuhn–Tucker condition (score
//! ≤ 0 there) confirms it.

use super::likelihood::{Eval, Likelihood, Model};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

/// The optimum: σ², the evaluation there and the iterations used.
#[derive(Debug, Clone)]
pub(crate) struct Optimum {
    pub sigma2: Vec<f64>,
    pub eval: Eval,
    pub iterations: usize,
}

const MAX_ITER: usize = 500;

/// Maximises over the components with `fixed[j] == None`; the others stay at their value.
/// `names` name the components in a non-convergence error; `scale` sets the boundary (a
/// component below 1e-10·scale is at 0).
pub(crate) fn maximise(
    model: &Model,
    lik: Likelihood,
    start: &[f64],
    fixed: &[Option<f64>],
    names: &[String],
    scale: f64,
) -> Result<Optimum> {
    let q = start.len();
    let mut s: Vec<f64> = (0..q).map(|j| fixed[j].unwrap_or(start[j])).collect();
    let mut at_zero = vec![false; q];
    let tiny = 1e-10 * scale;
    let mut e = model.eval(&s, lik, true)?;
    let mut stalled = false;
    for iter in 0..MAX_ITER {
        let free: Vec<usize> = (0..q)
            .filter(|&j| fixed[j].is_none() && !at_zero[j])
            .collect();
        let g: Vec<f64> = free.iter().map(|&j| s[j] * e.grad[j]).collect();
        let step = direction(&e, &s, &free, &g);
        let converged_step = step.iter().all(|d| d.abs() < 1e-10)
            || g.iter().all(|x| x.abs() < 1e-13 * (1.0 + e.ll.abs()));
        if free.is_empty() || converged_step || stalled {
            stalled = false;
            // The boundary: a component at 0 whose score still points inward is released.
            let release: Vec<usize> = (0..q)
                .filter(|&j| at_zero[j] && e.grad[j] > 1e-9 * (1.0 + e.ll.abs()))
                .collect();
            if release.is_empty() {
                return Ok(Optimum {
                    sigma2: s,
                    eval: e,
                    iterations: iter,
                });
            }
            for j in release {
                at_zero[j] = false;
                s[j] = (e.grad[j] / e.info[(j, j)].max(f64::MIN_POSITIVE)).max(100.0 * tiny);
            }
            e = model.eval(&s, lik, true)?;
            continue;
        }
        match line_search(model, lik, &s, &at_zero, &free, &step, tiny, &e) {
            Some((ns, nz, ne)) => {
                s = ns;
                at_zero = nz;
                e = ne;
            }
            None => stalled = true,
        }
    }
    let worst = (0..q)
        .filter(|&j| fixed[j].is_none() && !at_zero[j])
        .max_by(|&a, &b| {
            (s[a] * e.grad[a])
                .abs()
                .total_cmp(&(s[b] * e.grad[b]).abs())
        })
        .unwrap_or(0);
    Err(Error::NotConverged {
        method: match lik {
            Likelihood::Ml => "ML",
            Likelihood::Reml => "REML",
        },
        detail: format!(
            "the variance component of '{}' did not settle in {MAX_ITER} iterations (sigma2 = {:e}, score {:e})",
            names.get(worst).map_or("?", String::as_str),
            s[worst],
            e.grad[worst]
        ),
    })
}

/// The Newton direction on log σ² over the free components, or Fisher scoring's where the
/// Hessian is not negative definite; at most 5 units of log σ² in any component.
fn direction(e: &Eval, s: &[f64], free: &[usize], g: &[f64]) -> Vec<f64> {
    let n = free.len();
    let hess = DMatrix::from_fn(n, n, |a, b| {
        let (i, j) = (free[a], free[b]);
        let d = if a == b { s[i] * e.grad[i] } else { 0.0 };
        -(s[i] * s[j] * e.hess[(i, j)] + d)
    });
    let info = DMatrix::from_fn(n, n, |a, b| {
        let (i, j) = (free[a], free[b]);
        s[i] * s[j] * e.info[(i, j)]
    });
    let gv = DVector::from_column_slice(g);
    let solve = |m: DMatrix<f64>| nalgebra::Cholesky::new(m).map(|c| c.solve(&gv));
    let mut d: Vec<f64> = solve(hess)
        .or_else(|| solve(info))
        .map(|d| d.iter().copied().collect())
        .unwrap_or_else(|| g.to_vec());
    let big = d.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if big > 5.0 {
        d.iter_mut().for_each(|x| *x *= 5.0 / big);
    }
    d
}

/// Halves the step until the likelihood does not fall; a component the step takes below the
/// boundary is tried at 0.
#[allow(clippy::too_many_arguments)]
fn line_search(
    model: &Model,
    lik: Likelihood,
    s: &[f64],
    at_zero: &[bool],
    free: &[usize],
    step: &[f64],
    tiny: f64,
    e: &Eval,
) -> Option<(Vec<f64>, Vec<bool>, Eval)> {
    let mut t = 1.0;
    for _ in 0..60 {
        let mut ns = s.to_vec();
        let mut nz = at_zero.to_vec();
        for (a, &j) in free.iter().enumerate() {
            ns[j] = s[j] * (t * step[a]).exp();
            if ns[j] < tiny {
                ns[j] = 0.0;
                nz[j] = true;
            }
        }
        if let Ok(ne) = model.eval(&ns, lik, true) {
            if ne.ll >= e.ll - 1e-13 * (1.0 + e.ll.abs()) {
                return Some((ns, nz, ne));
            }
        }
        t *= 0.5;
    }
    // No step improves: the point is optimal to rounding.
    None
}
