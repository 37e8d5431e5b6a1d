//! Estimators of the between-study variance τ², as metafor's `rma.uni` computes them.

use super::design::Design;
use super::{Control, Method, Solver};
use crate::error::{Error, Result};
use crate::stats::{mad, zeroin};

/// A τ² estimate with its standard error and the work it took.
#[derive(Debug, Clone, Copy)]
pub struct Tau2Estimate {
    /// The estimate of τ² (metafor's `tau2`), never below `Control::tau2_min`; 0 for FE.
    pub tau2: f64,
    /// `None` for k = 1 and for FE.
    pub se_tau2: Option<f64>,
    /// Fisher-scoring iterations (ML, REML, EB); 0 otherwise.
    pub iterations: usize,
    /// The ll0 check set τ² to 0 (Fisher scoring stuck at a local maximum).
    pub ll0_reset: bool,
}

fn weights(v: &[f64], tau2: f64) -> Vec<f64> {
    v.iter().map(|&vi| 1.0 / (vi + tau2)).collect()
}

/// Generalised Q statistic Σ wᵢ(yᵢ − Xb)² with wᵢ = 1/(vᵢ + τ²) (Paule–Mandel and Q-profile).
pub fn q_gen<D: Design>(d: &D, y: &[f64], v: &[f64], tau2: f64) -> f64 {
    d.q_gen(y, v, tau2)
}

/// The upper end of the τ² search interval for PM, as metafor: max(100, 10·mad(y)²).
fn pm_tau2_max(y: &[f64]) -> f64 {
    let m = mad(y);
    100f64.max(10.0 * m * m)
}

/// τ² fixed by the analyst (metafor's `rma(tau2 = …)`), with `method`'s standard error at it.
pub fn fixed<D: Design>(
    d: &D,
    y: &[f64],
    v: &[f64],
    method: Method,
    tau2: f64,
) -> Result<Tau2Estimate> {
    if !(tau2.is_finite() && tau2 >= 0.0) {
        return Err(Error::invalid(format!(
            "a fixed tau2 must be a non-negative number, got {tau2}"
        )));
    }
    let se = (d.k() > 1 && !method.is_fixed()).then(|| se_at(d, y, v, method, tau2));
    Ok(Tau2Estimate::closed_form(tau2, se))
}

/// The standard error of `method`'s τ² at `t` (what metafor reports with τ² fixed, too).
fn se_at<D: Design>(d: &D, y: &[f64], v: &[f64], method: Method, t: f64) -> f64 {
    let (kp, kf) = dims(d);
    match method {
        Method::HS => {
            let w = weights(v, 0.0);
            let q = d.p_quantities(y, &w);
            let sw: f64 = w.iter().sum();
            let pv = d.pv_quantities(&w, v);
            (1.0 / (sw * sw) * (2.0 * kp + 4.0 * t * q.tr_p + 2.0 * t * t * pv.tr_pp)).sqrt()
        }
        Method::HE => {
            let pv = he_raw(d, y, v).1;
            (1.0 / (kp * kp) * (2.0 * pv.tr_pvpv + 4.0 * t * pv.tr_pv + 2.0 * t * t * kp)).sqrt()
        }
        Method::DL => {
            let q = d.p_quantities(y, &weights(v, 0.0));
            (1.0 / (q.tr_p * q.tr_p) * (2.0 * kp + 4.0 * t * q.tr_p + 2.0 * t * t * q.tr_pp)).sqrt()
        }
        Method::SJ => {
            let mean = y.iter().sum::<f64>() / kf;
            let var = y.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (kf - 1.0);
            let tau0 = var * (kf - 1.0) / kf;
            let pv = d.pv_quantities(&weights(v, tau0), v);
            (tau0 * tau0 / (kp * kp)
                * (2.0 * pv.tr_pvpv + 4.0 * t * pv.sum_pv_p + 2.0 * t * t * pv.tr_pp))
                .sqrt()
        }
        Method::PM => {
            let sw: f64 = weights(v, t).iter().sum();
            (2.0 * kf * kf / kp / (sw * sw)).sqrt()
        }
        Method::FE => f64::NAN,
        Method::ML | Method::REML | Method::EB => fisher_se(d, y, v, method, t),
    }
}

