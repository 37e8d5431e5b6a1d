//! Selection models for publication bias (metafor's `selmodel`): the random- or fixed-effects
//! likelihood weighted by the probability that a study with one-sided p-value p is published.
//!
//! Vevea & Hedges 1995, *Psychometrika* 60:419–435 (step functions); Citkowicz & Vevea 2017,
//! *Psychol Methods* 22:28–41 (beta); Preston, Ashby & Smyth 2004, *Biometrics* 60:793–800
//! (exponential and power families). The likelihood is metafor's (README_more, "Selection
//! models"); the optimum is found exactly (damped Newton on a transformed scale, integrals by
//! adaptive Gauss–Kronrod to 1e-13), so the numbers match metafor's tight refits, not where its
//! default `optim` stopped.

use crate::error::{Error, Result};
use crate::model::{Method, RmaFit};
use crate::stats::quadrature::integrate;
use crate::stats::{dnorm, pchisq_upper, pnorm, pnorm_two_sided, pnorm_upper, qnorm_upper};

/// The selection function w(p) (metafor's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SelType {
    /// Beta: w(p) = p^(δ₁−1)(1−p)^(δ₂−1) (Citkowicz & Vevea 2017).
    Beta,
    /// Half-normal: w(p) = exp(−δp²).
    Halfnorm,
    /// Negative exponential: w(p) = exp(−δp).
    Negexp,
    /// Logistic: w(p) = 2exp(−δp)/(1 + exp(−δp)).
    Logistic,
    /// Power: w(p) = (1−p)^δ.
    Power,
    /// Step function: w(p) = δⱼ on the j-th p-value interval, δ₁ = 1 (Vevea & Hedges 1995).
    Stepfun,
}

impl SelType {
    /// metafor's name of the type.
    pub fn name(self) -> &'static str {
        match self {
            SelType::Beta => "beta",
            SelType::Halfnorm => "halfnorm",
            SelType::Negexp => "negexp",
            SelType::Logistic => "logistic",
            SelType::Power => "power",
            SelType::Stepfun => "stepfun",
        }
    }

    /// p-values are clamped to [pval_min, 1 − pval_min] (metafor: beta and power are infinite or
    /// zero at the ends).
    fn pval_min(self) -> f64 {
        match self {
            SelType::Beta | SelType::Power => 1e-5,
            _ => 0.0,
        }
    }

    /// (lower bound, upper bound, start, value under H0) of each δ.
    fn delta_spec(self) -> (f64, f64, f64, f64) {
        match self {
            SelType::Beta => (1e-5, 100.0, 1.0, 1.0),
            SelType::Stepfun => (0.0, 100.0, 1.0, 1.0),
            _ => (0.0, 100.0, 1.0, 0.0),
        }
    }
}

/// The direction of the effects favoured by selection (metafor's `alternative`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Alternative {
    /// Significant positive effects are favoured: p = 1 − Φ(y/√v) (metafor's default).
    Greater,
    /// Significant negative effects are favoured: p = Φ(y/√v).
    Less,
}

/// What to fit.
#[derive(Debug, Clone, PartialEq)]
pub struct SelOptions {
    /// The selection function.
    pub sel_type: SelType,
    /// Cut-points in (0, 1), increasing: every interval of a step function; at most one for the
    /// other types (w = 1 below it). 1 is appended.
    pub steps: Vec<f64>,
    /// The favoured direction.
    pub alternative: Alternative,
}

