//! Case-deletion influence diagnostics (metafor's `influence.rma.uni`).

use super::refit_options;
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::design::Intercept;
use crate::model::fit_core;
use crate::model::rma;
use crate::model::RmaOptions;
use crate::stats::pchisq;

/// Influence diagnostics of each study on the intercept-only model.
#[derive(Debug, Clone)]
pub struct Influence {
    /// Study labels.
    pub labels: Vec<String>,
    /// Externally standardized (deleted) residuals.
    pub rstudent: Vec<f64>,
    /// DFFITS: the standardized change in the fitted value when the study is left out.
    pub dffits: Vec<f64>,
    /// Cook's distance (metafor's `cook.d`).
    pub cooks_d: Vec<f64>,
    /// Covariance ratio: var(b without i) / var(b).
    pub cov_r: Vec<f64>,
    /// τ² without study i.
    pub tau2_del: Vec<f64>,
    /// Cochran's Q without study i.
    pub qe_del: Vec<f64>,
    /// Hat values (leverage) w_i/Σw.
    pub hat: Vec<f64>,
    /// Model weights in percent.
    pub weight: Vec<f64>,
    /// DFBETAS of the intercept.
    pub dfbetas: Vec<f64>,
    /// Influential by metafor's rules; `None` where a diagnostic could not be computed.
    pub is_infl: Vec<Option<bool>>,
    /// τ² of the full model.
    pub tau2: f64,
    /// Cochran's Q (QE) of the full model.
    pub qe: f64,
    /// The model's coefficient names (`intrcpt` alone for the intercept-only model).
    pub coefficients: Vec<String>,
    /// DFBETAS of each coefficient, in the order of `coefficients` (metafor's `dfbs`).
    pub dfbetas_by_coef: Vec<Vec<f64>>,
}

/// Externally standardized residuals, DFFITS, Cook's distances, covariance ratios, leave-one-out
/// τ² and Q, hat values, weights and DFBETAS; a study is flagged influential when |DFFITS| >
/// 3√(p/(k−p)), pchisq(Cook's D, p) > 0.5, hat > 3p/k, or |DFBETAS| > 1.
///
/// Viechtbauer & Cheung 2010, *Res Synth Methods* 1:112–125; the rules follow Belsley, Kuh &
/// Welsch 1980 and Cook & Weisberg 1982 as adopted by metafor.
///
/// # Examples
///
/// ```
/// use evident::{influence, read_studies, ColumnMap, CsvOptions, EffectSet, EscalcOptions};
/// use evident::{Measure, RmaOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let set = EffectSet::from_studies(&studies, Measure::RR, &EscalcOptions::default())?;
/// let inf = influence(&set, &RmaOptions::default())?;
/// assert_eq!(inf.labels.len(), set.k());
/// // Hat values sum to the number of coefficients (1 here); weights are percentages.
/// assert!((inf.hat.iter().sum::<f64>() - 1.0).abs() < 1e-10);
/// assert!((inf.weight.iter().sum::<f64>() - 100.0).abs() < 1e-10);
/// # Ok::<(), evident::Error>(())
/// ```
pub fn influence(set: &EffectSet, opts: &RmaOptions) -> Result<Influence> {
    let k = set.k();
    if k <= 1 {
        return Err(Error::invalid(format!(
            "influence diagnostics need at least 2 studies, got {k}"
        )));
    }
    let ro = refit_options(opts);
    let full = rma(set, &ro)?;
    let vb_full = full.se * full.se;
    let w: Vec<f64> = set.vi.iter().map(|v| 1.0 / (v + full.tau2)).collect();
    let sw: f64 = w.iter().sum();
    let hat: Vec<f64> = w.iter().map(|x| x / sw).collect();
    let nan = || vec![f64::NAN; k];
    let (mut rstudent, mut dffits, mut cooks_d, mut cov_r) = (nan(), nan(), nan(), nan());
    let (mut tau2_del, mut qe_del, mut dfbetas) = (nan(), nan(), nan());
    for i in 0..k {
        let idx: Vec<usize> = (0..k).filter(|&j| j != i).collect();
        let sub = set.subset(&idx);
        let Ok(res) = fit_core(&Intercept { k: k - 1 }, &sub, &ro) else {
            continue;
        };
        let (b_del, vb_del, s2w) = (res.beta[0], res.vb[0], res.s2w);
        let t2 = res.tau2;
        tau2_del[i] = t2;
        qe_del[i] = res.het.q;
        let dfb = full.estimate - b_del;
        dffits[i] = dfb / (s2w * hat[i] * (t2 + set.vi[i])).sqrt();
        // var(b) of the full data with weights from the deleted τ².
        let vdel_all = 1.0 / set.vi.iter().map(|v| 1.0 / (v + t2)).sum::<f64>();
        dfbetas[i] = dfb / (s2w * vdel_all).sqrt();
        cooks_d[i] = dfb * dfb / vb_full;
        cov_r[i] = vb_del / vb_full;
        let mut resid = set.yi[i] - b_del;
        if resid.abs() < 100.0 * f64::EPSILON {
            resid = 0.0;
        }
        rstudent[i] = resid / (set.vi[i] * s2w + vb_del + t2 * s2w).sqrt();
    }
    let p = 1.0;
    let kf = k as f64;
    let is_infl = (0..k)
        .map(|i| {
            let tests = [
                dffits[i].abs() > 3.0 * (p / (kf - p)).sqrt(),
                pchisq(cooks_d[i], p) > 0.5,
                hat[i] > 3.0 * p / kf,
                dfbetas[i].abs() > 1.0,
            ];
            // R's `|` is TRUE if any operand is TRUE, NA if none is and one is NA.
            let missing = dffits[i].is_nan() || cooks_d[i].is_nan() || dfbetas[i].is_nan();
            if tests.iter().any(|&t| t) {
                Some(true)
            } else if missing {
                None
            } else {
                Some(false)
            }
        })
        .collect();
    Ok(Influence {
        labels: set.labels.clone(),
        rstudent,
        dffits,
        cooks_d,
        cov_r,
        tau2_del,
        qe_del,
        hat,
        weight: full.weights.clone(),
        dfbetas_by_coef: vec![dfbetas.clone()],
        coefficients: vec!["intrcpt".into()],
        dfbetas,
        is_infl,
        tau2: full.tau2,
        qe: full.het.q,
    })
}
