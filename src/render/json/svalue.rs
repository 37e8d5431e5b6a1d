//! S-values: the package PublicationBias's `svalue` and `corrected_meta` results.

use super::{num, opt};
use crate::bias::svalue::{Corrected, SValues, Sval};
use serde_json::{json, Map, Value};

/// An S-value's number (null unless there is one) and its kind.
fn sval(s: Sval) -> (Value, &'static str) {
    match s {
        Sval::Value(x) => (num(x), "value"),
        Sval::NotPossible => (Value::Null, "not possible"),
        Sval::Above(m) => (num(m), "above"),
        Sval::CiContainsQ => (Value::Null, "ci contains q"),
    }
}

/// The package's `corrected_meta` keys.
pub fn corrected_json(c: &Corrected) -> Value {
    json!({
        "eta": num(c.eta),
        "est": num(c.estimate),
        "se": num(c.se),
        "lo": num(c.ci_lb),
        "hi": num(c.ci_ub),
        "pval": num(c.pval),
        "df": num(c.df),
    })
}

/// The package's `svalue` keys (`sval_est`, `sval_ci`, `k_affirmative`, `k_nonaffirmative`,
/// `signs_recoded`), each S-value's kind (`value`, `not possible`, `above` the largest ratio
/// searched, `ci contains q`), the uncorrected and worst-case (original scale) estimates and,
/// when asked, the estimate corrected at eta.
pub fn svalue_json(s: &SValues, at: Option<&Corrected>) -> Value {
    let mut m = Map::new();
    m.insert("model".into(), json!(s.model.name()));
    m.insert("q".into(), num(s.q));
    m.insert("alpha_select".into(), num(s.alpha_select));
    m.insert("k".into(), json!(s.k));
    m.insert("k_affirmative".into(), json!(s.k_affirmative));
    m.insert("k_nonaffirmative".into(), json!(s.k_nonaffirmative));
    m.insert("signs_recoded".into(), json!(!s.favor_positive));
    m.insert("tau2".into(), opt(s.tau2));
    m.insert("n_clusters".into(), json!(s.n_clusters));
    for (key, v) in [("sval_est", s.sval_est), ("sval_ci", s.sval_ci)] {
        let (x, kind) = sval(v);
        m.insert(key.into(), x);
        m.insert(format!("{key}_kind"), json!(kind));
    }
    m.insert("uncorrected".into(), corrected_json(&s.uncorrected));
    m.insert(
        "worst".into(),
        s.worst.map_or(Value::Null, |w| {
            json!({
                "est": num(w.estimate),
                "se": num(w.se),
                "lo": num(w.ci_lb),
                "hi": num(w.ci_ub),
                "df": opt(w.df),
            })
        }),
    );
    if let Some(c) = at {
        m.insert("corrected".into(), corrected_json(c));
    }
    m.insert("level".into(), json!(s.level.percent()));
    Value::Object(m)
}
