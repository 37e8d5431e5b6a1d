//! The CLI's moderator commands end to end: `pool --mods`, `pool --by`, `interaction`.

use serde_json::Value;
use std::process::Command;

fn evident(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const BCG: &str = "tests/conformance/cases/bcg_rr/input.csv";

fn close(v: &Value, want: f64) {
    let got = v.as_f64().unwrap();
    assert!((got - want).abs() <= 1e-8 * want.abs(), "{got} vs {want}");
}

#[test]
fn mods_json_is_the_corpus_metareg_object() {
    let (ok, out, err) = evident(&[
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
    let (ok, out, err) = evident(&[
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
    let (ok, out, _) = evident(&[
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
    let (ok, _, err) = evident(&["pool", BCG, "--measure", "RR", "--mods", "nope"]);
    assert!(!ok);
    assert!(err.contains("available: ablat, year, alloc"), "{err}");
    let (ok, _, err) = evident(&[
        "pool",
        BCG,
        "--measure",
        "RR",
        "--mods",
        "alloc + factor(alloc)",
    ]);
    assert!(!ok);
    assert!(err.contains("rank-deficient"), "{err}");
}

#[test]
fn interaction_commands() {
    // Altman & Bland 2003: ratio of relative risks 0.76 (0.49 to 1.17), P = 0.22.
    let (ok, out, err) = evident(&[
        "interaction",
        "two",
        "--first",
        "0.67 (0.46, 0.98)",
        "--second",
        "0.88,0.71,1.08",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("0.7614 (95% CI 0.4941 to 1.1733)"), "{out}");
    let (ok, out, _) = evident(&[
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
