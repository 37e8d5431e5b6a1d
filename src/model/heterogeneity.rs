//! Heterogeneity: Cochran's Q, I², H², the typical within-study variance, and the Q-profile
//! confidence interval for τ² (Viechtbauer 2007, *Stat Med* 26:37–52).

use crate::model::design::Design;
use crate::model::scale::Rescale;
use crate::model::tau2::q_gen;
use crate::stats::{pchisq_upper, qchisq, zeroin};

/// Cochran's Q with FE weights and the quantities derived from it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Heterogeneity {
    /// Cochran's Q (FE weights 1/vi); for meta-regression the residual QE.
    pub q: f64,
    /// Degrees of freedom of Q, k − p.
    pub q_df: usize,
    /// p-value of the test of homogeneity (χ² with `q_df` df).
    pub q_pval: f64,
    /// I² in percent.
    pub i2: f64,
    /// H², the ratio of total to sampling variability.
    pub h2: f64,
    /// metafor's "typical" within-study variance (k − p)/tr(P_FE).
    pub vt: f64,
}

/// Why Q, I² and H² are not given when some sampling variances are 0 (metafor: "Cannot compute
/// Q-test, I^2, or H^2 when there are non-positive sampling variances in the data").
pub const Q_UNDEFINED: &str =
    "Q, I² and H² cannot be computed when some sampling variances are 0 (as metafor)";

impl Heterogeneity {
    /// `None` when Q, I² and H² are defined; otherwise why not ([`Q_UNDEFINED`]): they are NaN
    /// then, never a Q of 0 with p = 1.
    pub fn undefined_reason(&self) -> Option<&'static str> {
        self.q.is_nan().then_some(Q_UNDEFINED)
    }
}

/// An I² percentage capped at 100: with τ² ≫ vt (or Q ≫ df) rounding can give 100.00000000000001
/// (found by fuzzing). Below, metafor's value stands (negative with a negative τ² bound).
fn at_most_100(x: f64) -> f64 {
    if x > 100.0 {
        100.0
    } else {
        x
    }
}

/// I² = max(0, 100(Q − df)/Q) and H² = Q/df from Cochran's Q alone (Higgins & Thompson 2002), as
/// metafor reports them for fixed-effects, Mantel–Haenszel and Peto fits.
pub fn fe_i2_h2(q: f64, df: usize) -> (f64, f64) {
    (
        at_most_100(100.0 * (q - df as f64) / q).max(0.0),
        q / df as f64,
    )
}

/// Computes Q, I², H² as metafor: for FE models I² = max(0, 100(Q − df)/Q), H² = Q/df; otherwise
/// I² = 100 τ²/(vt + τ²) and H² = τ²/vt + 1 (Higgins & Thompson 2002).
pub fn heterogeneity<D: Design>(
    d: &D,
    y: &[f64],
    v: &[f64],
    tau2: f64,
    fixed: bool,
) -> Heterogeneity {
    let k = d.k();
    let p = d.p();
    if v.iter().any(|&x| x <= 0.0) {
        // FE weights 1/vi are infinite: metafor gives NA (see `Q_UNDEFINED`).
        return Heterogeneity {
            q: f64::NAN,
            q_df: k.saturating_sub(p),
            q_pval: f64::NAN,
            i2: f64::NAN,
            h2: f64::NAN,
            vt: f64::NAN,
        };
    }
    if k <= p {
        return Heterogeneity {
            q: 0.0,
            q_df: 0,
            q_pval: 1.0,
            i2: 0.0,
            h2: 1.0,
            vt: 0.0,
        };
    }
    let w: Vec<f64> = v.iter().map(|x| 1.0 / x).collect();
    let pq = d.p_quantities(y, &w);
    let q = pq.ypy.max(0.0);
    let df = k - p;
    let vt = df as f64 / pq.tr_p;
    let (i2, h2) = if fixed {
        fe_i2_h2(q, df)
    } else {
        (at_most_100(100.0 * tau2 / (vt + tau2)), tau2 / vt + 1.0)
    };
    Heterogeneity {
        q,
        q_df: df,
        q_pval: pchisq_upper(q, df as f64),
        i2,
        h2,
        vt,
    }
}

/// Which side a Q-profile bound was censored on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Censor {
    /// Found by root search.
    None,
    /// Below the search range.
    Below,
    /// Above the search range.
    Above,
}

impl Censor {
    /// metafor's sign string: "", "<" or ">".
    pub fn sign(self) -> &'static str {
        match self {
            Censor::None => "",
            Censor::Below => "<",
            Censor::Above => ">",
        }
    }
}

/// How a confidence interval for τ² was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Tau2CiType {
    /// The Q-profile method (Viechtbauer 2007), metafor's default `confint`.
    #[default]
    QProfile,
    /// Profile likelihood (`crate::model::profile`), metafor's `confint(type = "PL")`.
    ProfileLikelihood,
}

impl Tau2CiType {
    /// How outputs name it: "Q-profile" or "profile likelihood".
    pub fn label(self) -> &'static str {
        match self {
            Tau2CiType::QProfile => "Q-profile",
            Tau2CiType::ProfileLikelihood => "profile likelihood",
        }
    }

    /// metafor's `type`: "QP" or "PL".
    pub fn name(self) -> &'static str {
        match self {
            Tau2CiType::QProfile => "QP",
            Tau2CiType::ProfileLikelihood => "PL",
        }
    }
}

