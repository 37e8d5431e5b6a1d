//! Trim-and-fill (metafor's `trimfill`).

use super::regtest::check_parameters;
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::design::{Intercept, Matrix};
use crate::model::fit_core;
use crate::model::rma;
use crate::model::RmaFit;
use crate::model::RmaOptions;
use crate::model::Test;
use std::str::FromStr;

/// Estimator of the number of missing studies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimator {
    /// From the Wilcoxon rank sum of the positive centred effects.
    L0,
    /// From the length of the rightmost run of ranks.
    R0,
    /// The quadratic variant of L0.
    Q0,
}

impl Estimator {
    /// The name metafor uses (and the CLI accepts).
    pub fn name(self) -> &'static str {
        match self {
            Estimator::L0 => "L0",
            Estimator::R0 => "R0",
            Estimator::Q0 => "Q0",
        }
    }
}

impl FromStr for Estimator {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "L0" => Ok(Estimator::L0),
            "R0" => Ok(Estimator::R0),
            "Q0" => Ok(Estimator::Q0),
            _ => Err(Error::invalid(format!(
                "unknown trim-and-fill estimator '{s}': expected L0, R0 or Q0"
            ))),
        }
    }
}

/// The side of the funnel plot on which studies are missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Missing studies have effects below the pooled estimate (metafor's `side = "left"`).
    Left,
    /// Missing studies have effects above the pooled estimate (metafor's `side = "right"`).
    Right,
}

impl Side {
    /// The name metafor uses (and the CLI accepts).
    pub fn name(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

impl FromStr for Side {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "left" => Ok(Side::Left),
            "right" => Ok(Side::Right),
            _ => Err(Error::invalid(format!(
                "unknown side '{s}': expected left or right"
            ))),
        }
    }
}

/// The result of trim-and-fill.
#[derive(Debug, Clone)]
pub struct TrimFill {
    /// Estimated number of missing studies.
    pub k0: usize,
    /// Standard error of `k0` (metafor's `se.k0`).
    pub se_k0: f64,
    /// The side the missing studies were imputed on (estimated, or as asked).
    pub side: Side,
    /// The estimator of `k0` used (metafor's `estimator`).
    pub estimator: Estimator,
    /// For R0: the p-value of the test that k0 = 0 (Duval & Tweedie 2000a).
    pub p_k0: Option<f64>,
    /// The imputed studies (effects and variances).
    pub filled_yi: Vec<f64>,
    /// Sampling variances of the imputed studies, parallel to `filled_yi`.
    pub filled_vi: Vec<f64>,
    /// The model fitted to the observed plus imputed studies (test z), or the original model when
    /// k0 = 0. Its effect set lists the observed studies first, then the `Filled i` ones.
    pub fit: RmaFit,
}

impl TrimFill {
    /// Number of studies in the filled model.
    pub fn k_filled(&self) -> usize {
        self.fit.k
    }
}

