//! S-values: how strongly publication would have to favour affirmative studies to explain a
//! meta-analysis away (Mathur & VanderWeele 2020, "Sensitivity analysis for publication bias in
//! meta-analyses", *J R Stat Soc C* 69:1091–1119), as the R package PublicationBias 2.2
//! (`corrected_meta`, `svalue`).
//!
//! A study is *affirmative* when its estimate lies in the favoured direction with two-sided
//! p < `alpha_select`. If affirmative studies are η times as likely to be published, weighting the
//! nonaffirmative ones by η undoes the selection; the S-value is the η that brings the estimate (or
//! its lower confidence bound) down to `q`, and the meta-analysis of the nonaffirmative studies
//! alone is the worst case (η → ∞). Everything is computed with the signs recoded so that
//! selection favours positive estimates, and reported on the original scale.

use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::{rma, RmaOptions};
use crate::robust::Clusters;
use crate::stats::level::Level;
use crate::stats::zeroin::uniroot;
use crate::stats::{pnorm_two_sided, pt_two_sided, qt_upper};
use nalgebra::{DMatrix, DVector};

/// The meta-analytic model the S-values correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SvalModel {
    /// Fixed (common) effect, t inference with k − 1 df (the package's `model = "fixed"`).
    Fixed,
    /// Robust random effects: weights 1/(vi + τ²) with a naive τ², cluster-robust SEs with
    /// robumeta's small-sample correction (the package's `model = "robust"`).
    Robust,
}

impl SvalModel {
    /// The package's name of the model.
    pub fn name(self) -> &'static str {
        match self {
            SvalModel::Fixed => "fixed",
            SvalModel::Robust => "robust",
        }
    }
}

/// What the S-values are computed for.
#[derive(Debug, Clone)]
pub struct SvalOptions {
    /// Fixed or robust.
    pub model: SvalModel,
    /// The value to which selection would have to shift the estimate (analysis scale).
    pub q: f64,
    /// Whether selection favours positive estimates (else negative ones: signs are recoded);
    /// `None`: the direction of the uncorrected estimate.
    pub favor_positive: Option<bool>,
    /// Two-sided p-value below which a study counts as affirmative (0.05).
    pub alpha_select: f64,
    /// The largest η the robust model searches (the package's `eta.grid.hi`, 200).
    pub eta_max: f64,
    /// Confidence level of the intervals.
    pub level: Level,
    /// The options of the naive random-effects model whose τ² sets the robust weights (metafor's
    /// default REML, as the package).
    pub rma: RmaOptions,
}

/// The package's defaults for alpha.select and eta.grid.hi.
pub const ALPHA_SELECT: f64 = 0.05;
/// The package's default largest η of the robust search.
pub const ETA_MAX: f64 = 200.0;

/// The estimate corrected for a given selection ratio η (the package's `corrected_meta`), on the
/// original scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Corrected {
    /// The selection ratio.
    pub eta: f64,
    /// The corrected estimate.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// t degrees of freedom: k − 1 (fixed) or Satterthwaite's (robust).
    pub df: f64,
    /// Two-sided p-value.
    pub pval: f64,
    /// Lower confidence bound.
    pub ci_lb: f64,
    /// Upper confidence bound.
    pub ci_ub: f64,
}

/// An S-value, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sval {
    /// The selection ratio η ≥ 1 that shifts the estimate (or its bound) to q.
    Value(f64),
    /// No η can: even the nonaffirmative studies alone stay beyond q (or there is no group to
    /// reweight).
    NotPossible,
    /// Beyond the largest η searched (robust model).
    Above(f64),
    /// The uncorrected confidence interval already contains q (S-value of the bound only).
    CiContainsQ,
}

/// The meta-analysis of the nonaffirmative studies alone: the estimate under worst-case selection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorstCase {
    /// The estimate (original scale).
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// Lower confidence bound.
    pub ci_lb: f64,
    /// Upper confidence bound.
    pub ci_ub: f64,
    /// Degrees of freedom of the robust t interval; `None` for a z interval.
    pub df: Option<f64>,
}