/// A fitted selection model.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SelModel {
    /// The selection function.
    pub sel_type: SelType,
    /// The favoured direction.
    pub alternative: Alternative,
    /// Cut-points used, 1 appended (empty for a continuous type without steps).
    pub steps: Vec<f64>,
    /// Studies.
    pub k: usize,
    /// Selection-adjusted pooled estimate.
    pub estimate: f64,
    /// Its standard error (inverse Hessian).
    pub se: f64,
    /// z statistic.
    pub zval: f64,
    /// Two-sided p-value.
    pub pval: f64,
    /// Lower confidence limit.
    pub ci_lb: f64,
    /// Upper confidence limit.
    pub ci_ub: f64,
    /// Adjusted τ² (0 under FE).
    pub tau2: f64,
    /// Standard error of τ² (None under FE).
    pub se_tau2: Option<f64>,
    /// Selection parameters; for a step function δ₁ = 1 is fixed.
    pub delta: Vec<f64>,
    /// Their standard errors (None for a fixed δ).
    pub se_delta: Vec<Option<f64>>,
    /// Wald z of each δ against its value under no selection (1 for beta and step functions,
    /// 0 otherwise); None for a fixed δ or without a standard error.
    pub delta_zval: Vec<Option<f64>>,
    /// Two-sided p-values of those z.
    pub delta_pval: Vec<Option<f64>>,
    /// Wald confidence limits of each δ, the lower one cut at 0 (δ ≥ 0).
    pub delta_ci_lb: Vec<Option<f64>>,
    /// Upper Wald confidence limits of each δ.
    pub delta_ci_ub: Vec<Option<f64>>,
    /// Confidence level, in percent.
    pub level: f64,
    /// Likelihood-ratio statistic against the unadjusted model.
    pub lrt: f64,
    /// Its degrees of freedom: the number of estimated δ.
    pub lrt_df: usize,
    /// Its p-value.
    pub lrt_pval: f64,
    /// Log-likelihood of the selection model.
    pub loglik: f64,
    /// Log-likelihood of the unadjusted (ML or FE) model.
    pub loglik_unadjusted: f64,
    /// Studies per p-value interval (0, s₁], (s₁, s₂], …, when steps are used.
    pub k_steps: Option<Vec<usize>>,
    /// One-sided p-values of the studies.
    pub pvals: Vec<f64>,
    /// The fit is fixed-effects (τ² = 0 not estimated).
    pub fixed: bool,
    /// Warnings (sparse intervals, a δ at its bound, a singular Hessian).
    pub warnings: Vec<String>,
}

/// An interval with fewer studies than this is flagged: its δ rests on a handful of p-values.
pub const FEW_PER_INTERVAL: usize = 3;

/// The problem in the "greater" orientation: `less` is the mirror image (y → −y, β → −β).
struct Problem {
    y: Vec<f64>,
    v: Vec<f64>,
    p: Vec<f64>,
    sel_type: SelType,
    steps: Vec<f64>,
    pmin: f64,
    /// Interval of each study (stepfun or steps given).
    grp: Vec<usize>,
    fixed: bool,
    /// Number of free δ.
    nd: usize,
}

impl Problem {
    /// The full δ vector from the free ones.
    fn deltas(&self, free: &[f64]) -> Vec<f64> {
        if self.sel_type == SelType::Stepfun {
            std::iter::once(1.0).chain(free.iter().copied()).collect()
        } else {
            free.to_vec()
        }
    }

    /// w(p) for the continuous types (steps[0], if any, is the cut below which w = 1).
    fn w(&self, p: f64, d: &[f64]) -> f64 {
        weight(self.sel_type, &self.steps, self.pmin, p, d)
    }

    /// Log-likelihood at (β, τ², free δ); NaN where undefined.
    fn loglik(&self, beta: f64, tau2: f64, free: &[f64]) -> f64 {
        let d = self.deltas(free);
        let mut ll = 0.0;
        for i in 0..self.y.len() {
            let s = (self.v[i] + tau2).sqrt();
            let (logw, a) = if self.sel_type == SelType::Stepfun {
                (d[self.grp[i]].ln(), self.step_norm(i, beta, s, &d))
            } else {
                (self.w(self.p[i], &d).ln(), self.cont_norm(i, beta, s, &d))
            };
            ll += logw
                - 0.5 * (2.0 * std::f64::consts::PI).ln()
                - s.ln()
                - 0.5 * ((self.y[i] - beta) / s).powi(2)
                - a.ln();
        }
        ll
    }

    /// Aᵢ of a step function in closed form.
    fn step_norm(&self, i: usize, mu: f64, s: f64, d: &[f64]) -> f64 {
        let sv = self.v[i].sqrt();
        let n = self.steps.len();
        let upper = |j: usize| pnorm_upper((sv * qnorm_upper(self.steps[j]) - mu) / s);
        let mut a = upper(0);
        for (j, dj) in d.iter().enumerate().take(n).skip(1) {
            a += if j < n - 1 {
                dj * (upper(j) - upper(j - 1))
            } else {
                dj * pnorm((sv * qnorm_upper(self.steps[j - 1]) - mu) / s)
            };
        }
        a
    }

