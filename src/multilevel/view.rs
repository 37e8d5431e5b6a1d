//! A multilevel fit as the forest plot and the report draw it: each row with its own effect and
//! Wald interval, its weight as metafor's `weights.rma.mv` gives it (the diagonal of
//! W = M⁻¹ in percent), and the intercept-only model's estimate, test, CI and prediction
//! interval (Viechtbauer 2010, *J Stat Softw* 36(3)).
//!
//! The view is an [`RmaFit`] so that the plots draw it like any fit; its τ² is the sum of the
//! variance components (the total heterogeneity of the prediction interval), its Q the QE of
//! the multilevel model. Renderers name the model and its components from the [`MvFit`].

use super::MvFit;
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::fit::{FitStats, Prediction, RmaFit, Weighting};
use crate::model::heterogeneity::Heterogeneity;
use crate::model::{RmaOptions, Test};

impl MvFit {
    /// metafor's `weights(res)` (type "diagonal"): diag(M⁻¹) in percent of its sum, in model
    /// order; computed block by block, O(k) for nested data.
    pub fn weights(&self) -> Result<Vec<f64>> {
        let mut w = vec![0.0; self.k];
        for blk in &self.model.blocks {
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

    /// The view of an intercept-only fit for drawing (see the module documentation); `effects`
    /// are the effects of the data the fit was made from (its `rows` select and order them).
    pub fn forest_view(&self, effects: &EffectSet) -> Result<RmaFit> {
        if self.p != 1 || !self.intercept {
            return Err(Error::invalid(
                "a forest plot of a multilevel model draws an intercept-only model (no moderators)",
            ));
        }
        let pos: Vec<usize> = self
            .rows
            .iter()
            .map(|r| {
                effects.rows.iter().position(|e| e == r).ok_or_else(|| {
                    Error::invalid("the multilevel fit has a row the effect set does not have")
                })
            })
            .collect::<Result<_>>()?;
        let c = &self.coefficients[0];
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
            pi: self.pi.map(|(lb, ub)| Prediction {
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
