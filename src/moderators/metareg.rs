//! Meta-regression: the mixed-effects (or fixed-effects) model with moderators, as metafor's
//! `rma(yi, vi, mods = ~ ...)` (Berkey et al. 1995, *Stat Med* 14:395–411; Knapp & Hartung 2003).

use super::formula::{Formula, ModelMatrix};
use crate::effect::{EffectSet, Omitted};
use crate::error::{Error, Result};
use crate::heterogeneity::{q_profile, Heterogeneity, QProfileControl, Tau2Ci};
use crate::pool::design::Matrix;
use crate::pool::{fit_core, rma, FitStats, RmaOptions, Test};
use crate::stats::{pchisq_upper, pf_upper};

/// One row of the coefficient table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Coefficient {
    pub name: String,
    pub estimate: f64,
    pub se: f64,
    /// z or t statistic.
    pub stat: f64,
    pub pval: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
}

/// The omnibus Wald test of several coefficients: χ²(df), or F(df, ddf) under Knapp–Hartung.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct OmnibusTest {
    /// χ² statistic, or the F statistic (χ²/df) when `ddf` is set.
    pub stat: f64,
    pub df: usize,
    pub ddf: Option<f64>,
    pub pval: f64,
}

impl OmnibusTest {
    /// metafor's `QMdist`: `chisq` or `F`.
    pub fn dist(&self) -> &'static str {
        if self.ddf.is_some() {
            "F"
        } else {
            "chisq"
        }
    }
}

/// A predicted (fitted) value with its CI and, for random-effects models, prediction interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Predicted {
    pub pred: f64,
    pub se: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
    pub pi_lb: Option<f64>,
    pub pi_ub: Option<f64>,
}

/// A fitted meta-regression.
#[derive(Debug, Clone)]
pub struct MetaregFit {
    /// The studies in the model (rows with missing moderators removed).
    pub effects: EffectSet,
    /// Studies dropped for a missing moderator value.
    pub omitted: Vec<Omitted>,
    pub options: RmaOptions,
    /// The test actually used.
    pub test: Test,
    pub matrix: ModelMatrix,
    pub k: usize,
    pub p: usize,
    pub coefficients: Vec<Coefficient>,
    /// Covariance of the coefficients, row-major p × p.
    pub vb: Vec<f64>,
    /// t degrees of freedom (k − p) under Knapp–Hartung.
    pub df: Option<f64>,
    pub crit: f64,
    /// Omnibus test of the moderators (all coefficients but the intercept).
    pub qm: OmnibusTest,
    /// Residual heterogeneity: QE with k − p df, I², H² of the residual τ².
    pub het: Heterogeneity,
    pub tau2: f64,
    pub se_tau2: Option<f64>,
    pub tau2_ci: Option<Tau2Ci>,
    /// Pseudo-R² in percent (Raudenbush 2009), `None` without an intercept or when undefined.
    pub r2: Option<f64>,
    pub fit: FitStats,
    /// Fitted values for the studies in the model.
    pub fitted: Vec<Predicted>,
    pub iterations: usize,
    pub notes: Vec<String>,
}

impl MetaregFit {
    pub fn names(&self) -> &[String] {
        &self.matrix.names
    }

    /// The statistic's name: `zval` or `tval`.
    pub fn stat_name(&self) -> &'static str {
        if self.test.uses_t() {
            "tval"
        } else {
            "zval"
        }
    }

    /// The predicted effect for a row of moderator values `x` (one per coefficient, including
    /// the intercept's 1), with CI and prediction interval as metafor's `predict`.
    pub fn predict(&self, x: &[f64]) -> Result<Predicted> {
        let p = self.p;
        if x.len() != p {
            return Err(Error::invalid(format!(
                "prediction needs {p} values (one per coefficient: {}), got {}",
                self.names().join(", "),
                x.len()
            )));
        }
        let pred: f64 = x
            .iter()
            .zip(&self.coefficients)
            .map(|(a, c)| a * c.estimate)
            .sum();
        let mut var = 0.0;
        for r in 0..p {
            for c in 0..p {
                var += x[r] * self.vb[r * p + c] * x[c];
            }
        }
        let se = var.sqrt();
        let (pi_lb, pi_ub) = if self.options.method.is_fixed() {
            (None, None)
        } else {
            let sp = (var + self.tau2).sqrt();
            (Some(pred - self.crit * sp), Some(pred + self.crit * sp))
        };
        Ok(Predicted {
            pred,
            se,
            ci_lb: pred - self.crit * se,
            ci_ub: pred + self.crit * se,
            pi_lb,
            pi_ub,
        })
    }
}

