//! The bias and sensitivity subcommands' `--json` output against the metafor corpus: every
//! regtest / ranktest / trimfill / leave1out / cumul / influence analysis, run through the binary.

mod common;

use common::cli::{evident, Cli};
use common::{cases, compare, key_tol, STRICT};
use serde_json::Value;

fn cli_args(case: &common::Case, a: &Value) -> Vec<String> {
    let kind = a["kind"].as_str().unwrap();
    let o = &a["options"];
    let mut args = vec![
        kind.to_string(),
        case.dir.join("input.csv").display().to_string(),
        "--json".into(),
        "--preset".into(),
        "metafor".into(),
        "--method".into(),
        o["method"].as_str().unwrap().into(),
        "--test".into(),
        o["test"].as_str().unwrap_or("z").into(),
    ];
    let measure = o["measure"].as_str().unwrap();
    if measure == "GEN" {
        if a["expected"].get("estimate_exp").is_some() {
            args.extend(["--scale".into(), "log".into()]);
        }
    } else {
        args.extend(["--measure".into(), measure.into()]);
    }
    if let Some(x) = o.get("add").and_then(|v| v.as_f64()) {
        args.extend(["--add".into(), x.to_string()]);
    }
    if let Some(x) = o.get("to").and_then(|v| v.as_str()) {
        args.extend(["--to".into(), x.into()]);
    }
    if o.get("drop00").and_then(|v| v.as_bool()) == Some(true) {
        args.push("--drop00".into());
    }
    if let Some(x) = o.get("vtype").and_then(|v| v.as_str()) {
        args.extend(["--vtype".into(), x.into()]);
    }
    match kind {
        "regtest" => args.extend([
            "--model".into(),
            o["regtest_model"].as_str().unwrap().into(),
            "--predictor".into(),
            o["predictor"].as_str().unwrap().into(),
        ]),
        "trimfill" => args.extend([
            "--estimator".into(),
            o["estimator"].as_str().unwrap().into(),
        ]),
        _ => {}
    }
    args
}

#[test]
fn bias_and_sensitivity_cli_json_matches_corpus() {
    let kinds = [
        "regtest",
        "ranktest",
        "trimfill",
        "leave1out",
        "cumul",
        "influence",
    ];
    let mut misses = Vec::new();
    let mut run = 0;
    for case in cases() {
        for a in case.expected["analyses"].as_array().unwrap() {
            if !kinds.contains(&a["kind"].as_str().unwrap()) {
                continue;
            }
            run += 1;
            let path = format!("{} / {}", case.name, a["id"].as_str().unwrap());
            let out = evident(cli_args(&case, a));
            let expected = &a["expected"];
            if expected.get("error").is_some() {
                if out.ok {
                    misses.push(format!("{path}: metafor refused, the CLI succeeded"));
                }
                continue;
            }
            if !out.ok {
                misses.push(format!("{path}: CLI failed: {}", out.stderr));
                continue;
            }
            let got: Value = serde_json::from_slice(&out.stdout_bytes).unwrap();
            for (key, ev) in expected.as_object().unwrap() {
                // The order description names the file generically.
                if key == "order" {
                    continue;
                }
                compare(
                    &format!("{path} / {key}"),
                    ev,
                    got.get(key),
                    key_tol(key, STRICT),
                    &mut misses,
                );
            }
        }
    }
    for m in &misses {
        println!("MISS {m}");
    }
    assert!(misses.is_empty(), "{} misses", misses.len());
    assert!(run >= 37, "only {run} analyses");
}

// Peters' test from 2×2 tables: sample sizes come from the data.
// regtest(rma(ai=ai,bi=bi,ci=ci,di=di,data=d,measure="OR",method="DL"), model="lm",
//         predictor="ninv", ni=ai+bi+ci+di) on bcg_or: zval -1.4773785861536066, pval 0.16762387572886106
#[test]
fn peters_test_through_the_cli() {
    let dir = common::cases_dir().join("bcg_or/input.csv");
    let out = Cli::new(["regtest"])
        .arg(&dir)
        .args(["--preset", "metafor", "--method", "DL", "--measure", "OR"])
        .args(["--model", "lm", "--predictor", "ninv", "--json"])
        .run();
    assert!(out.ok, "{}", out.stderr);
    let v: Value = serde_json::from_slice(&out.stdout_bytes).unwrap();
    let t = v["tval"].as_f64().unwrap();
    let p = v["pval"].as_f64().unwrap();
    assert!((t - -1.4773785861536066).abs() < 1e-8);
    assert!((p - 0.16762387572886106).abs() < 1e-7);
}
