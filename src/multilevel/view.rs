//! A multilevel fit as the forest plot and the report draw it: each row with its own effect and
//! Wald interval, its weight as metafor's `weights.rma.mv` gives it (the diagonal of
//! W = M⁻¹ in percent), and the intercept-only model's estimate, test, CI and prediction
//! interval (Viechtbauer 2010, *J Stat Softw* 36(3)).
//!
//! The view is an [`RmaFit`] so that the plots draw it like any fit; its τ² is the sum of the
//! variance components (the total heterogeneity of the prediction interval), its Q the QE of
//! the multilevel model. Renderers name the model and its components from the [`MvFit`].

use super::{MvCoefficient, MvFit};
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::fit::{FitStats, Prediction, RmaFit, Weighting};
use crate::model::heterogeneity::Heterogeneity;
use crate::model::{RmaOptions, Test};
use crate::stats::{qnorm_upper, qt_upper};

/// One row's fitted value with its standard error and CI (metafor's `predict(res)`: `pred`,
/// `se`, `ci.lb`, `ci.ub`), on the analysis scale.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Fitted {
    /// x_i'b.
    pub pred: f64,
    /// Its standard error.
    pub se: f64,
    /// Lower CI bound.
    pub ci_lb: f64,
    /// Upper CI bound.
    pub ci_ub: f64,
}

impl MvFit {
    /// metafor's `weights(res)` (type "diagonal"): diag(M⁻¹) in percent of its sum, in model
    /// order; computed block by block, O(k) for nested data.
    pub fn weights(&self) -> Result<Vec<f64>> {
        let mut w = vec![0.0; self.k];
        if let Some(c) = &self.model.crossed {
            w = c.diag_w(&self.model, &self.sigma2())?;
        }
        for blk in self
            .model
            .blocks
            .iter()
            .filter(|_| self.model.crossed.is_none())
        {
            let m = self.block_marginal(blk);
            let n = m.nrows();
            let inv = m
                .cholesky()
                .map(|c| crate::stats::linalg::cholesky_inverse(&c))
                .ok_or_else(|| {
                    Error::invalid("the marginal variance of a cluster is not positive definite")
                })?;
            for (a, &r) in blk.rows.iter().enumerate().take(n) {
                w[r] = inv[(a, a)];
            }
        }
        let total: f64 = w.iter().sum();
        Ok(w.iter().map(|x| 100.0 * x / total).collect())
    }

    /// Whether the model has moderators (anything but an intercept alone): a meta-regression,
    /// with no pooled estimate.
    pub fn has_moderators(&self) -> bool {
        self.p != 1 || !self.intercept
    }

    /// metafor's `predict(res)` at the fit's own rows, in model order: the fitted value
    /// x_i'b, its standard error √(x_i' Var(b) x_i) and CI, with z, or with t on the smallest
    /// df of the coefficients the row involves (k − p when none), as `predict.rma` takes them.
    pub fn fitted(&self) -> Vec<Fitted> {
        let x = self.design();
        let b: Vec<f64> = self.coefficients.iter().map(|c| c.estimate).collect();
        let alpha = self.level.alpha();
        (0..self.k)
            .map(|i| {
                let xi: Vec<f64> = (0..self.p).map(|j| x[(i, j)]).collect();
                let pred: f64 = xi.iter().zip(&b).map(|(a, c)| a * c).sum();
                let var: f64 = (0..self.p)
                    .map(|j| xi[j] * (0..self.p).map(|l| self.vb[(j, l)] * xi[l]).sum::<f64>())
                    .sum();
                let se = var.sqrt();
                let crit = match self.test {
                    Test::T => {
                        let ddf = (0..self.p)
                            .filter(|&j| xi[j] != 0.0)
                            .filter_map(|j| self.coefficients[j].df)
                            .fold(f64::NAN, f64::min);
                        let ddf = if ddf.is_nan() {
                            (self.k - self.p) as f64
                        } else {
                            ddf
                        };
                        if ddf > 0.0 {
                            qt_upper(alpha / 2.0, ddf)
                        } else {
                            f64::NAN
                        }
                    }
                    _ => qnorm_upper(alpha / 2.0),
                };
                Fitted {
                    pred,
                    se,
                    ci_lb: pred - crit * se,
                    ci_ub: pred + crit * se,
                }
            })
            .collect()
    }

    /// The view of a fit for drawing (see the module documentation); `effects` are the effects
    /// of the data the fit was made from (its `rows` select and order them). A meta-regression
    /// has no pooled estimate: the view's estimate, its test and CI are NaN and it has no
    /// prediction interval (renderers draw [`MvFit::fitted`] instead).
    pub fn forest_view(&self, effects: &EffectSet) -> Result<RmaFit> {
        let pos: Vec<usize> = self
            .rows
            .iter()
            .map(|r| {
                effects.rows.iter().position(|e| e == r).ok_or_else(|| {
                    Error::invalid("the multilevel fit has a row the effect set does not have")
                })
            })
            .collect::<Result<_>>()?;
        let pooled = MvCoefficient {
            name: String::new(),
            estimate: f64::NAN,
            se: f64::NAN,
            stat: f64::NAN,
            df: None,
            pval: f64::NAN,
            ci_lb: f64::NAN,
            ci_ub: f64::NAN,
        };
        let c = match self.has_moderators() {
            true => &pooled,
            false => &self.coefficients[0],
        };
        let (qe, qe_df, qe_pval) = self.qe;
        let tau2: f64 = self.components.iter().map(|c| c.sigma2).sum();
        let nan = f64::NAN;
        let test = self.test;
        Ok(RmaFit {
            effects: effects.subset(&pos),
            options: RmaOptions {
                method: self.method,
                test,
                level: self.level,
                ..RmaOptions::default()
            },
            test,
            k: self.k,
            estimate: c.estimate,
            se: c.se,
            stat: c.stat,
            df: c.df,
            pval: c.pval,
            ci_lb: c.ci_lb,
            ci_ub: c.ci_ub,
            pi: self
                .pi
                .filter(|_| !self.has_moderators())
                .map(|(lb, ub)| Prediction {
                    lb,
                    ub,
                    df: c.df.filter(|_| test == Test::T),
                }),
            pi_riley: None,
            tau2,
            se_tau2: None,
            tau2_ci: None,
            het: Heterogeneity {
                q: qe,
                q_df: qe_df,
                q_pval: qe_pval,
                i2: self.i2_total,
                h2: nan,
                vt: nan,
            },
            weights: self.weights()?,
            fit: FitStats {
                loglik: self.loglik,
                deviance: self.deviance,
                aic: self.aic,
                bic: self.bic,
                aicc: self.aicc,
                loglik_type: if self.lik == super::Likelihood::Reml {
                    "REML"
                } else {
                    "ML"
                },
            },
            s2w: 1.0,
            modified_kh: None,
            iterations: self.iterations,
            notes: self.warnings.clone(),
            weighting: Weighting::InverseVariance,
        })
    }
}
