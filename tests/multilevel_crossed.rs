//! A large crossed model (issue 17): k = 2,000 rows, a (40 levels) crossed with b (50 levels)
//! plus a row-level component, fitted on the Woodbury path (no dense 2,000 × 2,000 block),
//! against metafor's `rma.mv(sparse = TRUE)` (tests/fixtures/mv_crossed_large: gen.R writes the
//! data and the free REML fit, gen_fixed.R the fit at fixed sigma2).

mod common;

use common::nums;
use common::tol::{Tol, MV_CONVERGED};
use evident::multilevel::rma_mv;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mv_crossed_large")
}

/// Fits the case of `file` (sigma2 fixed where it gives them) and lists the keys off `tol`.
fn misses(file: &str, tol: Tol) -> Vec<String> {
    let text = std::fs::read_to_string(dir().join(file)).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    let case = all.get("free").unwrap_or(&all);
    let studies = evident::read_studies(
        &dir().join("data.csv"),
        &evident::CsvOptions::default(),
        &evident::ColumnMap::new(),
    )
    .unwrap();
    let mut opts = common::multilevel::mv_options(&case["options"]);
    if let Some(s) = case["options"]["sigma2"].as_array() {
        opts.sigma2 = s.iter().map(Value::as_f64).collect();
    }
    let fit = rma_mv(&studies, &opts).unwrap();
    let want = &case["expected"];
    let mut out = Vec::new();
    let mut check = |what: String, g: f64, w: f64| {
        if (g - w).abs() > tol.atol + tol.rtol * w.abs() {
            out.push(format!("{file} {what}: {g} vs metafor {w}"));
        }
    };
    assert_eq!(fit.k, 2000);
    for (j, w) in nums(&want["sigma2"]).into_iter().enumerate() {
        check(format!("sigma2[{j}]"), fit.components[j].sigma2, w);
    }
    for (j, w) in nums(&want["estimate"]).into_iter().enumerate() {
        check(format!("estimate[{j}]"), fit.coefficients[j].estimate, w);
    }
    for (j, w) in nums(&want["se"]).into_iter().enumerate() {
        check(format!("se[{j}]"), fit.coefficients[j].se, w);
    }
    check(
        "loglik".into(),
        fit.loglik,
        want["loglik"].as_f64().unwrap(),
    );
    check("QE".into(), fit.qe.0, want["QE"].as_f64().unwrap());
    let weights = fit.weights().unwrap();
    let listed = want.get("weights").or(want.get("weights_head")).unwrap();
    for (i, w) in nums(listed).into_iter().enumerate() {
        check(format!("weight {}", i + 1), weights[i], w);
    }
    out
}

/// At fixed sigma2 nothing is optimised: the likelihood, GLS fit, QE and every weight are
/// exact (README_mv's rule for exact values).
#[test]
fn crossed_fit_at_fixed_sigma2_matches_metafor_sparse() {
    let m = misses("expected_fixed.json", MV_CONVERGED);
    assert!(m.is_empty(), "{}", m.join("\n"));
}
