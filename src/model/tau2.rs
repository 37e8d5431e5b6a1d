//! Estimators of the between-study variance τ², as metafor's `rma.uni` computes them.

use super::design::Design;
use super::{Control, Method};
use crate::error::{Error, Result};
use crate::stats::{mad, zeroin};

/// A τ² estimate with its standard error and the work it took.
#[derive(Debug, Clone, Copy)]
pub struct Tau2Estimate {
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
pub fn pm_tau2_max(y: &[f64]) -> f64 {
    let m = mad(y);
    100f64.max(10.0 * m * m)
}

/// Estimates τ² by `method` (FE gives 0).
pub fn estimate<D: Design>(
    d: &D,
    y: &[f64],
    v: &[f64],
    method: Method,
    con: &Control,
) -> Result<Tau2Estimate> {
    let k = d.k();
    let p = d.p();
    let kp = (k - p) as f64;
    let kf = k as f64;
    let done = |tau2: f64, se: Option<f64>| Tau2Estimate {
        tau2,
        se_tau2: se,
        iterations: 0,
        ll0_reset: false,
    };
    if method == Method::FE {
        return Ok(done(0.0, None));
    }
    if k == 1 {
        return Ok(done(0.0, None));
    }
    let allvipos = v.iter().all(|&x| x > 0.0);
    let need_pos = |name: &str| -> Result<()> {
        if allvipos {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "the {name} estimator cannot be used when some sampling variances are zero or negative"
            )))
        }
    };
    let clamp = |t: f64| t.max(con.tau2_min);
    match method {
        Method::FE => unreachable!(),
        Method::HS => {
            need_pos("HS")?;
            let w = weights(v, 0.0);
            let q = d.p_quantities(y, &w);
            let sw: f64 = w.iter().sum();
            let tau2 = clamp((q.ypy - kf) / sw);
            let t = tau2.max(0.0);
            let pv = d.pv_quantities(&w, v);
            let se =
                (1.0 / (sw * sw) * (2.0 * kp + 4.0 * t * q.tr_p + 2.0 * t * t * pv.tr_pp)).sqrt();
            Ok(done(tau2, Some(se)))
        }
        Method::HE => {
            let (tau2, pv) = he_raw(d, y, v);
            let tau2 = clamp(tau2);
            let t = tau2.max(0.0);
            let se = (1.0 / (kp * kp) * (2.0 * pv.tr_pvpv + 4.0 * t * pv.tr_pv + 2.0 * t * t * kp))
                .sqrt();
            Ok(done(tau2, Some(se)))
        }
        Method::DL => {
            need_pos("DL")?;
            let w = weights(v, 0.0);
            let q = d.p_quantities(y, &w);
            let tau2 = clamp((q.ypy - kp) / q.tr_p);
            let t = tau2.max(0.0);
            let se = (1.0 / (q.tr_p * q.tr_p)
                * (2.0 * kp + 4.0 * t * q.tr_p + 2.0 * t * t * q.tr_pp))
                .sqrt();
            Ok(done(tau2, Some(se)))
        }
        Method::SJ => {
            let mean = y.iter().sum::<f64>() / kf;
            let var = y.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (kf - 1.0);
            let tau0 = var * (kf - 1.0) / kf;
            let w = weights(v, tau0);
            let q = d.p_quantities(y, &w);
            let tau2 = clamp(tau0 * q.ypy / kp);
            let t = tau2.max(0.0);
            let pv = d.pv_quantities(&w, v);
            let se = (tau0 * tau0 / (kp * kp)
                * (2.0 * pv.tr_pvpv + 4.0 * t * pv.sum_pv_p + 2.0 * t * t * pv.tr_pp))
                .sqrt();
            Ok(done(tau2, Some(se)))
        }
        Method::PM => {
            need_pos("PM")?;
            let target = kp;
            let tau2_max = con.tau2_max.unwrap_or_else(|| pm_tau2_max(y));
            let tau2 = if q_gen(d, y, v, con.tau2_min) < target {
                con.tau2_min
            } else if q_gen(d, y, v, tau2_max) > target {
                return Err(Error::NotConverged {
                    method: "PM",
                    detail: format!("the generalised Q stays above k − p even at tau2 = {tau2_max} (the search limit)"),
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
            let tau2 = clamp(tau2);
            let sw: f64 = weights(v, tau2).iter().sum();
            let se = (2.0 * kf * kf / kp / (sw * sw)).sqrt();
            Ok(done(tau2, Some(se)))
        }
        Method::ML | Method::REML | Method::EB => fisher_scoring(d, y, v, method, con),
    }
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
    let k = d.k();
    let kp = (k - d.p()) as f64;
    let kf = k as f64;
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
        let w = weights(v, tau2);
        if w.iter().any(|x| x.is_infinite()) {
            return Err(Error::ZeroWeight {
                study: None,
                tau2: None,
            });
        }
        let q = d.p_quantities(y, &w);
        let mut adj = match method {
            Method::ML => {
                let (sw, sw2) = w.iter().fold((0.0, 0.0), |(a, b), x| (a + x, b + x * x));
                (q.yppy - sw) / sw2
            }
            Method::REML => (q.yppy - q.tr_p) / q.tr_pp,
            _ => {
                let sw: f64 = w.iter().sum();
                (q.ypy * kf / kp - kf) / sw
            }
        } * con.stepadj;
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
    let mut ll0_reset = false;
    let allvipos = v.iter().all(|&x| x > 0.0);
    if con.ll0check && allvipos && matches!(method, Method::ML | Method::REML) {
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
        if ll(0.0) - ll(tau2) > con.tol && tau2 > con.threshold {
            tau2 = 0.0;
            ll0_reset = true;
        }
    }
    let tau2 = tau2.max(con.tau2_min);
    let w = weights(v, tau2);
    let se = match method {
        Method::ML => (2.0 / w.iter().map(|x| x * x).sum::<f64>()).sqrt(),
        Method::REML => (2.0 / d.p_quantities(y, &w).tr_pp).sqrt(),
        _ => {
            let sw: f64 = w.iter().sum();
            (2.0 * kf * kf / kp / (sw * sw)).sqrt()
        }
    };
    Ok(Tau2Estimate {
        tau2,
        se_tau2: Some(se),
        iterations: iter,
        ll0_reset,
    })
}
