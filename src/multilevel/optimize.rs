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

pub(crate) const MAX_ITER: usize = 500;

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
    newton_step(hess, info, g, 5.0)
}

/// Solves −H d = g (`neg_hess` = −H), else the scoring system I d = g where −H is not positive
/// definite, else takes the gradient; scaled so that no coordinate moves more than `cap`.
fn newton_step(neg_hess: DMatrix<f64>, info: DMatrix<f64>, g: &[f64], cap: f64) -> Vec<f64> {
    let gv = DVector::from_column_slice(g);
    let solve = |m: DMatrix<f64>| nalgebra::Cholesky::new(m).map(|c| c.solve(&gv));
    let mut d: Vec<f64> = solve(neg_hess)
        .or_else(|| solve(info))
        .map(|d| d.iter().copied().collect())
        .unwrap_or_else(|| g.to_vec());
    let big = d.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if big > cap {
        d.iter_mut().for_each(|x| *x *= cap / big);
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

/// The optimum of a model with an `~ inner | outer` term, on metafor's scale: θ = (ln σ²,
/// the G parameters ln tau2 / atanh rho), the evaluation there and the iterations used.
#[derive(Debug, Clone)]
pub(crate) struct ThetaOptimum {
    pub sigma2: Vec<f64>,
    pub theta_g: Vec<f64>,
    pub eval: Eval,
    pub iterations: usize,
}

/// What [`maximise_theta`] holds: the parameters' layout and their fixed values.
pub(crate) struct ThetaSpec<'a> {
    /// The number of σ² (the first θ).
    pub ns: usize,
    /// Fixed θ values (ln σ², or the G parameter on its scale), `None` = estimated.
    pub fixed: &'a [Option<f64>],
    /// Which θ are variances (the others correlations).
    pub variance: &'a [bool],
    /// The structures of the `~ inner | outer` terms (their θ follow the σ² in this order), to
    /// refuse inadmissible θ (UN).
    pub g: &'a [super::structure::GStructure],
    /// Names of θ for a non-convergence error.
    pub names: &'a [String],
    /// The iteration limit (`MAX_ITER` for fits).
    pub max_iter: usize,
}

impl ThetaSpec<'_> {
    /// The terms' θ after the σ² lie in metafor's parameter space (each UN G positive
    /// semidefinite).
    fn admissible(&self, theta: &[f64]) -> bool {
        let mut rest = &theta[self.ns..];
        self.g.iter().all(|gs| {
            let (mine, more) = rest.split_at(gs.n_params());
            rest = more;
            gs.is_admissible(mine)
        })
    }
}

/// The log-likelihood and its derivatives in θ (σ² by the chain rule through ln σ²).
fn eval_theta(model: &Model, lik: Likelihood, ns: usize, th: &[f64]) -> Result<Eval> {
    let s: Vec<f64> = th[..ns].iter().map(|t| t.exp()).collect();
    let mut e = model.eval_g(&s, &th[ns..], lik, true)?;
    let q = th.len();
    let jac: Vec<f64> = (0..q).map(|j| if j < ns { s[j] } else { 1.0 }).collect();
    let g = e.grad.clone();
    e.hess = DMatrix::from_fn(q, q, |i, j| {
        let d = if i == j && i < ns { s[i] * g[i] } else { 0.0 };
        jac[i] * jac[j] * e.hess[(i, j)] + d
    });
    e.info = DMatrix::from_fn(q, q, |i, j| jac[i] * jac[j] * e.info[(i, j)]);
    e.grad = (0..q).map(|j| jac[j] * g[j]).collect();
    Ok(e)
}

/// A θ this close to a boundary is on it: a variance below 1e-10·scale, |rho| > 1 − 1e-10.
fn to_boundary(th: f64, variance: bool, scale: f64) -> Option<f64> {
    if variance && th < (1e-10 * scale).ln() {
        Some(f64::NEG_INFINITY)
    } else if !variance && th.abs() > (1.0 - 1e-10f64).atanh() {
        Some(f64::INFINITY.copysign(th))
    } else {
        None
    }
}

/// The point just inside a boundary (a variance 1e-6·scale, |rho| = 1 − 1e-6), to test it.
fn inward(th: f64, variance: bool, scale: f64) -> f64 {
    if variance {
        (1e-6 * scale).ln()
    } else {
        (1.0 - 1e-6f64).atanh().copysign(th)
    }
}

