//! Cluster-robust inference: metafor's `robust()` object as the corpus's `robust` block.

use super::{insert_qm, num};
use crate::robust::RobustFit;
use serde_json::{json, Map, Value};

/// The `robust` block: `method`, `cluster`, `n_clusters`, the coefficient table
/// (`{name, estimate, se, tval, df, pval, ci_lb, ci_ub}`) and the omnibus test (`QM`, `QM_df`,
/// `QM_ddf`, `QM_dist` `F`, `QM_pval`).
pub fn robust_json(r: &RobustFit) -> Value {
    let mut m = Map::new();
    m.insert("method".into(), json!(r.method.name()));
    m.insert("cluster".into(), json!(r.cluster));
    m.insert("n_clusters".into(), json!(r.n_clusters));
    let coefs = r
        .coefficients
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "estimate": num(c.estimate),
                "se": num(c.se),
                "tval": num(c.tval),
                "df": num(c.df),
                "pval": num(c.pval),
                "ci_lb": num(c.ci_lb),
                "ci_ub": num(c.ci_ub),
            })
        })
        .collect();
    m.insert("coefficients".into(), Value::Array(coefs));
    insert_qm(&mut m, "", &r.qm);
    if !r.warnings.is_empty() {
        m.insert("warnings".into(), json!(r.warnings));
    }
    Value::Object(m)
}
