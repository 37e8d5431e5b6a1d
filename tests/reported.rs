//! The reported-statistics commands end to end: `recompute`, `check`, `combine`, and mixed-form
//! input to pooling, on the seed studies' numbers (tests/data/reported/).

// Reference values are written with all 17 significant digits R prints.
#![allow(clippy::excessive_precision)]

mod common;

use common::cli::{evident, run_ok, Run};
use evident::data::{CsvOptions, Table};
use evident::model::rma;
use evident::model::Method;
use evident::model::RmaOptions;
use evident::reported::{to_effects, Rule};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/reported")
        .join(name)
}

fn json(args: &[&str]) -> Value {
    let out = run_ok(args).stdout;
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn close(a: &Value, b: f64, tol: f64) -> bool {
    let a = a.as_f64().unwrap_or(f64::NAN);
    (a - b).abs() <= tol * b.abs()
}

#[test]
fn recompute_lupus_ors() {
    let f = data("lupus.csv");
    let v = json(&["recompute", f.to_str().unwrap(), "--json"]);
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 7);
    let r = &rows[0];
    assert_eq!(r["rule"], "estimate_ci");
    // R: se <- (log(4.22) - log(1.89)) / (2 * qnorm(0.975)) = 0.20491659676207538;
    //    2 * pnorm(-log(2.82) / se) = 4.2077310635580044e-07
    assert!(close(&r["sei"], 0.20491659676207538, 1e-12));
    assert!(close(&r["pval"], 4.2077310635580044e-07, 1e-9));
    assert!(close(&r["estimate_exp"], 2.82, 1e-14));
    assert!(close(&r["ci_lb_exp"], 1.89, 2e-3) && close(&r["ci_ub_exp"], 4.22, 2e-3));
    // CSV output has exactly the columns.
    let Run {
        ok, stdout: out, ..
    } = evident(["recompute", f.to_str().unwrap()]);
    assert!(ok);
    assert_eq!(
        out.lines().next().unwrap(),
        "study,rule,yi,sei,vi,zval,pval,ci_lb,ci_ub,estimate_exp,ci_lb_exp,ci_ub_exp,mean,sd"
    );
}

#[test]
fn recompute_mixed_forms_and_bounds() {
    let f = data("mixed.csv");
    let v = json(&["recompute", f.to_str().unwrap(), "--json"]);
    let rules: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "counts_or_woolf",
            "estimate_ci",
            "estimate_p",
            "estimate_p_bound",
            "p_only"
        ]
    );
    // escalc("OR", ai=18, n1i=31, ci=9, n2i=30): vi = 0.29120879120879117
    assert!(close(&v[0]["vi"], 0.29120879120879117, 1e-12));
    // The bound stays a bound: no SE, p kept as printed.
    assert!(v[3]["sei"].is_null());
    assert_eq!(v[3]["pval"], "<0.001");
    // R: abs(log(2.15)) / qnorm(1 - 0.043 / 2) = 0.3782497717402285
    assert!(close(&v[2]["sei"], 0.3782497717402285, 1e-9));
}

#[test]
fn recompute_medians() {
    let f = data("median.csv");
    let v = json(&["recompute", f.to_str().unwrap(), "--json"]);
    // metafor conv.fivenum (development source), see src/reported/median.rs.
    assert!(close(&v[0]["mean"], 5.3313058777162681, 1e-12));
    assert!(close(&v[2]["sd"], 2.5551712718041948, 1e-12));
    let Run { stderr: err, .. } = evident(["recompute", f.to_str().unwrap()]);
    assert!(
        err.contains("Skewed") && err.contains("skewed distribution"),
        "{err}"
    );
}

