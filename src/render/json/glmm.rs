//! The GLMM: metafor's `rma.glmm` object (README_more's keys).

use super::{add_transformed, insert_qm, insert_wald, num};
use crate::glmm::GlmmFit;
use crate::model::Test;
use serde_json::{json, Map, Value};

/// The `rma.glmm` object: the pooled estimate with its back-transform (intercept-only models) or
/// the coefficient table and QM (meta-regression), τ², I², the two QE tests and the fit statistics.
pub fn glmm_json(fit: &GlmmFit) -> Value {
    let mut m = Map::new();
    m.insert("k".into(), json!(fit.k));
    let (stat_name, df) = match fit.test {
        Test::T => ("tval", Some(fit.df as f64)),
        _ => ("zval", None),
    };
    if fit.has_mods {
        m.insert("p".into(), json!(fit.p));
        let coefs: Vec<Value> = fit
            .coefs
            .iter()
            .map(|c| {
                let mut o = Map::new();
                o.insert("name".into(), json!(c.name));
                insert_wald(
                    &mut o, c.estimate, c.se, stat_name, c.stat, df, c.pval, c.ci_lb, c.ci_ub,
                );
                Value::Object(o)
            })
            .collect();
        m.insert("coefficients".into(), Value::Array(coefs));
    } else if let Some(c) = fit.coefs.first() {
        insert_wald(
            &mut m, c.estimate, c.se, stat_name, c.stat, df, c.pval, c.ci_lb, c.ci_ub,
        );
        if let Some((lb, ub)) = fit.pi {
            m.insert("pi_lb".into(), num(lb));
            m.insert("pi_ub".into(), num(ub));
        }
        let mut back = vec![
            ("estimate", Some(c.estimate)),
            ("ci_lb", Some(c.ci_lb)),
            ("ci_ub", Some(c.ci_ub)),
        ];
        if let Some((lb, ub)) = fit.pi {
            back.extend([("pi_lb", Some(lb)), ("pi_ub", Some(ub))]);
        }
        add_transformed(&mut m, fit.measure.scale(), &back);
    }
    m.insert("tau2".into(), num(fit.tau2));
    m.insert("tau".into(), num(fit.tau2.sqrt()));
    if let Some(s) = fit.sigma2 {
        m.insert("sigma2".into(), num(s));
    }
    m.insert("I2".into(), num(fit.i2));
    m.insert("H2".into(), num(fit.h2));
    m.insert("vt".into(), num(fit.vt));
    m.insert("QE_Wld".into(), num(fit.qe_wld));
    m.insert("QE_Wld_pval".into(), num(fit.qe_wld_pval));
    m.insert("QE_LRT".into(), num(fit.qe_lrt));
    m.insert("QE_LRT_pval".into(), num(fit.qe_lrt_pval));
    m.insert("QE_df".into(), json!(fit.qe_df));
    if let Some(q) = &fit.qm {
        insert_qm(&mut m, "", q);
    }
    m.insert("loglik".into(), num(fit.loglik));
    m.insert("deviance".into(), num(fit.deviance));
    m.insert("AIC".into(), num(fit.aic));
    m.insert("BIC".into(), num(fit.bic));
    m.insert("AICc".into(), num(fit.aicc));
    m.insert("model".into(), json!(fit.model.name()));
    m.insert("measure".into(), json!(fit.measure.to_string()));
    Value::Object(m)
}
