//! Likelihood-ratio tests of nested models: metafor's `anova.rma` object.

use super::{insert_fit_stats, num};
use crate::moderators::anova::{Lrt, ModelRow};
use serde_json::{json, Map, Value};

fn model(m: &ModelRow) -> Value {
    let mut o = Map::new();
    o.insert("mods".into(), json!(m.formula));
    if !m.random.is_empty() {
        o.insert("random".into(), json!(m.random));
    }
    o.insert("coefficients".into(), json!(m.coefficients));
    o.insert("parms".into(), json!(m.parms));
    insert_fit_stats(&mut o, &m.fit);
    o.insert("QE".into(), num(m.qe));
    o.insert("QE_df".into(), json!(m.qe_df));
    o.insert("tau2".into(), num(m.tau2));
    Value::Object(o)
}

/// `{"method", "k", "LRT", "df", "pval", "R2", "full": {...}, "reduced": {...}}`, each model with
/// metafor's `parms`, fit statistics (`loglik`, `deviance`, `AIC`, `BIC`, `AICc`), `QE` and `tau2`
/// (and `random` for multilevel models, whose `tau2` and `R2` are null).
pub fn anova_json(t: &Lrt) -> Value {
    json!({
        "method": t.method.name(),
        "k": t.k,
        "LRT": num(t.lrt),
        "df": t.df,
        "pval": num(t.pval),
        "R2": num(t.r2),
        "full": model(&t.full),
        "reduced": model(&t.reduced),
    })
}