    /// Aᵢ = E[w(p(Y))], Y ~ N(μ, s²), by adaptive Gauss–Kronrod (relative 1e-13) over z = (Y − μ)/s, split where
    /// w has a kink (the clamp of p, a cut-point).
    fn cont_norm(&self, i: usize, mu: f64, s: f64, d: &[f64]) -> f64 {
        let sv = self.v[i].sqrt();
        let z_of_p = |p: f64| (sv * qnorm_upper(p) - mu) / s;
        let mut cuts = vec![-12.0, 12.0];
        if self.pmin > 0.0 {
            cuts.push(z_of_p(self.pmin));
            cuts.push(z_of_p(1.0 - self.pmin));
        }
        if self.steps.len() > 1 {
            cuts.push(z_of_p(self.steps[0]));
        }
        cuts.retain(|z| z.is_finite() && z.abs() <= 12.0);
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        let f = |z: f64| self.w(pnorm_upper((mu + s * z) / sv), d) * dnorm(z);
        // A panel that does not converge makes the likelihood undefined there (NaN).
        cuts.windows(2)
            .map(|c| integrate(f, c[0], c[1]).unwrap_or(f64::NAN))
            .sum()
    }
}

/// w(p) of a continuous type with parameters `d`, p clamped to [pmin, 1 − pmin]; with a
/// cut-point (`steps` = [s, 1]) w = 1 up to s and w(p)/w(s) above, as metafor's `wi.fun`.
fn weight(sel_type: SelType, steps: &[f64], pmin: f64, p: f64, d: &[f64]) -> f64 {
    let p = p.clamp(pmin, 1.0 - pmin);
    let f = |p: f64| match sel_type {
        SelType::Beta => p.powf(d[0] - 1.0) * (1.0 - p).powf(d[1] - 1.0),
        SelType::Halfnorm => (-d[0] * p * p).exp(),
        SelType::Negexp => (-d[0] * p).exp(),
        SelType::Logistic => 2.0 * (-d[0] * p).exp() / (1.0 + (-d[0] * p).exp()),
        SelType::Power => (1.0 - p).powf(d[0]),
        SelType::Stepfun => unreachable!("step functions have a closed form"),
    };
    match steps.first() {
        Some(&s) if sel_type != SelType::Beta && steps.len() > 1 => {
            if p <= s {
                1.0
            } else {
                f(p) / f(s)
            }
        }
        _ => f(p),
    }
}

/// The fitted selection function as metafor's `plot.rma.uni.selmodel` traces it: w(p) at `n`
/// evenly spaced p-values from pval_min to 1 − pval_min (a step function's cut-points added),
/// negative values as 0.
pub fn selection_curve(s: &SelModel, n: usize) -> Vec<(f64, f64)> {
    let pmin = s.sel_type.pval_min();
    let (lo, hi) = (pmin, 1.0 - pmin);
    let n1 = n.max(2) - 1;
    let mut ps: Vec<f64> = (0..=n1)
        .map(|i| {
            if i == n1 {
                hi
            } else {
                lo + i as f64 * ((hi - lo) / n1 as f64)
            }
        })
        .collect();
    if s.sel_type == SelType::Stepfun {
        ps.extend(s.steps.iter().filter(|&&x| x >= lo && x <= hi));
        ps.sort_by(f64::total_cmp);
        ps.dedup();
    }
    ps.into_iter()
        .map(|p| {
            let w = if s.sel_type == SelType::Stepfun {
                let j = s
                    .steps
                    .iter()
                    .position(|&x| p <= x)
                    .unwrap_or(s.steps.len() - 1);
                s.delta[j]
            } else {
                weight(s.sel_type, &s.steps, pmin, p, &s.delta)
            };
            (p, w.max(0.0))
        })
        .collect()
}

/// The one-sided p-value of the three-parameter selection model's step.
pub const THREE_PSM_STEP: f64 = 0.025;

