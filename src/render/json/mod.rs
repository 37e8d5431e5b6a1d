//! Fitted models as JSON objects whose keys are metafor's (the conformance corpus's) keys.

use crate::model::RmaFit;
use crate::moderators::metareg::{MetaregFit, OmnibusTest, Predicted};
use crate::moderators::permutation::PermutationTest;
use crate::moderators::subgroup::SubgroupFit;
use crate::pool::mh::MhFit;
use crate::reported::interaction::{Additive, TwoEstimates};
use serde_json::{json, Map, Value};

/// A number, or `null` when not finite (as the corpus writes -Inf, NaN).
pub fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

fn opt(x: Option<f64>) -> Value {
    x.map_or(Value::Null, num)
}

/// A Wald-type result: estimate, se, statistic (`zval` or `tval`, with `df` under t), p-value and CI.
#[allow(clippy::too_many_arguments)]
fn insert_wald(
    m: &mut Map<String, Value>,
    estimate: f64,
    se: f64,
    stat_name: &str,
    stat: f64,
    df: Option<f64>,
    pval: f64,
    ci_lb: f64,
    ci_ub: f64,
) {
    m.insert("estimate".into(), num(estimate));
    m.insert("se".into(), num(se));
    m.insert(stat_name.into(), num(stat));
    if let Some(df) = df {
        m.insert("df".into(), num(df));
    }
    m.insert("pval".into(), num(pval));
    m.insert("ci_lb".into(), num(ci_lb));
    m.insert("ci_ub".into(), num(ci_ub));
}

/// Adds the back-transformed keys (`estimate_exp`, ...) for transformed scales.
fn add_transformed(
    m: &mut Map<String, Value>,
    scale: crate::measure::Scale,
    pairs: &[(&str, Option<f64>)],
) {
    if let Some(suffix) = scale.key_suffix() {
        for (key, val) in pairs {
            m.insert(format!("{key}_{suffix}"), opt(val.map(|v| scale.back(v))));
        }
    }
}

