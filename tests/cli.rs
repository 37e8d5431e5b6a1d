//! The command line, proven on the conformance corpus: `evident pool --json` and
//! `evident effects --json` must print metafor's numbers, and bad input must fail cleanly.

mod common;

use common::cli::{evident, Run};
use common::*;
use serde_json::Value;
use std::path::Path;

fn analysis<'a>(case: &'a Case, id: &str) -> &'a Value {
    case.expected["analyses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("{id}"))
}

fn check(case_name: &str, id: &str, args: &[&str]) {
    let case = cases().into_iter().find(|c| c.name == case_name).unwrap();
    let a = analysis(&case, id);
    let input = case.dir.join("input.csv");
    let mut full = vec![args[0], input.to_str().unwrap()];
    full.extend_from_slice(&args[1..]);
    full.push("--json");
    let Run {
        ok, stdout, stderr, ..
    } = evident(&full);
    assert!(ok, "{case_name}/{id}: evident {full:?} failed: {stderr}");
    let got: Value = serde_json::from_str(&stdout).unwrap();
    let mut misses = Vec::new();
    for (k, ev) in a["expected"].as_object().unwrap() {
        if k == "converged" || k.ends_with("_precise") {
            continue;
        }
        compare(
            &format!("{case_name}/{id}/{k}"),
            ev,
            got.get(k),
            key_tol(k, STRICT),
            &mut misses,
        );
    }
    assert!(misses.is_empty(), "{misses:#?}");
}

#[test]
fn pool_json_matches_metafor() {
    check(
        "bcg_or",
        "rma_REML_z",
        &["pool", "--measure", "OR", "--method", "REML", "--test", "z"],
    );
    check(
        "bcg_or",
        "rma_DL_knha",
        &[
            "pool",
            "--measure",
            "or",
            "--method",
            "dl",
            "--test",
            "knha",
        ],
    );
    check(
        "bcg_or",
        "rma_FE_z",
        &[
            "pool",
            "--measure",
            "OR",
            "--method",
            "FE",
            "--preset",
            "metafor",
        ],
    );
    check(
        "normand1999_smd",
        "rma_PM_z",
        &["pool", "--measure", "SMD", "--method", "PM", "--test", "z"],
    );
    check(
        "pritz1997_plo",
        "rma_REML_knha",
        &[
            "pool",
            "--measure",
            "PLO",
            "--method",
            "REML",
            "--test",
            "knha",
        ],
    );
    check(
        "hackshaw1998_yi_vi",
        "rma_REML_z",
        &["pool", "--method", "REML", "--test", "z", "--scale", "log"],
    );
    check(
        "bcg_or",
        "mh_OR",
        &["pool", "--measure", "OR", "--method", "MH"],
    );
    check(
        "bcg_or",
        "peto",
        &["pool", "--measure", "PETO", "--method", "Peto"],
    );
    check(
        "hart1999_irr",
        "mh_IRR",
        &["pool", "--measure", "IRR", "--method", "mh"],
    );
}

#[test]
fn default_preset_is_reml_knha() {
    check("bcg_or", "rma_REML_knha", &["pool", "--measure", "OR"]);
}

#[test]
fn effects_json_matches_escalc() {
    check("bcg_or", "escalc_OR", &["effects", "--measure", "OR"]);
    check(
        "normand1999_smd",
        "escalc_SMD",
        &["effects", "--measure", "SMD"],
    );
}

