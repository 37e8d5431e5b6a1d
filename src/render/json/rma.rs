//! The pooled models: metafor's `rma.uni`, `rma.mh` and `rma.peto` objects.

use super::{
    add_transformed, add_transformed_ci, insert_fit_stats, insert_q, insert_rma_wald, insert_wald,
    num, opt,
};
use crate::effect::StudyIntervals;
use crate::model::heterogeneity::{Tau2Ci, Tau2CiType};
use crate::model::{ModifiedKh, RmaFit};
use crate::pool::mh::MhFit;
use serde_json::{json, Map, Value};

/// The `rma` object.
pub fn rma_json(fit: &RmaFit) -> Value {
    let mut m = Map::new();
    m.insert("k".into(), json!(fit.k));
    m.insert("method".into(), json!(fit.options.method.name()));
    m.insert("test".into(), json!(fit.test.name()));
    m.insert("measure".into(), json!(fit.effects.measure.name()));
    let mixed = crate::render::text::mixed_ratios_note(&fit.effects.mixed_ratios);
    if mixed.is_some() {
        m.insert(
            "mixed_ratio_measures".into(),
            json!(fit.effects.mixed_ratios),
        );
    }
    if fit.weighting != crate::model::fit::Weighting::InverseVariance {
        // RevMan 5's random-effects model: τ² from the Mantel–Haenszel Q.
        m.insert(
            "pooling".into(),
            json!(crate::render::pooling::model_label(fit)),
        );
    }
    insert_rma_wald(&mut m, fit);
    // The main interval, as the text shows it: metafor's, or Riley's when that was chosen.
    let pi = fit.prediction();
    m.insert("pi_lb".into(), opt(pi.map(|p| p.lb)));
    m.insert("pi_ub".into(), opt(pi.map(|p| p.ub)));
    m.insert("pi_lb_riley".into(), opt(fit.pi_riley.map(|p| p.lb)));
    m.insert("pi_ub_riley".into(), opt(fit.pi_riley.map(|p| p.ub)));
    m.insert("tau2".into(), num(fit.tau2));
    m.insert("tau".into(), num(fit.tau()));
    m.insert("se_tau2".into(), opt(fit.se_tau2));
    insert_tau2_ci(&mut m, fit.tau2_ci.as_ref());
    m.insert("I2".into(), num(fit.het.i2));
    m.insert("H2".into(), num(fit.het.h2));
    m.insert("vt".into(), num(fit.het.vt));
    insert_q(&mut m, "Q", &fit.het);
    m.insert(
        "weights".into(),
        Value::Array(fit.weights.iter().map(|&w| num(w)).collect()),
    );
    insert_fit_stats(&mut m, &fit.fit);
    let scale = fit.effects.scale;
    add_transformed_ci(&mut m, scale, fit.estimate, fit.ci_lb, fit.ci_ub);
    add_transformed(
        &mut m,
        scale,
        &[("pi_lb", pi.map(|p| p.lb)), ("pi_ub", pi.map(|p| p.ub))],
    );
    if let Some(kh) = &fit.modified_kh {
        m.insert("modified_knha".into(), modified_kh_json(fit, kh));
    }
    if let Some(s) = &fit.effects.study_ci {
        m.insert("studies".into(), study_ci_json(&fit.effects.labels, s));
    }
    let notes: Vec<&String> = fit.notes.iter().chain(mixed.as_ref()).collect();
    if !notes.is_empty() {
        m.insert("notes".into(), json!(notes));
    }
    Value::Object(m)
}

/// Each study's x/n (x/t) and its own interval on the proportion (rate) scale, as arrays in
/// study order (`slab`, `estimate`, `ci_lb`, `ci_ub`) with the method (`ci_method`).
pub fn study_ci_json(labels: &[String], s: &StudyIntervals) -> Value {
    let nums = |v: &[f64]| Value::Array(v.iter().map(|&x| num(x)).collect());
    json!({
        "slab": labels,
        "estimate": nums(&s.estimate),
        "ci_lb": nums(&s.ci_lb),
        "ci_ub": nums(&s.ci_ub),
        "ci_method": s.method.name(),
    })
}