/// The S-values of a meta-analysis (the package's `svalue` with `return.worst.meta = TRUE`).
#[derive(Debug, Clone)]
pub struct SValues {
    /// Fixed or robust.
    pub model: SvalModel,
    /// The target value (analysis scale).
    pub q: f64,
    /// Whether selection was taken to favour positive estimates.
    pub favor_positive: bool,
    /// The affirmative threshold.
    pub alpha_select: f64,
    /// Number of studies.
    pub k: usize,
    /// Affirmative studies (in the favoured direction, p < alpha_select).
    pub k_affirmative: usize,
    /// Nonaffirmative studies.
    pub k_nonaffirmative: usize,
    /// The naive τ² of the robust weights; `None` for the fixed model.
    pub tau2: Option<f64>,
    /// Number of clusters (robust model).
    pub n_clusters: usize,
    /// The uncorrected estimate (η = 1).
    pub uncorrected: Corrected,
    /// η for the estimate.
    pub sval_est: Sval,
    /// η for the confidence bound nearer q.
    pub sval_ci: Sval,
    /// The nonaffirmative studies alone; `None` when there are none.
    pub worst: Option<WorstCase>,
    /// The confidence level.
    pub level: Level,
}

/// The effects with their signs recoded, which are affirmative, and the weights' τ².
struct Prepared {
    /// The sign applied (−1 when selection favours negative estimates).
    sign: f64,
    y: Vec<f64>,
    v: Vec<f64>,
    affirmative: Vec<bool>,
    clusters: Vec<Vec<usize>>,
    tau2: f64,
    model: SvalModel,
    level: Level,
}

