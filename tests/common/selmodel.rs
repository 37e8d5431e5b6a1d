//! Conformance dispatch for the `selmodel` kind (README_more, "Selection models"): the ML input
//! model, then the selection model; the `converged` block (metafor's tight refit) is the
//! precision target, the top-level keys (where metafor's default BFGS stopped) are met loosely.
//!
//! Three `converged` blocks are not a precision target for their standard errors: with
//! `integrate(rel.tol = 1e-8)` metafor's numerical Hessian is still noise there (lehmann2018's
//! beta se is 1.09 at 1e-8 and 0.4246 at 1e-10 and 1e-12). For those the refit at rel.tol 1e-12,
//! tests/fixtures/selmodel/converged_inttol.R, is the target; [`INTTOL`] reads it.

use super::{compare, escalc_options, rma_options, Case, Tol};
use evident::bias::{selmodel, Alternative, SelOptions, SelType};
use evident::effect::EffectSet;
use evident::model::rma;
use evident::render::json::selmodel_json;
use evident::Measure;
use serde_json::Value;

/// metafor's refits at `integrate(rel.tol = 1e-12)` of the analyses whose corpus `converged`
/// block has noisy standard errors, keyed "case / analysis id".
pub const INTTOL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/selmodel/converged_inttol.json"
);

/// The precision target of an analysis: its corpus `converged` block, or its rel.tol 1e-12 refit.
pub fn converged_target(path: &str, expected: &Value) -> Value {
    let refits: Value = serde_json::from_str(&std::fs::read_to_string(INTTOL).unwrap()).unwrap();
    match refits.get(path) {
        Some(r) => r.clone(),
        None => expected["converged"].clone(),
    }
}

/// Exact keys: counts.
const EXACT: Tol = Tol {
    rtol: 0.0,
    atol: 0.0,
};

/// README_more's tolerance for `key` of the `converged` block.
pub fn converged_tol(key: &str) -> Option<Tol> {
    let t = |rtol, atol| Some(Tol { rtol, atol });
    match key {
        // What was refitted, not a result.
        "call" | "int_rel_tol" => None,
        "k" | "LRT_df" | "k_steps" => Some(EXACT),
        "estimate" | "tau2" | "delta" => t(1e-4, 1e-7),
        "LRT" => t(1e-4, 1e-5),
        "loglik" => t(1e-6, 1e-6),
        "ci_lb" | "ci_ub" => t(2e-3, 1e-4),
        k if k.ends_with("pval") => t(1e-2, 1e-12),
        _ => t(2e-3, 1e-6),
    }
}

/// README_more's tolerance for top-level `key`; None where it is no precision target (the se-type
/// keys of the continuous types, from metafor's noisy Hessian of an `integrate()`d likelihood).
fn default_tol(key: &str, stepfun: bool) -> Option<Tol> {
    let t = |rtol, atol| Some(Tol { rtol, atol });
    match key {
        "k" | "LRT_df" | "k_steps" => Some(EXACT),
        "loglik" if stepfun => t(1e-5, 1e-4),
        "loglik" => t(1e-4, 1e-3),
        k if k.ends_with("pval") && stepfun => t(1e-2, 1e-12),
        _ if stepfun => t(1e-3, 1e-6),
        "estimate" | "tau2" | "delta" | "LRT" => t(1e-2, 1e-5),
        _ => None,
    }
}

/// The selection model's options from the analysis' `options`.
fn sel_options(opts: &Value) -> SelOptions {
    let sel_type = match opts["type"].as_str().unwrap() {
        "beta" => SelType::Beta,
        "halfnorm" => SelType::Halfnorm,
        "negexp" => SelType::Negexp,
        "logistic" => SelType::Logistic,
        "power" => SelType::Power,
        "stepfun" => SelType::Stepfun,
        other => panic!("unknown selmodel type {other}"),
    };
    let steps = opts["steps"]
        .as_array()
        .map(|s| s.iter().map(|x| x.as_f64().unwrap()).collect())
        .unwrap_or_default();
    let alternative = match opts["alternative"].as_str().unwrap_or("greater") {
        "less" => Alternative::Less,
        _ => Alternative::Greater,
    };
    SelOptions {
        sel_type,
        steps,
        alternative,
    }
}

/// Runs one selmodel analysis and records every miss.
pub fn run(case: &Case, a: &Value, misses: &mut Vec<String>) {
    let path = format!("{} / {}", case.name, a["id"].as_str().unwrap());
    let opts = &a["options"];
    let expected = &a["expected"];
    let studies = super::studies(case);
    let measure: Measure = opts["measure"].as_str().unwrap().parse().unwrap();
    let set = EffectSet::from_studies(&studies, measure, &escalc_options(opts)).unwrap();
    // The input model's control is the ML defaults; the call is the selmodel's.
    let ro = rma_options(opts, "");
    let so = sel_options(opts);
    let got = rma(&set, &ro).and_then(|fit| selmodel(&fit, &so));
    if let Some(err) = expected.get("error") {
        if got.is_ok() {
            misses.push(format!("{path}: metafor refused ({err}), we fitted"));
        }
        return;
    }
    let got = match got {
        Ok(s) => selmodel_json(&s),
        Err(e) => return misses.push(format!("{path}: failed: {e}")),
    };
    compare_all(
        &path,
        expected,
        &got,
        so.sel_type == SelType::Stepfun,
        misses,
    );
}

/// Compares a selection model's JSON `got` with every expected key of analysis `path`: the
/// default keys loosely, the precision target ([`converged_target`]) at README_more's tolerances.
pub fn compare_all(
    path: &str,
    expected: &Value,
    got: &Value,
    stepfun: bool,
    misses: &mut Vec<String>,
) {
    for (key, ev) in expected.as_object().unwrap() {
        if key == "converged" {
            let target = converged_target(path, expected);
            for (ck, cv) in target.as_object().unwrap() {
                if let Some(t) = converged_tol(ck) {
                    let p = format!("{path} / converged.{ck}");
                    compare(&p, cv, got.get(ck), t, misses);
                }
            }
        } else if let Some(t) = default_tol(key, stepfun) {
            compare(&format!("{path} / {key}"), ev, got.get(key), t, misses);
        }
    }
}
