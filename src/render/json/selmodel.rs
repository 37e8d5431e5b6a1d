//! metafor's `selmodel` object with the conformance corpus's keys (README_more, "selmodel").

use super::{num, opt};
use crate::bias::SelModel;
use serde_json::{json, Map, Value};

/// The `selmodel` object: adjusted estimate, τ², δ with their se, the LRT and `k_steps`.
pub fn selmodel_json(s: &SelModel) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!(s.sel_type.name()));
    m.insert("alternative".into(), json!(s.alternative));
    m.insert("k".into(), json!(s.k));
    for (key, x) in [
        ("estimate", s.estimate),
        ("se", s.se),
        ("zval", s.zval),
        ("pval", s.pval),
        ("ci_lb", s.ci_lb),
        ("ci_ub", s.ci_ub),
        ("tau2", s.tau2),
    ] {
        m.insert(key.into(), num(x));
    }
    m.insert("se_tau2".into(), opt(s.se_tau2));
    m.insert(
        "delta".into(),
        Value::Array(s.delta.iter().map(|&d| num(d)).collect()),
    );
    // metafor's se.delta, zval.delta, pval.delta, ci.lb.delta, ci.ub.delta (null for a fixed δ).
    for (key, v) in [
        ("se_delta", &s.se_delta),
        ("zval_delta", &s.delta_zval),
        ("pval_delta", &s.delta_pval),
        ("ci_lb_delta", &s.delta_ci_lb),
        ("ci_ub_delta", &s.delta_ci_ub),
    ] {
        m.insert(
            key.into(),
            Value::Array(v.iter().map(|&d| opt(d)).collect()),
        );
    }
    m.insert("LRT".into(), num(s.lrt));
    m.insert("LRT_df".into(), json!(s.lrt_df));
    m.insert("LRT_pval".into(), num(s.lrt_pval));
    m.insert("loglik".into(), num(s.loglik));
    if let Some(ks) = &s.k_steps {
        m.insert("k_steps".into(), json!(ks));
        m.insert("steps".into(), json!(s.steps));
    }
    if !s.warnings.is_empty() {
        m.insert("warnings".into(), json!(s.warnings));
    }
    Value::Object(m)
}