/// A confidence interval for τ² (Q-profile unless `ci_type` says otherwise), with the derived
/// intervals for τ, I² and H².
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Tau2Ci {
    /// Lower bound of the CI for τ².
    pub tau2_lb: f64,
    /// Upper bound of the CI for τ².
    pub tau2_ub: f64,
    /// Whether the lower bound is censored at the search range.
    pub lb_censor: Censor,
    /// Whether the upper bound is censored at the search range.
    pub ub_censor: Censor,
    /// Even τ² = 0 gives a Q below the lower critical value: the interval is empty (reported 0, 0).
    pub null: bool,
    /// Lower bound for τ (√ of the τ² bound).
    pub tau_lb: f64,
    /// Upper bound for τ.
    pub tau_ub: f64,
    /// Lower bound for I², in percent.
    pub i2_lb: f64,
    /// Upper bound for I², in percent.
    pub i2_ub: f64,
    /// Lower bound for H².
    pub h2_lb: f64,
    /// Upper bound for H².
    pub h2_ub: f64,
    /// The method that found the interval.
    pub ci_type: Tau2CiType,
}

/// Settings of the Q-profile search (metafor's `confint` control).
#[derive(Debug, Clone, Copy)]
pub struct QProfileControl {
    /// `uniroot` tolerance: metafor's default is eps^0.25.
    pub tol: f64,
    /// Maximum root-search iterations.
    pub maxiter: usize,
}

impl Default for QProfileControl {
    fn default() -> Self {
        QProfileControl {
            tol: f64::EPSILON.powf(0.25),
            maxiter: 1000,
        }
    }
}

/// The Q-profile CI: τ² bounds solve Q_gen(τ²) = χ²_{k−p} quantiles, searched as metafor does on
/// [min(0, τ̂²), max(100, 10 τ̂²)]. `None` when k ≤ p or some vi ≤ 0 (metafor refuses those).
/// Data of extreme scale are searched rescaled ([`Rescale`]): the bound 100 and the tolerance
/// then mean what they mean at ordinary scales.
pub fn q_profile<D: Design>(
    d: &D,
    y: &[f64],
    v: &[f64],
    tau2_hat: f64,
    vt: f64,
    level: f64,
    con: &QProfileControl,
) -> Option<Tau2Ci> {
    match Rescale::of(v) {
        None => q_profile_at_scale(d, y, v, tau2_hat, vt, level, con),
        Some(r) => {
            let c2 = r.variance();
            let (ys, vs) = (r.effects(y), r.variances(v));
            q_profile_at_scale(d, &ys, &vs, tau2_hat * c2, vt * c2, level, con)
                .map(|ci| ci.scaled_back(r))
        }
    }
}

impl Tau2Ci {
    /// The interval of data rescaled by `r`, in the original units (I² and H² are scale-free).
    pub fn scaled_back(self, r: Rescale) -> Tau2Ci {
        let (e, c2) = (r.effect_back(), r.variance_back());
        Tau2Ci {
            tau2_lb: self.tau2_lb * c2,
            tau2_ub: self.tau2_ub * c2,
            tau_lb: self.tau_lb * e,
            tau_ub: self.tau_ub * e,
            ..self
        }
    }
}

fn q_profile_at_scale<D: Design>(
    d: &D,
    y: &[f64],
    v: &[f64],
    tau2_hat: f64,
    vt: f64,
    level: f64,
    con: &QProfileControl,
) -> Option<Tau2Ci> {
    let k = d.k();
    let p = d.p();
    if k <= p || v.iter().any(|&x| x <= 0.0) {
        return None;
    }
    let df = (k - p) as f64;
    let alpha = 1.0 - level / 100.0;
    let crit_u = qchisq(1.0 - alpha / 2.0, df);
    let crit_l = qchisq(alpha / 2.0, df);
    let tmin = tau2_hat.min(0.0);
    let tmax = 100f64.max(10.0 * tau2_hat).max(10.0 * tmin);
    let qmin = q_gen(d, y, v, tmin);
    let qmax = q_gen(d, y, v, tmax);
    let root = |target: f64| {
        zeroin::uniroot(
            |t| q_gen(d, y, v, t) - target,
            tmin,
            tmax,
            con.tol,
            con.maxiter,
        )
        .ok()
    };

    let (mut lb, mut ub) = (f64::NAN, f64::NAN);
    let (mut lb_c, mut ub_c) = (Censor::None, Censor::None);
    let mut null = false;
    // Upper bound.
    if qmin < crit_l {
        lb = tmin;
        ub = tmin;
        lb_c = Censor::Below;
        ub_c = Censor::Below;
        if tmin <= 0.0 {
            null = true;
        }
    } else if qmax > crit_l {
        ub = tmax;
        ub_c = Censor::Above;
    } else if let Some(r) = root(crit_l) {
        ub = r;
    }
    // Lower bound.
    if qmax > crit_u {
        lb = tmax;
        ub = tmax;
        lb_c = Censor::Above;
        ub_c = Censor::Above;
    } else if qmin < crit_u {
        lb = tmin;
        // metafor only marks the bound when the search range starts above 0; otherwise the
        // sign set by the upper-bound search (if any) stands.
        if tmin > 0.0 {
            lb_c = Censor::Below;
        }
    } else if let Some(r) = root(crit_u) {
        lb = r;
    }
    let i2 = |t: f64| at_most_100(100.0 * t / (vt + t));
    let h2 = |t: f64| t / vt + 1.0;
    Some(Tau2Ci {
        tau2_lb: lb,
        tau2_ub: ub,
        lb_censor: lb_c,
        ub_censor: ub_c,
        null,
        tau_lb: lb.max(0.0).sqrt(),
        tau_ub: ub.max(0.0).sqrt(),
        i2_lb: i2(lb),
        i2_ub: i2(ub),
        h2_lb: h2(lb),
        h2_ub: h2(ub),
        ci_type: Tau2CiType::QProfile,
    })
}
