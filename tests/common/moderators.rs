//! Conformance dispatch for the `metareg` and `subgroup` kinds.

use super::*;
use evident::effect::EffectSet;
use evident::heterogeneity::{q_profile, QProfileControl};
use evident::moderators::{metareg, subgroup};
use evident::pool::design::Intercept;
use evident::pool::RmaFit;
use evident::report::json::{metareg_json, rma_json, subgroup_json};
use evident::{Measure, Scale};
use serde_json::{json, Value};

const CONVERGED: Tol = Tol {
    rtol: 1e-6,
    atol: 1e-12,
};

/// Compares an expected value with ours, recursing into objects (by expected key) and arrays,
/// with the tolerance of each leaf key.
fn compare_deep(
    path: &str,
    key: &str,
    e: &Value,
    g: Option<&Value>,
    base: Tol,
    misses: &mut Vec<String>,
) {
    match (e, g) {
        (Value::Object(eo), Some(Value::Object(go))) => {
            for (k, ev) in eo {
                compare_deep(&format!("{path}.{k}"), k, ev, go.get(k), base, misses);
            }
        }
        (Value::Array(ea), Some(Value::Array(ga))) if ea.iter().any(|x| x.is_object()) => {
            if ea.len() != ga.len() {
                misses.push(format!(
                    "{path}: expected {} entries, got {}",
                    ea.len(),
                    ga.len()
                ));
                return;
            }
            for (i, (ev, gv)) in ea.iter().zip(ga).enumerate() {
                compare_deep(&format!("{path}[{i}]"), key, ev, Some(gv), base, misses);
            }
        }
        _ => compare(path, e, g, key_tol(key, base), misses),
    }
}

fn gen_scale(expected: &Value) -> Scale {
    let has = |k: &str| expected.get(k).is_some();
    if has("estimate_exp") {
        Scale::Log
    } else if has("estimate_ilogit") {
        Scale::Logit
    } else if has("estimate_ztor") {
        Scale::FisherZ
    } else {
        Scale::Identity
    }
}

/// The precise Q-profile CI keys of a separate group fit.
fn precise(path: &str, key: &str, ev: &Value, fit: &RmaFit, level: f64, misses: &mut Vec<String>) {
    let set = &fit.effects;
    let (tau2, vt) = (fit.tau2, fit.het.vt);
    let ci = q_profile(
        &Intercept { k: set.k() },
        &set.yi,
        &set.vi,
        tau2,
        vt,
        level,
        &QProfileControl {
            tol: 1e-12,
            maxiter: 1000,
        },
    );
    let Some(ci) = ci else {
        misses.push(format!("{path}: no CI computed"));
        return;
    };
    let val = match key.trim_end_matches("_precise") {
        "tau2_ci_lb" => ci.tau2_lb,
        "tau2_ci_ub" => ci.tau2_ub,
        "I2_ci_lb" => ci.i2_lb,
        "I2_ci_ub" => ci.i2_ub,
        "H2_ci_lb" => ci.h2_lb,
        "H2_ci_ub" => ci.h2_ub,
        "tau_ci_lb" => ci.tau_lb,
        "tau_ci_ub" => ci.tau_ub,
        other => panic!("unknown precise key {other}"),
    };
    compare(
        path,
        ev,
        Some(&json!(val)),
        Tol {
            rtol: 1e-6,
            atol: 1e-8,
        },
        misses,
    );
}