#[test]
fn check_catches_inconsistent_rows_only() {
    let f = data("check.csv");
    let v = json(&["check", f.to_str().unwrap(), "--json"]);
    let verdict = |i: usize| v[i]["verdict"].as_str().unwrap().to_string();
    for i in [0, 1, 2, 3, 8] {
        assert_eq!(verdict(i), "consistent", "row {i}: {}", v[i]);
    }
    // OR 1.90 (1.10-2.60), p = 0.20
    assert_eq!(verdict(4), "decision_error");
    assert!(v[4]["reasons"].to_string().contains("geometric centre"));
    let pr = v[4]["p_range"].as_array().unwrap();
    assert!(pr[1].as_f64().unwrap() < 0.05);
    assert_eq!(verdict(5), "inconsistent");
    assert_eq!(verdict(6), "inconsistent");
    assert!(v[6]["reasons"].to_string().contains("reversed"));
    assert_eq!(verdict(7), "inconsistent");
    assert!(v[7]["reasons"].to_string().contains("outside its CI"));
    // The walkthrough's typos (docs/reported.md): OR 2.15 (1.15-4.20); and p = 0.16 for 1.15-4.02.
    let t = json(&["check", data("typo.csv").to_str().unwrap(), "--json"]);
    assert_eq!(t[0]["verdict"], "inconsistent");
    assert_eq!(t[1]["verdict"], "decision_error");
    let Run {
        ok, stdout: out, ..
    } = evident(["check", f.to_str().unwrap()]);
    assert!(ok);
    assert!(out.starts_with("study,verdict,reasons,estimate_min,estimate_max,p_min,p_max"));
}

#[test]
fn combine_als_p_values() {
    let f = data("als_p.csv");
    // R: p <- c(0.2, 0.2, 0.004, 0.031); pchisq(-2 * sum(log(p)), 8, lower.tail = FALSE)
    //    = 0.0019418326142089312
    let v = json(&[
        "combine",
        f.to_str().unwrap(),
        "--method",
        "fisher",
        "--json",
    ]);
    assert!(close(&v["pval"], 0.0019418326142089312, 1e-10));
    assert_eq!(v["df"], 8.0);
    assert_eq!(v["k"], 4);
    // Two-sided with direction +: p/2, weighted by the n column. R: p1 <- p / 2; w <- c(31, 31, 31, 18);
    //   pnorm(sum(w * qnorm(1 - p1)) / sqrt(sum(w^2)), lower.tail = FALSE) = 0.00012404377102993321
    let v = json(&[
        "combine",
        f.to_str().unwrap(),
        "--method",
        "stouffer",
        "--weights",
        "n",
        "--two-sided",
        "--json",
    ]);
    assert!(close(&v["pval"], 0.00012404377102993321, 1e-9));
    let Run {
        ok, stderr: err, ..
    } = evident(["combine", f.to_str().unwrap(), "--method", "magic"]);
    assert!(!ok && err.contains("unknown method"));
}

#[test]
fn bad_input_gives_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let cases = [
        (
            "study,measure,estimate,ci_lb,ci_ub\nA,OR,5,1,3\n",
            "outside its CI",
        ),
        (
            "study,measure,estimate,ci_lb,ci_ub,level\nA,OR,2,1,3,100\n",
            "a percentage in (1, 100) or a proportion in (0, 1)",
        ),
        (
            "study,measure,estimate,pval\nA,OR,2,1.5\n",
            "between 0 and 1",
        ),
        ("study,measure,estimate,se\nA,MD,2,-0.3\n", "non-negative"),
        (
            "study,measure,estimate,pval\nA,OR,2,p<<.05\n",
            "cannot read the p-value",
        ),
        ("study,estimate,ci_lb,ci_ub\nA,2,1,3\n", "no measure"),
    ];
    for (text, want) in cases {
        let p = write("bad.csv", text);
        let Run {
            ok, stderr: err, ..
        } = evident(["recompute", p.to_str().unwrap()]);
        assert!(!ok, "{text}");
        assert!(
            err.contains(want) && err.contains("line 2"),
            "{text}: {err}"
        );
    }
}