impl Prepared {
    fn new(set: &EffectSet, clusters: Option<&Clusters>, opts: &SvalOptions) -> Result<Prepared> {
        let k = set.k();
        if k < 2 {
            return Err(Error::TooFewStudies {
                what: "S-values",
                k,
                needed: 2,
            });
        }
        if !(opts.alpha_select > 0.0 && opts.alpha_select < 1.0) {
            return Err(Error::invalid(format!(
                "the affirmative threshold alpha must lie strictly between 0 and 1, got {}",
                opts.alpha_select
            )));
        }
        if set.vi.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
            return Err(Error::invalid(
                "S-values need positive, finite sampling variances",
            ));
        }
        let tau2 = match opts.model {
            SvalModel::Fixed => 0.0,
            SvalModel::Robust => rma(set, &opts.rma)?.tau2,
        };
        let favor_positive = opts.favor_positive.unwrap_or_else(|| {
            // The uncorrected estimate is the same weighted mean whatever the direction.
            let w = |v: f64| 1.0 / (v + tau2);
            set.yi
                .iter()
                .zip(&set.vi)
                .map(|(y, v)| w(*v) * y)
                .sum::<f64>()
                >= 0.0
        });
        let sign = if favor_positive { 1.0 } else { -1.0 };
        let y: Vec<f64> = set.yi.iter().map(|y| sign * y).collect();
        let affirmative = y
            .iter()
            .zip(&set.vi)
            .map(|(y, v)| *y > 0.0 && pnorm_two_sided(y / v.sqrt()) < opts.alpha_select)
            .collect();
        let clusters = match clusters {
            Some(c) if c.of_row.len() == k => c.rows.clone(),
            Some(c) => {
                return Err(Error::invalid(format!(
                    "{} cluster values for {k} studies",
                    c.of_row.len()
                )))
            }
            None => (0..k).map(|i| vec![i]).collect(),
        };
        if opts.model == SvalModel::Robust && clusters.len() < 2 {
            return Err(Error::invalid(
                "the robust S-values need studies from at least 2 clusters",
            ));
        }
        Ok(Prepared {
            sign,
            y,
            v: set.vi.clone(),
            affirmative,
            clusters,
            tau2,
            model: opts.model,
            level: opts.level,
        })
    }

    fn counts(&self) -> (usize, usize) {
        let a = self.affirmative.iter().filter(|a| **a).count();
        (a, self.y.len() - a)
    }

    /// The sums Σ y/(v + τ²) and Σ 1/(v + τ²) of the nonaffirmative and of the affirmative
    /// studies: the corrected estimate is (η·a + b)/(η·c + d).
    fn sums(&self) -> (f64, f64, f64, f64) {
        let (mut a, mut b, mut c, mut d) = (0.0, 0.0, 0.0, 0.0);
        for i in 0..self.y.len() {
            let w = 1.0 / (self.v[i] + self.tau2);
            if self.affirmative[i] {
                (b, d) = (b + w * self.y[i], d + w);
            } else {
                (a, c) = (a + w * self.y[i], c + w);
            }
        }
        (a, b, c, d)
    }

    /// The corrected estimate at η with recoded signs (the package's `corrected_meta` with
    /// `small = TRUE`).
    fn corrected(&self, eta: f64) -> Result<Corrected> {
        let k = self.y.len();
        let alpha = self.level.alpha();
        match self.model {
            SvalModel::Fixed => {
                let (a, b, c, d) = self.sums();
                let est = (eta * a + b) / (eta * c + d);
                let se = ((eta * eta * c + d) / (eta * c + d).powi(2)).sqrt();
                let df = (k - 1) as f64;
                Ok(t_result(eta, est, se, df, alpha))
            }
            SvalModel::Robust => {
                let w: Vec<f64> = (0..k)
                    .map(|i| {
                        let s = if self.affirmative[i] { 1.0 } else { eta };
                        s / (self.v[i] + self.tau2)
                    })
                    .collect();
                let r = robu(&self.y, &self.v, &w, &self.clusters)?;
                Ok(t_result(eta, r.estimate, r.se, r.df, alpha))
            }
        }
    }

    /// The meta-analysis of the nonaffirmative studies, recoded signs.
    fn worst(&self) -> Result<Option<WorstCase>> {
        let rows: Vec<usize> = (0..self.y.len())
            .filter(|&i| !self.affirmative[i])
            .collect();
        let z = self.level.z();
        match rows.as_slice() {
            [] => Ok(None),
            // robumeta cannot meta-analyse one study: the study's own z interval (the package).
            &[i] => {
                let se = self.v[i].sqrt();
                Ok(Some(WorstCase {
                    estimate: self.y[i],
                    se,
                    ci_lb: self.y[i] - z * se,
                    ci_ub: self.y[i] + z * se,
                    df: None,
                }))
            }
            _ if self.model == SvalModel::Fixed => {
                let (a, _, c, _) = self.sums();
                let (est, se) = (a / c, c.sqrt().recip());
                Ok(Some(WorstCase {
                    estimate: est,
                    se,
                    ci_lb: est - z * se,
                    ci_ub: est + z * se,
                    df: None,
                }))
            }
            _ => {
                let mut at = vec![usize::MAX; self.y.len()];
                for (n, &i) in rows.iter().enumerate() {
                    at[i] = n;
                }
                let clusters: Vec<Vec<usize>> = self
                    .clusters
                    .iter()
                    .map(|c| {
                        c.iter()
                            .filter(|&&i| at[i] != usize::MAX)
                            .map(|&i| at[i])
                            .collect()
                    })
                    .filter(|c: &Vec<usize>| !c.is_empty())
                    .collect();
                if clusters.len() < 2 {
                    return Err(Error::invalid(
                        "the nonaffirmative studies all lie in one cluster: their robust \
                         (worst-case) meta-analysis needs at least 2 clusters",
                    ));
                }
                let pick = |x: &[f64]| rows.iter().map(|&i| x[i]).collect::<Vec<f64>>();
                let (y, v) = (pick(&self.y), pick(&self.v));
                let w: Vec<f64> = v.iter().map(|v| 1.0 / (v + self.tau2)).collect();
                let r = robu(&y, &v, &w, &clusters)?;
                let crit = qt_upper(self.level.alpha() / 2.0, r.df);
                Ok(Some(WorstCase {
                    estimate: r.estimate,
                    se: r.se,
                    ci_lb: r.estimate - crit * r.se,
                    ci_ub: r.estimate + crit * r.se,
                    df: Some(r.df),
                }))
            }
        }
    }

    /// A corrected result or worst case back on the original scale.
    fn original(&self, c: Corrected) -> Corrected {
        let (lb, ub) = if self.sign > 0.0 {
            (c.ci_lb, c.ci_ub)
        } else {
            (-c.ci_ub, -c.ci_lb)
        };
        Corrected {
            estimate: self.sign * c.estimate,
            ci_lb: lb,
            ci_ub: ub,
            ..c
        }
    }
}

