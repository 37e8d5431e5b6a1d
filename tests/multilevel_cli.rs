//! `evident pool --random`: the multilevel model end to end, its JSON against the conformance
//! corpus (konstantopoulos2011, metafor's rma.mv), and the refusals of bad input.

mod common;

use common::cli::evident;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn case_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/cases")
        .join(name)
}

/// The expected block of analysis `id` of a corpus case.
fn expected(case: &str, id: &str) -> Value {
    let text = std::fs::read_to_string(case_dir(case).join("expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["analyses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("no analysis {id}"))["expected"]
        .clone()
}

/// Runs `pool` on a case's input with `args` and compares its JSON with analysis `id`.
fn matches_corpus(case: &str, id: &str, args: &[&str]) {
    let input = case_dir(case).join("input.csv");
    let mut all = vec!["pool".to_string(), input.display().to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    all.push("--json".into());
    let run = evident(&all);
    assert!(run.ok, "{}", run.stderr);
    let got: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut misses = Vec::new();
    let mut want = expected(case, id);
    // Profile CIs are not part of the default output.
    if let Some(o) = want.as_object_mut() {
        o.retain(|k, _| !k.starts_with("sigma2_ci"));
    }
    common::multilevel::compare_fit(&format!("{case} / {id}"), &want, &got, &mut misses);
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

const K11: &str = "konstantopoulos2011_mv_threelevel";

#[test]
fn three_level_reml_z() {
    matches_corpus(
        K11,
        "mv_REML_z",
        &[
            "--random",
            "~ 1 | district/school",
            "--method",
            "REML",
            "--test",
            "z",
        ],
    );
}

#[test]
fn three_level_ml_t_contain() {
    matches_corpus(
        K11,
        "mv_ML_t_contain",
        &[
            "--random",
            "~ 1 | district/school",
            "--method",
            "ML",
            "--test",
            "t",
            "--dfs",
            "contain",
        ],
    );
}

#[test]
fn three_level_with_moderator_t_contain() {
    matches_corpus(
        K11,
        "mv_year_REML_t_contain",
        &[
            "--random",
            "~ 1 | district/school",
            "--mods",
            "~ year",
            "--method",
            "REML",
            "--test",
            "t",
            "--dfs",
            "contain",
        ],
    );
}

#[test]
fn che_working_model_from_rho_cluster_obs() {
    matches_corpus(
        "assink2016_mv_threelevel",
        "mv_CHE_REML_z",
        &[
            "--random",
            "~ 1 | study_id/esid",
            "--rho",
            "0.6",
            "--cluster",
            "study_id",
            "--obs",
            "esid",
        ],
    );
}

#[test]
fn text_output_has_the_variance_components() {
    let input = case_dir(K11).join("input.csv");
    let run = evident([
        "pool",
        input.to_str().unwrap(),
        "--random",
        "~ 1 | district/school",
    ]);
    assert!(run.ok, "{}", run.stderr);
    for want in [
        "estim",
        "sqrt",
        "nlvls",
        "district/school",
        "0.0651",
        "intrcpt",
    ] {
        assert!(run.stdout.contains(want), "no {want} in\n{}", run.stdout);
    }
}

/// Runs `pool --random` on a CSV written to a temporary file; returns the failure message.
fn refused(csv: &str, args: &[&str]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("data.csv");
    std::fs::write(&path, csv).unwrap();
    let mut all = vec!["pool".to_string(), path.display().to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    let run = evident(&all);
    assert!(!run.ok, "expected a refusal, got\n{}", run.stdout);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run.stderr
}

const CSV: &str = "study,yi,vi,cl,es,b1,b2\n\
                   a,0.1,0.02,1,1,0.02,0.01\n\
                   b,0.3,0.03,1,2,0.01,0.03\n\
                   c,0.2,0.04,2,1,0.04,0.05\n\
                   d,0.5,0.02,2,2,0.05,0.02\n\
                   e,0.4,0.05,3,1,0.05,\n";

#[test]
fn missing_grouping_column_is_named() {
    let e = refused(CSV, &["--random", "~ 1 | nosuch"]);
    assert!(e.contains("nosuch"), "{e}");
    let e = refused(
        CSV,
        &[
            "--random",
            "~ 1 | cl",
            "--rho",
            "0.5",
            "--cluster",
            "nope",
            "--obs",
            "es",
        ],
    );
    assert!(e.contains("nope"), "{e}");
}

#[test]
fn empty_grouping_cell_names_column_and_line() {
    let csv = CSV.replace("c,0.2,0.04,2,1", "c,0.2,0.04,,1");
    let e = refused(&csv, &["--random", "~ 1 | cl/es"]);
    assert!(e.contains("'cl'") && e.contains("line 4"), "{e}");
}

#[test]
fn v_block_not_positive_definite_names_the_cluster() {
    let e = refused(
        CSV,
        &[
            "--random",
            "~ 1 | cl",
            "--V-block",
            "b1,b2",
            "--cluster",
            "cl",
        ],
    );
    assert!(
        e.contains("cluster cl = 2") && e.contains("positive definite"),
        "{e}"
    );
}

#[test]
fn components_the_levels_cannot_tell_apart() {
    let csv =
        "study,yi,vi,cl,same\na,0.1,0.02,1,x\nb,0.3,0.03,1,x\nc,0.2,0.04,2,y\nd,0.5,0.02,2,y\n";
    let e = refused(csv, &["--random", "~ 1 | cl", "--random", "~ 1 | same"]);
    assert!(e.contains("cannot be told apart"), "{e}");
}

#[test]
fn three_level_cluster_robust_cr2_and_cr1_with_moderator() {
    let random = ["--random", "~ 1 | district/school", "--method", "REML"];
    let cr2 = [&random[..], &["--robust", "CR2", "--cluster", "district"]].concat();
    matches_corpus(K11, "robust_CR2_REML", &cr2);
    let cr1 = [
        &random[..],
        &[
            "--mods",
            "~ year",
            "--robust",
            "CR1",
            "--cluster",
            "district",
        ],
    ]
    .concat();
    matches_corpus(K11, "robust_CR1_year_REML", &cr1);
}

#[test]
fn three_level_cluster_robust_text_follows_the_model() {
    let input = case_dir(K11).join("input.csv");
    let input = input.display().to_string();
    let run = evident([
        "pool",
        &input,
        "--random",
        "~ 1 | district/school",
        "--robust",
        "CR2",
        "--cluster",
        "district",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let (model, robust) = (run.stdout.find("district/school"), run.stdout.find("CR2"));
    assert!(
        model.is_some() && robust.is_some() && model < robust,
        "{}",
        run.stdout
    );
}

#[test]
fn robust_needs_more_clusters_than_coefficients() {
    let e = refused(
        CSV,
        &[
            "--random",
            "~ 1 | cl",
            "--mods",
            "~ es + b1",
            "--robust",
            "CR1",
            "--cluster",
            "cl",
        ],
    );
    assert!(e.contains("more clusters than coefficients"), "{e}");
}

#[test]
fn bad_structures_are_refused() {
    let e = refused(CSV, &["--random", "~ 1 | cl", "--struct", "CS"]);
    assert!(e.contains("'~ inner | outer'"), "{e}");
    let e = refused(CSV, &["--random", "~ es | cl", "--struct", "XYZ"]);
    assert!(e.contains("XYZ"), "{e}");
}

fn fixture(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
}

/// Profile-likelihood CIs of sigma2, tau2 and rho against metafor's `confint(res,
/// control = list(tol = 1e-10))` (tests/fixtures/mv_profile/gen.R): the bounds to the corpus's
/// `_precise` rule, the estimates and log-likelihood to its default rule, the signs exactly.
#[test]
fn profile_cis_match_metafor_confint() {
    use evident::multilevel::{confint_all, rma_mv};
    let dir = fixture("mv_profile");
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    let mut misses = Vec::new();
    let analyses = all["analyses"].as_array().unwrap();
    assert_eq!(analyses.len(), 7);
    for a in analyses {
        let id = a["id"].as_str().unwrap();
        let studies = evident::read_studies(
            &dir.join(a["csv"].as_str().unwrap()),
            &evident::CsvOptions::default(),
            &evident::ColumnMap::new(),
        )
        .unwrap();
        let fit = rma_mv(&studies, &common::multilevel::mv_options(&a["options"])).unwrap();
        let cis = confint_all(&fit, 1e-10).unwrap();
        let got = evident::render::json::mv_json(&fit, &cis);
        for (key, want) in a["expected"].as_object().unwrap() {
            let tol = if key.contains("_ci_") {
                common::tol::PRECISE
            } else {
                common::tol::MV_DEFAULT
            };
            let want: Vec<Value> = match want {
                Value::Array(v) => v.clone(),
                v => vec![v.clone()],
            };
            let got: Vec<Value> = match &got[key] {
                Value::Array(v) => v.clone(),
                v => vec![v.clone()],
            };
            let ok = want.len() == got.len()
                && want
                    .iter()
                    .zip(&got)
                    .all(|(w, g)| match (w.as_f64(), g.as_f64()) {
                        (Some(w), Some(g)) => (g - w).abs() <= tol.atol + tol.rtol * w.abs(),
                        _ => w == g,
                    });
            if !ok {
                misses.push(format!("{id} / {key}: metafor {want:?}, got {got:?}"));
            }
        }
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

/// `--tau2-ci pl` on a `--random` fit: tau2 and rho CIs in the JSON at metafor's default root
/// tolerance (compared with its default bounds), and the confint layout in the text.
#[test]
fn tau2_ci_pl_profiles_a_structured_fit() {
    let (case, id) = (K11, "mv_CS_REML_z");
    let input = case_dir(case).join("input.csv");
    let args = ["--random", "~ school | district", "--struct", "CS"];
    let mut all = vec!["pool", input.to_str().unwrap()];
    all.extend(args);
    all.extend(["--tau2-ci", "pl", "--json"]);
    let run = evident(&all);
    assert!(run.ok, "{}", run.stderr);
    let got: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut want = expected(case, id);
    if let Some(o) = want.as_object_mut() {
        o.retain(|k, _| !k.ends_with("_precise"));
    }
    assert!(want.get("rho_ci_lb").is_some());
    let mut misses = Vec::new();
    common::multilevel::compare_fit(&format!("{case} / {id}"), &want, &got, &mut misses);
    assert!(misses.is_empty(), "{}", misses.join("\n"));
    all.pop();
    let run = evident(&all);
    assert!(run.ok, "{}", run.stderr);
    for want in [
        "estimate  ci.lb  ci.ub",
        "tau^2   0.0978 0.0528 0.2398",
        "rho   0.6653 0.3282 0.8855",
    ] {
        assert!(run.stdout.contains(want), "no {want:?} in\n{}", run.stdout);
    }
    // --show-r prints metafor's call for them, with --tol as its root tolerance.
    all.push("--show-r");
    let run = evident(&all);
    assert!(run.stdout.contains("\nconfint(res)\n"), "{}", run.stdout);
    all.extend(["--tol", "1e-10"]);
    let run = evident(&all);
    let want = "confint(res, control = list(tol = 0.0000000001))";
    assert!(run.stdout.contains(want), "{}", run.stdout);
}

/// The lines of `text` from "outer factor:" up to the blank line before the heterogeneity
/// test, trailing spaces removed.
fn g_block(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("outer factor:"))
        .unwrap();
    let end = lines
        .iter()
        .position(|l| l.starts_with("Test for"))
        .unwrap();
    lines[start..end - 1]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

/// The variance components of `--struct` fits laid out as metafor's print.rma.mv
/// (tests/fixtures/mv_print/gen.R): factors, tau2 rows with k.lvl/fixed/level, rho.
#[test]
fn struct_summary_matches_metafor_print() {
    let berkey = [
        "--mods",
        "~ outcome - 1",
        "--random",
        "~ outcome | trial",
        "--V-block",
        "v1i,v2i",
        "--cluster",
        "trial",
        "--struct",
    ];
    let ishak = [
        "--mods",
        "~ factor(time) - 1",
        "--random",
        "~ time | study_id",
        "--V-block",
        "V1,V2,V3,V4",
        "--cluster",
        "study_id",
        "--struct",
    ];
    let k11 = ["--random", "~ school | district", "--struct"];
    let (b, i) = ("berkey1998_mv_multivariate", "ishak2007_mv_longitudinal");
    let runs = [
        ("k_CS", K11, &k11[..], "CS"),
        ("b_HCS", b, &berkey[..], "HCS"),
        ("b_UN", b, &berkey[..], "UN"),
        ("b_DIAG", b, &berkey[..], "DIAG"),
        ("i_AR", i, &ishak[..], "AR"),
        ("i_HAR", i, &ishak[..], "HAR"),
    ];
    for (id, case, args, structure) in runs {
        let input = case_dir(case).join("input.csv");
        let mut all = vec!["pool", input.to_str().unwrap()];
        all.extend(args);
        all.push(structure);
        let run = evident(&all);
        assert!(run.ok, "{id}: {}", run.stderr);
        let r = std::fs::read_to_string(fixture("mv_print").join(format!("{id}.txt"))).unwrap();
        assert_eq!(g_block(&run.stdout), g_block(&r), "{id}:\n{}", run.stdout);
    }
}

/// `evident anova --random`: the likelihood-ratio test of two rma.mv fits against metafor's
/// `anova(full, reduced)` (tests/fixtures/mv_anova/gen.R), to the corpus's default rule.
#[test]
fn anova_of_multilevel_fits_matches_metafor() {
    let text = std::fs::read_to_string(fixture("mv_anova").join("expected.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    let k11 = case_dir(K11).join("input.csv");
    let berkey = case_dir("berkey1998_mv_multivariate").join("input.csv");
    let (k11, berkey) = (k11.to_str().unwrap(), berkey.to_str().unwrap());
    let runs: [(&str, Vec<&str>); 3] = [
        (
            "three_vs_two_levels_REML",
            vec![
                k11,
                "--random",
                "~ 1 | district/school",
                "--reduced-random",
                "~ 1 | district",
                "--method",
                "REML",
            ],
        ),
        (
            "year_ML",
            vec![k11, "--random", "~ 1 | district/school", "--mods", "~ year"],
        ),
        (
            "UN_vs_CS_REML",
            vec![
                berkey,
                "--random",
                "~ outcome | trial",
                "--struct",
                "UN",
                "--reduced-struct",
                "CS",
                "--mods",
                "~ outcome - 1",
                "--reduced",
                "~ outcome - 1",
                "--V-block",
                "v1i,v2i",
                "--cluster",
                "trial",
                "--method",
                "REML",
            ],
        ),
    ];
    let mut misses = Vec::new();
    for (id, args) in runs {
        let mut all_args = vec!["anova"];
        all_args.extend(args);
        all_args.push("--json");
        let run = evident(&all_args);
        assert!(run.ok, "{id}: {}", run.stderr);
        let got: Value = serde_json::from_str(&run.stdout).unwrap();
        let want = all["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap();
        common::multilevel::compare_fit(id, &want["expected"], &got, &mut misses);
        all_args.pop();
        let text = evident(&all_args);
        assert!(
            text.ok && text.stdout.contains("LRT ="),
            "{id}: {}",
            text.stdout
        );
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
    // metafor warns that REML fits with different fixed effects are not comparable: refused.
    assert!(all["reml_different_fixed_effects_warning"]
        .as_str()
        .unwrap()
        .contains("REML comparisons not meaningful"));
    let run = evident([
        "anova",
        k11,
        "--random",
        "~ 1 | district/school",
        "--mods",
        "~ year",
        "--method",
        "REML",
    ]);
    assert!(
        !run.ok
            && run
                .stderr
                .contains("REML likelihoods of models with different fixed effects"),
        "{}",
        run.stderr
    );
}

/// A negative working correlation reads as a value after `--rho` (`--rho -0.01`), the same fit
/// as `--rho=-0.01`, not as an unknown flag.
#[test]
fn a_negative_rho_is_a_value() {
    let input = case_dir("assink2016_mv_threelevel").join("input.csv");
    let run = |rho: &[&str]| {
        let mut args = vec![
            "pool",
            input.to_str().unwrap(),
            "--random",
            "~ 1 | study_id/esid",
            "--cluster",
            "study_id",
            "--obs",
            "esid",
            "--json",
        ];
        args.extend_from_slice(rho);
        let r = evident(args);
        assert!(r.ok, "{rho:?}: {}", r.stderr);
        r.stdout
    };
    assert_eq!(run(&["--rho", "-0.01"]), run(&["--rho=-0.01"]));
    assert_ne!(run(&["--rho", "-0.01"]), run(&["--rho", "0.01"]));
}