/// Estimates τ² by `method` (FE gives 0). Data of extreme scale reach it rescaled
/// ([`super::scale`]), so its tolerances and bounds act as on data of ordinary scale.
pub fn estimate<D: Design>(
    d: &D,
    y: &[f64],
    v: &[f64],
    method: Method,
    con: &Control,
) -> Result<Tau2Estimate> {
    if method == Method::FE || d.k() == 1 {
        return Ok(Tau2Estimate::closed_form(0.0, None));
    }
    let (tau2, se) = match method {
        Method::FE => unreachable!(),
        Method::HS => hunter_schmidt(d, y, v, con)?,
        Method::HE => hedges(d, y, v, con),
        Method::DL => dersimonian_laird(d, y, v, con)?,
        Method::SJ => sidik_jonkman(d, y, v, con),
        Method::PM => paule_mandel(d, y, v, con)?,
        Method::ML | Method::REML | Method::EB => return fisher_scoring(d, y, v, method, con),
    };
    Ok(Tau2Estimate::closed_form(tau2, Some(se)))
}

impl Tau2Estimate {
    /// An estimate found without iterating.
    fn closed_form(tau2: f64, se_tau2: Option<f64>) -> Self {
        Tau2Estimate {
            tau2,
            se_tau2,
            iterations: 0,
            ll0_reset: false,
        }
    }
}

/// k − p and k as floats.
fn dims<D: Design>(d: &D) -> (f64, f64) {
    ((d.k() - d.p()) as f64, d.k() as f64)
}

/// DL, HS and PM divide by the sampling variances: metafor refuses them when one is ≤ 0.
fn require_positive(v: &[f64], name: &str) -> Result<()> {
    if v.iter().all(|&x| x > 0.0) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "the {name} estimator cannot be used when some sampling variances are zero or negative"
        )))
    }
}

/// Hunter–Schmidt (Hunter & Schmidt 2004): (Q − k)/Σwᵢ with FE weights.
fn hunter_schmidt<D: Design>(d: &D, y: &[f64], v: &[f64], con: &Control) -> Result<(f64, f64)> {
    require_positive(v, "HS")?;
    let (kp, kf) = dims(d);
    let w = weights(v, 0.0);
    let q = d.p_quantities(y, &w);
    let sw: f64 = w.iter().sum();
    let tau2 = ((q.ypy - kf) / sw).max(con.tau2_min);
    let t = tau2.max(0.0);
    let pv = d.pv_quantities(&w, v);
    let se = (1.0 / (sw * sw) * (2.0 * kp + 4.0 * t * q.tr_p + 2.0 * t * t * pv.tr_pp)).sqrt();
    Ok((tau2, se))
}

/// Hedges' unweighted method-of-moments estimator (Hedges & Olkin 1985).
fn hedges<D: Design>(d: &D, y: &[f64], v: &[f64], con: &Control) -> (f64, f64) {
    let (kp, _) = dims(d);
    let (tau2, pv) = he_raw(d, y, v);
    let tau2 = tau2.max(con.tau2_min);
    let t = tau2.max(0.0);
    let se = (1.0 / (kp * kp) * (2.0 * pv.tr_pvpv + 4.0 * t * pv.tr_pv + 2.0 * t * t * kp)).sqrt();
    (tau2, se)
}

/// DerSimonian & Laird (1986): (Q − (k − p))/tr(P) with FE weights.
fn dersimonian_laird<D: Design>(d: &D, y: &[f64], v: &[f64], con: &Control) -> Result<(f64, f64)> {
    require_positive(v, "DL")?;
    let (kp, _) = dims(d);
    let w = weights(v, 0.0);
    let q = d.p_quantities(y, &w);
    let tau2 = ((q.ypy - kp) / q.tr_p).max(con.tau2_min);
    let t = tau2.max(0.0);
    let se =
        (1.0 / (q.tr_p * q.tr_p) * (2.0 * kp + 4.0 * t * q.tr_p + 2.0 * t * t * q.tr_pp)).sqrt();
    Ok((tau2, se))
}

/// Sidik & Jonkman (2005): one weighted step from the variance of the yᵢ.
fn sidik_jonkman<D: Design>(d: &D, y: &[f64], v: &[f64], con: &Control) -> (f64, f64) {
    let (kp, kf) = dims(d);
    let mean = y.iter().sum::<f64>() / kf;
    let var = y.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (kf - 1.0);
    let tau0 = var * (kf - 1.0) / kf;
    let w = weights(v, tau0);
    let q = d.p_quantities(y, &w);
    let tau2 = (tau0 * q.ypy / kp).max(con.tau2_min);
    let t = tau2.max(0.0);
    let pv = d.pv_quantities(&w, v);
    let se = (tau0 * tau0 / (kp * kp)
        * (2.0 * pv.tr_pvpv + 4.0 * t * pv.sum_pv_p + 2.0 * t * t * pv.tr_pp))
        .sqrt();
    (tau2, se)
}