/// A t-based result: estimate, SE, df, p-value and interval.
fn t_result(eta: f64, estimate: f64, se: f64, df: f64, alpha: f64) -> Corrected {
    let crit = qt_upper(alpha / 2.0, df);
    Corrected {
        eta,
        estimate,
        se,
        df,
        pval: pt_two_sided(estimate / se, df),
        ci_lb: estimate - crit * se,
        ci_ub: estimate + crit * se,
    }
}

/// The result of robumeta's intercept-only model with user weights.
struct Robu {
    estimate: f64,
    se: f64,
    df: f64,
}

/// robumeta's `robu(y ~ 1, studynum, var.eff.size = v, userweights = w, small = TRUE)`
/// (Hedges, Tipton & Johnson 2010, *Res Synth Methods* 1:39–65; small-sample correction of
/// Tipton 2015, *Psychol Methods* 20:375–393): the weighted mean, the CR2-type sandwich with
/// working covariance the cluster-mean variances, and robumeta's Satterthwaite df (which, with
/// user weights, takes the working covariance as the identity).
fn robu(y: &[f64], v: &[f64], w: &[f64], clusters: &[Vec<usize>]) -> Result<Robu> {
    let q = 1.0 / w.iter().sum::<f64>();
    let b = q * w.iter().zip(y).map(|(w, y)| w * y).sum::<f64>();
    let mut vbar = vec![0.0; y.len()];
    for c in clusters {
        let m = c.iter().map(|&i| v[i]).sum::<f64>() / c.len() as f64;
        for &i in c {
            vbar[i] = m;
        }
    }
    let w2v: f64 = (0..y.len()).map(|i| w[i] * w[i] * vbar[i]).sum();
    let w2: f64 = w.iter().map(|w| w * w).sum();
    let (mut meat, mut s, mut t, mut hh) = (0.0, Vec::new(), Vec::new(), Vec::new());
    for c in clusters {
        let n = c.len();
        // (I − H)_j V (I − H)_j' with H = 1 (w/Σw)' and V = diag(vbar).
        let inside = DMatrix::from_fn(n, n, |a, bb| {
            let (i, l) = (c[a], c[bb]);
            f64::from(u8::from(a == bb)) * vbar[i] - q * (w[l] * vbar[l] + w[i] * vbar[i])
                + q * q * w2v
        });
        let eig = nalgebra::SymmetricEigen::new(inside);
        let inv_sqrt = DVector::from_iterator(
            n,
            eig.eigenvalues
                .iter()
                .map(|&l| if l < 1e-10 { 0.0 } else { 1.0 / l.sqrt() }),
        );
        let adj = &eig.eigenvectors
            * DMatrix::from_diagonal(&inv_sqrt)
            * eig.eigenvectors.transpose()
            * vbar[c[0]].sqrt();
        let wj = DVector::from_iterator(n, c.iter().map(|&i| w[i]));
        let ej = DVector::from_iterator(n, c.iter().map(|&i| y[i] - b));
        let h = &adj * &wj;
        meat += wj.dot(&(&adj * ej)).powi(2);
        s.push(h.sum());
        t.push(h.dot(&wj));
        hh.push(h.norm_squared());
    }
    // g_j = Q (I − H)_j' A_j W_j 1; df = tr(B)² / tr(B²) with B = Σ g_j g_j'.
    let g = |j: usize, l: usize| {
        let d = if j == l { hh[j] } else { 0.0 };
        q * q * (d - q * s[l] * t[j] - q * s[j] * t[l] + q * q * s[j] * s[l] * w2)
    };
    let n = clusters.len();
    let tr: f64 = (0..n).map(|j| g(j, j)).sum();
    let tr2: f64 = (0..n)
        .flat_map(|j| (0..n).map(move |l| (j, l)))
        .map(|(j, l)| g(j, l).powi(2))
        .sum();
    let se = (q * q * meat).sqrt();
    let df = tr * tr / tr2;
    if !(se.is_finite() && df.is_finite() && df > 0.0) {
        return Err(Error::invalid(
            "the robust meta-analysis of the S-values has no finite standard error or df \
             (too few clusters)",
        ));
    }
    Ok(Robu {
        estimate: b,
        se,
        df,
    })
}

