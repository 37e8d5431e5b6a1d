//! Models with moderators: metafor's `rma.uni` object with `mods`, subgroup analyses, and the
//! results of `permutest`, `predict` and `anova`.

use super::rma::rma_json;
use super::{add_transformed, insert_fit_stats, insert_q, insert_qm, insert_wald, num, opt};
use crate::model::heterogeneity::Tau2CiType;
use crate::moderators::metareg::{MetaregFit, OmnibusTest, Predicted};
use crate::moderators::permutation::PermutationTest;
use crate::moderators::subgroup::SubgroupFit;
use serde_json::{json, Map, Value};

/// The coefficient table as the corpus's list of `{name, estimate, se, zval|tval (+df), pval, ci_lb, ci_ub}`.
fn coefficients_json(fit: &MetaregFit) -> Value {
    Value::Array(
        fit.coefficients
            .iter()
            .map(|c| {
                let mut m = Map::new();
                m.insert("name".into(), json!(c.name));
                insert_wald(
                    &mut m,
                    c.estimate,
                    c.se,
                    fit.stat_name(),
                    c.stat,
                    fit.df,
                    c.pval,
                    c.ci_lb,
                    c.ci_ub,
                );
                Value::Object(m)
            })
            .collect(),
    )
}

/// The `metareg` object (`rma` with `mods=`).
pub fn metareg_json(fit: &MetaregFit) -> Value {
    let mut m = Map::new();
    m.insert("k".into(), json!(fit.k));
    m.insert("p".into(), json!(fit.p));
    m.insert("method".into(), json!(fit.options.method.name()));
    m.insert("test".into(), json!(fit.test.name()));
    m.insert("measure".into(), json!(fit.effects.measure.name()));
    m.insert("coefficients".into(), coefficients_json(fit));
    insert_qm(&mut m, "", &fit.qm);
    insert_q(&mut m, "QE", &fit.het);
    m.insert("tau2".into(), num(fit.tau2));
    m.insert("se_tau2".into(), opt(fit.se_tau2));
    m.insert("I2".into(), num(fit.het.i2));
    m.insert("H2".into(), num(fit.het.h2));
    m.insert("R2".into(), opt(fit.r2));
    m.insert("tau2_ci_lb".into(), opt(fit.tau2_ci.map(|c| c.tau2_lb)));
    m.insert("tau2_ci_ub".into(), opt(fit.tau2_ci.map(|c| c.tau2_ub)));
    // Only a non-default method is named, so that the default output stays as it was.
    if let Some(ci) = fit.tau2_ci.filter(|c| c.ci_type != Tau2CiType::QProfile) {
        m.insert("tau2_ci_type".into(), json!(ci.ci_type.name()));
    }
    insert_fit_stats(&mut m, &fit.fit);
    m.insert("fitted".into(), fitted_json(fit));
    if !fit.matrix.factors.is_empty() {
        m.insert("factors".into(), json!(fit.matrix.factors));
    }
    if !fit.matrix.redundant.is_empty() {
        m.insert("redundant_dropped".into(), json!(fit.matrix.redundant));
    }
    let mut notes = fit.notes.clone();
    for o in &fit.omitted {
        notes.push(format!("omitted '{}': {}", o.label, o.reason));
    }
    if !notes.is_empty() {
        m.insert("notes".into(), json!(notes));
    }
    Value::Object(m)
}

/// The fitted values, as columns: `slab`, `pred`, `se`, `ci_*` and `pi_*`.
fn fitted_json(fit: &MetaregFit) -> Value {
    let col = |f: &dyn Fn(&Predicted) -> Option<f64>| {
        Value::Array(fit.fitted.iter().map(|p| opt(f(p))).collect())
    };
    let mut fm = Map::new();
    fm.insert("slab".into(), json!(fit.effects.labels));
    fm.insert("pred".into(), col(&|p| Some(p.pred)));
    fm.insert("se".into(), col(&|p| Some(p.se)));
    fm.insert("ci_lb".into(), col(&|p| Some(p.ci_lb)));
    fm.insert("ci_ub".into(), col(&|p| Some(p.ci_ub)));
    // FE models have no prediction interval: the corpus writes a single null.
    let fixed = fit.options.method.is_fixed();
    fm.insert(
        "pi_lb".into(),
        if fixed {
            Value::Null
        } else {
            col(&|p| p.pi_lb)
        },
    );
    fm.insert(
        "pi_ub".into(),
        if fixed {
            Value::Null
        } else {
            col(&|p| p.pi_ub)
        },
    );
    Value::Object(fm)
}

