//! Henmi–Copas: metafor's `hc.rma.uni` object.

use super::{add_transformed, num};
use crate::bias::hc::HenmiCopas;
use serde_json::{json, Map, Value};

/// metafor's keys (`beta`, `se`, `ci_lb`, `ci_ub`, `tau2`, and the model's `beta_rma`, `se_rma`,
/// `ci_lb_rma`, `ci_ub_rma`, `tau2_rma`, `method_rma`), with `*_exp` keys on ratio scales.
pub fn hc_json(h: &HenmiCopas) -> Value {
    let mut m = Map::new();
    m.insert("k".into(), json!(h.k));
    m.insert("method".into(), json!("DL"));
    m.insert("level".into(), json!(h.level));
    for (key, x) in [
        ("beta", h.estimate),
        ("se", h.se),
        ("ci_lb", h.ci_lb),
        ("ci_ub", h.ci_ub),
        ("tau2", h.tau2),
        ("u0", h.u0),
        ("beta_rma", h.rma_estimate),
        ("se_rma", h.rma_se),
        ("ci_lb_rma", h.rma_ci_lb),
        ("ci_ub_rma", h.rma_ci_ub),
        ("tau2_rma", h.rma_tau2),
    ] {
        m.insert(key.into(), num(x));
    }
    m.insert("method_rma".into(), json!(h.rma_method.name()));
    add_transformed(
        &mut m,
        h.scale,
        &[
            ("beta", Some(h.estimate)),
            ("ci_lb", Some(h.ci_lb)),
            ("ci_ub", Some(h.ci_ub)),
        ],
    );
    Value::Object(m)
}