#[test]
fn nonconvergence_is_an_error_with_a_remedy() {
    let input = cases_dir().join("synthetic_reml_nonconvergence/input.csv");
    let Run { ok, stderr, .. } = evident([
        "pool",
        input.to_str().unwrap(),
        "--measure",
        "OR",
        "--method",
        "REML",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("did not converge") && stderr.contains("stepadj"),
        "{stderr}"
    );
    let Run { ok, stdout, .. } = evident([
        "pool",
        input.to_str().unwrap(),
        "--measure",
        "OR",
        "--method",
        "REML",
        "--stepadj",
        "0.5",
    ]);
    assert!(ok, "{stdout}");
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_owned()
}

/// Each bad input fails with a located, specific message and no panic.
#[test]
fn bad_input_errors_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        ("empty.csv", "", &["empty"]),
        ("header.csv", "study,ai,bi,ci,di\n", &["no study rows"]),
        (
            "ragged.csv",
            "study,yi,vi\nA,1,0.1\nB,2\n",
            &["line 3", "expected 3 fields"],
        ),
        ("dup.csv", "study,yi,yi\nA,1,2\n", &["duplicate column"]),
        (
            "missingcol.csv",
            "study,ai,bi,ci\nA,1,2,3\n",
            &["cannot tell the data type"],
        ),
        (
            "text.csv",
            "study,yi,vi\nA,abc,0.1\n",
            &["line 2", "'yi'", "expected a number"],
        ),
        (
            "inf.csv",
            "study,yi,vi\nA,1e400,0.1\n",
            &["'yi'", "not a finite number"],
        ),
        (
            "negcount.csv",
            "study,ai,bi,ci,di\nA,-1,2,3,4\n",
            &["'ai'", "negative"],
        ),
        (
            "negsd.csv",
            "study,m1i,sd1i,n1i,m2i,sd2i,n2i\nA,1,-2,10,1,2,10\n",
            &["'sd1i'", "negative"],
        ),
        (
            "events.csv",
            "study,ai,n1i,ci,n2i\nA,12,10,3,10\n",
            &["'ai'", "exceed"],
        ),
        (
            "negvar.csv",
            "study,yi,vi\nA,1,-0.1\n",
            &["'vi'", "negative"],
        ),
        (
            "reversed.csv",
            "study,estimate,ci_lb,ci_ub\nA,2,3,1\n",
            &["reversed"],
        ),
        (
            "outside.csv",
            "study,estimate,ci_lb,ci_ub\nA,5,1,3\n",
            &["outside its CI"],
        ),
    ];
    for (name, text, needles) in cases {
        let path = write(&dir, name, text);
        let Run { ok, stderr, .. } = evident(["pool", &path]);
        assert!(!ok, "{name} should fail");
        assert!(!stderr.contains("panicked"), "{name} panicked: {stderr}");
        for n in needles.iter() {
            assert!(stderr.contains(n), "{name}: expected '{n}' in: {stderr}");
        }
        if !text.is_empty()
            && *name != "header.csv"
            && *name != "missingcol.csv"
            && *name != "dup.csv"
        {
            assert!(
                stderr.contains(name),
                "{name}: message should name the file: {stderr}"
            );
        }
    }
}

#[test]
fn wrong_measure_unknown_method_and_too_few_studies() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "t.csv", "study,ai,bi,ci,di\nA,1,9,2,8\nB,3,7,4,6\n");
    let Run { ok, stderr: e, .. } = evident(["pool", &p, "--measure", "SMD"]);
    assert!(
        !ok && e.contains("does not fit") && e.contains("OR, RR, RD, PETO"),
        "{e}"
    );
    let Run { ok, stderr: e, .. } = evident(["pool", &p, "--method", "XYZ"]);
    assert!(!ok && e.contains("unknown method"), "{e}");
    let none = write(&dir, "none.csv", "study,yi,vi\nA,,\nB,NA,NA\n");
    let Run { ok, stderr: e, .. } = evident(["pool", &none]);
    assert!(!ok && e.contains("no studies"), "{e}");
}