/// The `subgroup` object: the mixed model (`mixed_*`), the common-τ² per-level estimates,
/// the separate per-level fits (`groups`) and the Q-between test from them.
pub fn subgroup_json(s: &SubgroupFit) -> Value {
    let mut m = Map::new();
    m.insert("subgroup".into(), json!(s.column));
    let mx = &s.mixed;
    m.insert("mixed_k".into(), json!(mx.k));
    insert_qm(&mut m, "mixed_", &mx.qm);
    m.insert("mixed_tau2".into(), num(mx.tau2));
    m.insert("mixed_se_tau2".into(), opt(mx.se_tau2));
    insert_q(&mut m, "mixed_QE", &mx.het);
    m.insert("mixed_I2".into(), num(mx.het.i2));
    m.insert("mixed_R2".into(), opt(mx.r2));
    m.insert("mixed_coefficients".into(), coefficients_json(mx));
    m.insert(
        "common_tau2_group_estimates".into(),
        coefficients_json(&s.common),
    );
    m.insert(
        "groups".into(),
        Value::Array(
            s.groups
                .iter()
                .map(|g| {
                    let mut v = rma_json(&g.fit);
                    if let Value::Object(o) = &mut v {
                        o.insert("level".into(), json!(g.level));
                    }
                    v
                })
                .collect(),
        ),
    );
    m.insert("separate_Q_between".into(), num(s.q_between.q));
    m.insert("separate_Q_between_df".into(), json!(s.q_between.df));
    m.insert("separate_Q_between_pval".into(), num(s.q_between.pval));
    if !mx.omitted.is_empty() {
        m.insert(
            "notes".into(),
            json!(mx
                .omitted
                .iter()
                .map(|o| format!("omitted '{}': no value of {}", o.label, s.column))
                .collect::<Vec<_>>()),
        );
    }
    Value::Object(m)
}

/// Permutation p-values keyed like metafor's `permutest` output: per-coefficient `pval` and `QMp`.
pub fn permutation_json(fit: &MetaregFit, t: &PermutationTest) -> Value {
    json!({
        "coefficients": fit.coefficients.iter().zip(&t.pval)
            .map(|(c, p)| json!({"name": c.name, "pval": num(*p)}))
            .collect::<Vec<_>>(),
        "QM_pval": num(t.qm_pval),
        "iterations": t.iterations,
        "exact": t.exact,
        "failed": t.failed,
    })
}

/// Predictions at chosen moderator values: `values`, `pred`, `se`, `ci_*`, `pi_*` (and the
/// back-transformed keys for transformed scales).
pub fn predictions_json(fit: &MetaregFit, preds: &[(Vec<f64>, Predicted)]) -> Value {
    Value::Array(
        preds
            .iter()
            .map(|(x, p)| {
                let mut m = Map::new();
                m.insert("values".into(), json!(x));
                m.insert("pred".into(), num(p.pred));
                m.insert("se".into(), num(p.se));
                m.insert("ci_lb".into(), num(p.ci_lb));
                m.insert("ci_ub".into(), num(p.ci_ub));
                m.insert("pi_lb".into(), opt(p.pi_lb));
                m.insert("pi_ub".into(), opt(p.pi_ub));
                add_transformed(
                    &mut m,
                    fit.effects.scale,
                    &[
                        ("pred", Some(p.pred)),
                        ("ci_lb", Some(p.ci_lb)),
                        ("ci_ub", Some(p.ci_ub)),
                        ("pi_lb", p.pi_lb),
                        ("pi_ub", p.pi_ub),
                    ],
                );
                Value::Object(m)
            })
            .collect(),
    )
}

/// Wald tests of coefficient subsets: `coefficients`, `QM`, `QM_df`, `QM_ddf`, `QM_dist`, `QM_pval`.
pub fn wald_tests_json(tests: &[(Vec<String>, OmnibusTest)]) -> Value {
    Value::Array(
        tests
            .iter()
            .map(|(names, t)| {
                let mut m = Map::new();
                m.insert("coefficients".into(), json!(names));
                insert_qm(&mut m, "", t);
                Value::Object(m)
            })
            .collect(),
    )
}