/// The modified Knapp–Hartung result given beside Knapp–Hartung (metafor's `test = "adhoc"`).
fn modified_kh_json(fit: &RmaFit, kh: &ModifiedKh) -> Value {
    let mut m = Map::new();
    insert_wald(
        &mut m,
        fit.estimate,
        kh.se,
        "tval",
        kh.stat,
        fit.df,
        kh.pval,
        kh.ci_lb,
        kh.ci_ub,
    );
    add_transformed_ci(&mut m, fit.effects.scale, fit.estimate, kh.ci_lb, kh.ci_ub);
    Value::Object(m)
}

/// The intervals of τ², τ, I² and H² (all `null` when there are none).
fn insert_tau2_ci(m: &mut Map<String, Value>, ci: Option<&Tau2Ci>) {
    let Some(ci) = ci else {
        for key in [
            "tau2_ci_lb",
            "tau2_ci_ub",
            "tau_ci_lb",
            "tau_ci_ub",
            "I2_ci_lb",
            "I2_ci_ub",
            "H2_ci_lb",
            "H2_ci_ub",
        ] {
            m.insert(key.into(), Value::Null);
        }
        return;
    };
    m.insert("tau2_ci_lb".into(), num(ci.tau2_lb));
    m.insert("tau2_ci_ub".into(), num(ci.tau2_ub));
    m.insert("tau_ci_lb".into(), num(ci.tau_lb));
    m.insert("tau_ci_ub".into(), num(ci.tau_ub));
    m.insert("I2_ci_lb".into(), num(ci.i2_lb));
    m.insert("I2_ci_ub".into(), num(ci.i2_ub));
    m.insert("H2_ci_lb".into(), num(ci.h2_lb));
    m.insert("H2_ci_ub".into(), num(ci.h2_ub));
    m.insert("tau2_ci_lb_sign".into(), json!(ci.lb_censor.sign()));
    m.insert("tau2_ci_ub_sign".into(), json!(ci.ub_censor.sign()));
    m.insert("tau2_ci_null".into(), json!(ci.null));
    // Only a non-default method is named, so that the default output stays as it was.
    if ci.ci_type != Tau2CiType::QProfile {
        m.insert("tau2_ci_type".into(), json!(ci.ci_type.name()));
    }
}

/// The `rma.mh` / `rma.peto` object.
pub fn mh_json(fit: &MhFit) -> Value {
    let mut m = Map::new();
    m.insert("k".into(), json!(fit.k));
    m.insert("k_yi".into(), json!(fit.k_yi));
    m.insert("method".into(), json!(fit.method_name()));
    m.insert("measure".into(), json!(fit.measure.name()));
    insert_wald(
        &mut m,
        fit.estimate,
        fit.se,
        "zval",
        fit.zval,
        None,
        fit.pval,
        fit.ci_lb,
        fit.ci_ub,
    );
    add_transformed_ci(&mut m, fit.scale, fit.estimate, fit.ci_lb, fit.ci_ub);
    m.insert("Q".into(), num(fit.q));
    m.insert("Q_df".into(), json!(fit.q_df));
    m.insert("Q_pval".into(), num(fit.q_pval));
    m.insert("I2".into(), num(fit.i2));
    m.insert("H2".into(), num(fit.h2));
    for (key, test) in [
        ("cmh", fit.cmh),
        ("breslow_day", fit.breslow_day),
        ("tarone", fit.tarone),
        ("mh", fit.mh_irr),
    ] {
        if let Some((s, p)) = test {
            m.insert(key.into(), num(s));
            m.insert(format!("{key}_pval"), num(p));
        }
    }
    if let Some(note) = fit.note {
        m.insert("note".into(), json!(note));
    }
    Value::Object(m)
}
