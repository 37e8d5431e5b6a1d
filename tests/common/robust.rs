//! Conformance dispatch for the `robust` kind: on plain `rma.uni` fits (`options.model`
//! `rma.uni`) the model's keys as for `rma` and `metareg` fits, on `rma.mv` fits the keys of
//! the `rma.mv` kind (its default-or-converged rule); and the `robust` block.

use super::moderators::compare_deep;
use super::*;
use evident::effect::EffectSet;
use evident::model::rma;
use evident::moderators::metareg;
use evident::multilevel::rma_mv;
use evident::render::json::{metareg_json, mv_json, rma_json, robust_json};
use evident::robust::{robust_metareg, robust_mv, robust_rma, RobustType};
use evident::Measure;
use serde_json::Value;

/// The model's keys and its `robust` block: an intercept-only fit gives the `rma` keys with
/// the coefficient table, QE and QM of the same model written as a meta-regression on `1`.
fn fit_json(
    set: &EffectSet,
    mods: Option<&str>,
    ro: &RmaOptions,
    cluster: &str,
    method: RobustType,
) -> evident::Result<Value> {
    let (mut got, robust) = match mods {
        None => {
            let fit = rma(set, ro)?;
            let mut got = metareg_json(&metareg(set, "1", ro)?);
            let one = rma_json(&fit);
            for (k, v) in one.as_object().unwrap() {
                got[k] = v.clone();
            }
            (got, robust_rma(&fit, cluster, method)?)
        }
        Some(f) => {
            let fit = metareg(set, f, ro)?;
            (metareg_json(&fit), robust_metareg(&fit, cluster, method)?)
        }
    };
    got["robust"] = robust_json(&robust);
    Ok(got)
}

/// Runs one `robust` analysis of an `rma.uni` fit and records every miss.
pub fn run(case: &Case, a: &Value, misses: &mut Vec<String>) {
    let id = a["id"].as_str().unwrap();
    let call = a["call"].as_str().unwrap_or("");
    let opts = &a["options"];
    let expected = &a["expected"];
    let path = format!("{} / {id}", case.name);
    if opts["model"] == "rma.mv" {
        return run_mv(case, a, &path, misses);
    }
    let studies = studies(case);
    let measure: Measure = opts["measure"].as_str().unwrap().parse().unwrap();
    let mut set = EffectSet::from_studies(&studies, measure, &escalc_options(opts)).unwrap();
    if measure == Measure::GEN {
        set.scale = gen_scale(expected);
    }
    let ro = rma_options(opts, call);
    let mods = opts["mods"].as_str();
    let cluster = opts["robust"]["cluster"].as_str().unwrap();
    let method: RobustType = opts["robust"]["type"].as_str().unwrap().parse().unwrap();
    let got = fit_json(&set, mods, &ro, cluster, method);
    if expected.get("error").is_some() {
        if got.is_ok() {
            misses.push(format!(
                "{path}: metafor refused ({}), we fitted",
                expected["error"]
            ));
        }
        return;
    }
    let got = match got {
        Ok(g) => g,
        Err(e) => return misses.push(format!("{path}: fit failed: {e}")),
    };
    for (key, ev) in expected.as_object().unwrap() {
        if key != "converged" {
            compare_deep(
                &format!("{path} / {key}"),
                key,
                ev,
                got.get(key),
                STRICT,
                misses,
            );
            continue;
        }
        let mut co = ro;
        co.control = control_from_call(ev["call"].as_str().unwrap(), ro.control);
        match fit_json(&set, mods, &co, cluster, method) {
            Ok(cg) => {
                for (ck, cv) in ev.as_object().unwrap() {
                    if ck != "call" && ck != "warnings" {
                        let p = format!("{path} / converged.{ck}");
                        compare_deep(&p, ck, cv, cg.get(ck), CONVERGED, misses);
                    }
                }
            }
            Err(e) => misses.push(format!("{path} / converged: fit failed: {e}")),
        }
    }
}

/// One `robust` analysis of an `rma.mv` fit: the fit's keys and its `robust` block, each within
/// the default rule of metafor's number or the converged rule of the `converged` block's.
fn run_mv(case: &Case, a: &Value, path: &str, misses: &mut Vec<String>) {
    let opts = &a["options"];
    let expected = &a["expected"];
    let studies = studies(case);
    let cluster = opts["robust"]["cluster"].as_str().unwrap();
    let method: RobustType = opts["robust"]["type"].as_str().unwrap().parse().unwrap();
    let got = rma_mv(&studies, &super::multilevel::mv_options(opts)).and_then(|fit| {
        let r = robust_mv(&fit, &studies, cluster, method)?;
        let mut got = mv_json(&fit, &evident::multilevel::MvProfile::default());
        got["robust"] = robust_json(&r);
        Ok(got)
    });
    if expected.get("error").is_some() {
        if got.is_ok() {
            misses.push(format!(
                "{path}: metafor refused ({}), we fitted",
                expected["error"]
            ));
        }
        return;
    }
    match got {
        Ok(got) => super::multilevel::compare_fit(path, expected, &got, misses),
        Err(e) => misses.push(format!("{path}: fit failed: {e}")),
    }
}