/// Trim-and-fill: estimate the number of studies missing on one side of the funnel plot by
/// iteratively trimming the most extreme ones, then refit with their mirror images added.
///
/// Duval & Tweedie 2000, *Biometrics* 56:455–463 (and *JASA* 95:89–98). As metafor: the side is
/// left when the slope of yi on √vi (same τ² method) is ≥ 0; ties in |yi − b| rank by position;
/// the filled model uses the z test. `side = None` chooses the side. Unlike metafor, which fits the
/// trimmed and filled models with its default level and iteration control, the caller's `level`
/// and `control` are used throughout (identical at the defaults).
///
/// # Examples
///
/// ```
/// use evident::bias::Estimator;
/// use evident::{read_studies, trimfill, ColumnMap, CsvOptions, EffectSet, EscalcOptions};
/// use evident::{Measure, RmaOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let set = EffectSet::from_studies(&studies, Measure::RR, &EscalcOptions::default())?;
/// let tf = trimfill(&set, &RmaOptions::default(), Estimator::L0, None)?; // side chosen
/// assert_eq!(tf.filled_yi.len(), tf.k0); // k0 ≥ 0 studies imputed
/// assert_eq!(tf.k_filled(), set.k() + tf.k0);
/// assert!(tf.fit.ci_lb < tf.fit.estimate && tf.fit.estimate < tf.fit.ci_ub);
/// # Ok::<(), evident::Error>(())
/// ```
pub fn trimfill(
    set: &EffectSet,
    opts: &RmaOptions,
    estimator: Estimator,
    side: Option<Side>,
) -> Result<TrimFill> {
    let k = set.k();
    if k <= 1 {
        return Err(Error::invalid(format!(
            "trim-and-fill needs at least 2 studies, got {k}"
        )));
    }
    let zopts = RmaOptions {
        test: Test::Z,
        tau2_ci: false,
        ..*opts
    };
    let side = match side {
        Some(s) => s,
        None => estimate_side(set, opts, &zopts)?,
    };
    let flip = if side == Side::Right { -1.0 } else { 1.0 };
    // Stable ascending sort of the (flipped) effects, as R's radix sort.
    let mut ix: Vec<usize> = (0..k).collect();
    ix.sort_by(|&a, &b| (flip * set.yi[a]).total_cmp(&(flip * set.yi[b])));
    let yi: Vec<f64> = ix.iter().map(|&i| flip * set.yi[i]).collect();
    let vi: Vec<f64> = ix.iter().map(|&i| set.vi[i]).collect();

    let mut k0 = 0usize;
    let mut k0_prev: Option<usize> = None;
    let mut beta = f64::NAN;
    let mut se_k0 = f64::NAN;
    let mut iter = 0;
    while k0_prev != Some(k0) {
        k0_prev = Some(k0);
        iter += 1;
        if iter > 100 {
            return Err(Error::NotConverged {
                method: "trim-and-fill",
                detail: "k0 still changing after 100 iterations".into(),
            });
        }
        beta = trimmed_estimate(set, &yi, &vi, k - k0, &zopts)?;
        let (raw, se) = k0_raw(estimator, &signed_ranks(&yi, beta))?;
        // R's round() rounds half to even.
        k0 = (raw.round_ties_even().max(0.0) as usize).min(k - 1);
        se_k0 = se.max(0.0);
    }

    let p_k0 = (estimator == Estimator::R0).then(|| {
        // 1 − Σ_{m=−1}^{k0−1} C(m+1, m+1) 0.5^(m+2) = 0.5^(k0+1).
        let s: f64 = (0..=k0).map(|j| 0.5f64.powi(j as i32 + 1)).sum();
        1.0 - s
    });
    let (filled_yi, filled_vi, fit) = if k0 == 0 {
        (Vec::new(), Vec::new(), rma(set, opts)?)
    } else {
        // Mirror the k0 most extreme studies around the last trimmed estimate (2b − y).
        let fy: Vec<f64> = (k - k0..k).map(|i| flip * (2.0 * beta - yi[i])).collect();
        let fv: Vec<f64> = (k - k0..k).map(|i| vi[i]).collect();
        let fit = fit_filled(set, opts, &fy, &fv)?;
        (fy, fv, fit)
    };
    Ok(TrimFill {
        k0,
        se_k0,
        side,
        estimator,
        p_k0,
        filled_yi,
        filled_vi,
        fit,
    })
}

/// metafor's choice of side: left when the slope of yi on √vi (same τ² method) is ≥ 0.
fn estimate_side(set: &EffectSet, opts: &RmaOptions, zopts: &RmaOptions) -> Result<Side> {
    let k = set.k();
    check_parameters(k, 2, opts)?;
    if set.vi.iter().all(|&v| v == set.vi[0]) {
        return Err(Error::invalid(
            "all studies have the same variance, so the side of the missing studies \
             cannot be estimated: give it (left or right)",
        ));
    }
    let x = nalgebra::DMatrix::from_fn(k, 2, |i, j| if j == 0 { 1.0 } else { set.vi[i].sqrt() });
    let core = fit_core(&Matrix::new(x), set, zopts)?;
    Ok(if core.beta[1] < 0.0 {
        Side::Right
    } else {
        Side::Left
    })
}