/// The `rma` object.
pub fn rma_json(fit: &RmaFit) -> Value {
    let mut m = Map::new();
    m.insert("k".into(), json!(fit.k));
    m.insert("method".into(), json!(fit.options.method.name()));
    m.insert("test".into(), json!(fit.test.name()));
    m.insert("measure".into(), json!(fit.effects.measure.name()));
    insert_wald(
        &mut m,
        fit.estimate,
        fit.se,
        fit.stat_name(),
        fit.stat,
        fit.df,
        fit.pval,
        fit.ci_lb,
        fit.ci_ub,
    );
    m.insert("pi_lb".into(), opt(fit.pi.map(|p| p.lb)));
    m.insert("pi_ub".into(), opt(fit.pi.map(|p| p.ub)));
    m.insert("pi_lb_riley".into(), opt(fit.pi_riley.map(|p| p.lb)));
    m.insert("pi_ub_riley".into(), opt(fit.pi_riley.map(|p| p.ub)));
    m.insert("tau2".into(), num(fit.tau2));
    m.insert("tau".into(), num(fit.tau()));
    m.insert("se_tau2".into(), opt(fit.se_tau2));
    match &fit.tau2_ci {
        Some(ci) => {
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
        }
        None => {
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
        }
    }
    m.insert("I2".into(), num(fit.het.i2));
    m.insert("H2".into(), num(fit.het.h2));
    m.insert("vt".into(), num(fit.het.vt));
    m.insert("Q".into(), num(fit.het.q));
    m.insert("Q_df".into(), json!(fit.het.q_df));
    m.insert("Q_pval".into(), num(fit.het.q_pval));
    m.insert(
        "weights".into(),
        Value::Array(fit.weights.iter().map(|&w| num(w)).collect()),
    );
    m.insert("loglik".into(), num(fit.fit.loglik));
    m.insert("deviance".into(), num(fit.fit.deviance));
    m.insert("AIC".into(), num(fit.fit.aic));
    m.insert("BIC".into(), num(fit.fit.bic));
    m.insert("AICc".into(), num(fit.fit.aicc));
    m.insert("loglik_type".into(), json!(fit.fit.loglik_type));
    add_transformed(
        &mut m,
        fit.effects.scale,
        &[
            ("estimate", Some(fit.estimate)),
            ("ci_lb", Some(fit.ci_lb)),
            ("ci_ub", Some(fit.ci_ub)),
            ("pi_lb", fit.pi.map(|p| p.lb)),
            ("pi_ub", fit.pi.map(|p| p.ub)),
        ],
    );
    if !fit.notes.is_empty() {
        m.insert("notes".into(), json!(fit.notes));
    }
    Value::Object(m)
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
    add_transformed(
        &mut m,
        fit.scale,
        &[
            ("estimate", Some(fit.estimate)),
            ("ci_lb", Some(fit.ci_lb)),
            ("ci_ub", Some(fit.ci_ub)),
        ],
    );
    m.insert("Q".into(), num(fit.q));
    m.insert("Q_df".into(), json!(fit.q_df));
    m.insert("Q_pval".into(), num(fit.q_pval));
    m.insert("I2".into(), num(fit.i2));
    m.insert("H2".into(), num(fit.h2));
    if let Some((s, p)) = fit.cmh {
        m.insert("cmh".into(), num(s));
        m.insert("cmh_pval".into(), num(p));
    }
    if let Some((s, p)) = fit.tarone {
        m.insert("tarone".into(), num(s));
        m.insert("tarone_pval".into(), num(p));
    }
    if let Some((s, p)) = fit.mh_irr {
        m.insert("mh".into(), num(s));
        m.insert("mh_pval".into(), num(p));
    }
    Value::Object(m)
}

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
    m.insert("QM".into(), num(fit.qm.stat));
    m.insert("QM_df".into(), json!(fit.qm.df));
    m.insert("QM_ddf".into(), opt(fit.qm.ddf));
    m.insert("QM_dist".into(), json!(fit.qm.dist()));
    m.insert("QM_pval".into(), num(fit.qm.pval));
    m.insert("QE".into(), num(fit.het.q));
    m.insert("QE_df".into(), json!(fit.het.q_df));
    m.insert("QE_pval".into(), num(fit.het.q_pval));
    m.insert("tau2".into(), num(fit.tau2));
    m.insert("se_tau2".into(), opt(fit.se_tau2));
    m.insert("I2".into(), num(fit.het.i2));
    m.insert("H2".into(), num(fit.het.h2));
    m.insert("R2".into(), opt(fit.r2));
    m.insert("tau2_ci_lb".into(), opt(fit.tau2_ci.map(|c| c.tau2_lb)));
    m.insert("tau2_ci_ub".into(), opt(fit.tau2_ci.map(|c| c.tau2_ub)));
    m.insert("loglik".into(), num(fit.fit.loglik));
    m.insert("deviance".into(), num(fit.fit.deviance));
    m.insert("AIC".into(), num(fit.fit.aic));
    m.insert("BIC".into(), num(fit.fit.bic));
    m.insert("AICc".into(), num(fit.fit.aicc));
    m.insert("loglik_type".into(), json!(fit.fit.loglik_type));
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
    m.insert("fitted".into(), Value::Object(fm));
    let mut notes = fit.notes.clone();
    for o in &fit.omitted {
        notes.push(format!("omitted '{}': {}", o.label, o.reason));
    }
    if !notes.is_empty() {
        m.insert("notes".into(), json!(notes));
    }
    Value::Object(m)
}

