//! Interaction from reported results: the ratio of two ratios or the difference of two
//! differences (Altman & Bland 2003, *BMJ* 326:219), and additive interaction — RERI, AP and the
//! synergy index S — with delta-method CIs when a covariance is given (Hosmer & Lemeshow 1992,
//! *Epidemiology* 3:452–456) and MOVER CIs from the separate CIs otherwise (Zou 2008,
//! *Am J Epidemiol* 168:212–224).

use crate::error::{Error, Result};
use crate::stats::level::Level;
use crate::stats::pnorm_two_sided;

/// A reported estimate with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Reported {
    /// The estimate as reported: a ratio (not logged) or a difference.
    pub estimate: f64,
    /// Lower confidence limit, on the same scale.
    pub ci_lb: f64,
    /// Upper confidence limit, on the same scale.
    pub ci_ub: f64,
}

impl Reported {
    /// An estimate with its confidence interval, as reported.
    pub fn new(estimate: f64, ci_lb: f64, ci_ub: f64) -> Reported {
        Reported {
            estimate,
            ci_lb,
            ci_ub,
        }
    }

    fn check(&self, what: &str, ratio: bool) -> Result<()> {
        let Reported {
            estimate: e,
            ci_lb: l,
            ci_ub: u,
        } = *self;
        if ![e, l, u].iter().all(|x| x.is_finite()) {
            return Err(Error::invalid(format!(
                "{what}: values must be finite numbers"
            )));
        }
        if ratio && !(l > 0.0) {
            return Err(Error::invalid(format!(
                "{what}: a ratio and its CI must be positive, got {e} ({l}, {u})"
            )));
        }
        if !(l < e && e < u) {
            return Err(Error::invalid(format!(
                "{what}: expected lower bound < estimate < upper bound, got {e} ({l}, {u})"
            )));
        }
        Ok(())
    }

    /// Standard error recovered from the CI, on the log scale for ratios.
    fn se(&self, ratio: bool, z: f64) -> f64 {
        if ratio {
            (self.ci_ub.ln() - self.ci_lb.ln()) / (2.0 * z)
        } else {
            (self.ci_ub - self.ci_lb) / (2.0 * z)
        }
    }
}

/// Whether two estimates are ratios (compared by their ratio, on the log scale) or differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Contrast {
    /// Ratios (OR, RR, HR, ...), compared by their ratio.
    Ratio,
    /// Differences (MD, RD, ...), compared by their difference.
    Difference,
}

/// The comparison of two independent estimates (a test of interaction).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TwoEstimates {
    /// Whether the estimates were ratios or differences.
    pub contrast: Contrast,
    /// Ratio of the ratios (e.g. ROR, RRR), or difference of the differences.
    pub estimate: f64,
    /// Lower bound of the confidence interval at `level`, on the scale of `estimate`.
    pub ci_lb: f64,
    /// Upper bound of the confidence interval at `level`, on the scale of `estimate`.
    pub ci_ub: f64,
    /// The difference on the analysis scale (log ratio for ratios).
    pub d: f64,
    /// Standard error of `d`, from the two CIs.
    pub se_d: f64,
    /// z statistic `d / se_d`.
    pub z: f64,
    /// Two-sided p-value of the test of no interaction.
    pub pval: f64,
    /// Confidence level of the interval, in percent.
    pub level: f64,
    /// Caveats to show with the result.
    pub notes: Vec<String>,
}

