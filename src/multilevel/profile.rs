//! Profile-likelihood confidence intervals of a variance component, as metafor's
//! `confint(res, sigma2 = j)` (Hardy & Thompson 1996, *Stat Med* 15:619–629): the bounds where
//! 2(ll_max − ll_prof(σ²_j)) equals the χ²₁ quantile, ll_prof maximised over the other
//! components, searched in [0, max(10, 100·σ²_j)] with Brent's root finder.

use super::optimize::maximise;
use super::MvFit;
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
    /// `<` when the lower bound is the end of the search interval short of 0, else empty.
    pub lb_sign: &'static str,
    /// `>` when the upper bound is the end of the search interval, else empty.
    pub ub_sign: &'static str,
}

/// The profile-likelihood CI of component `j` of `fit`, its bounds found to `tol`.
pub fn confint_sigma2(fit: &MvFit, j: usize, tol: f64) -> Result<ProfileCi> {
    let comp = fit
        .components
        .get(j)
        .ok_or_else(|| Error::invalid(format!("no variance component {}", j + 1)))?;
    if comp.fixed {
        return Err(Error::invalid(format!(
            "the variance component of '{}' is fixed: it has no confidence interval",
            comp.name
        )));
    }
    let est = comp.sigma2;
    let crit = qchisq(fit.level.percent() / 100.0, 1.0);
    let start: Vec<f64> = fit.components.iter().map(|c| c.sigma2).collect();
    let names: Vec<String> = fit.components.iter().map(|c| c.name.clone()).collect();
    let mut failure = None;
    let mut f = |c: f64| {
        let mut fixed = fit.fixed.clone();
        fixed[j] = Some(c);
        match maximise(&fit.model, fit.lik, &start, &fixed, &names, fit.scale) {
            Ok(o) => 2.0 * (fit.loglik - o.eval.ll) - crit,
            Err(e) => {
                failure = Some(e);
                f64::NAN
            }
        }
    };
    let end = if est <= f64::EPSILON.sqrt() {
        10.0
    } else {
        (100.0 * est).max(10.0)
    };
    let root = |f: &mut dyn FnMut(f64) -> f64, a: f64, b: f64| {
        uniroot(f, a, b, tol, 1000).map_err(|e| {
            Error::invalid(format!(
                "profile-likelihood bound of '{}' not found in [{a}, {b}]: {e:?}",
                comp.name
            ))
        })
    };
    let (lb, lb_sign) = if est <= 0.0 || f(0.0) <= 0.0 {
        (0.0, "")
    } else {
        (root(&mut f, 0.0, est)?, "")
    };
    let (ub, ub_sign) = if f(end) <= 0.0 {
        (end, ">")
    } else {
        (root(&mut f, est, end)?, "")
    };
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(ProfileCi {
        lb,
        ub,
        lb_sign,
        ub_sign,
    })
}
