//! The multilevel model: metafor's `rma.mv` object (README_mv's keys).

use super::{insert_qm, insert_wald, num, nums};
use crate::model::Method;
use crate::multilevel::{MvFit, MvProfile, ProfileCi};
use serde_json::{json, Map, Value};

/// The `rma.mv` object; `cis` are the profile-likelihood CIs of the components (empty: none).
pub fn mv_json(fit: &MvFit, cis: &MvProfile) -> Value {
    let mut m = Map::new();
    m.insert("k".into(), json!(fit.k));
    m.insert("p".into(), json!(fit.p));
    let stat_name = if fit.coefficients.first().is_some_and(|c| c.df.is_some()) {
        "tval"
    } else {
        "zval"
    };
    let coefs: Vec<Value> = fit
        .coefficients
        .iter()
        .map(|c| {
            let mut o = Map::new();
            o.insert("name".into(), json!(c.name));
            insert_wald(
                &mut o, c.estimate, c.se, stat_name, c.stat, c.df, c.pval, c.ci_lb, c.ci_ub,
            );
            Value::Object(o)
        })
        .collect();
    m.insert("coefficients".into(), Value::Array(coefs));
    if let (Some((lb, ub)), Some(c)) = (fit.pi, fit.coefficients.first()) {
        insert_wald(
            &mut m, c.estimate, c.se, stat_name, c.stat, c.df, c.pval, c.ci_lb, c.ci_ub,
        );
        m.insert("pi_lb".into(), num(lb));
        m.insert("pi_ub".into(), num(ub));
    }
    let s: Vec<f64> = fit.components.iter().map(|c| c.sigma2).collect();
    m.insert("sigma2".into(), nums(&s));
    m.insert(
        "s_names".into(),
        json!(fit.components.iter().map(|c| &c.name).collect::<Vec<_>>()),
    );
    m.insert(
        "s_nlevels".into(),
        json!(fit.components.iter().map(|c| c.nlevels).collect::<Vec<_>>()),
    );
    if let Some(g) = &fit.g {
        m.insert("tau2".into(), nums(&g.components.tau2));
        m.insert("rho".into(), nums(&g.components.rho));
        m.insert("g_levels".into(), json!(g.components.g_levels));
        m.insert("g_nlevels".into(), json!(g.components.g_nlevels));
    }
    // The second term under metafor's names (res$gamma2, res$phi, res$h.levels.f, res$h.nlevels).
    if let Some(h) = &fit.h {
        m.insert("gamma2".into(), nums(&h.components.tau2));
        m.insert("phi".into(), nums(&h.components.rho));
        m.insert("h_levels".into(), json!(h.components.g_levels));
        m.insert("h_nlevels".into(), json!(h.components.g_nlevels));
    }
    m.insert("QE".into(), num(fit.qe.0));
    m.insert("QE_df".into(), json!(fit.qe.1));
    m.insert("QE_pval".into(), num(fit.qe.2));
    insert_qm(&mut m, "", &fit.qm);
    m.insert("loglik".into(), num(fit.loglik));
    m.insert("deviance".into(), num(fit.deviance));
    m.insert("AIC".into(), num(fit.aic));
    m.insert("BIC".into(), num(fit.bic));
    m.insert("AICc".into(), num(fit.aicc));
    let lt = if fit.method == Method::ML {
        "ML"
    } else {
        "REML"
    };
    m.insert("loglik_type".into(), json!(lt));
    m.insert("I2_total".into(), num(fit.i2_total));
    m.insert("I2_components".into(), nums(&fit.i2_components));
    for (name, list) in [
        ("sigma2", &cis.sigma2),
        ("tau2", &cis.tau2),
        ("rho", &cis.rho),
        ("gamma2", &cis.gamma2),
        ("phi", &cis.phi),
    ] {
        insert_cis(&mut m, name, list);
    }
    if !fit.warnings.is_empty() {
        m.insert("warnings".into(), json!(fit.warnings));
    }
    Value::Object(m)
}

/// `<name>_ci_lb`, `_ci_ub`, `_ci_lb_sign`, `_ci_ub_sign` (README_mv's keys): one entry per
/// component, null for a fixed one; nothing when no component has a CI.
fn insert_cis(m: &mut Map<String, Value>, name: &str, cis: &[Option<ProfileCi>]) {
    if cis.iter().all(Option::is_none) {
        return;
    }
    let field = |f: &dyn Fn(&ProfileCi) -> Value| -> Value {
        Value::Array(
            cis.iter()
                .map(|c| c.as_ref().map_or(Value::Null, f))
                .collect(),
        )
    };
    m.insert(format!("{name}_ci_lb"), field(&|c| num(c.lb)));
    m.insert(format!("{name}_ci_ub"), field(&|c| num(c.ub)));
    m.insert(format!("{name}_ci_lb_sign"), field(&|c| json!(c.lb_sign)));
    m.insert(format!("{name}_ci_ub_sign"), field(&|c| json!(c.ub_sign)));
}