/// The closed sets of options are clap value enums now; every spelling accepted before (any
/// case, metafor's aliases) still gives the same analysis, and a refused value keeps its old
/// message and exit code 1.
#[test]
fn option_spellings_and_aliases() {
    let bcg = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
    let same = |a: &[&str], b: &[&str]| {
        let ra = evident([&["pool", bcg][..], a].concat());
        let rb = evident([&["pool", bcg][..], b].concat());
        assert!(ra.ok && rb.ok, "{}{}", ra.stderr, rb.stderr);
        assert_eq!(ra.stdout, rb.stdout, "{a:?} vs {b:?}");
    };
    same(&["--method", "ee"], &["--method", "FE"]);
    same(&["--method", "CE"], &["--method", "FE"]);
    same(
        &["--method", "reml", "--test", "HKSJ"],
        &["--method", "REML", "--test", "knha"],
    );
    same(&["--pi", "Higgins"], &["--pi", "riley"]);
    same(
        &["--method", "mh", "--to", "ALL"],
        &["--method", "MH", "--to", "all"],
    );
    same(
        &["--measure", "RD", "--vtype", "ub"],
        &["--measure", "RD", "--vtype", "UB"],
    );
    for (args, msg) in [
        (
            &["--test", "w"][..],
            "unknown test 'w': expected z, t, knha or adhoc",
        ),
        (
            &["--to", "x"][..],
            "unknown --to 'x': expected only0, all, if0all or none",
        ),
        (&["--level", "1"][..], "is ambiguous"),
    ] {
        let Run {
            code, stderr: err, ..
        } = evident([&["pool", bcg][..], args].concat());
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(err.contains(msg), "{args:?}: {err}");
    }
}

/// Issue 14 item 17, against metafor (tests/fixtures/escalc_vtype/gen.R): `vtype = "UB"` is refused
/// where metafor refuses it (COR, ZCOR, PLO) and accepted where it applies; ZCOR gives a variance
/// for a row with a missing `ri` but a valid `ni`, and an effect for a row whose `ni` is ≤ 3 or
/// missing, as metafor does.
#[test]
fn vtype_and_correlations_follow_metafor() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/escalc_vtype");
    let want: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let input = dir.join("input_zcor.csv");
    let f = input.to_str().unwrap();
    for m in ["ZCOR", "COR"] {
        let r = evident(["effects", f, "--measure", m, "--json"]);
        assert!(r.ok, "{}", r.stderr);
        let got: Value = serde_json::from_str(&r.stdout).unwrap();
        for key in ["yi", "vi"] {
            let w = want[m.to_lowercase()][key].as_array().unwrap();
            let g = got[key].as_array().unwrap();
            assert_eq!(w.len(), g.len());
            for (w, g) in w.iter().zip(g) {
                match w.as_str() {
                    None => assert!(g.is_null(), "{m} {key}: {g} where metafor has NA"),
                    Some(s) => {
                        let w: f64 = s.parse().unwrap();
                        let g = g.as_f64().unwrap_or(f64::NAN);
                        assert!(
                            (g - w).abs() <= ATOL + RTOL * w.abs(),
                            "{m} {key}: {g} vs {w}"
                        );
                    }
                }
            }
        }
    }
    let files = [
        ("COR", input.clone()),
        ("ZCOR", input.clone()),
        (
            "PLO",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/conformance/cases/pritz1997_plo/input.csv"),
        ),
    ];
    for (m, file) in files {
        assert_eq!(want["ub_refused"][m], true);
        let r = evident([
            "effects",
            file.to_str().unwrap(),
            "--measure",
            m,
            "--vtype",
            "UB",
        ]);
        assert!(!r.ok, "{m}: --vtype UB accepted");
        assert!(
            r.stderr
                .contains("variance type (vtype) UB does not apply to"),
            "{}",
            r.stderr
        );
    }
}

