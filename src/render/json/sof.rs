//! The summary-of-findings object (`sof`) of `pool --json` and the report's results.

use super::num;
use crate::pool::sof::Sof;
use serde_json::{json, Map, Value};

/// The `sof` object: the keys (`control_risk`, `per_1000` with its interval, `nnt` with
/// its interval) and the risk with the intervention.
pub fn sof_json(s: &Sof) -> Value {
    let mut m = Map::new();
    m.insert("measure".into(), json!(s.measure.name()));
    m.insert("control_risk".into(), num(s.control_risk));
    m.insert("control_risk_source".into(), json!(s.source.name()));
    m.insert("level".into(), num(s.level));
    m.insert("intervention_risk".into(), num(s.intervention_risk));
    m.insert(
        "intervention_risk_ci_lb".into(),
        num(s.intervention_risk_ci_lb),
    );
    m.insert(
        "intervention_risk_ci_ub".into(),
        num(s.intervention_risk_ci_ub),
    );
    m.insert("per_1000".into(), num(s.per_1000));
    m.insert("per_1000_ci_lb".into(), num(s.per_1000_ci_lb));
    m.insert("per_1000_ci_ub".into(), num(s.per_1000_ci_ub));
    // Infinite NNTs (no difference, or a limit at no difference) are null, as JSON has no ∞.
    m.insert("nnt".into(), num(s.nnt.nnt));
    m.insert("nnt_ci_lb".into(), num(s.nnt.ci_lb));
    m.insert("nnt_ci_ub".into(), num(s.nnt.ci_ub));
    m.insert(
        "nnt_ci_through_infinity".into(),
        json!(s.nnt.through_infinity),
    );
    m.insert("events_desirable".into(), json!(s.events_desirable));
    if !s.notes.is_empty() {
        m.insert("notes".into(), json!(s.notes));
    }
    Value::Object(m)
}