#[test]
fn mixed_table_pools() {
    let f = data("mixed.csv");
    let table = Table::from_path(&f, &CsvOptions::default()).unwrap();
    let (set, rows, omitted) = to_effects(&table, None).unwrap();
    assert_eq!(set.k(), 3);
    assert_eq!(set.measure, evident::Measure::OR);
    assert_eq!(
        rows.iter().map(|r| r.rule).collect::<Vec<_>>(),
        [
            Rule::CountsOrWoolf,
            Rule::EstimateCi,
            Rule::EstimateP,
            Rule::EstimatePBound,
            Rule::POnly
        ]
    );
    assert_eq!(omitted.len(), 2);
    // R: yi <- c(1.1727202608218317, log(2.82), log(2.15));
    //    vi <- c(0.29120879120879117, ((log(4.22)-log(1.89))/(2*qnorm(.975)))^2,
    //            (log(2.15)/qnorm(1-0.043/2))^2)
    //    rma(yi, vi, method="DL")$beta = 0.99499810828909585
    let fit = rma(
        &set,
        &RmaOptions {
            method: Method::DL,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        (fit.estimate - 0.99499810828909585).abs() < 1e-9,
        "{}",
        fit.estimate
    );
}

#[test]
fn pool_reported_mixed_file() {
    let f = data("mixed.csv");
    // Same R reference as mixed_table_pools: rma(yi, vi, method = "DL")$beta = 0.99499810828909585
    let v = json(&[
        "pool",
        f.to_str().unwrap(),
        "--reported",
        "--method",
        "DL",
        "--preset",
        "metafor",
        "--json",
    ]);
    assert!(close(&v["estimate"], 0.99499810828909585, 1e-9), "{v}");
    assert_eq!(v["k"], 3);
    // With --include-p-bounds the "<0.001" row enters at SE = |log 3.54| / qnorm(1 - 0.0005).
    // R: yi <- c(1.1727202608218317, log(2.82), log(2.15), log(3.54));
    //    vi <- c(0.29120879120879117, ((log(4.22)-log(1.89))/(2*qnorm(.975)))^2,
    //            (log(2.15)/qnorm(1-0.043/2))^2, (log(3.54)/qnorm(1-0.0005))^2)
    //    rma(yi, vi, method="DL")$beta = 1.0394591687125989
    let v = json(&[
        "pool",
        f.to_str().unwrap(),
        "--reported",
        "--include-p-bounds",
        "--method",
        "DL",
        "--preset",
        "metafor",
        "--json",
    ]);
    assert_eq!(v["k"], 4);
    assert!(close(&v["estimate"], 1.0394591687125989, 1e-9), "{v}");
    let Run {
        ok, stderr: err, ..
    } = evident(["pool", f.to_str().unwrap(), "--reported", "--method", "MH"]);
    assert!(!ok && err.contains("Mantel"), "{err}");
}

#[test]
fn curated_lupus_files_check_consistent() {
    // Every reported OR of the lupus seed, as curated in data/ (quotes checked against the seed).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if !(name.starts_with("lupus_") && name.ends_with(".csv")) {
            continue;
        }
        let v = json(&["check", p.to_str().unwrap(), "--json"]);
        for row in v.as_array().unwrap() {
            assert_eq!(row["verdict"], "consistent", "{name}: {row}");
            n += 1;
        }
    }
    assert_eq!(n, 7, "the seed reports seven adjusted ORs");
}