/// The three-parameter selection model ("3PSM": one step at one-sided p = 0.025; Iyengar &
/// Greenhouse 1988, *Stat Sci* 3:109–117; McShane, Böckenholt & Hansen 2016, *Perspect Psychol
/// Sci* 11:730–749) of the ML random-effects model of `set` with `opts`' level and control,
/// selection favouring significant effects in the direction of the unadjusted estimate.
pub fn three_psm(
    set: &crate::effect::EffectSet,
    opts: &crate::model::RmaOptions,
) -> Result<SelModel> {
    let ml = crate::model::RmaOptions {
        method: Method::ML,
        test: crate::model::Test::Z,
        ..*opts
    };
    let fit = crate::model::rma(set, &ml)?;
    let alternative = if fit.estimate < 0.0 {
        Alternative::Less
    } else {
        Alternative::Greater
    };
    selmodel(
        &fit,
        &SelOptions {
            sel_type: SelType::Stepfun,
            steps: vec![THREE_PSM_STEP],
            alternative,
        },
    )
}

/// Fits the selection model `opts` to an ML or FE fit (metafor's `selmodel.rma.uni`).
pub fn selmodel(fit: &RmaFit, opts: &SelOptions) -> Result<SelModel> {
    let fixed = match fit.options.method {
        Method::ML => false,
        Method::FE => true,
        m => {
            return Err(Error::Invalid(format!(
                "selection models are fitted by maximum likelihood: the input model uses {m:?}; \
                 fit it by ML (or FE)"
            )))
        }
    };
    if fit.options.tau2_fixed.is_some() {
        return Err(Error::Unsupported {
            what: "a selection model with a fixed tau2".into(),
        });
    }
    let steps = check_steps(opts)?;
    let set = &fit.effects;
    let sign = match opts.alternative {
        Alternative::Greater => 1.0,
        Alternative::Less => -1.0,
    };
    let pmin = opts.sel_type.pval_min();
    let mut y = Vec::with_capacity(set.k());
    let mut p = Vec::with_capacity(set.k());
    for (i, (&yi, &vi)) in set.yi.iter().zip(&set.vi).enumerate() {
        if !(vi > 0.0) || !yi.is_finite() || !vi.is_finite() {
            return Err(Error::Invalid(format!(
                "study '{}': a selection model needs a finite effect and a positive sampling \
                 variance (yi = {yi}, vi = {vi})",
                set.labels.get(i).map_or("?", String::as_str)
            )));
        }
        y.push(sign * yi);
        p.push(pnorm_upper(sign * yi / vi.sqrt()).clamp(pmin, 1.0 - pmin));
    }
    let grp: Vec<usize> = p
        .iter()
        .map(|&pi| {
            steps
                .iter()
                .position(|&s| pi <= s)
                .unwrap_or(steps.len() - 1)
        })
        .collect();
    let nd = match opts.sel_type {
        SelType::Beta => 2,
        SelType::Stepfun => steps.len() - 1,
        _ => 1,
    };
    let k = y.len();
    let needed = 1 + usize::from(!fixed) + nd;
    if k < needed {
        return Err(Error::TooFewStudies {
            what: "this selection model",
            k,
            needed,
        });
    }
    let mut warnings = Vec::new();
    let k_steps = if steps.len() > 1 {
        Some(interval_counts(&grp, &steps, &mut warnings)?)
    } else {
        None
    };
    let prob = Problem {
        y,
        v: set.vi.clone(),
        p: p.clone(),
        sel_type: opts.sel_type,
        steps: steps.clone(),
        pmin,
        grp,
        fixed,
        nd,
    };
    let start_beta = sign * fit.estimate;
    let start = fit_optimum(&prob, start_beta, fit.tau2)?;
    finish(&prob, fit, opts, sign, start, k_steps, warnings, p)
}

