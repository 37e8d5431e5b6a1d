//! Sensitivity analyses: metafor's `leave1out`, `cumul`, `influence`, `gosh` and `baujat`
//! objects.

use super::{num, nums, or_error, rma_json};
use crate::error::Result;
use crate::model::RmaFit;
use crate::sensitivity::{Baujat, Gosh, Influence, Refit, RefitSeries};
use serde_json::{json, Map, Value};

/// The columns a leave-one-out or cumulative series shares, one entry per refit (`null` where
/// the model could not be fitted).
fn series_map(s: &RefitSeries) -> Map<String, Value> {
    let col = |f: &dyn Fn(&Refit) -> f64| {
        Value::Array(
            s.fits
                .iter()
                .map(|r| r.as_ref().map_or(Value::Null, |r| num(f(r))))
                .collect(),
        )
    };
    let mut m = Map::new();
    m.insert("slab".into(), json!(s.labels));
    m.insert("estimate".into(), col(&|r| r.estimate));
    m.insert("se".into(), col(&|r| r.se));
    m.insert(s.stat_name().into(), col(&|r| r.stat));
    m.insert("pval".into(), col(&|r| r.pval));
    m.insert("ci_lb".into(), col(&|r| r.ci_lb));
    m.insert("ci_ub".into(), col(&|r| r.ci_ub));
    m.insert("Q".into(), col(&|r| r.q));
    m.insert("Q_pval".into(), col(&|r| r.q_pval));
    if !s.method.is_fixed() {
        m.insert("tau2".into(), col(&|r| r.tau2));
    }
    m.insert("I2".into(), col(&|r| r.i2));
    m.insert("H2".into(), col(&|r| r.h2));
    m
}

/// The `leave1out` object: entry i is the model without study i.
pub fn leave1out_json(s: &RefitSeries) -> Value {
    Value::Object(series_map(s))
}

/// The `cumul` object: entry i is the model fitted to the first i studies; `order` says in which
/// order they were taken.
pub fn cumul_json(s: &RefitSeries, order: &str) -> Value {
    let mut m = series_map(s);
    m.insert("order".into(), json!(order));
    Value::Object(m)
}

/// The `influence` object.
pub fn influence_json(inf: &Influence) -> Value {
    let mut v = json!({
        "slab": inf.labels,
        "rstudent": nums(&inf.rstudent),
        "dffits": nums(&inf.dffits),
        "cooks_d": nums(&inf.cooks_d),
        "cov_r": nums(&inf.cov_r),
        "tau2_del": nums(&inf.tau2_del),
        "QE_del": nums(&inf.qe_del),
        "hat": nums(&inf.hat),
        "weight": nums(&inf.weight),
        "dfbetas": nums(&inf.dfbetas),
        "is_infl": inf.is_infl,
    });
    // A meta-regression has DFBETAS per coefficient (metafor's `dfbs` columns).
    if inf.coefficients.len() > 1 {
        let by: serde_json::Map<String, Value> = inf
            .coefficients
            .iter()
            .zip(&inf.dfbetas_by_coef)
            .map(|(n, d)| (n.clone(), nums(d)))
            .collect();
        v["coefficients"] = json!(inf.coefficients);
        v["dfbetas_by_coef"] = Value::Object(by);
    }
    v
}

/// A GOSH analysis: one entry per subset (`k` studies, `estimate`, `tau2`, `QE`, `I2`, `H2`) and
/// `incl`, the member studies of each subset (1-based positions among the studies used).
pub fn gosh_json(g: &Gosh, labels: &[String]) -> Value {
    json!({
        "k_total": g.k,
        "exact": g.exact,
        "slab": labels,
        "k": g.k_sub,
        "estimate": nums(&g.estimate),
        "tau2": nums(&g.tau2),
        "QE": nums(&g.qe),
        "I2": nums(&g.i2),
        "H2": nums(&g.h2),
        "incl": (0..g.len())
            .map(|r| g.members(r).iter().map(|j| j + 1).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
    })
}

/// The Baujat plot's coordinates.
pub fn baujat_json(b: &Baujat) -> Value {
    json!({"slab": b.labels, "x": nums(&b.x), "y": nums(&b.y)})
}

/// `evident sensitivity --json`: the pooled model (as `pool --json`), the `leave1out`,
/// `influence` and `baujat` objects (each `{"error": …}` when it could not be computed).
pub fn sensitivity_report_json(
    fit: &RmaFit,
    l1o: &Result<RefitSeries>,
    inf: &Result<Influence>,
    baujat: &Result<Baujat>,
) -> Value {
    json!({
        "model": rma_json(fit),
        "leave1out": or_error(l1o, leave1out_json),
        "influence": or_error(inf, influence_json),
        "baujat": or_error(baujat, baujat_json),
    })
}