/// Compares two estimates given with CIs at `input_level` (%): the ratio e1/e2 (or difference
/// e1 − e2) with a CI at `level` and a z test. `shared_reference` flags estimates against the
/// same reference group, which are then not independent.
pub fn compare_two(
    e1: Reported,
    e2: Reported,
    contrast: Contrast,
    input_level: Level,
    level: Level,
    shared_reference: bool,
) -> Result<TwoEstimates> {
    let ratio = contrast == Contrast::Ratio;
    e1.check("first estimate", ratio)?;
    e2.check("second estimate", ratio)?;
    let zin = input_level.z();
    let z = level.z();
    let t = |x: f64| if ratio { x.ln() } else { x };
    let back = |x: f64| if ratio { x.exp() } else { x };
    let d = t(e1.estimate) - t(e2.estimate);
    let se_d = e1.se(ratio, zin).hypot(e2.se(ratio, zin));
    let stat = d / se_d;
    let mut notes = Vec::new();
    if shared_reference {
        notes.push(
            "the two estimates share a reference group, so they are not independent: the standard error ignores their (usually positive) covariance and is then too large, making the test conservative".into(),
        );
    }
    Ok(TwoEstimates {
        contrast,
        estimate: back(d),
        ci_lb: back(d - z * se_d),
        ci_ub: back(d + z * se_d),
        d,
        se_d,
        z: stat,
        pval: pnorm_two_sided(stat),
        level: level.percent(),
        notes,
    })
}

/// How an interval for an additive-interaction measure was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CiMethod {
    /// Delta method with the covariance of the log ratios (Hosmer & Lemeshow 1992).
    Delta,
    /// Method of variance estimates recovery from the separate CIs (Zou 2008).
    Mover,
}

/// One additive-interaction measure with its CI (`None` where the method gives no interval).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Measure {
    /// The measure's estimate.
    pub estimate: f64,
    /// Lower bound of its confidence interval.
    pub ci_lb: Option<f64>,
    /// Upper bound of its confidence interval.
    pub ci_ub: Option<f64>,
}

/// Additive interaction of two exposures A and B from the ratios (OR or RR) of A alone, B alone
/// and both, each against neither.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Additive {
    /// Relative excess risk due to interaction: RR11 − RR10 − RR01 + 1.
    pub reri: Measure,
    /// Attributable proportion due to interaction: RERI / RR11.
    pub ap: Measure,
    /// Synergy index: (RR11 − 1) / (RR10 + RR01 − 2).
    pub s: Measure,
    /// How the intervals were obtained.
    pub method: CiMethod,
    /// Confidence level of the intervals, in percent: `level` for the delta method, the given CIs' level for MOVER.
    pub level: f64,
    /// Caveats to show with the result.
    pub notes: Vec<String>,
}

/// A covariance matrix is symmetric and positive definite (Sylvester: its leading minors are
/// positive); anything else gives negative or NaN variances, i.e. no interval at all.
fn check_covariance(c: &[[f64; 3]; 3]) -> Result<()> {
    if let Some(x) = c.iter().flatten().find(|x| !x.is_finite()) {
        return Err(Error::invalid(format!(
            "the covariance matrix holds {x}, not a finite number"
        )));
    }
    for (i, j) in [(0, 1), (0, 2), (1, 2)] {
        let (a, b) = (c[i][j], c[j][i]);
        if (a - b).abs() > 1e-12 * a.abs().max(b.abs()) {
            return Err(Error::invalid(format!(
                "the covariance matrix is not symmetric: entry ({}, {}) = {a} but ({}, {}) = {b}",
                i + 1,
                j + 1,
                j + 1,
                i + 1
            )));
        }
    }
    let m1 = c[0][0];
    let m2 = c[0][0] * c[1][1] - c[0][1] * c[1][0];
    let m3 = c[0][0] * (c[1][1] * c[2][2] - c[1][2] * c[2][1])
        - c[0][1] * (c[1][0] * c[2][2] - c[1][2] * c[2][0])
        + c[0][2] * (c[1][0] * c[2][1] - c[1][1] * c[2][0]);
    if let Some((n, m)) = [(1, m1), (2, m2), (3, m3)]
        .into_iter()
        .find(|(_, m)| !(*m > 0.0))
    {
        return Err(Error::invalid(format!(
            "the covariance matrix is not positive definite (its leading {n} × {n} minor is {m}): \
             it cannot be the covariance of the three log ratios"
        )));
    }
    Ok(())
}

