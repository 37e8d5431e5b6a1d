//! Case-deletion diagnostics of a meta-regression (metafor's `influence.rma.uni` for a model
//! with moderators): each study is left out, the same model matrix refitted, and the change in
//! its fitted value, in the coefficients and in their covariance measured.

use super::influence::Influence;
use super::refit_options;
use crate::error::{Error, Result};
use crate::model::design::Matrix;
use crate::model::fit_core;
use crate::moderators::formula::redundant_columns;
use crate::moderators::metareg::MetaregFit;
use crate::stats::pchisq;
use nalgebra::{DMatrix, DVector};

/// What one leave-one-out refit yields.
struct Deleted {
    tau2: f64,
    qe: f64,
    /// The left-out study's prediction from the refit, and its variance.
    pred: f64,
    vpred: f64,
    s2w: f64,
    dffits: f64,
    dfbs: Vec<f64>,
    cooks_d: f64,
    cov_r: f64,
}

/// The full model's quantities every refit is compared with.
struct Full<'a> {
    fit: &'a MetaregFit,
    x: &'a DMatrix<f64>,
    beta: DVector<f64>,
    /// Inverse of the coefficients' covariance (all coefficients: metafor's default `btt`).
    vb_inv: DMatrix<f64>,
    det_vb: f64,
    hat: Vec<f64>,
}

/// Influence diagnostics of each study on a meta-regression, as metafor's `influence()` of an
/// `rma(yi, vi, mods = …)`: externally standardized residuals, DFFITS, Cook's distances and
/// covariance ratios over all coefficients, leave-one-out τ² and QE, hat values, weights and
/// DFBETAS per coefficient (`dfbetas_by_coef`; `dfbetas` holds the first coefficient's).
///
/// Viechtbauer & Cheung 2010, *Res Synth Methods* 1:112–125. A refit whose model matrix
/// loses full rank without the study is left missing, as metafor does.
pub fn influence_metareg(fit: &MetaregFit) -> Result<Influence> {
    let k = fit.k;
    let p = fit.p;
    if k <= 1 {
        return Err(Error::invalid(format!(
            "influence diagnostics need at least 2 studies, got {k}"
        )));
    }
    let x = &fit.matrix.x;
    let set = &fit.effects;
    let vb = DMatrix::from_row_slice(p, p, &fit.vb);
    let vb_inv = vb.clone().try_inverse().ok_or_else(|| {
        Error::invalid("the coefficients' covariance matrix is singular: no influence diagnostics")
    })?;
    let w: Vec<f64> = set.vi.iter().map(|v| 1.0 / (v + fit.tau2)).collect();
    let xwx_inv = xwx(x, &w)
        .try_inverse()
        .ok_or_else(|| Error::invalid("X'WX is singular: no influence diagnostics"))?;
    // hatvalues(): the diagonal of X (X'WX)⁻¹ X'W.
    let hat: Vec<f64> = (0..k)
        .map(|i| {
            let xi = x.row(i).transpose();
            (xi.transpose() * &xwx_inv * &xi)[(0, 0)] * w[i]
        })
        .collect();
    let sw: f64 = w.iter().sum();
    let weight: Vec<f64> = w.iter().map(|wi| 100.0 * wi / sw).collect();
    let full = Full {
        fit,
        x,
        beta: DVector::from_iterator(p, fit.coefficients.iter().map(|c| c.estimate)),
        vb_inv,
        det_vb: vb.determinant(),
        hat,
    };
    let deleted: Vec<Option<Deleted>> = (0..k).map(|i| refit_without(&full, i)).collect();
    let col = |f: &dyn Fn(&Deleted) -> f64| -> Vec<f64> {
        deleted
            .iter()
            .map(|d| d.as_ref().map_or(f64::NAN, f))
            .collect()
    };
    let rstudent: Vec<f64> = (0..k)
        .map(|i| match &deleted[i] {
            Some(d) => {
                let mut resid = set.yi[i] - d.pred;
                if resid.abs() < 100.0 * f64::EPSILON {
                    resid = 0.0;
                }
                resid / (set.vi[i] * d.s2w + d.vpred + d.tau2 * d.s2w).sqrt()
            }
            None => f64::NAN,
        })
        .collect();
    let dfbetas_by_coef: Vec<Vec<f64>> = (0..p).map(|j| col(&|d: &Deleted| d.dfbs[j])).collect();
    let dffits = col(&|d| d.dffits);
    let cooks_d = col(&|d| d.cooks_d);
    let is_infl = flags(&dffits, &cooks_d, &full.hat, &dfbetas_by_coef, p);
    Ok(Influence {
        labels: set.labels.clone(),
        rstudent,
        dffits,
        cooks_d,
        cov_r: col(&|d| d.cov_r),
        tau2_del: col(&|d| d.tau2),
        qe_del: col(&|d| d.qe),
        hat: full.hat.clone(),
        weight,
        dfbetas: dfbetas_by_coef[0].clone(),
        is_infl,
        tau2: fit.tau2,
        qe: fit.het.q,
        coefficients: fit.names().to_vec(),
        dfbetas_by_coef,
    })
}

