//! Fitted models as JSON objects whose keys are metafor's (the conformance corpus's) keys: one
//! file per family of results. The groups of keys several objects share are written here.

mod anova;
mod bias;
mod blup;
mod glmm;
mod hc;
mod moderators;
mod multilevel;
mod reported;
mod rma;
mod robust;
mod selmodel;
mod sensitivity;
mod sof;
mod svalue;

pub use anova::anova_json;
pub use bias::{
    bias_report_json, fsn_json, mv_regtest_json, pet_peese_json, ranktest_json, regtest_json,
    trimfill_json,
};
pub use blup::blup_json;
pub use glmm::glmm_json;
pub use hc::hc_json;
pub use moderators::{
    metareg_json, permutation_json, predictions_json, subgroup_json, wald_tests_json,
};
pub use multilevel::mv_json;
pub use reported::{additive_json, two_estimates_json};
pub use rma::{mh_json, rma_json};
pub use robust::robust_json;
pub use selmodel::selmodel_json;
pub use sensitivity::{
    baujat_json, cumul_json, gosh_json, influence_json, leave1out_json, sensitivity_report_json,
};
pub use sof::sof_json;
pub use svalue::{corrected_json, svalue_json};

use crate::measure::Scale;
use crate::model::heterogeneity::Heterogeneity;
use crate::model::{FitStats, RmaFit};
use crate::moderators::metareg::OmnibusTest;
use serde_json::{json, Map, Value};

/// A number, or `null` when not finite (as the corpus writes -Inf, NaN).
pub fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

fn opt(x: Option<f64>) -> Value {
    x.map_or(Value::Null, num)
}

fn nums(xs: &[f64]) -> Value {
    Value::Array(xs.iter().map(|&x| num(x)).collect())
}

/// A Wald-type result: estimate, se, statistic (`zval` or `tval`, with `df` under t), p-value and CI.
#[allow(clippy::too_many_arguments)]
fn insert_wald(
    m: &mut Map<String, Value>,
    estimate: f64,
    se: f64,
    stat_name: &str,
    stat: f64,
    df: Option<f64>,
    pval: f64,
    ci_lb: f64,
    ci_ub: f64,
) {
    m.insert("estimate".into(), num(estimate));
    m.insert("se".into(), num(se));
    m.insert(stat_name.into(), num(stat));
    if let Some(df) = df {
        m.insert("df".into(), num(df));
    }
    m.insert("pval".into(), num(pval));
    m.insert("ci_lb".into(), num(ci_lb));
    m.insert("ci_ub".into(), num(ci_ub));
}

/// The Wald-type keys of an `rma` fit's pooled estimate.
fn insert_rma_wald(m: &mut Map<String, Value>, f: &RmaFit) {
    insert_wald(
        m,
        f.estimate,
        f.se,
        f.stat_name(),
        f.stat,
        f.df,
        f.pval,
        f.ci_lb,
        f.ci_ub,
    );
}

/// Adds the back-transformed keys (`estimate_exp`, ...) for transformed scales.
fn add_transformed(m: &mut Map<String, Value>, scale: Scale, pairs: &[(&str, Option<f64>)]) {
    if let Some(suffix) = scale.key_suffix() {
        for (key, val) in pairs {
            m.insert(format!("{key}_{suffix}"), opt(val.map(|v| scale.back(v))));
        }
    }
}

/// `estimate`, `ci_lb` and `ci_ub` back-transformed, for transformed scales.
fn add_transformed_ci(m: &mut Map<String, Value>, scale: Scale, estimate: f64, lb: f64, ub: f64) {
    add_transformed(
        m,
        scale,
        &[
            ("estimate", Some(estimate)),
            ("ci_lb", Some(lb)),
            ("ci_ub", Some(ub)),
        ],
    );
}

/// A Q test as `{name}`, `{name}_df`, `{name}_pval` (`Q`, or `QE` for residual heterogeneity).
fn insert_q(m: &mut Map<String, Value>, name: &str, h: &Heterogeneity) {
    m.insert(name.into(), num(h.q));
    m.insert(format!("{name}_df"), json!(h.q_df));
    m.insert(format!("{name}_pval"), num(h.q_pval));
    if let Some(why) = h.undefined_reason() {
        m.insert(format!("{name}_undefined"), json!(why));
    }
}

/// An omnibus test as `{prefix}QM`, `_df`, `_ddf`, `_dist` and `_pval`.
fn insert_qm(m: &mut Map<String, Value>, prefix: &str, t: &OmnibusTest) {
    m.insert(format!("{prefix}QM"), num(t.stat));
    m.insert(format!("{prefix}QM_df"), json!(t.df));
    m.insert(format!("{prefix}QM_ddf"), opt(t.ddf));
    m.insert(format!("{prefix}QM_dist"), json!(t.dist()));
    m.insert(format!("{prefix}QM_pval"), num(t.pval));
}

/// The fit statistics (`loglik`, `deviance`, `AIC`, `BIC`, `AICc`, `loglik_type`).
fn insert_fit_stats(m: &mut Map<String, Value>, f: &FitStats) {
    m.insert("loglik".into(), num(f.loglik));
    m.insert("deviance".into(), num(f.deviance));
    m.insert("AIC".into(), num(f.aic));
    m.insert("BIC".into(), num(f.bic));
    m.insert("AICc".into(), num(f.aicc));
    m.insert("loglik_type".into(), json!(f.loglik_type));
}

/// A panel's section: the result's JSON, or `{"error": why}` when it could not be computed.
fn or_error<T>(r: &crate::error::Result<T>, f: impl Fn(&T) -> Value) -> Value {
    match r {
        Ok(x) => f(x),
        Err(e) => json!({ "error": e.to_string() }),
    }
}