/// Computes RERI, AP and S. `cov` is the covariance matrix of (ln RR10, ln RR01, ln RR11)
/// (e.g. from the regression that produced them): with it the CIs are delta-method Wald
/// intervals at `level`; without it they are MOVER intervals at the level of the given CIs
/// (`input_level`), treating the three estimates as independent.
pub fn additive(
    a: Reported,
    b: Reported,
    ab: Reported,
    cov: Option<[[f64; 3]; 3]>,
    input_level: Level,
    level: Level,
) -> Result<Additive> {
    a.check("A alone", true)?;
    b.check("B alone", true)?;
    ab.check("A and B", true)?;
    let (r10, r01, r11) = (a.estimate, b.estimate, ab.estimate);
    let reri = r11 - r10 - r01 + 1.0;
    let ap = reri / r11;
    let s_den = r10 + r01 - 2.0;
    let s = (r11 - 1.0) / s_den;
    let mut notes = Vec::new();
    if r10 < 1.0 || r01 < 1.0 || r11 < 1.0 {
        notes.push("a ratio is below 1: RERI, AP and S are meant for risk factors; recode preventive exposures so that the lowest-risk stratum is the reference (Knol et al. 2011)".into());
    }
    if let Some(c) = cov {
        check_covariance(&c)?;
        let z = level.z();
        let (e10, e01, e11) = (r10, r01, r11);
        let var = |g: [f64; 3]| -> f64 {
            let mut v = 0.0;
            for i in 0..3 {
                for j in 0..3 {
                    v += g[i] * c[i][j] * g[j];
                }
            }
            v
        };
        let wald = |est: f64, g: [f64; 3]| {
            let se = var(g).sqrt();
            Measure {
                estimate: est,
                ci_lb: Some(est - z * se),
                ci_ub: Some(est + z * se),
            }
        };
        let reri_m = wald(reri, [-e10, -e01, e11]);
        let ap_m = wald(ap, [-e10 / e11, -e01 / e11, (e10 + e01 - 1.0) / e11]);
        // S on the log scale, where its sampling distribution is closer to normal.
        let s_m = if r11 > 1.0 && s_den > 0.0 {
            let se = var([-e10 / s_den, -e01 / s_den, e11 / (e11 - 1.0)]).sqrt();
            Measure {
                estimate: s,
                ci_lb: Some((s.ln() - z * se).exp()),
                ci_ub: Some((s.ln() + z * se).exp()),
            }
        } else {
            notes.push("S has no log-scale CI unless RR11 > 1 and RR10 + RR01 > 2".into());
            Measure {
                estimate: s,
                ci_lb: None,
                ci_ub: None,
            }
        };
        return Ok(Additive {
            reri: reri_m,
            ap: ap_m,
            s: s_m,
            method: CiMethod::Delta,
            level: level.percent(),
            notes,
        });
    }
    let (l10, u10) = (a.ci_lb, a.ci_ub);
    let (l01, u01) = (b.ci_lb, b.ci_ub);
    let (l11, u11) = (ab.ci_lb, ab.ci_ub);
    notes.push("MOVER intervals from the separate CIs assume the three estimates are independent; estimates from one regression share the reference group and are positively correlated — give their covariance for delta-method intervals".into());
    // RERI: MOVER for a sum of independent terms.
    let reri_m = Measure {
        estimate: reri,
        ci_lb: Some(
            reri - ((r11 - l11).powi(2) + (u10 - r10).powi(2) + (u01 - r01).powi(2)).sqrt(),
        ),
        ci_ub: Some(
            reri + ((u11 - r11).powi(2) + (r10 - l10).powi(2) + (r01 - l01).powi(2)).sqrt(),
        ),
    };
    // AP = 1 − θ/RR11 with θ = RR10 + RR01 − 1 (independent of RR11): MOVER-R for the ratio.
    let theta = r10 + r01 - 1.0;
    let th_l = theta - ((r10 - l10).powi(2) + (r01 - l01).powi(2)).sqrt();
    let th_u = theta + ((u10 - r10).powi(2) + (u01 - r01).powi(2)).sqrt();
    let ratio = mover_ratio((theta, th_l, th_u), (r11, l11, u11));
    let ap_m = match ratio {
        Some((lo, hi)) => Measure {
            estimate: ap,
            ci_lb: Some(1.0 - hi),
            ci_ub: Some(1.0 - lo),
        },
        None => {
            notes.push("AP: the MOVER interval is not defined here (the CI of the joint ratio is too wide relative to its estimate)".into());
            Measure {
                estimate: ap,
                ci_lb: None,
                ci_ub: None,
            }
        }
    };
    // S: ln S = ln(RR11 − 1) − ln(RR10 + RR01 − 2), each with a MOVER interval.
    let den_l = s_den - ((r10 - l10).powi(2) + (r01 - l01).powi(2)).sqrt();
    let den_u = s_den + ((u10 - r10).powi(2) + (u01 - r01).powi(2)).sqrt();
    let s_m = if l11 > 1.0 && den_l > 0.0 {
        let (a0, al, au) = ((r11 - 1.0).ln(), (l11 - 1.0).ln(), (u11 - 1.0).ln());
        let (b0, bl, bu) = (s_den.ln(), den_l.ln(), den_u.ln());
        let d = a0 - b0;
        Measure {
            estimate: s,
            ci_lb: Some((d - ((a0 - al).powi(2) + (bu - b0).powi(2)).sqrt()).exp()),
            ci_ub: Some((d + ((au - a0).powi(2) + (b0 - bl).powi(2)).sqrt()).exp()),
        }
    } else {
        notes.push("S: the MOVER interval needs the CI of RR11 above 1 and that of RR10 + RR01 − 2 above 0".into());
        Measure {
            estimate: s,
            ci_lb: None,
            ci_ub: None,
        }
    };
    Ok(Additive {
        reri: reri_m,
        ap: ap_m,
        s: s_m,
        method: CiMethod::Mover,
        level: input_level.percent(),
        notes,
    })
}

