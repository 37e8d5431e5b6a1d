//! Fail-safe N (metafor's `fsn`).

use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::stats::{pnorm_upper, qnorm_upper};

/// Which fail-safe N.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FsnType {
    /// Rosenthal 1979, *Psychol Bull* 86:638–641: null studies that bring Stouffer's combined
    /// one-sided p above α.
    Rosenthal,
    /// Orwin 1983, *J Educ Stat* 8:157–159: null studies that pull the mean effect down to
    /// `target` (default: half the mean); `weighted` uses the inverse-variance mean.
    Orwin {
        /// The effect to pull the mean down to; `None` for half the observed mean.
        target: Option<f64>,
        /// Use the inverse-variance weighted mean rather than the unweighted one.
        weighted: bool,
    },
    /// Rosenberg 2005, *Evolution* 59:464–468: null studies (of average weight) that make the
    /// fixed-effect estimate non-significant at two-sided α.
    Rosenberg,
}

/// A fail-safe N.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fsn {
    /// Which fail-safe N was computed.
    pub kind: FsnType,
    /// Number of additional null studies (rounded up as metafor).
    pub fsnum: f64,
    /// Significance level α (metafor's `alpha`).
    pub alpha: f64,
    /// p-value of the observed studies (Rosenthal: one-sided Stouffer; Rosenberg: two-sided z).
    pub pval: Option<f64>,
    /// Mean effect (Orwin, Rosenberg).
    pub mean_effect: Option<f64>,
    /// The target effect (Orwin).
    pub target: Option<f64>,
}