/// Fits a meta-regression with moderators given as an R formula's right-hand side.
pub fn metareg(effects: &EffectSet, formula: &str, opts: &RmaOptions) -> Result<MetaregFit> {
    metareg_formula(effects, &Formula::parse(formula)?, opts)
}

/// Fits a meta-regression with a parsed formula.
pub fn metareg_formula(
    effects: &EffectSet,
    formula: &Formula,
    opts: &RmaOptions,
) -> Result<MetaregFit> {
    let mm = formula.model_matrix(effects)?;
    let mut omitted = Vec::new();
    for &i in &mm.dropped {
        omitted.push(Omitted {
            row: effects.rows[i],
            label: effects.labels[i].clone(),
            reason: "missing moderator value".into(),
        });
    }
    let set = effects.subset(&mm.used);
    let mut fit = fit_matrix(&set, mm, opts)?;
    if !omitted.is_empty() {
        fit.notes.push(format!(
            "{} stud{} with missing moderator values omitted from model fitting",
            omitted.len(),
            if omitted.len() == 1 { "y" } else { "ies" }
        ));
    }
    fit.omitted = omitted;
    Ok(fit)
}

/// Fits the model for a model matrix whose rows are the studies of `effects`.
pub fn fit_matrix(effects: &EffectSet, mm: ModelMatrix, opts: &RmaOptions) -> Result<MetaregFit> {
    let k = effects.k();
    let p = mm.x.ncols();
    let fixed = opts.method.is_fixed();
    // metafor needs one study more than coefficients when τ² is estimated as well.
    let need = if fixed { p } else { p + 1 };
    if k < need {
        return Err(Error::invalid(format!(
            "{k} studies cannot support a model with {p} coefficients{} (metafor: number of parameters larger than number of observations)",
            if fixed { "" } else { " and tau2" }
        )));
    }
    for (i, (&y, &v)) in effects.yi.iter().zip(&effects.vi).enumerate() {
        if !y.is_finite() || !v.is_finite() || v < 0.0 {
            return Err(Error::invalid(format!(
                "study '{}': effect or variance is not finite or negative",
                effects.labels[i]
            )));
        }
    }
    let design = Matrix::new(mm.x.clone());
    let core = fit_core(&design, effects, opts)?;
    let se: Vec<f64> = (0..p).map(|j| core.vb[j * p + j].sqrt()).collect();
    let coefficients: Vec<Coefficient> = (0..p)
        .map(|j| {
            let b = core.beta[j];
            let stat = b / se[j];
            Coefficient {
                name: mm.names[j].clone(),
                estimate: b,
                se: se[j],
                stat,
                pval: core.pval(stat),
                ci_lb: b - core.crit * se[j],
                ci_ub: b + core.crit * se[j],
            }
        })
        .collect();
    // QM tests every coefficient but the intercept (metafor's default btt).
    let btt: Vec<usize> = if mm.intercept && p > 1 {
        (1..p).collect()
    } else {
        (0..p).collect()
    };
    let qm = omnibus(&core.beta, &core.vb, p, &btt, core.df);
    let tau2_ci = if fixed || !opts.tau2_ci {
        None
    } else {
        q_profile(
            &design,
            &effects.yi,
            &effects.vi,
            core.tau2,
            core.het.vt,
            opts.level,
            &QProfileControl {
                tol: opts.qprofile_tol,
                maxiter: 1000,
            },
        )
    };
    let r2 = if mm.intercept && p > 1 {
        pseudo_r2(effects, &mm, &core.beta, core.tau2, opts)
    } else {
        None
    };
    let mut fit = MetaregFit {
        effects: effects.clone(),
        omitted: Vec::new(),
        options: *opts,
        test: core.test,
        k,
        p,
        coefficients,
        vb: core.vb.clone(),
        df: core.df,
        crit: core.crit,
        qm,
        het: core.het,
        tau2: core.tau2,
        se_tau2: core.se_tau2,
        tau2_ci,
        r2,
        fit: core.fit,
        fitted: Vec::new(),
        iterations: core.iterations,
        notes: core.notes,
        matrix: mm,
    };
    fit.fitted = (0..k)
        .map(|i| {
            let row: Vec<f64> = fit.matrix.x.row(i).iter().copied().collect();
            fit.predict(&row)
        })
        .collect::<Result<_>>()?;
    Ok(fit)
}

