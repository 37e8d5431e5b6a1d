//! The rank correlation test for funnel-plot asymmetry (metafor's `ranktest`).

use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::stats::kendall::kendall_test;

/// Begg and Mazumdar's rank correlation test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranktest {
    /// Number of studies.
    pub k: usize,
    /// Kendall's τ between the standardized effects and the sampling variances.
    pub tau: f64,
    /// Two-sided p-value.
    pub pval: f64,
    /// Whether the p-value is exact (no ties); otherwise the normal approximation.
    pub exact: bool,
}

/// Kendall's τ between the standardized deviations from the fixed-effect estimate,
/// (yi − b_FE)/√(vi − 1/Σw), and the variances vi; exact p-value when there are no ties.
///
/// Begg & Mazumdar 1994, *Biometrics* 50:1088–1101.
///
/// # Examples
///
/// ```
/// use evident::{ranktest, read_studies, ColumnMap, CsvOptions, EffectSet, EscalcOptions, Measure};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let set = EffectSet::from_studies(&studies, Measure::RR, &EscalcOptions::default())?;
/// let rt = ranktest(&set)?;
/// assert_eq!(rt.k, set.k());
/// assert!((-1.0..=1.0).contains(&rt.tau) && (0.0..=1.0).contains(&rt.pval));
/// # Ok::<(), evident::Error>(())
/// ```
pub fn ranktest(set: &EffectSet) -> Result<Ranktest> {
    let k = set.k();
    if k < 2 {
        return Err(Error::TooFewStudies {
            what: "the rank correlation test",
            k,
            needed: 2,
        });
    }
    let w: Vec<f64> = set.vi.iter().map(|v| 1.0 / v).collect();
    if w.iter().any(|x| !x.is_finite()) {
        return Err(Error::invalid(
            "the rank correlation test needs positive sampling variances",
        ));
    }
    let sw: f64 = w.iter().sum();
    let theta = w.iter().zip(&set.yi).map(|(w, y)| w * y).sum::<f64>() / sw;
    let vb = 1.0 / sw;
    let ystar: Vec<f64> = set
        .yi
        .iter()
        .zip(&set.vi)
        .map(|(y, v)| (y - theta) / (v - vb).sqrt())
        .collect();
    let t = kendall_test(&ystar, &set.vi, true);
    if !t.tau.is_finite() {
        return Err(Error::invalid(
            "Kendall's tau is undefined: all standardized effects or all variances are equal",
        ));
    }
    Ok(Ranktest {
        k,
        tau: t.tau,
        pval: t.pval,
        exact: t.exact,
    })
}