/// Issue 14 item 17: with `--pi riley` the JSON's main `pi_lb`/`pi_ub` are Riley's, as the text's.
#[test]
fn json_prediction_interval_follows_pi_type() {
    let bcg = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/bcg.csv");
    let f = bcg.to_str().unwrap();
    let r = evident(["pool", f, "--measure", "RR", "--pi", "riley", "--json"]);
    assert!(r.ok, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["pi_lb"], v["pi_lb_riley"]);
    assert_eq!(v["pi_ub"], v["pi_ub_riley"]);
    let d = evident(["pool", f, "--measure", "RR", "--json"]);
    let d: Value = serde_json::from_str(&d.stdout).unwrap();
    assert_ne!(
        d["pi_lb"], v["pi_lb"],
        "Riley's interval differs from metafor's here"
    );
    let text = evident(["pool", f, "--measure", "RR", "--pi", "riley"]).stdout;
    let lb = format!("{:.4}", v["pi_lb"].as_f64().unwrap());
    assert!(
        text.contains(&format!("Prediction interval: [{lb}")),
        "{text}"
    );
}

/// `pool --measure PFT` back-transforms at the harmonic mean of the studies' n, as metafor's
/// `transf.ipft.hm` (the corpus's pritz1997 REML fit); the measure's default scale once
/// replaced escalc's and lost that n (0.932 printed for metafor's 0.803).
#[test]
fn pft_pooled_through_the_cli_back_transforms_at_the_harmonic_mean_n() {
    let case =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/cases/pritz1997_pas_pft");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).unwrap())
            .unwrap();
    let want = expected["analyses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "rma_PFT_REML_z")
        .unwrap()["expected"]
        .clone();
    let input = case.join("input.csv");
    let r = evident([
        "pool",
        input.to_str().unwrap(),
        "--measure",
        "PFT",
        "--method",
        "REML",
        "--test",
        "z",
        "--add",
        "0",
        "--json",
    ]);
    assert!(r.ok, "{}", r.stderr);
    let got: Value = serde_json::from_str(&r.stdout).unwrap();
    for key in [
        "estimate_ipft_hm",
        "ci_lb_ipft_hm",
        "ci_ub_ipft_hm",
        "pi_lb_ipft_hm",
        "pi_ub_ipft_hm",
    ] {
        let (g, w) = (got[key].as_f64().unwrap(), want[key].as_f64().unwrap());
        assert!((g - w).abs() <= 1e-8 * w.abs(), "{key}: {g} vs metafor {w}");
    }
}

/// A closed standard output (`evident pool … | head`) ends the command quietly, not with a
/// panic of the print macros.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let bcg = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(["pool", bcg, "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}

/// Issue 18 item 5, against metafor (tests/fixtures/default_add/gen.R): without `--add` each
/// measure takes metafor's default correction, 0 for the arcsine and square-root measures (so
/// PAS of 0/31 is exactly 0), ½ for the others (PLO, OR, IRLN with zero counts).
#[test]
fn default_add_is_the_measures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/default_add");
    let want: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let runs = [
        ("PFT", "input_prop.csv"),
        ("PAS", "input_prop.csv"),
        ("PLO", "input_prop.csv"),
        ("AS", "input_2x2.csv"),
        ("OR", "input_2x2.csv"),
        ("IRFT", "input_rate.csv"),
        ("IRLN", "input_rate.csv"),
    ];
    for (m, file) in runs {
        let f = dir.join(file);
        let r = evident(["effects", f.to_str().unwrap(), "--measure", m, "--json"]);
        assert!(r.ok, "{m}: {}", r.stderr);
        let got: Value = serde_json::from_str(&r.stdout).unwrap();
        for key in ["yi", "vi"] {
            let w = want[m][key].as_array().unwrap();
            let g = got[key].as_array().unwrap();
            assert_eq!(w.len(), g.len(), "{m} {key}");
            for (w, g) in w.iter().zip(g) {
                let w: f64 = w.as_str().unwrap().parse().unwrap();
                let g = g.as_f64().unwrap();
                assert!(
                    (g - w).abs() <= ATOL + RTOL * w.abs(),
                    "{m} {key}: {g} vs {w}"
                );
            }
        }
    }
}