/// `pool --reported` reads the file as `--delimiter`, `--decimal` and `--col` say (it used to
/// read it with default CSV options whatever was given) and refuses the escalc options and
/// `--scale`, which cannot apply to reported rows, rather than ignoring them.
#[test]
fn pool_reported_honours_reading_options() {
    let dir = tempfile::tempdir().unwrap();
    let comma = std::fs::read_to_string(data("mixed.csv")).unwrap();
    let pool = |file: &Path, extra: &[&str]| {
        let mut a = vec![
            "pool",
            file.to_str().unwrap(),
            "--reported",
            "--method",
            "DL",
        ];
        a.extend_from_slice(extra);
        a.push("--json");
        let r = evident(&a);
        (r.ok, r.stdout, r.stderr)
    };
    let (ok, reference, err) = pool(&data("mixed.csv"), &[]);
    assert!(ok, "{err}");
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // Semicolons and decimal commas, detected or given.
    let semi = write(
        "semi.csv",
        comma
            .replace(',', ";")
            .replace("2.82", "2,82")
            .replace("1.89", "1,89"),
    );
    for extra in [&[][..], &["--delimiter", ";", "--decimal", ","][..]] {
        let (ok, out, err) = pool(&semi, extra);
        assert!(ok && out == reference, "{extra:?}: {err}\n{out}");
    }
    // Tabs with decimal commas: only --decimal tells.
    let tabs = write(
        "tabs.tsv",
        comma
            .replace(',', "\t")
            .replace("4.22", "4,22")
            .replace("2.15", "2,15"),
    );
    let (ok, _, err) = pool(&tabs, &[]);
    assert!(!ok && err.contains("expected a number"), "{err}");
    let (ok, out, err) = pool(&tabs, &["--decimal", ","]);
    assert!(ok && out == reference, "{err}\n{out}");
    // A delimiter that is not detected.
    let pipes = write("pipes.txt", comma.replace(',', "|"));
    let (ok, out, err) = pool(&pipes, &["--delimiter", "|"]);
    assert!(ok && out == reference, "{err}\n{out}");
    // Column mappings.
    let renamed = write(
        "renamed.csv",
        comma.replacen("estimate,ci_lb,ci_ub", "est,lower,upper", 1),
    );
    let maps = [
        "--col",
        "estimate=est",
        "--col",
        "ci_lb=lower",
        "--col",
        "ci_ub=upper",
    ];
    let (ok, out, err) = pool(&renamed, &maps);
    assert!(ok && out == reference, "{err}\n{out}");
    let (ok, _, err) = pool(&renamed, &["--col", "estimate=nope"]);
    assert!(
        !ok && err.contains("--col estimate=nope: the file has no column 'nope'"),
        "{err}"
    );
    let (ok, _, err) = pool(&renamed, &["--col", "bogus=est"]);
    assert!(!ok && err.contains("not a field of reported rows"), "{err}");
    // Options that cannot apply are refused, not ignored.
    for extra in [
        &["--to", "all"][..],
        &["--vtype", "UB"][..],
        &["--add", "0.1"][..],
        &["--drop00"][..],
        &["--scale", "log"][..],
    ] {
        let (ok, _, err) = pool(&data("mixed.csv"), extra);
        assert!(
            !ok && err.contains("cannot apply to --reported rows"),
            "{extra:?}: {err}"
        );
    }
}

/// Issue 14 item 7: an estimate printed with 15–16 decimals stands for an interval of ±½·10⁻ᵈ
/// computed in decimal; honest full-precision rows (tests/fixtures/check_full_precision/gen.R, Wald
/// CIs and p-values from R) are all consistent, and the shifted ones all inconsistent.
#[test]
fn check_full_precision_estimates() {
    let f =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check_full_precision/rows.csv");
    let v = json(&["check", f.to_str().unwrap(), "--json"]);
    let rows = v.as_array().unwrap();
    let text = std::fs::read_to_string(&f).unwrap();
    let expected: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(rows.len(), expected.len());
    assert!(expected.iter().filter(|e| **e == "inconsistent").count() >= 30);
    for (r, e) in rows.iter().zip(&expected) {
        assert_eq!(r["verdict"], *e, "{r}");
    }
    assert_eq!(rows[0]["study"], "issue14");
}

