//! Sensitivity analyses: leave-one-out, cumulative meta-analysis, influence diagnostics, GOSH.
//!
//! Each refits the intercept-only model with the original τ² method and test (metafor's
//! `leave1out`, `cumul`, `influence`); a refit that fails is reported as missing, as metafor does.

pub mod baujat;
pub mod cumul;
pub mod gosh;
pub mod influence;
pub mod influence_metareg;
pub mod leave1out;
pub mod tables;

pub use baujat::{baujat, Baujat};
pub use cumul::{cumul, cumul_order};
pub use gosh::{gosh, Gosh, StudyContrast};
pub use influence::{influence, Influence};
pub use influence_metareg::influence_metareg;
pub use leave1out::leave1out;
pub use tables::{cumul_tables, cumul_tables_order, leave1out_tables};

use crate::effect::EffectSet;
use crate::model::rma;
use crate::model::Method;
use crate::model::RmaFit;
use crate::model::RmaOptions;
use crate::model::Test;

/// The summary of one refit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Refit {
    /// Number of studies in the refit.
    pub k: usize,
    /// The pooled estimate, on the analysis scale.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// z or t statistic (z when k = 1 even under Knapp–Hartung, as metafor).
    pub stat: f64,
    /// Two-sided p-value of the test that the effect is 0.
    pub pval: f64,
    /// Lower bound of the confidence interval.
    pub ci_lb: f64,
    /// Upper bound of the confidence interval.
    pub ci_ub: f64,
    /// Cochran's Q (metafor's `Q`).
    pub q: f64,
    /// p-value of the test of homogeneity (metafor's `Qp`).
    pub q_pval: f64,
    /// Estimated between-study variance τ².
    pub tau2: f64,
    /// I², in percent.
    pub i2: f64,
    /// H².
    pub h2: f64,
}

impl Refit {
    fn from_fit(f: &RmaFit) -> Refit {
        Refit {
            k: f.k,
            estimate: f.estimate,
            se: f.se,
            stat: f.stat,
            pval: f.pval,
            ci_lb: f.ci_lb,
            ci_ub: f.ci_ub,
            q: f.het.q,
            q_pval: f.het.q_pval,
            tau2: f.tau2,
            i2: f.het.i2,
            h2: f.het.h2,
        }
    }
}

/// A series of refits, one per study (leave-one-out or cumulative).
#[derive(Debug, Clone)]
pub struct RefitSeries {
    /// Entry i's study label (for cumul: the study added at step i).
    pub labels: Vec<String>,
    /// `None` where the refit failed.
    pub fits: Vec<Option<Refit>>,
    /// The τ² method of the original model, used for every refit.
    pub method: Method,
    /// The test of the original model (names the statistic).
    pub test: Test,
    /// The scale the estimates are on (for back-transformation).
    pub scale: crate::measure::Scale,
    /// Refits of Mantel–Haenszel or Peto fits (`method` is then `FE`, `test` `Z`).
    pub pooling: Option<crate::pool::TablePooling>,
}

impl RefitSeries {
    /// The method of the refits as metafor names it: the τ² method, or "MH" / "Peto".
    pub fn method_name(&self) -> &'static str {
        self.pooling.map_or(self.method.name(), |p| p.name())
    }

    /// The statistic's name: `zval` or `tval`, after the original model's test.
    pub fn stat_name(&self) -> &'static str {
        if self.test.uses_t() {
            "tval"
        } else {
            "zval"
        }
    }
}

/// Options for refits: the same model, without the Q-profile CI nobody reads here.
fn refit_options(opts: &RmaOptions) -> RmaOptions {
    RmaOptions {
        tau2_ci: false,
        ..*opts
    }
}

fn refit(set: &EffectSet, idx: &[usize], opts: &RmaOptions) -> Option<Refit> {
    rma(&set.subset(idx), opts)
        .ok()
        .map(|f| Refit::from_fit(&f))
}