/// Paule & Mandel (1982): the τ² at which the generalised Q equals k − p.
fn paule_mandel<D: Design>(d: &D, y: &[f64], v: &[f64], con: &Control) -> Result<(f64, f64)> {
    require_positive(v, "PM")?;
    let (kp, kf) = dims(d);
    let target = kp;
    let tau2_max = con.tau2_max.unwrap_or_else(|| pm_tau2_max(y));
    let tau2 = if q_gen(d, y, v, con.tau2_min) < target {
        con.tau2_min
    } else if q_gen(d, y, v, tau2_max) > target {
        return Err(Error::NotConverged {
            method: "PM",
            detail: format!(
                "the generalised Q stays above k − p even at tau2 = {tau2_max} (the search limit)"
            ),
        });
    } else {
        zeroin::uniroot(
            |t| q_gen(d, y, v, t) - target,
            con.tau2_min,
            tau2_max,
            con.tol,
            con.uniroot_maxiter,
        )
        .map_err(|e| Error::NotConverged {
            method: "PM",
            detail: format!("root search failed: {e:?}"),
        })?
    };
    let tau2 = tau2.max(con.tau2_min);
    let sw: f64 = weights(v, tau2).iter().sum();
    let se = (2.0 * kf * kf / kp / (sw * sw)).sqrt();
    Ok((tau2, se))
}

/// The Hedges (HE) estimate before truncation, and the PV quantities with W = I.
fn he_raw<D: Design>(d: &D, y: &[f64], v: &[f64]) -> (f64, super::design::PvQuantities) {
    let ones = vec![1.0; d.k()];
    let q = d.p_quantities(y, &ones);
    let pv = d.pv_quantities(&ones, v);
    ((q.ypy - pv.tr_pv) / (d.k() - d.p()) as f64, pv)
}

/// Fisher scoring for ML, REML and EB, step for step as metafor: start at max(0, HE), halve steps
/// that would go below tau2_min, stop when the change is below `threshold`.
fn fisher_scoring<D: Design>(
    d: &D,
    y: &[f64],
    v: &[f64],
    method: Method,
    con: &Control,
) -> Result<Tau2Estimate> {
    let (mut tau2, iterations) = match con.solver {
        Solver::Fisher => fisher_iterate(d, y, v, method, con)?,
        Solver::Newton => newton_iterate(d, y, v, method, con)?,
    };
    let mut ll0_reset = false;
    if con.ll0check
        && v.iter().all(|&x| x > 0.0)
        && matches!(method, Method::ML | Method::REML)
        && ll0_beats(d, y, v, method, tau2, con)
    {
        tau2 = 0.0;
        ll0_reset = true;
    }
    let tau2 = tau2.max(con.tau2_min);
    Ok(Tau2Estimate {
        tau2,
        se_tau2: Some(fisher_se(d, y, v, method, tau2)),
        iterations,
        ll0_reset,
    })
}

/// The scoring steps themselves: the last τ² and the number of iterations.
fn fisher_iterate<D: Design>(
    d: &D,
    y: &[f64],
    v: &[f64],
    method: Method,
    con: &Control,
) -> Result<(f64, usize)> {
    let name = method.name();
    let mut tau2 = match con.tau2_init {
        Some(t) => t,
        None => he_raw(d, y, v).0.max(0.0).max(con.tau2_min),
    };
    let mut iter = 0usize;
    let mut change = con.threshold + 1.0;
    while change > con.threshold {
        iter += 1;
        let old = tau2;
        if v.iter().any(|&vi| vi + tau2 < 0.0) {
            return Err(Error::NotConverged {
                method: name,
                detail: "some marginal variances became negative".into(),
            });
        }
        let mut adj = fisher_step(d, y, v, method, tau2)? * con.stepadj;
        if adj.is_nan() {
            adj = 0.0;
        }
        let mut halvings = 0;
        while tau2 + adj < con.tau2_min {
            adj /= 2.0;
            halvings += 1;
            if halvings > 2000 {
                break;
            }
        }
        tau2 += adj;
        change = (old - tau2).abs();
        if !tau2.is_finite() {
            return Err(Error::NotConverged {
                method: name,
                detail: "tau2 became non-finite during Fisher scoring".into(),
            });
        }
        if iter > con.maxiter {
            return Err(Error::IterationLimit {
                method: name,
                iterations: con.maxiter,
                threshold: con.threshold,
                last_change: change,
            });
        }
    }
    Ok((tau2, iter))
}

/// Iteration cap of the safeguarded Newton solver: its bracket halves at least every other step,
/// so 1,000 steps resolve any double-precision interval.
const NEWTON_MAXITER: usize = 1000;

