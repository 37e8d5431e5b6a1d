//! BLUPs of the study effects: metafor's `blup` and `ranef` lists.

use super::{add_transformed, num};
use crate::model::blup::{Blups, StudyPrediction};
use serde_json::{json, Map, Value};

fn rows(b: &Blups, preds: &[StudyPrediction], back: bool) -> Value {
    let rows = b
        .labels
        .iter()
        .zip(preds)
        .map(|(label, p)| {
            let mut m = Map::new();
            m.insert("study".into(), json!(label));
            m.insert("pred".into(), num(p.pred));
            m.insert("se".into(), num(p.se));
            m.insert("pi_lb".into(), num(p.pi_lb));
            m.insert("pi_ub".into(), num(p.pi_ub));
            if back {
                add_transformed(
                    &mut m,
                    b.scale,
                    &[
                        ("pred", Some(p.pred)),
                        ("pi_lb", Some(p.pi_lb)),
                        ("pi_ub", Some(p.pi_ub)),
                    ],
                );
            }
            Value::Object(m)
        })
        .collect();
    Value::Array(rows)
}

/// `{"method", "tau2", "level", "crit", "df", "blup": [...], "ranef": [...]}`; the `blup` rows
/// carry back-transformed `pred_exp`, `pi_lb_exp`, `pi_ub_exp` on transformed scales
/// (metafor's `blup(res, transf = exp)`).
pub fn blup_json(b: &Blups) -> Value {
    json!({
        "method": b.method.name(),
        "tau2": num(b.tau2),
        "level": b.level,
        "crit": num(b.crit),
        "df": b.df.map_or(Value::Null, num),
        "blup": rows(b, &b.blup, true),
        "ranef": rows(b, &b.ranef, false),
    })
}