/// Fail-safe N: how many unpublished null studies would overturn the result.
///
/// Rosenthal 1979, Orwin 1983, Rosenberg 2005 (see [`FsnType`]), as metafor's `fsn`.
///
/// # Examples
///
/// ```
/// use evident::{fsn, read_studies, ColumnMap, CsvOptions, EffectSet, EscalcOptions, FsnType};
/// use evident::Measure;
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let set = EffectSet::from_studies(&studies, Measure::RR, &EscalcOptions::default())?;
/// let r = fsn(&set, FsnType::Rosenthal, 0.05)?;
/// assert!(r.fsnum >= 0.0 && r.pval.is_some_and(|p| (0.0..=1.0).contains(&p)));
/// // Orwin's default target is half the mean effect.
/// let o = fsn(&set, FsnType::Orwin { target: None, weighted: false }, 0.05)?;
/// assert_eq!(o.target, o.mean_effect.map(|m| m / 2.0));
/// # Ok::<(), evident::Error>(())
/// ```
pub fn fsn(set: &EffectSet, kind: FsnType, alpha: f64) -> Result<Fsn> {
    let k = set.k();
    if k == 0 {
        return Err(Error::invalid("fail-safe N needs at least one study"));
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(Error::invalid(format!(
            "alpha must lie strictly between 0 and 1, got {alpha}"
        )));
    }
    let needs_v = !matches!(
        kind,
        FsnType::Orwin {
            weighted: false,
            ..
        }
    );
    if needs_v && set.vi.iter().any(|v| !(*v > 0.0)) {
        return Err(Error::invalid(
            "fail-safe N needs positive sampling variances",
        ));
    }
    let kf = k as f64;
    let (fsnum, pval, mean_effect, target) = match kind {
        FsnType::Rosenthal => {
            let zsum: f64 = set.yi.iter().zip(&set.vi).map(|(y, v)| y / v.sqrt()).sum();
            let z_avg = (zsum / kf.sqrt()).abs();
            let n = (kf * (z_avg / qnorm_upper(alpha)).powi(2) - kf).max(0.0);
            (n, Some(pnorm_upper(z_avg)), None, None)
        }
        FsnType::Orwin { target, weighted } => {
            let mean = if weighted {
                let sw: f64 = set.vi.iter().map(|v| 1.0 / v).sum();
                set.yi.iter().zip(&set.vi).map(|(y, v)| y / v).sum::<f64>() / sw
            } else {
                set.yi.iter().sum::<f64>() / kf
            };
            let mut t = target.unwrap_or(mean / 2.0);
            if t == 0.0 || !t.is_finite() {
                // metafor returns Inf: null studies pull the mean towards 0 but never reach it.
                return Err(Error::invalid(format!(
                    "Orwin's fail-safe N is unbounded for a target effect of {t} (mean effect \
                     {mean}): null studies move the mean towards 0 but never reach it; give a \
                     non-zero target"
                )));
            }
            if t.signum() != mean.signum() {
                t = -t;
            }
            let n = (kf * (mean - t) / t).max(0.0);
            (n, None, Some(mean), Some(t))
        }
        FsnType::Rosenberg => {
            let w: Vec<f64> = set.vi.iter().map(|v| 1.0 / v).collect();
            let sw: f64 = w.iter().sum();
            let swy: f64 = w.iter().zip(&set.yi).map(|(w, y)| w * y).sum();
            let mean = swy / sw;
            let z = mean / (1.0 / sw).sqrt();
            let wp = (swy / qnorm_upper(alpha / 2.0)).powi(2) - sw;
            (
                (kf * wp / sw).max(0.0),
                Some(2.0 * pnorm_upper(z.abs())),
                Some(mean),
                None,
            )
        }
    };
    // metafor rounds up unless the value is an integer to within √eps.
    let fsnum = if fsnum.is_finite() && (fsnum - fsnum.round()).abs() >= f64::EPSILON.sqrt() {
        fsnum.ceil()
    } else {
        fsnum.round()
    };
    Ok(Fsn {
        kind,
        fsnum,
        alpha,
        pval,
        mean_effect,
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::{Measure, Scale};

    fn bcg() -> EffectSet {
        // dat <- escalc(measure="OR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
        EffectSet::from_yi_vi(
            vec![
                -0.938694140870392157,
                -1.666190729026549633,
                -1.386294361119890794,
                -1.456443549312984587,
                -0.219141085675432556,
                -0.958122040776267392,
                -1.633775838228896049,
                0.012020601452732649,
                -0.471746035838696010,
                -1.401210139283481038,
                -0.340849646366210735,
                0.446634682274446249,
                -0.017341873929093587,
            ],
            vec![
                0.3571249522536287246,
                0.2081323936571859989,
                0.4334130781499202500,
                0.0203144129731973634,
                0.0519517773171202721,
                0.0099052655153382407,
                0.2270096752234936066,
                0.0040069620121488307,
                0.0569771239877626609,
                0.0754217263149204037,
                0.0125251338202155178,
                0.5341621724747170896,
                0.0716351172956587456,
            ],
            Measure::OR,
            Scale::Log,
        )
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-12 + 1e-9 * b.abs(), "{a} vs {b}");
    }

    #[test]
    fn orwin_with_a_zero_target_is_an_error() {
        // metafor returns Inf; "inf" is no number of studies.
        let o = FsnType::Orwin {
            target: Some(0.0),
            weighted: false,
        };
        let e = fsn(&bcg(), o, 0.05).unwrap_err().to_string();
        assert!(e.contains("unbounded for a target effect of 0"), "{e}");
    }

    #[test]
    fn fail_safe_n_matches_metafor() {
        let set = bcg();
        // f <- fsn(yi, vi, data=dat): fsnum 607, pval 3.3758762893248285e-30
        let f = fsn(&set, FsnType::Rosenthal, 0.05).unwrap();
        assert_eq!(f.fsnum, 607.0);
        close(f.pval.unwrap(), 3.3758762893248285e-30);
        // fsn(yi, data=dat, type="Orwin"): fsnum 13, meanes -0.771627242823132
        let f = fsn(
            &set,
            FsnType::Orwin {
                target: None,
                weighted: false,
            },
            0.05,
        )
        .unwrap();
        assert_eq!(f.fsnum, 13.0);
        close(f.mean_effect.unwrap(), -0.771627242823132);
        close(f.target.unwrap(), -0.385813621411566);
        // fsn(yi, vi, data=dat, type="Orwin", weighted=TRUE, target=-0.1): fsnum 44, meanes -0.43613907613640990
        let f = fsn(
            &set,
            FsnType::Orwin {
                target: Some(-0.1),
                weighted: true,
            },
            0.05,
        )
        .unwrap();
        assert_eq!(f.fsnum, 44.0);
        close(f.mean_effect.unwrap(), -0.43613907613640990);
        // fsn(yi, vi, data=dat, type="Rosenberg"): fsnum 348, pval 5.7796230234785551e-25
        let f = fsn(&set, FsnType::Rosenberg, 0.05).unwrap();
        assert_eq!(f.fsnum, 348.0);
        close(f.pval.unwrap(), 5.7796230234785551e-25);
    }
}
