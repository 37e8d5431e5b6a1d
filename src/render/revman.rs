//! A review's outcome beside what RevMan stored for it: the outcome's id and names, and each
//! stored total (EFFECT_SIZE, CI_START, CI_END, CHI2, DF, P_CHI2, I2, TAU2, Z, P_Z) with the
//! number evident reproduces, on RevMan's scale (ratios as ratios, I² in percent, |z|).

use crate::data::revman::Outcome;
use crate::model::fit::RmaFit;
use serde_json::{json, Map, Value};

/// (RevMan's attribute, stored value, reproduced value) for every stored total.
pub fn reproduced(o: &Outcome, fit: &RmaFit) -> Vec<(&'static str, Option<f64>, f64)> {
    let s = &o.stored;
    let back = |x: f64| fit.effects.scale.back(x);
    let random = fit.tau2 > 0.0 || !fit.options.method.is_fixed();
    let mut rows = vec![
        ("EFFECT_SIZE", s.effect, back(fit.estimate)),
        ("CI_START", s.ci_start, back(fit.ci_lb)),
        ("CI_END", s.ci_end, back(fit.ci_ub)),
        ("CHI2", s.chi2, fit.het.q),
        ("DF", s.df, fit.het.q_df as f64),
        ("P_CHI2", s.p_chi2, fit.het.q_pval),
        ("I2", s.i2, fit.het.i2),
        ("Z", s.z, fit.stat.abs()),
        ("P_Z", s.p_z, fit.pval),
    ];
    if random {
        rows.push(("TAU2", s.tau2, fit.tau2));
    }
    rows
}

/// The `revman` object of `pool --json` on a review.
pub fn revman_json(o: &Outcome, fit: &RmaFit) -> Value {
    let mut stored = Map::new();
    let mut ours = Map::new();
    for (name, s, r) in reproduced(o, fit) {
        stored.insert(name.into(), json!(s));
        ours.insert(name.into(), json!(r));
    }
    json!({
        "outcome": o.id,
        "comparison": o.comparison,
        "name": o.name,
        "data_type": o.data_type.name(),
        "measure": o.measure,
        "model": if o.random { "random" } else { "fixed" },
        "stored": Value::Object(stored),
        "reproduced": Value::Object(ours),
    })
}

/// The text of `pool` on a review: the outcome and RevMan's stored totals beside evident's.
pub fn revman_text(o: &Outcome, fit: &RmaFit) -> String {
    let mut out = format!(
        "RevMan outcome {} ({}: {}), {} data, {} {}\n",
        o.id,
        o.comparison,
        o.name,
        o.data_type.name(),
        o.measure,
        if o.random {
            "random effects"
        } else {
            "fixed effect"
        }
    );
    let rows: Vec<_> = reproduced(o, fit)
        .into_iter()
        .filter_map(|(n, s, r)| s.map(|s| (n, s, r)))
        .collect();
    if rows.is_empty() {
        return out;
    }
    out.push_str("\n  RevMan stored      RevMan        evident\n");
    for (n, s, r) in rows {
        out.push_str(&format!("  {n:<12} {s:>14.6} {r:>14.6}\n"));
    }
    out
}