/// Runs one `metareg` or `subgroup` analysis and records every miss.
pub fn run(case: &Case, a: &Value, misses: &mut Vec<String>) {
    let kind = a["kind"].as_str().unwrap();
    let id = a["id"].as_str().unwrap();
    let call = a["call"].as_str().unwrap_or("");
    let opts = &a["options"];
    let expected = &a["expected"];
    let path = format!("{} / {id}", case.name);
    let studies = studies(case);
    let measure: Measure = opts["measure"].as_str().unwrap().parse().unwrap();
    let mut set = EffectSet::from_studies(&studies, measure, &escalc_options(opts)).unwrap();
    let ro = rma_options(opts, call);
    if kind == "metareg" {
        let mods = opts["mods"].as_str().unwrap();
        let fit = metareg(&set, mods, &ro);
        if expected.get("error").is_some() {
            if fit.is_ok() {
                misses.push(format!(
                    "{path}: metafor refused ({}), we fitted",
                    expected["error"]
                ));
            }
            return;
        }
        let fit = match fit {
            Ok(f) => f,
            Err(e) => return misses.push(format!("{path}: fit failed: {e}")),
        };
        let got = metareg_json(&fit);
        for (key, ev) in expected.as_object().unwrap() {
            match key.as_str() {
                "converged" => {
                    let mut co = ro;
                    co.control = control_from_call(ev["call"].as_str().unwrap(), ro.control);
                    match metareg(&set, mods, &co) {
                        Ok(cf) => {
                            let cg = metareg_json(&cf);
                            for (ck, cv) in ev.as_object().unwrap() {
                                if ck != "call" && ck != "warnings" {
                                    compare_deep(
                                        &format!("{path} / converged.{ck}"),
                                        ck,
                                        cv,
                                        cg.get(ck),
                                        CONVERGED,
                                        misses,
                                    );
                                }
                            }
                        }
                        Err(e) => misses.push(format!("{path} / converged: fit failed: {e}")),
                    }
                }
                "fitted" => {
                    for (fk, fv) in ev.as_object().unwrap() {
                        if fk == "slab" {
                            // metafor's default labels are the data row numbers.
                            let rows: Vec<String> = fit
                                .effects
                                .rows
                                .iter()
                                .map(|r| (r + 1).to_string())
                                .collect();
                            compare(
                                &format!("{path} / fitted.slab"),
                                fv,
                                Some(&json!(rows)),
                                STRICT,
                                misses,
                            );
                        } else {
                            compare(
                                &format!("{path} / fitted.{fk}"),
                                fv,
                                got["fitted"].get(fk),
                                key_tol(fk, STRICT),
                                misses,
                            );
                        }
                    }
                }
                k => compare_deep(&format!("{path} / {k}"), k, ev, got.get(k), STRICT, misses),
            }
        }
        return;
    }
    // subgroup
    let column = opts["subgroup"].as_str().unwrap();
    if measure == Measure::GEN {
        if let Some(g) = expected["groups"].get(0) {
            set.scale = gen_scale(g);
        }
    }
    let fit = match subgroup(&set, column, &ro) {
        Ok(f) => f,
        Err(e) => return misses.push(format!("{path}: fit failed: {e}")),
    };
    let got = subgroup_json(&fit);
    for (key, ev) in expected.as_object().unwrap() {
        match key.as_str() {
            k if k.ends_with("call") || k == "separate_between_data" => {}
            "groups" => {
                let eg = ev.as_array().unwrap();
                if eg.len() != fit.groups.len() {
                    misses.push(format!(
                        "{path} / groups: expected {} levels, got {}",
                        eg.len(),
                        fit.groups.len()
                    ));
                    continue;
                }
                for (g, e) in fit.groups.iter().zip(eg) {
                    let gp = format!("{path} / groups[{}]", g.level);
                    let gj = rma_json(&g.fit);
                    for (k, v) in e.as_object().unwrap() {
                        match k.as_str() {
                            "call" => {}
                            "level" => compare(
                                &format!("{gp}.level"),
                                v,
                                Some(&json!(g.level)),
                                STRICT,
                                misses,
                            ),
                            k if k.ends_with("_precise") => {
                                precise(&format!("{gp}.{k}"), k, v, &g.fit, ro.level, misses)
                            }
                            k => compare(
                                &format!("{gp}.{k}"),
                                v,
                                gj.get(k),
                                key_tol(k, STRICT),
                                misses,
                            ),
                        }
                    }
                }
            }
            k => compare_deep(&format!("{path} / {k}"), k, ev, got.get(k), STRICT, misses),
        }
    }
}