/// The safeguarded Newton solver ([`Solver::Newton`]): the root of the score on
/// [tau2_min, ∞), bracketed first (the score is positive below the optimum and negative above),
/// then Fisher-scoring steps accepted only inside the bracket and bisection otherwise
/// (Numerical Recipes' `rtsafe`). Runs to double precision; `threshold`, `stepadj` and `maxiter`
/// belong to Fisher scoring and are not used.
fn newton_iterate<D: Design>(
    d: &D,
    y: &[f64],
    v: &[f64],
    method: Method,
    con: &Control,
) -> Result<(f64, usize)> {
    let name = method.name();
    // The step is score / information with a positive information: its sign is the score's.
    let step = |t: f64| fisher_step(d, y, v, method, t);
    let start = match con.tau2_init {
        Some(t) => t,
        None => he_raw(d, y, v).0.max(0.0).max(con.tau2_min),
    };
    let mut lo = con.tau2_min;
    let mut t = start.max(con.tau2_min);
    let mut hi = if step(t)? <= 0.0 {
        if t == lo || step(lo)? <= 0.0 {
            return Ok((lo, 1));
        }
        t
    } else {
        // Double an upper end until the score turns negative (it does: the information is
        // positive and the score tends to 0 from below as τ² grows).
        let scale = v.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
        let mut up = (2.0 * t).max(scale).max(f64::MIN_POSITIVE);
        while step(up)? > 0.0 {
            lo = up;
            up *= 2.0;
            if !up.is_finite() {
                return Err(Error::NotConverged {
                    method: name,
                    detail: "the score stays positive for every finite tau2".into(),
                });
            }
        }
        up
    };
    for iter in 1..=NEWTON_MAXITER {
        let s = step(t)?;
        if s == 0.0 || s.is_nan() {
            return Ok((t, iter));
        }
        if s > 0.0 {
            lo = lo.max(t);
        } else {
            hi = hi.min(t);
        }
        let mut next = t + s;
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        let change = (next - t).abs();
        t = next;
        if change <= 4.0 * f64::EPSILON * t.abs() || hi - lo <= 4.0 * f64::EPSILON * hi.abs() {
            return Ok((t, iter));
        }
    }
    Err(Error::IterationLimit {
        method: name,
        iterations: NEWTON_MAXITER,
        threshold: 4.0 * f64::EPSILON,
        last_change: hi - lo,
    })
}

/// One unadjusted Fisher-scoring step at `tau2` (score over information).
fn fisher_step<D: Design>(d: &D, y: &[f64], v: &[f64], method: Method, tau2: f64) -> Result<f64> {
    let (kp, kf) = dims(d);
    let w = weights(v, tau2);
    if w.iter().any(|x| x.is_infinite()) {
        return Err(Error::ZeroWeight {
            study: None,
            tau2: None,
        });
    }
    let q = d.p_quantities(y, &w);
    Ok(match method {
        Method::ML => {
            let (sw, sw2) = w.iter().fold((0.0, 0.0), |(a, b), x| (a + x, b + x * x));
            (q.yppy - sw) / sw2
        }
        Method::REML => (q.yppy - q.tr_p) / q.tr_pp,
        _ => {
            let sw: f64 = w.iter().sum();
            (q.ypy * kf / kp - kf) / sw
        }
    })
}

/// metafor's `ll0check`: does τ² = 0 have a higher (restricted) likelihood than the scoring's
/// end point, i.e. did the iteration stop at a local maximum?
fn ll0_beats<D: Design>(
    d: &D,
    y: &[f64],
    v: &[f64],
    method: Method,
    tau2: f64,
    con: &Control,
) -> bool {
    let (kp, kf) = dims(d);
    let ll = |t: f64| -> f64 {
        let w = weights(v, t);
        let q = d.p_quantities(y, &w);
        let base = -0.5 * v.iter().map(|vi| (vi + t).ln()).sum::<f64>() - 0.5 * q.ypy;
        if method == Method::ML {
            -0.5 * kf * (2.0 * std::f64::consts::PI).ln() + base
        } else {
            -0.5 * kp * (2.0 * std::f64::consts::PI).ln() + base - 0.5 * d.log_det_xwx(&w)
        }
    };
    ll(0.0) - ll(tau2) > con.tol && tau2 > con.threshold
}

/// The standard error of an ML, REML or EB τ² from the inverse Fisher information.
fn fisher_se<D: Design>(d: &D, y: &[f64], v: &[f64], method: Method, tau2: f64) -> f64 {
    let (kp, kf) = dims(d);
    let w = weights(v, tau2);
    match method {
        Method::ML => (2.0 / w.iter().map(|x| x * x).sum::<f64>()).sqrt(),
        Method::REML => (2.0 / d.p_quantities(y, &w).tr_pp).sqrt(),
        _ => {
            let sw: f64 = w.iter().sum();
            (2.0 * kf * kf / kp / (sw * sw)).sqrt()
        }
    }
}