/// Maximises the (restricted) likelihood over θ by Newton steps with the analytic observed
/// Hessian (Fisher scoring where it is not negative definite), step halving, and parameters
/// that reach a boundary (tau2 = 0, rho = ±1) held there while moving inward lowers the
/// likelihood.
pub(crate) fn maximise_theta(
    model: &Model,
    lik: Likelihood,
    start: &[f64],
    spec: &ThetaSpec,
    scale: f64,
) -> Result<ThetaOptimum> {
    let q = start.len();
    let ns = spec.ns;
    let mut th: Vec<f64> = (0..q).map(|j| spec.fixed[j].unwrap_or(start[j])).collect();
    let mut at_bound = vec![false; q];
    let mut e = eval_theta(model, lik, ns, &th)?;
    let mut stalled = false;
    let tol = |ll: f64| 1e-12 * (1.0 + ll.abs());
    for iter in 0..spec.max_iter {
        // A parameter the likelihood does not depend on at all (the correlation of a term
        // whose variance is 0: no score, no information) stays where it is.
        let free: Vec<usize> = (0..q)
            .filter(|&j| spec.fixed[j].is_none() && !at_bound[j])
            .filter(|&j| e.grad[j] != 0.0 || e.info[(j, j)] != 0.0)
            .collect();
        let g: Vec<f64> = free.iter().map(|&j| e.grad[j]).collect();
        let step = theta_direction(&e, &free, &g);
        let done = step.iter().all(|d| d.abs() < 1e-10)
            || g.iter().all(|x| x.abs() < 1e-13 * (1.0 + e.ll.abs()));
        if free.is_empty() || done || stalled {
            stalled = false;
            let mut released = false;
            for j in (0..q).filter(|&j| at_bound[j]) {
                let mut t = th.clone();
                t[j] = inward(th[j], spec.variance[j], scale);
                if let Ok(et) = eval_theta(model, lik, ns, &t) {
                    if et.ll > e.ll + tol(e.ll) && spec.admissible(&t) {
                        (th, e, released) = (t, et, true);
                        at_bound[j] = false;
                        break;
                    }
                }
            }
            if !released {
                return Ok(ThetaOptimum {
                    sigma2: th[..ns].iter().map(|t| t.exp()).collect(),
                    theta_g: th[ns..].to_vec(),
                    eval: e,
                    iterations: iter,
                });
            }
            continue;
        }
        let mut t = 1.0;
        stalled = true;
        for _ in 0..60 {
            let mut nt = th.clone();
            let mut nb = at_bound.clone();
            for (a, &j) in free.iter().enumerate() {
                nt[j] = th[j] + t * step[a];
                if let Some(b) = to_boundary(nt[j], spec.variance[j], scale) {
                    nt[j] = b;
                    nb[j] = true;
                }
            }
            if spec.admissible(&nt) {
                if let Ok(ne) = eval_theta(model, lik, ns, &nt) {
                    if ne.ll >= e.ll - tol(e.ll) {
                        (th, at_bound, e, stalled) = (nt, nb, ne, false);
                        break;
                    }
                }
            }
            t *= 0.5;
        }
    }
    let worst = (0..q)
        .filter(|&j| spec.fixed[j].is_none() && !at_bound[j])
        .max_by(|&a, &b| e.grad[a].abs().total_cmp(&e.grad[b].abs()))
        .unwrap_or(0);
    Err(Error::NotConverged {
        method: match lik {
            Likelihood::Ml => "ML",
            Likelihood::Reml => "REML",
        },
        detail: format!(
            "the parameter {} did not settle in {} iterations (score {:e})",
            spec.names.get(worst).map_or("?", String::as_str),
            spec.max_iter,
            e.grad[worst]
        ),
    })
}

/// The Newton direction in θ over the free parameters, Fisher scoring's where the Hessian is
/// not negative definite; at most 3 units in any parameter.
fn theta_direction(e: &Eval, free: &[usize], g: &[f64]) -> Vec<f64> {
    let n = free.len();
    let hess = DMatrix::from_fn(n, n, |a, b| -e.hess[(free[a], free[b])]);
    let info = DMatrix::from_fn(n, n, |a, b| e.info[(free[a], free[b])]);
    newton_step(hess, info, g, 3.0)
}

