//! Profile-likelihood confidence intervals of the variance components and correlations of a
//! multilevel model, as metafor's `confint.rma.mv` (Hardy & Thompson 1996, *Stat Med*
//! 15:619–629): the bounds where 2(ll_max − ll_prof(c)) equals the χ²₁ quantile, ll_prof the
//! likelihood maximised over everything else with the component fixed at c, searched with
//! Brent's root finder in metafor's intervals — [0, max(10, 100·estimate)] for sigma2 and
//! tau2, [−1, 1] for the rho of CS, HCS and UN, [min(0, rho), 1] for AR and HAR — and, as
//! metafor does, moved inward in tenths of the way to the estimate while the fit at the end of
//! the interval fails.

use super::optimize::{maximise, maximise_theta, ThetaSpec, MAX_ITER};
use super::structure::variance_bracket;
use super::{theta_layout, MvFit};
use crate::error::{Error, Result};
use crate::stats::qchisq;
use crate::stats::zeroin::uniroot;

/// A profile-likelihood CI of one component.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProfileCi {
    /// Lower bound.
    pub lb: f64,
    /// Upper bound.
    pub ub: f64,
    /// `<` when the lower bound is the end of the search interval short of its natural limit
    /// (0, or −1 for a correlation), else empty.
    pub lb_sign: &'static str,
    /// `>` when the upper bound is the end of the search interval short of its natural limit
    /// (a variance's interval always is; 1 for a correlation), else empty.
    pub ub_sign: &'static str,
}

/// A component of a multilevel fit, by metafor's `confint` argument (0-based positions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// The `~ 1 | f` term's variance `sigma2[j]`.
    Sigma2(usize),
    /// The `~ inner | outer` term's variance `tau2[j]`.
    Tau2(usize),
    /// The `~ inner | outer` term's correlation `rho[j]`.
    Rho(usize),
    /// The second `~ inner | outer` term's variance `gamma2[j]`.
    Gamma2(usize),
    /// The second `~ inner | outer` term's correlation `phi[j]`.
    Phi(usize),
}

/// The profile-likelihood CIs of every component of a fit, in the order of `sigma2`, `tau2`,
/// `rho`, `gamma2` and `phi`; `None` where the component is fixed (metafor gives it no CI).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MvProfile {
    /// One per sigma2.
    pub sigma2: Vec<Option<ProfileCi>>,
    /// One per tau2 (empty without an `~ inner | outer` term).
    pub tau2: Vec<Option<ProfileCi>>,
    /// One per estimable rho (none for ID and DIAG).
    pub rho: Vec<Option<ProfileCi>>,
    /// One per gamma2 of the second `~ inner | outer` term (empty without one).
    pub gamma2: Vec<Option<ProfileCi>>,
    /// One per estimable phi of the second term.
    pub phi: Vec<Option<ProfileCi>>,
}

impl MvProfile {
    /// No component has a CI.
    pub fn is_empty(&self) -> bool {
        [&self.sigma2, &self.tau2, &self.rho, &self.gamma2, &self.phi]
            .iter()
            .all(|v| v.is_empty())
    }
}

/// What is profiled: its name (for errors), estimate, search interval, whether it is a
/// variance, and its index in θ (σ² first, then G's parameters).
struct Target {
    name: String,
    estimate: f64,
    interval: (f64, f64),
    variance: bool,
    index: usize,
}

