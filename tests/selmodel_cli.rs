//! `evident selmodel` against the metafor corpus (README_more, "Selection models") and its
//! refusals of input it cannot fit: a clear error and a non-zero exit, never a panic.

mod common;

use common::cli::{evident, Cli, Run};
use common::selmodel::compare_all;
use serde_json::Value;

/// The command line of a corpus selmodel analysis.
fn cli_args(case: &common::Case, a: &Value) -> Vec<String> {
    let o = &a["options"];
    let mut args = vec![
        "selmodel".to_string(),
        case.dir.join("input.csv").display().to_string(),
        "--json".into(),
        "--type".into(),
        o["type"].as_str().unwrap().into(),
        "--alternative".into(),
        o["alternative"].as_str().unwrap().into(),
        "--method".into(),
        "ML".into(),
    ];
    if o["measure"] != "GEN" {
        args.extend(["--measure".into(), o["measure"].as_str().unwrap().into()]);
    }
    if let Some(steps) = o["steps"].as_array() {
        let s: Vec<String> = steps.iter().map(|x| x.to_string()).collect();
        args.extend(["--steps".into(), s.join(",")]);
    }
    args
}

/// Every selmodel analysis of two corpus datasets (yi/vi effects; 2×2 counts as OR, with
/// alternative "less"), and baskerville2012's refused step function, through the binary.
#[test]
fn cli_json_matches_corpus() {
    let names = [
        "bangertdrowns2004_selmodel",
        "li2007_selmodel",
        "baskerville2012_selmodel",
    ];
    let (mut misses, mut run) = (Vec::new(), 0);
    for case in common::cases()
        .into_iter()
        .filter(|c| names.contains(&c.name.as_str()))
    {
        // baskerville2012: only the refusal (the library runner covers its fits).
        let refusals_only = case.name == "baskerville2012_selmodel";
        for a in case.expected["analyses"].as_array().unwrap() {
            let expected = &a["expected"];
            let refused = expected.get("error").is_some();
            if refusals_only && !refused {
                continue;
            }
            run += 1;
            let path = format!("{} / {}", case.name, a["id"].as_str().unwrap());
            let out = evident(cli_args(&case, a));
            assert!(!out.stderr.contains("panicked"), "{path}: {}", out.stderr);
            if refused {
                assert!(!out.ok, "{path}: metafor refused, the CLI succeeded");
                assert!(
                    out.stderr.contains("no study's one-sided p-value"),
                    "{path}"
                );
                continue;
            }
            assert!(out.ok, "{path}: {}", out.stderr);
            let got: Value = serde_json::from_slice(&out.stdout_bytes).unwrap();
            let stepfun = a["options"]["type"] == "stepfun";
            compare_all(&path, expected, &got, stepfun, &mut misses);
        }
    }
    for m in &misses {
        println!("MISS {m}");
    }
    assert!(misses.is_empty(), "{} misses", misses.len());
    assert_eq!(run, 10, "analyses run");
}

/// The Wald tests and CIs of δ (metafor's zval.delta, pval.delta, ci.lb.delta, ci.ub.delta, the
/// lower limit cut at 0) and `--level`: tests/fixtures/selmodel/delta_inference.R.
#[test]
fn delta_inference_matches_metafor() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/selmodel/delta_inference.json"
    );
    let want: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for (name, w) in want.as_object().unwrap() {
        let file = common::cases_dir()
            .join(w["file"].as_str().unwrap())
            .join("input.csv");
        let mut args = vec![
            "selmodel".to_string(),
            file.display().to_string(),
            "--json".into(),
            "--type".into(),
            w["type"].as_str().unwrap().into(),
            "--level".into(),
            w["level"].to_string(),
        ];
        let steps: Vec<String> = w["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.to_string())
            .collect();
        if !steps.is_empty() {
            args.extend(["--steps".into(), steps.join(",")]);
        }
        let out = evident(&args);
        assert!(out.ok, "{name}: {}", out.stderr);
        let got: Value = serde_json::from_slice(&out.stdout_bytes).unwrap();
        let mut misses = Vec::new();
        // README_more's `converged` tolerances: estimates 1e-4, se-type keys 2e-3 (CI 1e-4
        // absolute), p-values 1e-2.
        for (key, rtol, atol) in [
            ("estimate", 1e-4, 1e-7),
            ("delta", 1e-4, 1e-7),
            ("se_delta", 2e-3, 1e-6),
            ("zval_delta", 2e-3, 1e-6),
            ("pval_delta", 1e-2, 1e-12),
            ("ci_lb_delta", 2e-3, 1e-4),
            ("ci_ub_delta", 2e-3, 1e-4),
        ] {
            let t = common::Tol { rtol, atol };
            common::compare(
                &format!("{name} / {key}"),
                &w[key],
                got.get(key),
                t,
                &mut misses,
            );
        }
        assert!(misses.is_empty(), "{misses:#?}");
    }
}