/// X'WX.
fn xwx(x: &DMatrix<f64>, w: &[f64]) -> DMatrix<f64> {
    let wx = DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| w[i] * x[(i, j)]);
    x.transpose() * wx
}

/// The refit without study `i`; `None` when it fails or its design loses full rank.
fn refit_without(full: &Full, i: usize) -> Option<Deleted> {
    let fit = full.fit;
    let (k, p) = (fit.k, fit.p);
    let set = &fit.effects;
    let keep: Vec<usize> = (0..k).filter(|&j| j != i).collect();
    let xd = full.x.select_rows(&keep);
    if !redundant_columns(&xd).is_empty() {
        return None;
    }
    let core = fit_core(
        &Matrix::new(xd),
        &set.subset(&keep),
        &refit_options(&fit.options),
    )
    .ok()?;
    let beta_del = DVector::from_column_slice(&core.beta);
    let vb_del = DMatrix::from_row_slice(p, p, &core.vb);
    let xi = full.x.row(i).transpose();
    let pred = xi.dot(&beta_del);
    let vpred = (xi.transpose() * &vb_del * &xi)[(0, 0)];
    let pred_full = xi.dot(&full.beta);
    let t2 = core.tau2;
    let dffits = (pred_full - pred) / (core.s2w * full.hat[i] * (t2 + set.vi[i])).sqrt();
    // (X'W X)⁻¹ over all k studies with the weights of the deleted τ².
    let wd: Vec<f64> = set.vi.iter().map(|v| 1.0 / (v + t2)).collect();
    let vdel_all = xwx(full.x, &wd).try_inverse()?;
    let dfb = &full.beta - &beta_del;
    let dfbs = (0..p)
        .map(|j| dfb[j] / (core.s2w * vdel_all[(j, j)]).sqrt())
        .collect();
    let cooks_d = (dfb.transpose() * &full.vb_inv * &dfb)[(0, 0)];
    Some(Deleted {
        tau2: t2,
        qe: core.het.q,
        pred,
        vpred,
        s2w: core.s2w,
        dffits,
        dfbs,
        cooks_d,
        cov_r: vb_del.determinant() / full.det_vb,
    })
}

/// metafor's rules: |DFFITS| > 3√(p/(k−p)), pchisq(Cook's D, p) > 0.5, hat > 3p/k, or any
/// |DFBETAS| > 1; R's `|` gives NA when no test is TRUE and one is NA.
fn flags(
    dffits: &[f64],
    cooks_d: &[f64],
    hat: &[f64],
    dfbs: &[Vec<f64>],
    p: usize,
) -> Vec<Option<bool>> {
    let k = hat.len();
    let (pf, kf) = (p as f64, k as f64);
    (0..k)
        .map(|i| {
            let tests = [
                dffits[i].abs() > 3.0 * (pf / (kf - pf)).sqrt(),
                pchisq(cooks_d[i], pf) > 0.5,
                hat[i] > 3.0 * pf / kf,
                dfbs.iter().any(|d| d[i].abs() > 1.0),
            ];
            let missing =
                dffits[i].is_nan() || cooks_d[i].is_nan() || dfbs.iter().any(|d| d[i].is_nan());
            if tests.iter().any(|&t| t) {
                Some(true)
            } else if missing {
                None
            } else {
                Some(false)
            }
        })
        .collect()
}