fn target(fit: &MvFit, comp: Component) -> Result<Target> {
    let ns = fit.components.len();
    let fixed = |name: &str| {
        Error::invalid(format!(
            "the component {name} is fixed: it has no confidence interval"
        ))
    };
    if let Component::Sigma2(j) = comp {
        let c = fit
            .components
            .get(j)
            .ok_or_else(|| Error::invalid(format!("no variance component sigma2.{}", j + 1)))?;
        if c.fixed {
            return Err(fixed(&format!("sigma2 of '{}'", c.name)));
        }
        return Ok(Target {
            name: format!("sigma2 of '{}'", c.name),
            estimate: c.sigma2,
            interval: variance_bracket(c.sigma2),
            variance: true,
            index: j,
        });
    }
    let second = matches!(comp, Component::Gamma2(_) | Component::Phi(_));
    let g = if second { &fit.h } else { &fit.g };
    let g = g.as_ref().ok_or_else(|| {
        Error::invalid(if second {
            "the model has no second '~ inner | outer' term: it has no gamma2 or phi"
        } else {
            "the model has no '~ inner | outer' term: it has no tau2 or rho"
        })
    })?;
    let nt = g.gs.n_tau2();
    let (j, estimate) = match comp {
        Component::Tau2(j) | Component::Gamma2(j) if j < nt => (j, g.components.tau2[j]),
        Component::Rho(j) | Component::Phi(j) if j < g.gs.n_rho() => (nt + j, g.components.rho[j]),
        _ => {
            return Err(Error::invalid(format!(
                "the model has no component {comp:?}"
            )))
        }
    };
    // θ of the second term follow the first term's.
    let offset = if second {
        fit.g.as_ref().map_or(0, |g| g.gs.n_params())
    } else {
        0
    };
    let name = format!("{} of '{}'", g.names[j], g.formula);
    if g.fixed[j] {
        return Err(fixed(&name));
    }
    Ok(Target {
        name,
        estimate,
        interval: g.gs.profile_bracket(j, estimate),
        variance: g.gs.is_variance(j),
        index: ns + offset + j,
    })
}

/// The maximised log-likelihood with the target fixed at `value`, from the fit's estimates
/// (a component at a boundary starts just inside it, so the optimiser can leave it).
fn profile_ll(fit: &MvFit, t: &Target, value: f64) -> Result<f64> {
    let names: Vec<String> = fit.components.iter().map(|c| c.name.clone()).collect();
    let tiny = 1e-6 * fit.scale;
    let terms = fit.terms();
    if terms.is_empty() {
        let mut fixed = fit.fixed.clone();
        fixed[t.index] = Some(value);
        let start: Vec<f64> = fit.components.iter().map(|c| c.sigma2.max(tiny)).collect();
        let o = maximise(&fit.model, fit.lik, &start, &fixed, &names, fit.scale)?;
        return Ok(o.eval.ll);
    }
    let (mut theta_fixed, variance, all_names) = theta_layout(&fit.fixed, &names, &terms);
    theta_fixed[t.index] = Some(if t.variance {
        value.ln()
    } else {
        value.atanh()
    });
    let rho_max = (1.0 - 1e-6f64).atanh();
    let start: Vec<f64> = fit
        .components
        .iter()
        .map(|c| c.sigma2.max(tiny).ln())
        .chain(
            terms
                .iter()
                .flat_map(|g| &g.theta)
                .zip(&variance[names.len()..])
                .map(|(&th, &var)| {
                    if var {
                        th.max(tiny.ln())
                    } else {
                        th.clamp(-rho_max, rho_max)
                    }
                }),
        )
        .collect();
    let structures: Vec<_> = terms.iter().map(|g| g.gs).collect();
    let spec = ThetaSpec {
        ns: names.len(),
        fixed: &theta_fixed,
        variance: &variance,
        g: &structures,
        names: &all_names,
        max_iter: MAX_ITER,
    };
    Ok(
        maximise_theta(&fit.model, fit.lik, &start, &spec, fit.scale)?
            .eval
            .ll,
    )
}