/// Standard input, and the text summary: the estimate, the LRT, the studies per interval and
/// the warning for bangertdrowns2004's interval (0.025, 0.05] with 2 studies.
#[test]
fn text_summary_from_stdin() {
    let file = common::cases_dir().join("bangertdrowns2004_selmodel/input.csv");
    let csv = std::fs::read(&file).unwrap();
    let run = |json: bool| {
        let mut c = Cli::new(["selmodel", "-", "--type", "stepfun"])
            .args(["--steps", "0.025,0.05,0.5"])
            .stdin(csv.clone());
        if json {
            c = c.arg("--json");
        }
        c.run()
    };
    let (text, json) = (run(false), run(true));
    assert!(text.ok && json.ok, "{}{}", text.stderr, json.stderr);
    let v: Value = serde_json::from_slice(&json.stdout_bytes).unwrap();
    let f4 = |x: &Value| format!("{:.4}", x.as_f64().unwrap());
    let t = &text.stdout;
    assert!(t.contains(&f4(&v["estimate"])), "{t}");
    assert!(
        t.contains(&format!("LRT(df = 3) = {}", f4(&v["LRT"]))),
        "{t}"
    );
    assert!(t.contains("0.025 < p <= 0.05   2"), "{t}");
    assert!(
        t.contains("only 2 studies in the interval 0.025 < p <= 0.05"),
        "{t}"
    );
    assert!(json.stderr.contains("only 2 studies"), "{}", json.stderr);
}

/// A refused run: exit code 1, the expected message, no panic.
fn refused(out: Run, message: &str) {
    assert!(!out.ok && out.code == Some(1), "{out:?}");
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(out.stderr.contains(message), "{}", out.stderr);
}

#[test]
fn bad_input_is_refused_clearly() {
    let file = common::cases_dir().join("bangertdrowns2004_selmodel/input.csv");
    let sel = |extra: &[&str]| {
        Cli::new(["selmodel"])
            .arg(&file)
            .args(extra.iter().copied())
            .run()
    };
    refused(
        sel(&["--type", "negexp", "--method", "REML"]),
        "use --method ML",
    );
    refused(
        sel(&["--type", "stepfun", "--steps", "0.5,0.025"]),
        "cut-points must increase",
    );
    refused(
        sel(&["--type", "stepfun", "--steps", "1.5"]),
        "strictly between 0 and 1",
    );
    refused(sel(&["--type", "stepfun"]), "at least one cut-point");
    refused(
        sel(&["--type", "beta", "--steps", "0.05"]),
        "takes no cut-points",
    );
    // Every one-sided p-value below 0.5: the interval (0.5, 1] is empty.
    let one_side = "yi,vi\n0.9,0.04\n1.2,0.05\n0.7,0.03\n1.5,0.09\n0.8,0.02\n";
    refused(
        Cli::new(["selmodel", "-", "--type", "stepfun", "--steps", "0.5"])
            .stdin(one_side)
            .run(),
        "0.5 < p <= 1",
    );
    // Two studies cannot identify β, τ² and δ.
    refused(
        Cli::new(["selmodel", "-", "--type", "negexp"])
            .stdin("yi,vi\n0.3,0.04\n0.1,0.05\n")
            .run(),
        "needs at least 3 studies, got 2",
    );
}

/// The fitted selection function (p, w(p)) against the points metafor's `plot(sel, n = 11)`
/// draws: a step function, a negative exponential, a power model with a cut-point and
/// alternative "less" (tests/fixtures/selmodel/selection_curve.R). p exactly; w at README_more's
/// tolerance of the δ it is a function of.
#[test]
fn selection_curve_matches_metafor() {
    use evident::bias::{selection_curve, selmodel, Alternative, SelOptions, SelType};
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/selmodel/selection_curve.json"
    );
    let want: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let opts = serde_json::json!({"measure": "GEN", "method": "ML"});
    for (name, w) in want.as_object().unwrap() {
        let case = common::cases()
            .into_iter()
            .find(|c| c.name == w["file"].as_str().unwrap())
            .unwrap();
        let set = evident::effect::EffectSet::from_studies(
            &common::studies(&case),
            evident::Measure::GEN,
            &common::escalc_options(&opts),
        )
        .unwrap();
        let fit = evident::model::rma(&set, &common::rma_options(&opts, "")).unwrap();
        let so = SelOptions {
            sel_type: match w["type"].as_str().unwrap() {
                "stepfun" => SelType::Stepfun,
                "negexp" => SelType::Negexp,
                _ => SelType::Power,
            },
            steps: w["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect(),
            alternative: match w["alternative"].as_str().unwrap() {
                "less" => Alternative::Less,
                _ => Alternative::Greater,
            },
        };
        let curve = selection_curve(&selmodel(&fit, &so).unwrap(), 11);
        let (xs, ys) = (w["xs"].as_array().unwrap(), w["ys"].as_array().unwrap());
        assert_eq!(curve.len(), xs.len(), "{name}: {curve:?}");
        for ((p, wp), (x, y)) in curve.iter().zip(xs.iter().zip(ys)) {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((p - x).abs() <= 1e-15, "{name}: p {p} vs {x}");
            assert!(
                (wp - y).abs() <= 1e-7 + 1e-4 * y.abs(),
                "{name}: w({p}) = {wp} vs {y}"
            );
        }
    }
}

/// `-o` draws the selection function: one curve of steps for a step function, a tick per study.
#[test]
fn output_draws_the_selection_function() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("selfun.svg");
    let file = common::cases_dir().join("hackshaw1998_selmodel/input.csv");
    let out = Cli::new(["selmodel"])
        .arg(&file)
        .args([
            "--type",
            "stepfun",
            "--steps",
            "0.025,0.1,0.5",
            "--json",
            "-o",
        ])
        .arg(&svg)
        .run();
    assert!(out.ok, "{}", out.stderr);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg") || text.contains("<svg"),
        "not an SVG"
    );
    assert!(text.contains("Relative likelihood of selection"));
    assert!(text.contains("37 studies"), "the note names k");
}