/// The estimate corrected for publication bias under selection ratio `eta` ≥ 1 (the package's
/// `corrected_meta` with `selection.tails = 1`, `small = TRUE`), on the original scale;
/// `clusters` (robust model) default to one per study.
///
/// Mathur & VanderWeele 2020, *J R Stat Soc C* 69:1091–1119.
pub fn corrected(
    set: &EffectSet,
    clusters: Option<&Clusters>,
    opts: &SvalOptions,
    eta: f64,
) -> Result<Corrected> {
    if !(eta >= 1.0 && eta.is_finite()) {
        return Err(Error::invalid(format!(
            "the selection ratio eta must be at least 1, got {eta}"
        )));
    }
    let p = Prepared::new(set, clusters, opts)?;
    check_groups(&p)?;
    Ok(p.original(p.corrected(eta)?))
}

/// Both groups must be there for the estimate to depend on η (the package stops otherwise).
fn check_groups(p: &Prepared) -> Result<()> {
    match p.counts() {
        (0, k) => Err(Error::invalid(format!(
            "none of the {k} studies is affirmative (estimate in the favoured direction with \
             p < the threshold): selection cannot change the estimate"
        ))),
        (k, 0) => Err(Error::invalid(format!(
            "all {k} studies are affirmative: with no nonaffirmative study to reweight, \
             selection cannot change the estimate"
        ))),
        _ => Ok(()),
    }
}