/// The profile-likelihood CI of one component of `fit`, its bounds found to `tol` (metafor's
/// default `.Machine$double.eps^0.25`; 1e-10 is exact to the corpus's `_precise` bounds).
pub fn confint_component(fit: &MvFit, comp: Component, tol: f64) -> Result<ProfileCi> {
    let t = target(fit, comp)?;
    let crit = qchisq(fit.level.percent() / 100.0, 1.0);
    let mut failure = None;
    let mut f = |c: f64| match profile_ll(fit, &t, c) {
        Ok(ll) => 2.0 * (fit.loglik - ll) - crit,
        Err(e) => {
            failure = Some(e);
            f64::NAN
        }
    };
    let (lo, hi) = t.interval;
    let est = t.estimate;
    let natural_lo = if t.variance { 0.0 } else { -1.0 };
    let not_found = |side: &str| {
        Error::invalid(format!(
            "the {side} profile-likelihood bound of {} cannot be found: the fits with it fixed near the end of its search interval [{lo}, {hi}] fail",
            t.name
        ))
    };
    let root = |f: &mut dyn FnMut(f64) -> f64, a: f64, b: f64| {
        uniroot(f, a, b, tol, 1000).map_err(|e| {
            Error::invalid(format!(
                "profile-likelihood bound of {} not found in [{a}, {b}]: {e:?}",
                t.name
            ))
        })
    };
    // metafor's eptries: while the fit at the end fails, move the end a tenth of the way in.
    let mut lower = None;
    let step = (est - lo).abs() / 10.0;
    for i in 0..10 {
        let at = lo + i as f64 * step;
        let v = f(at);
        if v.is_nan() {
            continue;
        }
        lower = Some(if v < 0.0 {
            (at, if at > natural_lo { "<" } else { "" })
        } else {
            (root(&mut f, at, est)?, "")
        });
        break;
    }
    let mut upper = None;
    let step = (hi - est).abs() / 10.0;
    for i in 0..10 {
        let at = hi - i as f64 * step;
        let v = f(at);
        if v.is_nan() {
            continue;
        }
        upper = Some(if v < 0.0 {
            (at, if t.variance || at < 1.0 { ">" } else { "" })
        } else {
            (root(&mut f, est, at)?, "")
        });
        break;
    }
    let ((lb, lb_sign), (ub, ub_sign)) = match (lower, upper) {
        (Some(l), Some(u)) => (l, u),
        (None, _) => return Err(failure.unwrap_or_else(|| not_found("lower"))),
        (_, None) => return Err(failure.unwrap_or_else(|| not_found("upper"))),
    };
    Ok(ProfileCi {
        lb,
        ub,
        lb_sign,
        ub_sign,
    })
}

/// The profile-likelihood CI of sigma2 component `j` of `fit`, its bounds found to `tol`.
pub fn confint_sigma2(fit: &MvFit, j: usize, tol: f64) -> Result<ProfileCi> {
    confint_component(fit, Component::Sigma2(j), tol)
}

/// The profile-likelihood CIs of every estimated component of `fit` (metafor's
/// `confint(res)`), bounds to `tol`.
pub fn confint_all(fit: &MvFit, tol: f64) -> Result<MvProfile> {
    let one = |comp: Component, fixed: bool| {
        (!fixed)
            .then(|| confint_component(fit, comp, tol))
            .transpose()
    };
    let mut out = MvProfile::default();
    for (j, c) in fit.components.iter().enumerate() {
        out.sigma2.push(one(Component::Sigma2(j), c.fixed)?);
    }
    if let Some(g) = &fit.g {
        let nt = g.gs.n_tau2();
        for j in 0..nt {
            out.tau2.push(one(Component::Tau2(j), g.fixed[j])?);
        }
        for j in 0..g.gs.n_rho() {
            out.rho.push(one(Component::Rho(j), g.fixed[nt + j])?);
        }
    }
    if let Some(h) = &fit.h {
        let nt = h.gs.n_tau2();
        for j in 0..nt {
            out.gamma2.push(one(Component::Gamma2(j), h.fixed[j])?);
        }
        for j in 0..h.gs.n_rho() {
            out.phi.push(one(Component::Phi(j), h.fixed[nt + j])?);
        }
    }
    Ok(out)
}