/// Refuses a model whose variance parameters cannot all be estimated: at the start θ, the
/// expected information of each free parameter, in order (σ², then the first and the second
/// `~ inner | outer` term), must not be (to rounding) a combination of the earlier ones'
/// (a singular information matrix: e.g. a second term grouping the rows as the first, or a
/// sigma2 factor equal to a term's outer factor next to its correlation). The error names the
/// first dependent parameter.
pub(crate) fn check_identified(
    model: &Model,
    lik: Likelihood,
    start: &[f64],
    spec: &ThetaSpec,
) -> Result<()> {
    let e = eval_theta(model, lik, spec.ns, start)?;
    let mut kept: Vec<usize> = Vec::new();
    for j in (0..start.len()).filter(|&j| spec.fixed[j].is_none()) {
        let own = e.info[(j, j)];
        let residual = if kept.is_empty() {
            own
        } else {
            let n = kept.len();
            let a = DMatrix::from_fn(n, n, |r, c| e.info[(kept[r], kept[c])]);
            let b = DVector::from_fn(n, |r, _| e.info[(kept[r], j)]);
            match nalgebra::Cholesky::new(a) {
                Some(ch) => own - b.dot(&ch.solve(&b)),
                None => own,
            }
        };
        if !(residual > 1e-10 * own.abs()) || own <= 0.0 {
            let earlier: Vec<&str> = kept
                .iter()
                .map(|&i| spec.names.get(i).map_or("?", String::as_str))
                .collect();
            let with = if earlier.is_empty() {
                String::from(": the data carry no information on it")
            } else {
                format!(" from {}", earlier.join(", "))
            };
            return Err(Error::invalid(format!(
                "the model is not identifiable: {} cannot be told apart{with}; drop or change a random term",
                spec.names.get(j).map_or("?", String::as_str)
            )));
        }
        kept.push(j);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multilevel::likelihood::GTerm;
    use crate::multilevel::sampling::VBlocks;
    use crate::multilevel::structure::{GStructure, Structure};

    /// A model of 8 rows in 4 clusters of an inner level 0 and 1, with a CS and an ID term on
    /// the clusters.
    fn two_term_model() -> (Model, Vec<GStructure>) {
        let y = [0.1, 0.5, -0.2, 0.4, 0.9, 0.3, 0.0, 0.6];
        let x = DMatrix::from_element(8, 1, 1.0);
        let v = VBlocks {
            blocks: (0..8)
                .map(|i| (vec![i], DMatrix::from_element(1, 1, 0.02 + 0.01 * i as f64)))
                .collect(),
        };
        let gs = vec![
            GStructure::new(Structure::CS, 2).unwrap(),
            GStructure::new(Structure::ID, 2).unwrap(),
        ];
        let term = |s: GStructure| GTerm {
            structure: s,
            pos: vec![0, 1, 0, 1, 0, 1, 0, 1],
            outer: vec![0, 0, 1, 1, 2, 2, 3, 3],
        };
        let terms = [term(gs[0]), term(gs[1])];
        (Model::with_g(&y, &x, &v, &[], &[], &terms).unwrap(), gs)
    }

    /// An optimiser that runs out of iterations names the parameter that had not settled, with
    /// its term (here the only free one, gamma2 of the second term).
    #[test]
    fn non_convergence_names_the_parameter() {
        let (model, gs) = two_term_model();
        let names: Vec<String> = ["tau2", "rho", "gamma2"]
            .iter()
            .map(|n| format!("{n} of '~ b | a'"))
            .collect();
        let fixed = [Some(0.05f64.ln()), Some(0.3f64.atanh()), None];
        let spec = ThetaSpec {
            ns: 0,
            fixed: &fixed,
            variance: &[true, false, true],
            g: &gs,
            names: &names,
            max_iter: 1,
        };
        let start = [0.05f64.ln(), 0.3f64.atanh(), -12.0];
        let e = maximise_theta(&model, Likelihood::Reml, &start, &spec, 0.1).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("gamma2 of '~ b | a'") && msg.contains("did not settle in 1 iterations"),
            "{msg}"
        );
        // With the usual limit the same start converges.
        let spec = ThetaSpec {
            max_iter: MAX_ITER,
            ..spec
        };
        assert!(maximise_theta(&model, Likelihood::Reml, &start, &spec, 0.1).is_ok());
    }

    /// Two terms that group the rows identically (CS twice) cannot be told apart: the check
    /// names the second term's variance.
    #[test]
    fn a_repeated_term_is_not_identified() {
        let (model, _) = two_term_model();
        let gs = vec![GStructure::new(Structure::CS, 2).unwrap(); 2];
        let names: Vec<String> = ["tau2", "rho", "gamma2", "phi"]
            .iter()
            .map(|n| format!("{n} of '~ b | a'"))
            .collect();
        let model = Model {
            g: gs.clone(),
            ..model
        };
        let fixed = [None; 4];
        let spec = ThetaSpec {
            ns: 0,
            fixed: &fixed,
            variance: &[true, false, true, false],
            g: &gs,
            names: &names,
            max_iter: MAX_ITER,
        };
        let start = [0.05f64.ln(), 0.5f64.atanh(), 0.05f64.ln(), 0.5f64.atanh()];
        let e = check_identified(&model, Likelihood::Reml, &start, &spec).unwrap_err();
        assert!(e.to_string().contains("gamma2 of '~ b | a'"), "{e}");
    }
}
