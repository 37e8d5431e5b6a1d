//! The study weights of a multilevel fit (what its forest plot prints) against metafor's
//! `weights(rma.mv)` (tests/fixtures/mv_weights/gen.R): nested, crossed, CS and HCS terms, a V
//! from per-row blocks, with and without moderators, REML and ML.

mod common;

use evident::multilevel::rma_mv;
use serde_json::Value;
use std::path::Path;

#[test]
fn weights_match_metafor_weights_rma_mv() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let text = std::fs::read_to_string(root.join("mv_weights/expected.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    let analyses = all["analyses"].as_array().unwrap();
    assert_eq!(analyses.len(), 7);
    let tol = common::tol::MV_DEFAULT;
    let close = |g: f64, w: f64| (g - w).abs() <= tol.atol + tol.rtol * w.abs();
    let mut misses = Vec::new();
    for a in analyses {
        let id = a["id"].as_str().unwrap();
        let csv = root.join("mv_profile").join(a["csv"].as_str().unwrap());
        let studies = evident::read_studies(
            &csv,
            &evident::CsvOptions::default(),
            &evident::ColumnMap::new(),
        )
        .unwrap();
        let fit = rma_mv(&studies, &common::multilevel::mv_options(&a["options"])).unwrap();
        let want = &a["expected"];
        let est = want["estimate"][0].as_f64().unwrap();
        if !close(fit.coefficients[0].estimate, est) {
            misses.push(format!(
                "{id}: estimate {} vs metafor {est}",
                fit.coefficients[0].estimate
            ));
        }
        let want: Vec<f64> = want["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_f64().unwrap())
            .collect();
        let got = fit.weights().unwrap();
        assert_eq!(got.len(), want.len(), "{id}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            if !close(*g, *w) {
                misses.push(format!("{id} row {}: weight {g} vs metafor {w}", i + 1));
            }
        }
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}