/// Issue 14 item 8: OR, HR and RR rows are different effects: `pool --reported`, `pool`, `forest`
/// and `report` refuse to pool them as one ratio, naming rows and measures, unless asked
/// (`--allow-mixed-ratios`, manifest `allow_mixed_ratios = true`), and then every output says so.
#[test]
fn mixed_ratio_measures_are_refused_unless_allowed() {
    let mix =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs/46_mixed_ratio_measures.csv");
    let f = mix.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("f.svg");
    let svg = svg.to_str().unwrap();
    for args in [
        vec!["pool", "--reported", f],
        vec!["pool", f],
        vec!["forest", f, "-o", svg],
    ] {
        let r = evident(&args);
        assert!(!r.ok, "{args:?}");
        for want in [
            "different ratio measures",
            "OR (line 2 'A', line 5 'D')",
            "HR (line 3 'B')",
        ] {
            assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
        }
    }
    let note = "different ratio measures (OR, HR, RR) pooled as one generic ratio";
    for args in [
        vec!["pool", "--reported", f, "--allow-mixed-ratios"],
        vec!["pool", f, "--allow-mixed-ratios"],
    ] {
        let r = evident(&args);
        assert!(r.ok && r.stdout.contains(note), "{args:?}: {}", r.stdout);
        let mut j = args.clone();
        j.push("--json");
        let v = json(&j);
        assert_eq!(
            v["mixed_ratio_measures"],
            serde_json::json!(["OR", "HR", "RR"])
        );
    }
    let r = evident(["forest", f, "-o", svg, "--allow-mixed-ratios"]);
    assert!(r.ok && r.stderr.contains(note), "{}", r.stderr);
    // A single measure, or the generic RATIO beside it, is not a mixture.
    let one = dir.path().join("one.csv");
    std::fs::write(
        &one,
        "study,measure,estimate,ci_lb,ci_ub\nA,OR,1.5,1.1,2.0\nB,ratio,1.3,1.0,1.7\n",
    )
    .unwrap();
    let r = evident(["pool", one.to_str().unwrap()]);
    assert!(r.ok && !r.stdout.contains("Note:"), "{}", r.stderr);
    // The report: refused (the analysis's error row), or allowed by the manifest and stated.
    for allow in [false, true] {
        let input = dir.path().join(format!("in{allow}"));
        std::fs::create_dir(&input).unwrap();
        std::fs::copy(&mix, input.join("mix.csv")).unwrap();
        std::fs::write(
            input.join("evident.toml"),
            format!(
                "[[analysis]]\nname = \"mix\"\nfile = \"mix.csv\"\nallow_mixed_ratios = {allow}\n"
            ),
        )
        .unwrap();
        let out = dir.path().join(format!("out{allow}"));
        let r = evident([
            "report",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        let index = std::fs::read_to_string(out.join("index.html")).unwrap();
        if allow {
            assert!(r.ok, "{}", r.stderr);
            let page = std::fs::read_to_string(out.join("mix/index.html")).unwrap();
            assert!(page.contains(&note[1..]), "the page states it");
        } else {
            assert!(!r.ok);
            assert!(index.contains("different ratio measures"), "{index}");
        }
    }
}

/// Issue 14 item 11: `combine` says which rows it left out (missing or NaN p) instead of a silently
/// smaller k; weights of any magnitude give a finite result.
#[test]
fn combine_states_rows_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.csv");
    std::fs::write(
        &f,
        "study,pval,n\nA,0.01,1e200\nB,NA,1e200\nC,NaN,3e200\nD,0.2,2e200\nE,,1\n",
    )
    .unwrap();
    let r = evident([
        "combine",
        f.to_str().unwrap(),
        "--method",
        "stouffer",
        "--weights",
        "n",
        "--json",
    ]);
    assert!(r.ok, "{}", r.stderr);
    for line in [3, 4, 6] {
        assert!(
            r.stderr
                .contains(&format!("line {line}, column 'pval': no p-value")),
            "{}",
            r.stderr
        );
    }
    assert!(r.stderr.contains("2 of 5 rows combined"), "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["k"], 2);
    assert_eq!(v["omitted_lines"], serde_json::json!([3, 4, 6]));
    assert!(v["pval"].as_f64().is_some_and(|p| p.is_finite()), "{v}");
}

/// Issue 14 item 11: a covariance that is not positive definite is an error, not NA intervals.
#[test]
fn interaction_refuses_a_covariance_that_is_not_positive_definite() {
    let r = evident([
        "interaction",
        "additive",
        "--a",
        "1.8,1.2,2.7",
        "--b",
        "1.5,1.0,2.2",
        "--ab",
        "3.5,2.3,5.3",
        "--cov",
        "0.06,0.1,0,0.1,0.07,0,0,0,0.065",
    ]);
    assert!(!r.ok);
    assert!(r.stderr.contains("not positive definite"), "{}", r.stderr);
}
