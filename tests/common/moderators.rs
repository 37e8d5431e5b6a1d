//! Conformance dispatch for the `metareg` and `subgroup` kinds.

use super::*;
use evident::effect::EffectSet;
use evident::moderators::{metareg, subgroup};
use evident::render::json::{metareg_json, rma_json, subgroup_json};
use evident::Measure;
use serde_json::{json, Value};

/// Compares an expected value with ours, recursing into objects (by expected key) and arrays,
/// with the tolerance of each leaf key.
pub fn compare_deep(
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
                        } else if fk != "pred" && fk != "se" && fv.is_array() {
                            // A bound pred ± crit·se can cancel to near 0 (bcg_rr ablat+year:
                            // ci_ub = -7.5e-4 from terms of order 0.3): compare it relative to
                            // the magnitude of its terms, the scale of its rounding error.
                            let (ea, ga) = (fv.as_array().unwrap(), &got["fitted"][fk]);
                            let pred = ev["pred"].as_array().unwrap();
                            for (i, e) in ea.iter().enumerate() {
                                let (e, p) = (e.as_f64().unwrap(), pred[i].as_f64().unwrap());
                                let tol = Tol {
                                    rtol: 0.0,
                                    atol: ATOL + RTOL * (p.abs() + (e - p).abs()),
                                };
                                compare(
                                    &format!("{path} / fitted.{fk}[{i}]"),
                                    &json!(e),
                                    ga.get(i),
                                    tol,
                                    misses,
                                );
                            }
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
            set.scale = super::gen_scale(g);
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
                            k if k.ends_with("_precise") => super::compare_precise(
                                &format!("{gp}.{k}"),
                                k,
                                v,
                                &g.fit,
                                ro.level.percent(),
                                misses,
                            ),
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
