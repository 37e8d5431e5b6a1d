//! The CLI's moderator commands end to end: `pool --mods`, `pool --by`, `interaction`.

mod common;

use common::cli::{evident, Run};
use common::RTOL;
use serde_json::Value;

const BCG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/conformance/cases/bcg_rr/input.csv"
);

fn close(v: &Value, want: f64) {
    let got = v.as_f64().unwrap();
    assert!((got - want).abs() <= RTOL * want.abs(), "{got} vs {want}");
}

#[test]
fn mods_json_is_the_corpus_metareg_object() {
    let Run {
        ok,
        stdout: out,
        stderr: err,
        ..
    } = evident([
        "pool",
        BCG,
        "--measure",
        "RR",
        "--preset",
        "metafor",
        "--mods",
        "ablat",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    // bcg_rr / metareg_ablat_REML_z
    close(&v["QM"], 16.35712557215939);
    assert_eq!(v["coefficients"][1]["name"], "ablat");
    assert_eq!(v["QM_dist"], "chisq");
}

#[test]
fn by_prints_both_tests_and_json() {
    let Run {
        ok,
        stdout: out,
        stderr: err,
        ..
    } = evident([
        "pool",
        BCG,
        "--measure",
        "RR",
        "--preset",
        "metafor",
        "--by",
        "alloc",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("Q-between"), "{out}");
    assert!(out.contains("moderator test"), "{out}");
    let Run {
        ok, stdout: out, ..
    } = evident([
        "pool",
        BCG,
        "--measure",
        "RR",
        "--preset",
        "metafor",
        "--by",
        "alloc",
        "--json",
    ]);
    assert!(ok);
    let v: Value = serde_json::from_str(&out).unwrap();
    // bcg_rr / subgroup_alloc_REML_z
    close(&v["mixed_QM"], 1.7675130417729956);
    assert_eq!(v["groups"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_moderators_are_clear_errors() {
    let Run {
        ok, stderr: err, ..
    } = evident(["pool", BCG, "--measure", "RR", "--mods", "nope"]);
    assert!(!ok);
    assert!(err.contains("available: ablat, year, alloc"), "{err}");
    // Redundant columns are dropped and named, as metafor's warning.
    let Run {
        ok, stdout: out, ..
    } = evident([
        "pool",
        BCG,
        "--measure",
        "RR",
        "--mods",
        "alloc + factor(alloc)",
    ]);
    assert!(ok);
    assert!(
        out.contains("redundant predictors dropped")
            && out.contains("'factor(alloc)random', 'factor(alloc)systematic'"),
        "{out}"
    );
    let Run {
        ok, stderr: err, ..
    } = evident([
        "pool",
        BCG,
        "--measure",
        "RR",
        "--mods",
        "alloc",
        "--reference",
        "alloc=none",
    ]);
    assert!(!ok);
    assert!(
        err.contains("'none' is not a level") && err.contains("alternate, random, systematic"),
        "{err}"
    );
}

#[test]
fn reference_level_influence_and_regtest_of_a_metaregression() {
    let Run {
        ok,
        stdout: out,
        stderr: err,
        ..
    } = evident([
        "pool",
        BCG,
        "--measure",
        "RR",
        "--mods",
        "alloc",
        "--reference",
        "random",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["factors"][0]["reference"], "random");
    assert_eq!(v["factors"][0]["rule"], "chosen");
    assert_eq!(v["coefficients"][1]["name"], "allocalternate");
    let Run {
        ok,
        stdout: out,
        stderr: err,
        ..
    } = evident([
        "influence",
        BCG,
        "--measure",
        "RR",
        "--mods",
        "ablat",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["coefficients"], serde_json::json!(["intrcpt", "ablat"]));
    assert_eq!(v["dfbetas_by_coef"]["ablat"].as_array().unwrap().len(), 13);
    let Run {
        ok,
        stdout: out,
        stderr: err,
        ..
    } = evident(["regtest", BCG, "--measure", "RR", "--mods", "ablat"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Added to the meta-regression on: intrcpt, ablat"),
        "{out}"
    );
}

#[test]
fn interaction_commands() {
    // Altman & Bland 2003: ratio of relative risks 0.76 (0.49 to 1.17), P = 0.22.
    let Run {
        ok,
        stdout: out,
        stderr: err,
        ..
    } = evident([
        "interaction",
        "two",
        "--first",
        "0.67 (0.46, 0.98)",
        "--second",
        "0.88,0.71,1.08",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("0.7614 (95% CI 0.4941 to 1.1733)"), "{out}");
    let Run {
        ok, stdout: out, ..
    } = evident([
        "interaction",
        "additive",
        "--a",
        "2,1.2,3.3",
        "--b",
        "1.5,0.9,2.5",
        "--ab",
        "5,3,8.3",
        "--json",
    ]);
    assert!(ok);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["method"], "mover");
    close(&v["reri"]["estimate"], 2.5);
}