/// The pooled estimate of the `kt` least extreme (sorted, flipped) studies.
fn trimmed_estimate(
    set: &EffectSet,
    yi: &[f64],
    vi: &[f64],
    kt: usize,
    zopts: &RmaOptions,
) -> Result<f64> {
    if kt == 1 {
        // One study left: its centred value is 0 in exact arithmetic and its sign comes from
        // rounding. metafor's QR route gives (1/√w)²·(w·y); reproduce it so the ranks agree.
        let w = 1.0 / vi[0];
        let inv = 1.0 / w.sqrt();
        return Ok(inv * inv * (w * yi[0]));
    }
    let trimmed =
        EffectSet::from_yi_vi(yi[..kt].to_vec(), vi[..kt].to_vec(), set.measure, set.scale);
    Ok(fit_core(&Intercept { k: kt }, &trimmed, zopts)?.beta[0])
}

/// Signed ranks of |yᵢ − β| (R's `rank(ties.method = "first")`), the sign that of yᵢ − β.
fn signed_ranks(yi: &[f64], beta: f64) -> Vec<f64> {
    let k = yi.len();
    let centred: Vec<f64> = yi.iter().map(|y| y - beta).collect();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| centred[a].abs().total_cmp(&centred[b].abs()));
    let mut signed = vec![0.0; k];
    for (r, &i) in order.iter().enumerate() {
        let sgn = if centred[i] > 0.0 {
            1.0
        } else if centred[i] < 0.0 {
            -1.0
        } else {
            0.0
        };
        signed[i] = sgn * (r + 1) as f64;
    }
    signed
}

/// The estimator's unrounded k0 and its standard error from the signed ranks.
fn k0_raw(estimator: Estimator, signed: &[f64]) -> Result<(f64, f64)> {
    let kf = signed.len() as f64;
    let sr: f64 = signed.iter().filter(|&&s| s > 0.0).sum();
    let var_sr = |k0: f64| {
        (kf * (kf + 1.0) * (2.0 * kf + 1.0) + 10.0 * k0.powi(3) + 27.0 * k0 * k0 + 17.0 * k0
            - 18.0 * kf * k0 * k0
            - 18.0 * kf * k0
            + 6.0 * kf * kf * k0)
            / 24.0
    };
    Ok(match estimator {
        Estimator::R0 => {
            let longest = signed
                .iter()
                .filter(|&&s| s < 0.0)
                .map(|s| -s)
                .fold(f64::NEG_INFINITY, f64::max);
            if !longest.is_finite() {
                return Err(Error::invalid(
                    "R0 is undefined: no study lies below the trimmed estimate",
                ));
            }
            let k0 = kf - longest - 1.0;
            (k0, (2.0 * k0.max(0.0) + 2.0).sqrt())
        }
        Estimator::L0 => {
            let k0 = (4.0 * sr - kf * (kf + 1.0)) / (2.0 * kf - 1.0);
            (k0, 4.0 * var_sr(k0).sqrt() / (2.0 * kf - 1.0))
        }
        Estimator::Q0 => {
            let k0 = kf - 0.5 - (2.0 * kf * kf - 4.0 * sr + 0.25).sqrt();
            let se =
                2.0 * var_sr(k0).sqrt() / ((kf - 0.5).powi(2) - k0 * (2.0 * kf - k0 - 1.0)).sqrt();
            (k0, se)
        }
    })
}

/// The observed studies followed by the `Filled i` ones, refitted with the z test.
fn fit_filled(
    set: &EffectSet,
    opts: &RmaOptions,
    filled_yi: &[f64],
    filled_vi: &[f64],
) -> Result<RmaFit> {
    let mut all_y = set.yi.clone();
    all_y.extend(filled_yi);
    let mut all_v = set.vi.clone();
    all_v.extend(filled_vi);
    let mut filled = EffectSet::from_yi_vi(all_y, all_v, set.measure, set.scale);
    filled.labels = set
        .labels
        .iter()
        .cloned()
        .chain((1..=filled_yi.len()).map(|i| format!("Filled {i}")))
        .collect();
    rma(
        &filled,
        &RmaOptions {
            test: Test::Z,
            ..*opts
        },
    )
}
