//! Mantel–Haenszel and Peto through the binary against metafor (`tests/fixtures/mh_peto/gen.R`):
//! `--add`, `--to`, `--drop00` and `--no-correct`, the Breslow–Day and Tarone tests, and
//! `leave1out` / `cumul` of MH and Peto fits.

mod common;

use common::cli::evident;
use common::{compare, key_tol, STRICT};
use serde_json::Value;
use std::path::Path;

fn analyses() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("tests/fixtures/mh_peto/expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["analyses"].as_array().unwrap().clone()
}

/// Runs every analysis of the given kinds; returns how many ran.
fn run_kinds(kinds: &[&str]) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut misses, mut run) = (Vec::new(), 0);
    for a in analyses() {
        let args: Vec<String> = a["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        if !kinds.contains(&args[0].as_str()) {
            continue;
        }
        run += 1;
        let input = root.join(a["input"].as_str().unwrap());
        let mut cmd = vec![args[0].clone(), input.display().to_string()];
        cmd.extend(args[1..].iter().cloned());
        let id = a["id"].as_str().unwrap();
        let out = evident(&cmd);
        if !out.ok {
            misses.push(format!("{id}: {cmd:?} failed: {}", out.stderr));
            continue;
        }
        let got: Value = serde_json::from_str(&out.stdout).unwrap();
        for (key, ev) in a["expected"].as_object().unwrap() {
            let tol = key_tol(key, STRICT);
            compare(&format!("{id} / {key}"), ev, got.get(key), tol, &mut misses);
        }
    }
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses.join("\n")
    );
    run
}

#[test]
fn pool_options_and_tests_match_metafor() {
    assert!(run_kinds(&["pool"]) >= 40);
}

#[test]
fn counts_of_1e200_are_pooled_not_na() {
    // The "pool big counts" analyses; their reference is metafor at 1e20, rescaled (gen.R).
    assert!(run_kinds(&["pool"]) >= 58);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let big = root.join("tests/fixtures/mh_peto/big_peto_or.csv");
    let run = evident(["pool", big.to_str().unwrap(), "--method", "Peto"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(!run.stdout.contains("NA"), "{}", run.stdout);
    assert!(run.stdout.contains("Q(12) = 1.6781e202"), "{}", run.stdout);
    // The JSON says where it parts from metafor (NaN there); ordinary counts carry no note.
    for (file, noted) in [(big, true), (root.join("data/bcg.csv"), false)] {
        let run = evident(["pool", file.to_str().unwrap(), "--method", "MH", "--json"]);
        let v: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(v.get("note").is_some(), noted, "{}", run.stdout);
    }
}

#[test]
fn leave1out_and_cumul_of_mh_and_peto_match_metafor() {
    assert!(run_kinds(&["leave1out", "cumul"]) >= 24);
}

#[test]
fn mh_refits_refuse_plots_and_single_tables() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bcg = root.join("data/bcg.csv");
    let svg = std::env::temp_dir().join("evident_mh_refit_never_written.svg");
    for cmd in ["leave1out", "cumul"] {
        let run = evident([
            cmd,
            bcg.to_str().unwrap(),
            "--method",
            "Peto",
            "-o",
            svg.to_str().unwrap(),
        ]);
        assert_eq!(run.code, Some(1), "{cmd}: {}", run.stderr);
        assert!(run.stderr.contains("omit -o"), "{cmd}: {}", run.stderr);
        assert!(!svg.exists());
    }
    let k1 = root.join("tests/conformance/cases/bcg_k1/input.csv");
    let run = evident(["leave1out", k1.to_str().unwrap(), "--method", "MH"]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("at least 2"), "{}", run.stderr);
    // cumul of one table is that table's fit, as metafor.
    let run = evident(["cumul", k1.to_str().unwrap(), "--method", "MH", "--json"]);
    assert!(run.ok, "{}", run.stderr);
}