/// Steps as used: validated, 1 appended; empty for a continuous type without steps.
fn check_steps(opts: &SelOptions) -> Result<Vec<f64>> {
    let s = &opts.steps;
    if opts.sel_type == SelType::Stepfun && s.is_empty() {
        return Err(Error::Invalid(
            "a step-function selection model needs at least one cut-point (e.g. 0.025)".into(),
        ));
    }
    if opts.sel_type != SelType::Stepfun && s.len() > 1 {
        return Err(Error::Invalid(format!(
            "a {} selection model takes at most one cut-point, got {}",
            opts.sel_type.name(),
            s.len()
        )));
    }
    if opts.sel_type == SelType::Beta && !s.is_empty() {
        return Err(Error::Invalid(
            "a beta selection model takes no cut-points".into(),
        ));
    }
    for (j, &x) in s.iter().enumerate() {
        if !(x > 0.0 && x < 1.0) {
            return Err(Error::Invalid(format!(
                "cut-point {} is {x}: cut-points are p-values strictly between 0 and 1",
                j + 1
            )));
        }
        if j > 0 && !(x > s[j - 1]) {
            return Err(Error::Invalid(format!(
                "cut-points must increase: {} follows {}",
                x,
                s[j - 1]
            )));
        }
    }
    let mut out = s.clone();
    if !out.is_empty() {
        out.push(1.0);
    }
    Ok(out)
}

/// Studies per interval; an empty interval is refused (its δ is not identified), a sparse one
/// is flagged.
fn interval_counts(grp: &[usize], steps: &[f64], warnings: &mut Vec<String>) -> Result<Vec<usize>> {
    let mut n = vec![0usize; steps.len()];
    for &g in grp {
        n[g] += 1;
    }
    let label = |j: usize| {
        let lo = if j == 0 { 0.0 } else { steps[j - 1] };
        format!("{lo} < p <= {}", steps[j])
    };
    let empty: Vec<String> = (0..n.len()).filter(|&j| n[j] == 0).map(label).collect();
    if !empty.is_empty() {
        return Err(Error::Invalid(format!(
            "no study's one-sided p-value falls in the interval(s) {}: every interval needs \
             observed p-values (choose other cut-points or the other direction)",
            empty.join(", ")
        )));
    }
    for (j, &c) in n.iter().enumerate() {
        if c < FEW_PER_INTERVAL {
            warnings.push(format!(
                "only {c} {} in the interval {}: its selection weight is poorly determined",
                if c == 1 { "study" } else { "studies" },
                label(j)
            ));
        }
    }
    Ok(n)
}

/// Natural parameters (β, τ², free δ) from the optimiser's (β, log τ², logit-mapped δ).
fn natural(prob: &Problem, theta: &[f64]) -> (f64, f64, Vec<f64>) {
    let (lo, hi, _, _) = prob.sel_type.delta_spec();
    let (tau2, rest) = if prob.fixed {
        (0.0, &theta[1..])
    } else {
        let t = theta[1].exp();
        // metafor: tau2 < 10 eps is 0.
        (if t < 10.0 * f64::EPSILON { 0.0 } else { t }, &theta[2..])
    };
    let d = rest
        .iter()
        .map(|&x| lo + (hi - lo) / (1.0 + (-x).exp()))
        .collect();
    (theta[0], tau2, d)
}

/// The negative log-likelihood on the optimiser's scale.
fn objective(prob: &Problem, theta: &[f64]) -> f64 {
    let (b, t, d) = natural(prob, theta);
    let ll = prob.loglik(b, t, &d);
    if ll.is_finite() {
        -ll
    } else {
        f64::INFINITY
    }
}

/// Central-difference gradient and Hessian of `f` at `x` with steps `h`.
fn derivatives(f: &dyn Fn(&[f64]) -> f64, x: &[f64], h: &[f64]) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let n = x.len();
    let f0 = f(x);
    let at = |moves: &[(usize, f64)]| {
        let mut y = x.to_vec();
        for &(i, s) in moves {
            y[i] += s * h[i];
        }
        f(&y)
    };
    let mut g = vec![0.0; n];
    let mut hm = vec![vec![0.0; n]; n];
    for i in 0..n {
        let (fp, fm) = (at(&[(i, 1.0)]), at(&[(i, -1.0)]));
        g[i] = (fp - fm) / (2.0 * h[i]);
        hm[i][i] = (fp - 2.0 * f0 + fm) / (h[i] * h[i]);
        for j in 0..i {
            let v = (at(&[(i, 1.0), (j, 1.0)])
                - at(&[(i, 1.0), (j, -1.0)])
                - at(&[(i, -1.0), (j, 1.0)])
                + at(&[(i, -1.0), (j, -1.0)]))
                / (4.0 * h[i] * h[j]);
            hm[i][j] = v;
            hm[j][i] = v;
        }
    }
    (f0, g, hm)
}

