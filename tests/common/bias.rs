//! Conformance dispatch for the publication-bias and sensitivity kinds.

use super::{compare, escalc_options, key_tol, rma_options, Case, STRICT};
use evident::bias::{ranktest, regtest, trimfill, Estimator, Predictor, RegModel, Side};
use evident::effect::EffectSet;
use evident::render::json::{
    cumul_json, influence_json, leave1out_json, ranktest_json, regtest_json, trimfill_json,
};
use evident::sensitivity::{cumul, influence, leave1out};
use evident::{Measure, Scale};
use serde_json::Value;

/// The order description the corpus writes for file order.
pub const FILE_ORDER: &str = "data rows, as in input.csv (entry i = model fitted to rows 1..i)";

/// Runs one regtest / ranktest / trimfill / leave1out / cumul / influence analysis and records
/// every miss (a kind it does not handle is one).
pub fn run(case: &Case, a: &Value, misses: &mut Vec<String>) {
    let kind = a["kind"].as_str().unwrap();
    let path = format!("{} / {}", case.name, a["id"].as_str().unwrap());
    let opts = &a["options"];
    let expected = &a["expected"];
    let call = a["call"].as_str().unwrap_or("");
    let studies = super::studies(case);
    let measure: Measure = opts["measure"].as_str().unwrap().parse().unwrap();
    let mut set = EffectSet::from_studies(&studies, measure, &escalc_options(opts)).unwrap();
    if measure == Measure::GEN {
        set.scale = if expected.get("estimate_exp").is_some() {
            Scale::Log
        } else {
            Scale::Identity
        };
    }
    let ro = rma_options(opts, call);
    let got: Result<Value, evident::Error> = match kind {
        "regtest" => {
            let model: RegModel = opts["regtest_model"].as_str().unwrap().parse().unwrap();
            let pred: Predictor = opts["predictor"].as_str().unwrap().parse().unwrap();
            regtest(&set, &ro, model, pred, None).map(|r| regtest_json(&r))
        }
        "ranktest" => ranktest(&set).map(|r| ranktest_json(&r)),
        "trimfill" => {
            let est: Estimator = opts["estimator"].as_str().unwrap().parse().unwrap();
            let side = opts["side"].as_str().and_then(|s| s.parse::<Side>().ok());
            trimfill(&set, &ro, est, side).map(|t| trimfill_json(&t))
        }
        "leave1out" => leave1out(&set, &ro).map(|s| leave1out_json(&s)),
        "cumul" => {
            let order: Vec<usize> = (0..set.k()).collect();
            cumul(&set, &ro, &order).map(|s| cumul_json(&s, FILE_ORDER))
        }
        "influence" => influence(&set, &ro).map(|i| influence_json(&i)),
        other => return misses.push(format!("{path}: unknown kind {other}")),
    };
    if let Some(err) = expected.get("error") {
        if got.is_ok() {
            misses.push(format!("{path}: metafor refused ({err}), we computed"));
        }
        return;
    }
    let got = match got {
        Ok(g) => g,
        Err(e) => {
            misses.push(format!("{path}: failed: {e}"));
            return;
        }
    };
    for (key, ev) in expected.as_object().unwrap() {
        compare(
            &format!("{path} / {key}"),
            ev,
            got.get(key),
            key_tol(key, STRICT),
            misses,
        );
    }
}
