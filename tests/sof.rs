//! Summary-of-findings rows of `evident pool` (absolute effect per 1,000 at a control risk, NNT
//! with Altman's interval) against metafor's pooled estimates and the published conversions
//! (`tests/fixtures/sof/gen.R`).

mod common;

use common::cli::evident;
use common::{compare, STRICT};
use serde_json::Value;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn analyses() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/sof/expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["analyses"].as_array().unwrap().clone()
}

fn pool(input: &str, args: &[String]) -> common::cli::Run {
    let mut cmd = vec!["pool".to_string(), root().join(input).display().to_string()];
    cmd.extend(args.iter().cloned());
    evident(&cmd)
}

#[test]
fn sof_rows_match_metafor_and_the_published_formulas() {
    let (mut misses, mut run, mut through) = (Vec::new(), 0, 0);
    for a in analyses() {
        let id = a["id"].as_str().unwrap();
        let mut args: Vec<String> = a["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        args.push("--json".into());
        let out = pool(a["input"].as_str().unwrap(), &args);
        assert!(out.ok, "{id}: {}", out.stderr);
        let got: Value = serde_json::from_str(&out.stdout).unwrap();
        let sof = got
            .get("sof")
            .unwrap_or_else(|| panic!("{id}: no sof object"));
        for (key, ev) in a["expected"].as_object().unwrap() {
            compare(
                &format!("{id} / {key}"),
                ev,
                sof.get(key),
                STRICT,
                &mut misses,
            );
        }
        through += usize::from(a["expected"]["nnt_ci_through_infinity"] == true);
        run += 1;
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
    assert!(run >= 14, "{run}");
    assert!(
        through >= 2,
        "the NNT through infinity is checked: {through}"
    );
}

#[test]
fn the_text_gives_risks_per_1000_and_altmans_nnt() {
    let out = pool("data/bcg.csv", &["--measure".into(), "RR".into()]);
    assert!(out.ok, "{}", out.stderr);
    let s = &out.stdout;
    assert!(s.contains("Summary of findings (assumed control risk 0.0159, the median control-arm risk of the studies)"), "{s}");
    assert!(s.contains("Risk with control:      16 per 1,000"), "{s}");
    assert!(s.contains("fewer per 1,000 (95% CI"), "{s}");
    assert!(s.contains("NNTB "), "{s}");
    let y = pool(
        "tests/conformance/cases/yusuf1985_peto/input.csv",
        &["--method".into(), "Peto".into()],
    );
    assert!(y.ok, "{}", y.stderr);
    assert!(y.stdout.contains("to \u{221E} to NNTB"), "{}", y.stdout);
}

#[test]
fn control_risks_and_measures_that_do_not_fit_are_refused() {
    for (risk, why) in [
        ("0", "strictly between 0 and 1"),
        ("1.5", "strictly between 0 and 1"),
    ] {
        let out = pool("data/bcg.csv", &["--control-risk".into(), risk.into()]);
        assert!(!out.ok);
        assert!(out.stderr.contains(why), "{}", out.stderr);
    }
    let smd = "tests/conformance/cases/normand1999_smd/input.csv";
    let out = pool(smd, &["--control-risk".into(), "0.2".into()]);
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("odds ratio, risk ratio or risk difference"),
        "{}",
        out.stderr
    );
    // Without a control risk a continuous outcome simply has no row.
    let out = pool(smd, &["--json".into()]);
    assert!(out.ok, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(v.get("sof").is_none());
}