/// Cholesky factor of a symmetric matrix; None unless positive definite.
fn cholesky(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = a[i][j] - (0..j).map(|m| l[i][m] * l[j][m]).sum::<f64>();
            if i == j {
                if !(s > 0.0) {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    Some(l)
}

/// Solves L Lᵀ x = b.
fn chol_solve(l: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let mut z = b.to_vec();
    for i in 0..n {
        for m in 0..i {
            z[i] -= l[i][m] * z[m];
        }
        z[i] /= l[i][i];
    }
    for i in (0..n).rev() {
        for m in i + 1..n {
            z[i] -= l[m][i] * z[m];
        }
        z[i] /= l[i][i];
    }
    z
}

/// Maximises the likelihood: damped Newton (Levenberg–Marquardt) with a backtracking line search
/// on (β, log τ², logit δ), from metafor's start. Returns the optimiser-scale optimum.
fn fit_optimum(prob: &Problem, beta: f64, tau2_ml: f64) -> Result<Vec<f64>> {
    let (lo, hi, d0, _) = prob.sel_type.delta_spec();
    let x0 = -((hi - lo) / (d0 - lo) - 1.0).ln();
    let mut theta = vec![beta];
    if !prob.fixed {
        theta.push((tau2_ml + 0.001).ln());
    }
    theta.extend(std::iter::repeat_n(x0, prob.nd));
    let f = |t: &[f64]| objective(prob, t);
    if !f(&theta).is_finite() {
        return Err(Error::Invalid(
            "the selection model's likelihood is not finite at the starting values".into(),
        ));
    }
    let mut lambda = 0.0_f64;
    for _ in 0..500 {
        let h: Vec<f64> = theta.iter().map(|t| 1e-4 * t.abs().max(1.0)).collect();
        let (f0, g, hm) = derivatives(&f, &theta, &h);
        if g.iter().all(|gi| gi.abs() < 1e-8) {
            return Ok(theta);
        }
        let mut improved = false;
        let mut gain = 0.0;
        for _ in 0..60 {
            let mut a = hm.clone();
            for (i, row) in a.iter_mut().enumerate() {
                row[i] += lambda;
            }
            let Some(l) = cholesky(&a) else {
                lambda = (lambda * 4.0).max(1e-6);
                continue;
            };
            let step = chol_solve(&l, &g);
            let slope: f64 = -g.iter().zip(&step).map(|(a, b)| a * b).sum::<f64>();
            let mut t = 1.0;
            while t > 1e-6 {
                let cand: Vec<f64> = theta.iter().zip(&step).map(|(x, s)| x - t * s).collect();
                let fc = f(&cand);
                if fc <= f0 + 1e-4 * t * slope && fc < f0 {
                    improved = true;
                    gain = f0 - fc;
                    theta = cand;
                    break;
                }
                t *= 0.5;
            }
            if improved {
                lambda *= 0.25;
                if lambda < 1e-10 {
                    lambda = 0.0;
                }
                break;
            }
            lambda = (lambda * 4.0).max(1e-6);
        }
        // No descent left at the precision of the integrals: the optimum.
        if !improved || gain < 1e-15 * f0.abs().max(1.0) {
            return Ok(theta);
        }
    }
    Err(Error::NotConverged {
        method: "ML",
        detail: "the selection model's likelihood did not reach its maximum in 500 Newton steps"
            .into(),
    })
}

/// Inverse of the Hessian of −ll on the natural scale (β, τ², free δ), by numDeriv's Richardson
/// method with r = 6 as metafor computes it. None when not invertible.
fn natural_covariance(prob: &Problem, nat: &[f64]) -> Option<Vec<Vec<f64>>> {
    let f = |x: &[f64]| {
        let (b, t, d) = if prob.fixed {
            (x[0], 0.0, &x[1..])
        } else {
            // metafor: tau2 < 10 eps is 0.
            let t = if x[1] < 10.0 * f64::EPSILON {
                0.0
            } else {
                x[1]
            };
            (x[0], t, &x[2..])
        };
        -prob.loglik(b, t, d)
    };
    let n = nat.len();
    let hess = crate::stats::numderiv::hessian(&f, nat, 6);
    if hess.iter().flatten().any(|v| !v.is_finite()) {
        return None;
    }
    let l = cholesky(&hess)?;
    let cols: Vec<Vec<f64>> = (0..n)
        .map(|j| {
            let e: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i == j))).collect();
            chol_solve(&l, &e)
        })
        .collect();
    Some(cols)
}