/// MOVER-R interval for θ1/θ2 from independent intervals (Donner & Zou 2012, *Stat Methods Med
/// Res* 21:347–359); `None` when the denominator's interval makes it unbounded.
fn mover_ratio(n: (f64, f64, f64), d: (f64, f64, f64)) -> Option<(f64, f64)> {
    let (t1, l1, u1) = n;
    let (t2, l2, u2) = d;
    let p = t1 * t2;
    let a_lo = u2 * (2.0 * t2 - u2);
    let a_hi = l2 * (2.0 * t2 - l2);
    let disc_lo = p * p - l1 * (2.0 * t1 - l1) * a_lo;
    let disc_hi = p * p - u1 * (2.0 * t1 - u1) * a_hi;
    if !(a_lo > 0.0 && a_hi > 0.0 && disc_lo >= 0.0 && disc_hi >= 0.0) {
        return None;
    }
    Some(((p - disc_lo.sqrt()) / a_lo, (p + disc_hi.sqrt()) / a_hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Altman & Bland, BMJ 2003;326:219 (hormone replacement therapy and non-vertebral fractures,
    // Torgerson & Bell-Syer, JAMA 2001): RR 0.67 (0.46 to 0.98) under 60, 0.88 (0.71 to 1.08)
    // at 60 or over; they report d = −0.2726, SE(d) = 0.2206, z = −1.24, P = 0.22 and a ratio of
    // relative risks 0.76 (95% CI 0.49 to 1.17).
    #[test]
    fn altman_bland_worked_example() {
        let r = compare_two(
            Reported::new(0.67, 0.46, 0.98),
            Reported::new(0.88, 0.71, 1.08),
            Contrast::Ratio,
            Level::NINETY_FIVE,
            Level::NINETY_FIVE,
            false,
        )
        .unwrap();
        assert!((r.d - -0.2726).abs() < 5e-5, "{}", r.d);
        assert!((r.se_d - 0.2206).abs() < 5e-5, "{}", r.se_d);
        assert!((r.z - -1.24).abs() < 5e-3, "{}", r.z);
        assert!((r.pval - 0.22).abs() < 5e-3, "{}", r.pval);
        assert!((r.estimate - 0.76).abs() < 5e-3);
        assert!((r.ci_lb - 0.49).abs() < 5e-3 && (r.ci_ub - 1.17).abs() < 5e-3);
        assert!(r.notes.is_empty());
    }

    // Lupus nephritis, complete renal response (Sun et al., BMC Rheumatology 2025, in the seeds):
    // against cyclophosphamide alone, tacrolimus + MMF OR 2.43 (1.2–4.92) and tacrolimus +
    // cyclophosphamide OR 2.15 (1.15–4.02). Both share the reference group → a note.
    // R: d <- log(2.43)-log(2.15); se <- sqrt(((log(4.92)-log(1.2))/(2*qnorm(.975)))^2 +
    //    ((log(4.02)-log(1.15))/(2*qnorm(.975)))^2); exp(d); 2*pnorm(-abs(d/se))
    #[test]
    fn shared_reference_is_flagged() {
        let r = compare_two(
            Reported::new(2.43, 1.2, 4.92),
            Reported::new(2.15, 1.15, 4.02),
            Contrast::Ratio,
            Level::NINETY_FIVE,
            Level::NINETY_FIVE,
            true,
        )
        .unwrap();
        assert!((r.estimate - 1.130232558139535).abs() < 1e-12);
        assert!((r.se_d - 0.4811441702233631).abs() < 1e-12, "{}", r.se_d);
        assert!((r.pval - 0.7991538979190194).abs() < 1e-9, "{}", r.pval);
        assert_eq!(r.notes.len(), 1);
        // Differences: z test on the raw scale.
        let d = compare_two(
            Reported::new(5.0, 3.0, 7.0),
            Reported::new(2.0, 1.0, 3.0),
            Contrast::Difference,
            Level::NINETY_FIVE,
            Level::NINETY_FIVE,
            false,
        )
        .unwrap();
        assert!((d.estimate - 3.0).abs() < 1e-12);
        assert!(compare_two(
            Reported::new(0.5, 0.6, 0.9),
            Reported::new(1.0, 0.5, 2.0),
            Contrast::Ratio,
            Level::NINETY_FIVE,
            Level::NINETY_FIVE,
            false
        )
        .is_err());
    }

    // MOVER values from Zou 2008's formulas with zero correlations, typed in R:
    // r10<-2.0;l10<-1.2;u10<-3.3; r01<-1.5;l01<-0.9;u01<-2.5; r11<-5.0;l11<-3.0;u11<-8.3
    // reri<-r11-r10-r01+1; reri-sqrt((r11-l11)^2+(u10-r10)^2+(u01-r01)^2)
    // reri+sqrt((u11-r11)^2+(r10-l10)^2+(r01-l01)^2)
    #[test]
    fn mover_reri_ap_s() {
        let r = additive(
            Reported::new(2.0, 1.2, 3.3),
            Reported::new(1.5, 0.9, 2.5),
            Reported::new(5.0, 3.0, 8.3),
            None,
            Level::NINETY_FIVE,
            Level::NINETY_FIVE,
        )
        .unwrap();
        assert_eq!(r.method, CiMethod::Mover);
        assert!((r.reri.estimate - 2.5).abs() < 1e-12);
        assert!((r.reri.ci_lb.unwrap() - -0.08650343127551263).abs() < 1e-12);
        assert!((r.reri.ci_ub.unwrap() - 5.948187929913335).abs() < 1e-12);
        assert!((r.ap.estimate - 0.5).abs() < 1e-12);
        assert!((r.s.estimate - 2.666666666666667).abs() < 1e-12);
        // th <- r10+r01-1 (MOVER CI thl, thu); AP = 1 - MOVER-R(th/r11); S on the log scale:
        // values from the same formulas typed in R.
        assert!((r.ap.ci_lb.unwrap() - -0.02510386556514321).abs() < 1e-12);
        assert!((r.ap.ci_ub.unwrap() - 0.7565488910938408).abs() < 1e-12);
        assert!((r.s.ci_lb.unwrap() - 0.9682913671987637).abs() < 1e-12);
        assert!((r.s.ci_ub.unwrap() - 9.331218964452663).abs() < 1e-12);
    }

    #[test]
    fn covariance_must_be_positive_definite() {
        let a = Reported::new(1.8, 1.2, 2.7);
        let ab = Reported::new(3.5, 2.3, 5.3);
        for (cov, want) in [
            (
                [[0.06, 0.1, 0.0], [0.1, 0.07, 0.0], [0.0, 0.0, 0.065]],
                "not positive definite",
            ),
            (
                [[0.06, 0.02, 0.0], [0.01, 0.07, 0.0], [0.0, 0.0, 0.065]],
                "not symmetric",
            ),
            (
                [[-0.06, 0.0, 0.0], [0.0, 0.07, 0.0], [0.0, 0.0, 0.065]],
                "minor is -0.06",
            ),
            (
                [[f64::NAN, 0.0, 0.0], [0.0, 0.07, 0.0], [0.0, 0.0, 0.065]],
                "not a finite",
            ),
        ] {
            let e = additive(a, a, ab, Some(cov), Level::NINETY_FIVE, Level::NINETY_FIVE)
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn delta_method_with_covariance() {
        let (a, b, ab) = (
            Reported::new(2.0, 1.2, 3.3),
            Reported::new(1.5, 0.9, 2.5),
            Reported::new(5.0, 3.0, 8.3),
        );
        let cov = [[0.06, 0.02, 0.02], [0.02, 0.07, 0.02], [0.02, 0.02, 0.065]];
        let r = additive(a, b, ab, Some(cov), Level::NINETY_FIVE, Level::NINETY_FIVE).unwrap();
        assert_eq!(r.method, CiMethod::Delta);
        // R: g <- c(-2, -1.5, 5); se <- sqrt(t(g) %*% V %*% g); 2.5 + c(-1,1)*qnorm(.975)*se
        let se = (4.0_f64 * 0.06
            + 2.25 * 0.07
            + 25.0 * 0.065
            + 2.0 * (3.0 * 0.02 - 10.0 * 0.02 - 7.5 * 0.02))
            .sqrt();
        let z = crate::stats::qnorm_upper(0.025);
        assert!((r.reri.ci_lb.unwrap() - (2.5 - z * se)).abs() < 1e-12);
        assert!((r.reri.ci_ub.unwrap() - (2.5 + z * se)).abs() < 1e-12);
        // AP and S against numerical gradients in R (central differences, h = 1e-6):
        // f_ap <- function(b) (exp(b[3])-exp(b[1])-exp(b[2])+1)/exp(b[3]);
        // f_ls <- function(b) log(exp(b[3])-1)-log(exp(b[1])+exp(b[2])-2); g'Vg; ± qnorm(.975)*se
        for (got, want) in [
            (r.ap.ci_lb.unwrap(), 0.203080010871),
            (r.ap.ci_ub.unwrap(), 0.796919989129),
            (r.s.ci_lb.unwrap(), 1.07492567677),
            (r.s.ci_ub.unwrap(), 6.61544445798),
        ] {
            assert!((got - want).abs() < 1e-8, "{got} vs {want}");
        }
    }
}