/// S-values of a meta-analysis for the target `q` (the package's `svalue`): the selection
/// ratio η that shifts the estimate to q, the η that shifts its confidence bound to q, and the
/// worst-case meta-analysis of the nonaffirmative studies alone. `clusters` (robust model)
/// default to one per study.
///
/// Mathur & VanderWeele 2020, *J R Stat Soc C* 69:1091–1119.
pub fn svalue(set: &EffectSet, clusters: Option<&Clusters>, opts: &SvalOptions) -> Result<SValues> {
    if !opts.q.is_finite() || !(opts.eta_max >= 1.0) {
        return Err(Error::invalid(format!(
            "q must be finite and the largest eta searched at least 1 (q = {}, eta_max = {})",
            opts.q, opts.eta_max
        )));
    }
    let p = Prepared::new(set, clusters, opts)?;
    let (k_aff, k_non) = p.counts();
    let both = k_aff > 0 && k_non > 0;
    // With one group empty selection cannot move the estimate: still the uncorrected model.
    let m0 = p.original(p.corrected(1.0)?);
    let q = opts.q;
    if (m0.estimate > 0.0 && q > m0.estimate) || (m0.estimate < 0.0 && q < m0.estimate) {
        return Err(Error::invalid(format!(
            "the uncorrected estimate is {}: q ({q}) must lie on its side of it nearer zero \
             (selection can only shrink an estimate)",
            m0.estimate
        )));
    }
    let worst = p.worst()?;
    let qf = p.sign * q;
    let (sval_est, sval_ci) = if both {
        (p.sval_est(qf), p.sval_ci(qf, worst, opts.eta_max)?)
    } else {
        (Sval::NotPossible, Sval::NotPossible)
    };
    // The package's rule: an interval that already contains q leaves nothing to explain.
    let contains = (m0.estimate > 0.0 && m0.ci_lb < q) || (m0.estimate < 0.0 && m0.ci_ub > q);
    let sval_ci = if contains { Sval::CiContainsQ } else { sval_ci };
    let worst = worst.map(|w| {
        let c = p.original(Corrected {
            eta: f64::INFINITY,
            estimate: w.estimate,
            se: w.se,
            df: w.df.unwrap_or(f64::INFINITY),
            pval: f64::NAN,
            ci_lb: w.ci_lb,
            ci_ub: w.ci_ub,
        });
        WorstCase {
            estimate: c.estimate,
            ci_lb: c.ci_lb,
            ci_ub: c.ci_ub,
            ..w
        }
    });
    Ok(SValues {
        model: opts.model,
        q,
        favor_positive: p.sign > 0.0,
        alpha_select: opts.alpha_select,
        k: set.k(),
        k_affirmative: k_aff,
        k_nonaffirmative: k_non,
        tau2: (opts.model == SvalModel::Robust).then_some(p.tau2),
        n_clusters: p.clusters.len(),
        uncorrected: m0,
        sval_est,
        sval_ci,
        worst,
        level: opts.level,
    })
}

impl Prepared {
    /// η with (η·a + b)/(η·c + d) = q: closed form for both models (the robust estimate is the
    /// same weighted mean; the package searches for it numerically).
    fn sval_est(&self, q: f64) -> Sval {
        let (a, b, c, d) = self.sums();
        let eta = (d * q - b) / (a - c * q);
        match self.model {
            // Even the nonaffirmative studies alone stay above q.
            SvalModel::Robust if a / c > q => Sval::NotPossible,
            _ if !eta.is_finite() || eta < 1.0 => Sval::NotPossible,
            _ => Sval::Value(eta),
        }
    }

    /// η with the corrected lower confidence bound equal to q (recoded signs).
    fn sval_ci(&self, q: f64, worst: Option<WorstCase>, eta_max: f64) -> Result<Sval> {
        let lower = |eta: f64| self.corrected(eta).map(|c| c.ci_lb - q);
        match self.model {
            SvalModel::Fixed => Ok(self.sval_ci_fixed(q, lower)),
            SvalModel::Robust => {
                if worst.is_some_and(|w| w.ci_lb > q) {
                    return Ok(Sval::NotPossible);
                }
                if lower(eta_max)? > 0.0 {
                    return Ok(Sval::Above(eta_max));
                }
                if lower(1.0)? <= 0.0 {
                    return Ok(Sval::NotPossible);
                }
                let mut failed = None;
                let root = uniroot(
                    |e| {
                        lower(e).unwrap_or_else(|err| {
                            failed = Some(err);
                            f64::NAN
                        })
                    },
                    1.0,
                    eta_max,
                    1e-12,
                    1000,
                );
                if let Some(err) = failed {
                    return Err(err);
                }
                root.map(Sval::Value).map_err(|e| {
                    Error::invalid(format!(
                        "the search for the S-value of the confidence bound failed ({e:?})"
                    ))
                })
            }
        }
    }