/// The `subgroup` object: the mixed model (`mixed_*`), the common-τ² per-level estimates,
/// the separate per-level fits (`groups`) and the Q-between test from them.
pub fn subgroup_json(s: &SubgroupFit) -> Value {
    let mut m = Map::new();
    m.insert("subgroup".into(), json!(s.column));
    let mx = &s.mixed;
    m.insert("mixed_k".into(), json!(mx.k));
    m.insert("mixed_QM".into(), num(mx.qm.stat));
    m.insert("mixed_QM_df".into(), json!(mx.qm.df));
    m.insert("mixed_QM_ddf".into(), opt(mx.qm.ddf));
    m.insert("mixed_QM_dist".into(), json!(mx.qm.dist()));
    m.insert("mixed_QM_pval".into(), num(mx.qm.pval));
    m.insert("mixed_tau2".into(), num(mx.tau2));
    m.insert("mixed_se_tau2".into(), opt(mx.se_tau2));
    m.insert("mixed_QE".into(), num(mx.het.q));
    m.insert("mixed_QE_df".into(), json!(mx.het.q_df));
    m.insert("mixed_QE_pval".into(), num(mx.het.q_pval));
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

fn nums(xs: &[f64]) -> Value {
    Value::Array(xs.iter().map(|&x| num(x)).collect())
}

/// The `regtest` object (Egger's test).
pub fn regtest_json(r: &crate::bias::Regtest) -> Value {
    let mut m = Map::new();
    m.insert("model".into(), json!(r.model.name()));
    m.insert("predictor".into(), json!(r.predictor.name()));
    m.insert(r.stat_name().into(), num(r.stat));
    if let Some(df) = r.df {
        m.insert("df".into(), num(df));
    }
    m.insert("pval".into(), num(r.pval));
    if let Some(l) = r.limit {
        m.insert("limit_estimate".into(), num(l.estimate));
        m.insert("limit_ci_lb".into(), num(l.ci_lb));
        m.insert("limit_ci_ub".into(), num(l.ci_ub));
    }
    Value::Object(m)
}

/// The `ranktest` object (Begg and Mazumdar's test).
pub fn ranktest_json(r: &crate::bias::Ranktest) -> Value {
    json!({"tau": num(r.tau), "pval": num(r.pval), "exact_pval": r.exact})
}

/// The `trimfill` object: k0, side and the filled model.
pub fn trimfill_json(t: &crate::bias::TrimFill) -> Value {
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
    insert_wald(
        &mut m,
        f.estimate,
        f.se,
        f.stat_name(),
        f.stat,
        f.df,
        f.pval,
        f.ci_lb,
        f.ci_ub,
    );
    m.insert("tau2".into(), num(f.tau2));
    m.insert("I2".into(), num(f.het.i2));
    m.insert("Q".into(), num(f.het.q));
    m.insert("Q_pval".into(), num(f.het.q_pval));
    add_transformed(
        &mut m,
        f.effects.scale,
        &[
            ("estimate", Some(f.estimate)),
            ("ci_lb", Some(f.ci_lb)),
            ("ci_ub", Some(f.ci_ub)),
        ],
    );
    m.insert("filled_yi".into(), nums(&t.filled_yi));
    m.insert("filled_vi".into(), nums(&t.filled_vi));
    Value::Object(m)
}

fn series_map(s: &crate::sensitivity::RefitSeries) -> Map<String, Value> {
    let col = |f: &dyn Fn(&crate::sensitivity::Refit) -> f64| {
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
pub fn leave1out_json(s: &crate::sensitivity::RefitSeries) -> Value {
    Value::Object(series_map(s))
}

/// The `cumul` object: entry i is the model fitted to the first i studies; `order` says in which
/// order they were taken.
pub fn cumul_json(s: &crate::sensitivity::RefitSeries, order: &str) -> Value {
    let mut m = series_map(s);
    m.insert("order".into(), json!(order));
    Value::Object(m)
}

/// The `influence` object.
pub fn influence_json(inf: &crate::sensitivity::Influence) -> Value {
    json!({
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
    })
}

/// The comparison of two estimates (ratio of ratios or difference of differences).
pub fn two_estimates_json(r: &TwoEstimates) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
}

/// RERI, AP and S with their intervals.
pub fn additive_json(r: &Additive) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
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
                json!({
                    "coefficients": names,
                    "QM": num(t.stat),
                    "QM_df": t.df,
                    "QM_ddf": opt(t.ddf),
                    "QM_dist": t.dist(),
                    "QM_pval": num(t.pval),
                })
            })
            .collect(),
    )
}

/// A GOSH analysis: one entry per subset (`k` studies, `estimate`, `tau2`, `QE`, `I2`, `H2`) and
/// `incl`, the member studies of each subset (1-based positions among the studies used).
pub fn gosh_json(g: &crate::sensitivity::Gosh, labels: &[String]) -> Value {
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
pub fn baujat_json(b: &crate::sensitivity::Baujat) -> Value {
    json!({"slab": b.labels, "x": nums(&b.x), "y": nums(&b.y)})
}

/// A fail-safe N.
pub fn fsn_json(f: &crate::bias::Fsn) -> Value {
    use crate::bias::FsnType;
    json!({
        "type": match f.kind {
            FsnType::Rosenthal => "Rosenthal",
            FsnType::Orwin { .. } => "Orwin",
            FsnType::Rosenberg => "Rosenberg",
        },
        "fsnum": num(f.fsnum),
        "alpha": f.alpha,
        "pval": f.pval.map_or(Value::Null, num),
        "meanes": f.mean_effect.map_or(Value::Null, num),
        "target": f.target.map_or(Value::Null, num),
    })
}

/// PET-PEESE: both regressions and the chosen estimate.
pub fn pet_peese_json(p: &crate::bias::PetPeese) -> Value {
    json!({
        "pet": regtest_json(&p.pet),
        "peese": regtest_json(&p.peese),
        "alpha": p.alpha,
        "choice": match p.choice {
            crate::bias::PetPeeseChoice::Pet => "PET",
            crate::bias::PetPeeseChoice::Peese => "PEESE",
        },
        "estimate": num(p.estimate),
        "ci_lb": num(p.ci_lb),
        "ci_ub": num(p.ci_ub),
    })
}
