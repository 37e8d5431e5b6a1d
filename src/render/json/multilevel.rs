//! The multilevel model: metafor's `rma.mv` object (README_mv's keys).

use super::{insert_qm, insert_wald, num, nums};
use crate::model::Method;
use crate::multilevel::{MvFit, ProfileCi};
use serde_json::{json, Map, Value};

/// The `rma.mv` object; `cis` are the profile-likelihood CIs of the components (empty: none).
pub fn mv_json(fit: &MvFit, cis: &[ProfileCi]) -> Value {
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
    if !cis.is_empty() {
        let lb: Vec<f64> = cis.iter().map(|c| c.lb).collect();
        let ub: Vec<f64> = cis.iter().map(|c| c.ub).collect();
        m.insert("sigma2_ci_lb".into(), nums(&lb));
        m.insert("sigma2_ci_ub".into(), nums(&ub));
        m.insert(
            "sigma2_ci_lb_sign".into(),
            json!(cis.iter().map(|c| c.lb_sign).collect::<Vec<_>>()),
        );
        m.insert(
            "sigma2_ci_ub_sign".into(),
            json!(cis.iter().map(|c| c.ub_sign).collect::<Vec<_>>()),
        );
    }
    if !fit.warnings.is_empty() {
        m.insert("warnings".into(), json!(fit.warnings));
    }
    Value::Object(m)
}