/// Wald test of the coefficients `btt`: b' V⁻¹ b, divided by m and referred to F(m, ddf) under
/// Knapp–Hartung.
pub fn omnibus(beta: &[f64], vb: &[f64], p: usize, btt: &[usize], ddf: Option<f64>) -> OmnibusTest {
    let m = btt.len();
    let v = nalgebra::DMatrix::from_fn(m, m, |r, c| vb[btt[r] * p + btt[c]]);
    let b = nalgebra::DVector::from_fn(m, |r, _| beta[btt[r]]);
    let q = match v.cholesky() {
        Some(ch) => b.dot(&ch.solve(&b)),
        None => f64::NAN,
    };
    match ddf {
        Some(d) => {
            let f = q / m as f64;
            OmnibusTest {
                stat: f,
                df: m,
                ddf: Some(d),
                pval: if d > 0.0 {
                    pf_upper(f, m as f64, d)
                } else {
                    f64::NAN
                },
            }
        }
        None => OmnibusTest {
            stat: q,
            df: m,
            ddf: None,
            pval: pchisq_upper(q, m as f64),
        },
    }
}

/// metafor's pseudo-R² (%): for random-effects fits the proportional reduction of τ² against the
/// intercept-only model with the same method (Raudenbush 2009), truncated at 0; for FE fits the
/// adjusted R² of the weighted least-squares regression, truncated at 0.
fn pseudo_r2(
    effects: &EffectSet,
    mm: &ModelMatrix,
    beta: &[f64],
    tau2: f64,
    opts: &RmaOptions,
) -> Option<f64> {
    let y = &effects.yi;
    let k = y.len();
    if opts.method.is_fixed() {
        let mean = y.iter().sum::<f64>() / k as f64;
        if y.iter().all(|&v| v == mean) {
            return Some(0.0);
        }
        let w: Vec<f64> = effects.vi.iter().map(|v| 1.0 / v).collect();
        let f: Vec<f64> = (0..k)
            .map(|i| mm.x.row(i).iter().zip(beta).map(|(a, b)| a * b).sum())
            .collect();
        let sw: f64 = w.iter().sum();
        let fm: f64 = w.iter().zip(&f).map(|(a, b)| a * b).sum::<f64>() / sw;
        let mss: f64 = (0..k).map(|i| w[i] * (f[i] - fm).powi(2)).sum();
        let rss: f64 = (0..k).map(|i| w[i] * (y[i] - f[i]).powi(2)).sum();
        let r2 = mss / (mss + rss);
        let p = mm.x.ncols() as f64;
        let adj = 1.0 - (1.0 - r2) * ((k as f64 - 1.0) / (k as f64 - p));
        return Some((100.0 * adj).max(0.0));
    }
    let o = RmaOptions {
        tau2_ci: false,
        ..*opts
    };
    let t0 = rma(effects, &o).ok()?.tau2;
    if t0 == 0.0 {
        return Some(0.0);
    }
    Some((100.0 * (t0 - tau2) / t0).max(0.0))
}