/// (z against `h0`, lower, upper confidence limit) of each δ with a standard error, as metafor's
/// `zval.delta` and `ci.lb.delta` (the lower limit cut at δ's bound 0); `z` is the critical value.
fn delta_wald(delta: &[f64], se: &[Option<f64>], h0: f64, z: f64) -> Vec<Option<(f64, f64, f64)>> {
    delta
        .iter()
        .zip(se)
        .map(|(&d, se)| se.map(|se| ((d - h0) / se, (d - z * se).max(0.0), d + z * se)))
        .collect()
}

/// Estimates, standard errors and the LRT at the optimum.
#[allow(clippy::too_many_arguments)]
fn finish(
    prob: &Problem,
    fit: &RmaFit,
    opts: &SelOptions,
    sign: f64,
    theta: Vec<f64>,
    k_steps: Option<Vec<usize>>,
    mut warnings: Vec<String>,
    pvals: Vec<f64>,
) -> Result<SelModel> {
    let (beta, tau2, free) = natural(prob, &theta);
    let loglik = prob.loglik(beta, tau2, &free);
    let mut nat = vec![beta];
    if !prob.fixed {
        nat.push(tau2);
    }
    nat.extend(&free);
    let (lo, hi, _, _) = prob.sel_type.delta_spec();
    for (j, &d) in free.iter().enumerate() {
        if d - lo < 1e-6 * (hi - lo) || hi - d < 1e-6 * (hi - lo) {
            warnings.push(format!(
                "delta[{}] = {d} is at its bound: its standard error is not meaningful",
                j + 1 + usize::from(prob.sel_type == SelType::Stepfun)
            ));
        }
    }
    // τ² at 0 sits on the boundary, where the Hessian is not the curvature of an interior optimum.
    let cov = if !prob.fixed && tau2 == 0.0 {
        None
    } else {
        natural_covariance(prob, &nat)
    };
    if cov.is_none() {
        warnings.push("the Hessian cannot be inverted: standard errors are not available".into());
    }
    let se_of = |i: usize| cov.as_ref().map(|c| c[i][i].max(0.0).sqrt());
    let se = se_of(0).unwrap_or(f64::NAN);
    let estimate = sign * beta;
    let z = fit.options.level.z();
    let zval = estimate / se;
    let off = usize::from(!prob.fixed);
    let mut delta = prob.deltas(&free);
    let mut se_delta: Vec<Option<f64>> = (0..free.len()).map(|j| se_of(1 + off + j)).collect();
    if prob.sel_type == SelType::Stepfun {
        se_delta.insert(0, None);
    }
    delta.iter_mut().for_each(|d| *d = d.max(0.0));
    let wald = delta_wald(&delta, &se_delta, prob.sel_type.delta_spec().3, z);
    let loglik_unadjusted = fit.fit.loglik;
    let lrt = (-2.0 * (loglik_unadjusted - loglik)).max(0.0);
    Ok(SelModel {
        sel_type: opts.sel_type,
        alternative: opts.alternative,
        steps: prob.steps.clone(),
        k: prob.y.len(),
        estimate,
        se,
        zval,
        pval: pnorm_two_sided(zval),
        ci_lb: estimate - z * se,
        ci_ub: estimate + z * se,
        tau2,
        se_tau2: if prob.fixed { None } else { se_of(1) },
        delta,
        se_delta,
        delta_zval: wald.iter().map(|w| w.map(|w| w.0)).collect(),
        delta_pval: wald
            .iter()
            .map(|w| w.map(|w| pnorm_two_sided(w.0)))
            .collect(),
        delta_ci_lb: wald.iter().map(|w| w.map(|w| w.1)).collect(),
        delta_ci_ub: wald.iter().map(|w| w.map(|w| w.2)).collect(),
        level: fit.options.level.percent(),
        lrt,
        lrt_df: prob.nd,
        lrt_pval: pchisq_upper(lrt, prob.nd as f64),
        loglik,
        loglik_unadjusted,
        k_steps,
        pvals,
        fixed: prob.fixed,
        warnings,
    })
}