    /// The fixed model's closed form: the root of (η(a − qc) + b − qd)² = k²(η²c + d) with
    /// η(a − qc) + b − qd ≥ 0 (squaring adds the roots where the bound lies above q by as
    /// much), preferring the root the package takes.
    fn sval_ci_fixed(&self, q: f64, lower: impl Fn(f64) -> Result<f64>) -> Sval {
        let (a, b, c, d) = self.sums();
        let k = qt_upper(self.level.alpha() / 2.0, (self.y.len() - 1) as f64);
        let (ap, bp) = (a - q * c, b - q * d);
        let term_a = k * k * (ap * ap * d + bp * bp * c - c * d * k * k);
        let term_b = -ap * bp;
        let term_c = ap * ap - c * k * k;
        let r1 = (-term_a.sqrt() + term_b) / term_c;
        let r2 = (term_a.sqrt() + term_b) / term_c;
        let valid = |eta: f64| {
            eta.is_finite()
                && eta >= 0.0
                && eta * ap + bp >= 0.0
                && lower(eta).is_ok_and(|l| l.abs() <= 1e-8 * (1.0 + q.abs()))
        };
        let first = if r1 < 0.0 { r2 } else { r1 };
        match [first, r2].into_iter().find(|&e| valid(e)) {
            Some(eta) if eta >= 1.0 => Sval::Value(eta),
            _ => Sval::NotPossible,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(y: &[f64], v: &[f64], model: SvalModel) -> Prepared {
        let k = y.len();
        Prepared {
            sign: 1.0,
            y: y.to_vec(),
            v: v.to_vec(),
            affirmative: y
                .iter()
                .zip(v)
                .map(|(y, v)| *y > 0.0 && pnorm_two_sided(y / v.sqrt()) < 0.05)
                .collect(),
            clusters: (0..k).map(|i| vec![i]).collect(),
            tau2: 0.0,
            model,
            level: Level::NINETY_FIVE,
        }
    }

    /// The S-values invert the corrected estimate and bound: at η = S the corrected estimate
    /// (fixed) or lower bound (both models) is q.
    #[test]
    fn s_values_invert_the_corrected_estimate() {
        let y = [0.9, 0.8, 0.1, -0.2, 0.7, 0.05, 0.3];
        let v = [0.04, 0.05, 0.09, 0.1, 0.03, 0.2, 0.08];
        for model in [SvalModel::Fixed, SvalModel::Robust] {
            let p = prepared(&y, &v, model);
            let q = 0.1;
            if let Sval::Value(eta) = p.sval_est(q) {
                let c = p.corrected(eta).unwrap();
                assert!((c.estimate - q).abs() < 1e-12, "{model:?} {c:?}");
            } else {
                panic!("{model:?}: {:?}", p.sval_est(q));
            }
            let w = p.worst().unwrap();
            match p.sval_ci(0.0, w, ETA_MAX).unwrap() {
                Sval::Value(eta) => {
                    let c = p.corrected(eta).unwrap();
                    assert!(c.ci_lb.abs() < 1e-9, "{model:?} {c:?}");
                }
                other => panic!("{model:?}: {other:?}"),
            }
        }
    }

    /// With equal weights robumeta's small-sample SE of independent studies is the classic
    /// CR2 one: sqrt(Σ e_i² / (1 − h_i)) / k with h_i = 1/k, and df from its formula.
    #[test]
    fn robu_of_equal_weights_is_the_hc2_mean() {
        let y = [0.1, 0.4, 0.35, 0.8];
        let v = [1.0; 4];
        let clusters: Vec<Vec<usize>> = (0..4).map(|i| vec![i]).collect();
        let r = robu(&y, &v, &[1.0; 4], &clusters).unwrap();
        let mean = y.iter().sum::<f64>() / 4.0;
        let hc2 = (y.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / 0.75).sqrt() / 4.0;
        assert!((r.estimate - mean).abs() < 1e-15);
        assert!((r.se - hc2).abs() < 1e-14, "{} {hc2}", r.se);
        // Equal weights and one study per cluster: Satterthwaite's df is k − 1.
        assert!((r.df - 3.0).abs() < 1e-12, "{}", r.df);
    }
}
