//! Fitted models as JSON objects whose keys are metafor's (the conformance corpus's) keys.

use crate::pool::mh::MhFit;
use crate::pool::RmaFit;
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

/// Adds the back-transformed keys (`estimate_exp`, ...) for transformed scales.
fn add_transformed(m: &mut Map<String, Value>, scale: crate::Scale, pairs: &[(&str, Option<f64>)]) {
    if let Some(suffix) = scale.key_suffix() {
        for (key, val) in pairs {
            m.insert(format!("{key}_{suffix}"), opt(val.map(|v| scale.back(v))));
        }
    }
}

/// The `rma` object.
pub fn rma_json(fit: &RmaFit) -> Value {
    let mut m = Map::new();
    m.insert("k".into(), json!(fit.k));
    m.insert("method".into(), json!(fit.options.method.name()));
    m.insert("test".into(), json!(fit.test.name()));
    m.insert("measure".into(), json!(fit.effects.measure.name()));
    m.insert("estimate".into(), num(fit.estimate));
    m.insert("se".into(), num(fit.se));
    m.insert(fit.stat_name().into(), num(fit.stat));
    if let Some(df) = fit.df {
        m.insert("df".into(), num(df));
    }
    m.insert("pval".into(), num(fit.pval));
    m.insert("ci_lb".into(), num(fit.ci_lb));
    m.insert("ci_ub".into(), num(fit.ci_ub));
    m.insert("pi_lb".into(), opt(fit.pi.map(|p| p.lb)));
    m.insert("pi_ub".into(), opt(fit.pi.map(|p| p.ub)));
    m.insert("pi_lb_riley".into(), opt(fit.pi_riley.map(|p| p.lb)));
    m.insert("pi_ub_riley".into(), opt(fit.pi_riley.map(|p| p.ub)));
    m.insert("tau2".into(), num(fit.tau2));
    m.insert("tau".into(), num(fit.tau()));
    m.insert("se_tau2".into(), opt(fit.se_tau2));
    match &fit.tau2_ci {
        Some(ci) => {
            m.insert("tau2_ci_lb".into(), num(ci.tau2_lb));
            m.insert("tau2_ci_ub".into(), num(ci.tau2_ub));
            m.insert("tau_ci_lb".into(), num(ci.tau_lb));
            m.insert("tau_ci_ub".into(), num(ci.tau_ub));
            m.insert("I2_ci_lb".into(), num(ci.i2_lb));
            m.insert("I2_ci_ub".into(), num(ci.i2_ub));
            m.insert("H2_ci_lb".into(), num(ci.h2_lb));
            m.insert("H2_ci_ub".into(), num(ci.h2_ub));
            m.insert("tau2_ci_lb_sign".into(), json!(ci.lb_censor.sign()));
            m.insert("tau2_ci_ub_sign".into(), json!(ci.ub_censor.sign()));
            m.insert("tau2_ci_null".into(), json!(ci.null));
        }
        None => {
            for key in [
                "tau2_ci_lb",
                "tau2_ci_ub",
                "tau_ci_lb",
                "tau_ci_ub",
                "I2_ci_lb",
                "I2_ci_ub",
                "H2_ci_lb",
                "H2_ci_ub",
            ] {
                m.insert(key.into(), Value::Null);
            }
        }
    }
    m.insert("I2".into(), num(fit.het.i2));
    m.insert("H2".into(), num(fit.het.h2));
    m.insert("vt".into(), num(fit.het.vt));
    m.insert("Q".into(), num(fit.het.q));
    m.insert("Q_df".into(), json!(fit.het.q_df));
    m.insert("Q_pval".into(), num(fit.het.q_pval));
    m.insert(
        "weights".into(),
        Value::Array(fit.weights.iter().map(|&w| num(w)).collect()),
    );
    m.insert("loglik".into(), num(fit.fit.loglik));
    m.insert("deviance".into(), num(fit.fit.deviance));
    m.insert("AIC".into(), num(fit.fit.aic));
    m.insert("BIC".into(), num(fit.fit.bic));
    m.insert("AICc".into(), num(fit.fit.aicc));
    m.insert("loglik_type".into(), json!(fit.fit.loglik_type));
    add_transformed(
        &mut m,
        fit.effects.scale,
        &[
            ("estimate", Some(fit.estimate)),
            ("ci_lb", Some(fit.ci_lb)),
            ("ci_ub", Some(fit.ci_ub)),
            ("pi_lb", fit.pi.map(|p| p.lb)),
            ("pi_ub", fit.pi.map(|p| p.ub)),
        ],
    );
    if !fit.notes.is_empty() {
        m.insert("notes".into(), json!(fit.notes));
    }
    Value::Object(m)
}

/// The `rma.mh` / `rma.peto` object.
pub fn mh_json(fit: &MhFit) -> Value {
    let mut m = Map::new();
    m.insert("k".into(), json!(fit.k));
    m.insert("k_yi".into(), json!(fit.k_yi));
    m.insert("method".into(), json!(fit.method_name()));
    m.insert("measure".into(), json!(fit.measure.name()));
    m.insert("estimate".into(), num(fit.estimate));
    m.insert("se".into(), num(fit.se));
    m.insert("zval".into(), num(fit.zval));
    m.insert("pval".into(), num(fit.pval));
    m.insert("ci_lb".into(), num(fit.ci_lb));
    m.insert("ci_ub".into(), num(fit.ci_ub));
    add_transformed(
        &mut m,
        fit.scale,
        &[
            ("estimate", Some(fit.estimate)),
            ("ci_lb", Some(fit.ci_lb)),
            ("ci_ub", Some(fit.ci_ub)),
        ],
    );
    m.insert("Q".into(), num(fit.q));
    m.insert("Q_df".into(), json!(fit.q_df));
    m.insert("Q_pval".into(), num(fit.q_pval));
    m.insert("I2".into(), num(fit.i2));
    m.insert("H2".into(), num(fit.h2));
    if let Some((s, p)) = fit.cmh {
        m.insert("cmh".into(), num(s));
        m.insert("cmh_pval".into(), num(p));
    }
    if let Some((s, p)) = fit.tarone {
        m.insert("tarone".into(), num(s));
        m.insert("tarone_pval".into(), num(p));
    }
    if let Some((s, p)) = fit.mh_irr {
        m.insert("mh".into(), num(s));
        m.insert("mh_pval".into(), num(p));
    }
    Value::Object(m)
}
