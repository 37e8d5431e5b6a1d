//! Publication bias and small-study effects: metafor's `regtest`, `ranktest`, `trimfill` and
//! `fsn` objects, and PET-PEESE (Stanley & Doucouliagos 2014).

use super::{add_transformed_ci, insert_rma_wald, num, nums, opt, or_error, rma_json};
use crate::bias::{BiasReport, Fsn, FsnType, MvRegtest, PetPeese, Ranktest, Regtest, TrimFill};
use crate::model::RmaFit;
use serde_json::{json, Map, Value};

/// The `regtest` object (Egger's test).
pub fn regtest_json(r: &Regtest) -> Value {
    let mut m = Map::new();
    m.insert("model".into(), json!(r.model.name()));
    m.insert("predictor".into(), json!(r.predictor.name()));
    m.insert(r.stat_name().into(), num(r.stat));
    if let Some(df) = r.df {
        m.insert("df".into(), num(df));
    }
    m.insert("pval".into(), num(r.pval));
    if !r.moderators.is_empty() {
        m.insert("moderators".into(), json!(r.moderators));
    }
    if let Some(l) = r.limit {
        m.insert("limit_estimate".into(), num(l.estimate));
        m.insert("limit_ci_lb".into(), num(l.ci_lb));
        m.insert("limit_ci_ub".into(), num(l.ci_ub));
    }
    Value::Object(m)
}

/// The multilevel regression test: the keys of [`regtest_json`] (`model` "rma.mv", the
/// cluster-robust `tval`, `df`, `pval` and limit estimate when clustered), with the fit (as
/// `pool --random --json`) under `fit` and its robust block under `robust`.
pub fn mv_regtest_json(r: &MvRegtest) -> Value {
    let mut m = Map::new();
    m.insert("model".into(), json!("rma.mv"));
    m.insert("predictor".into(), json!(r.predictor.name()));
    let t = &r.slope;
    m.insert(
        if t.df.is_some() { "tval" } else { "zval" }.into(),
        num(t.stat),
    );
    if let Some(df) = t.df {
        m.insert("df".into(), num(df));
    }
    m.insert("pval".into(), num(t.pval));
    if let Some(l) = r.limit {
        m.insert("limit_estimate".into(), num(l.estimate));
        m.insert("limit_ci_lb".into(), num(l.ci_lb));
        m.insert("limit_ci_ub".into(), num(l.ci_ub));
    }
    m.insert(
        "fit".into(),
        super::mv_json(&r.fit, &crate::multilevel::MvProfile::default()),
    );
    if let Some(rob) = &r.robust {
        m.insert("robust".into(), super::robust_json(rob));
    }
    Value::Object(m)
}

/// The `ranktest` object (Begg and Mazumdar's test).
pub fn ranktest_json(r: &Ranktest) -> Value {
    json!({"tau": num(r.tau), "pval": num(r.pval), "exact_pval": r.exact})
}

/// The `trimfill` object: k0, side and the filled model.
pub fn trimfill_json(t: &TrimFill) -> Value {
    let f = &t.fit;
    let mut m = Map::new();
    m.insert("k0".into(), json!(t.k0));
    m.insert("se_k0".into(), num(t.se_k0));
    m.insert("side".into(), json!(t.side.name()));
    m.insert("estimator".into(), json!(t.estimator.name()));
    if let Some(p) = t.p_k0 {
        m.insert("p_k0".into(), num(p));
    }
    m.insert("k_filled".into(), json!(t.k_filled()));
    insert_rma_wald(&mut m, f);
    m.insert("tau2".into(), num(f.tau2));
    m.insert("I2".into(), num(f.het.i2));
    m.insert("Q".into(), num(f.het.q));
    m.insert("Q_pval".into(), num(f.het.q_pval));
    add_transformed_ci(&mut m, f.effects.scale, f.estimate, f.ci_lb, f.ci_ub);
    m.insert("filled_yi".into(), nums(&t.filled_yi));
    m.insert("filled_vi".into(), nums(&t.filled_vi));
    Value::Object(m)
}

/// A fail-safe N.
pub fn fsn_json(f: &Fsn) -> Value {
    json!({
        "type": match f.kind {
            FsnType::Rosenthal => "Rosenthal",
            FsnType::Orwin { .. } => "Orwin",
            FsnType::Rosenberg => "Rosenberg",
        },
        "fsnum": num(f.fsnum),
        "alpha": f.alpha,
        "pval": opt(f.pval),
        "meanes": opt(f.mean_effect),
        "target": opt(f.target),
    })
}

/// PET-PEESE: both regressions and the chosen estimate.
pub fn pet_peese_json(p: &PetPeese) -> Value {
    json!({
        "pet": regtest_json(&p.pet),
        "peese": regtest_json(&p.peese),
        "alpha": p.alpha,
        "choice": p.choice.name(),
        "estimate": num(p.estimate),
        "ci_lb": num(p.ci_lb),
        "ci_ub": num(p.ci_ub),
    })
}

/// `evident bias --json`: the pooled model (as `pool --json`) and every check of the text report
/// (each `{"error": …}` when it could not be run); `peters` only for binary outcomes.
pub fn bias_report_json(fit: &RmaFit, r: &BiasReport) -> Value {
    let mut m = Map::new();
    m.insert("model".into(), rma_json(fit));
    m.insert("regtest".into(), or_error(&r.panel.regtest, regtest_json));
    if let Some(p) = &r.peters {
        m.insert("peters".into(), or_error(p, regtest_json));
    }
    m.insert(
        "ranktest".into(),
        or_error(&r.panel.ranktest, ranktest_json),
    );
    m.insert(
        "trimfill".into(),
        or_error(&r.panel.trimfill, trimfill_json),
    );
    m.insert("pet_peese".into(), or_error(&r.pet_peese, pet_peese_json));
    m.insert("fsn".into(), or_error(&r.fsn, fsn_json));
    Value::Object(m)
}
