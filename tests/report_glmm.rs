//! The report's GLMM defaults (issue 18 item 4): single proportions are pooled with the
//! binomial-normal GLMM, the inverse-variance analysis shown as a sensitivity line; sparse 2×2
//! tables get UM.FS beside their pooling; `glmm = "off"` turns it off; a GLMM that cannot be
//! fitted is a note on the page. Every GLMM number on the page is `pool --glmm … --json`'s.

mod common;

use common::cli::run_ok;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh directory holding `file` (copied from the repository) and a manifest of `analysis`.
fn setup(tag: &str, file: &str, analysis: &str) -> (PathBuf, PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("evident-report-glmm-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(root().join(file), input.join("data.csv")).unwrap();
    std::fs::write(
        input.join("evident.toml"),
        format!("[[analysis]]\nname = \"a\"\nfile = \"data.csv\"\n{analysis}"),
    )
    .unwrap();
    let out = dir.join("out");
    run_ok([
        "report",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    (dir, out.join("a"))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(p: &Path) -> Value {
    serde_json::from_str(&read(p)).unwrap()
}

fn pool_glmm(file: &str, measure: &str) -> Value {
    let f = root().join(file);
    let args = [
        "pool",
        f.to_str().unwrap(),
        "--glmm",
        "UM.FS",
        "--measure",
        measure,
    ];
    let run = run_ok(args.into_iter().chain(["--method", "ML", "--json"]));
    serde_json::from_str(&run.stdout).unwrap()
}

/// The GLMM keys the page shows are the command line's, to the bit.
fn same_glmm(page: &Value, cli: &Value) {
    for key in [
        "estimate", "se", "ci_lb", "ci_ub", "tau2", "QE_Wld", "QE_LRT", "k",
    ] {
        assert_eq!(page["glmm"][key], cli[key], "{key}");
    }
}

#[test]
fn proportions_are_pooled_with_the_binomial_normal_glmm() {
    let file = "data/pilots_completion.csv";
    let (dir, a) = setup("prop", file, "measure = \"PLO\"\n");
    let results = json(&a.join("results.json"));
    let cli = pool_glmm(file, "PLO");
    same_glmm(&results, &cli);
    assert_eq!(results["glmm_role"], "primary");
    let est = format!("{:.2}", cli["estimate_ilogit"].as_f64().unwrap());
    let md = read(&a.join("summary.md"));
    assert!(
        md.contains(&format!("| **Pooled (binomial-normal GLMM)** | **{est} [")),
        "{md}"
    );
    // The inverse-variance pooled row stays, as the sensitivity line, with the rma estimate.
    let iv = format!("{:.2}", results["estimate_ilogit"].as_f64().unwrap());
    assert!(
        md.contains(&format!("| **Sensitivity: inverse variance** | **{iv} [")),
        "{md}"
    );
    assert!(md.contains(&format!("from the binomial-normal GLMM was {est} (")));
    assert!(md.contains("Sensitivity analysis with inverse-variance pooling: across 3 studies"));
    assert!(md.contains("(Stijnen et al. 2010; Schwarzer et al. 2019)"));
    let html = read(&a.join("index.html"));
    assert!(html.contains("Generalized linear mixed model (binomial-normal GLMM)"));
    assert!(html.contains("Stijnen T, Hamza TH, Özdemir P (2010)"));
    let svg = read(&a.join("forest.svg"));
    // The GLMM is the first, overall diamond; the inverse-variance model's row follows.
    let texts = common::svg::text_content(&svg);
    let at = |t: &str| {
        texts
            .iter()
            .position(|x| x == t)
            .unwrap_or_else(|| panic!("{t}: {texts:?}"))
    };
    assert!(at("Binomial-normal GLMM (ML)") < at("Sensitivity: random-effects model (REML)"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sparse_tables_show_mantel_haenszel_and_the_glmm() {
    let file = "tests/conformance/cases/li2007_zero_cells/input.csv";
    let (dir, a) = setup("sparse", file, "measure = \"OR\"\nmethod = \"MH\"\n");
    let results = json(&a.join("results.json"));
    same_glmm(&results, &pool_glmm(file, "OR"));
    assert_eq!(results["glmm_role"], "sensitivity");
    assert_eq!(results["method"], "MH");
    let md = read(&a.join("summary.md"));
    assert!(md.contains("| **Pooled (Mantel–Haenszel"), "{md}");
    assert!(md.contains("| Sensitivity: GLMM (UM.FS) | "), "{md}");
    assert!(md.contains("In the sensitivity analysis with the GLMM (UM.FS)"));
    assert!(md.contains("a generalized linear mixed model for the odds ratio (UM.FS"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn glmm_off_leaves_the_inverse_variance_analysis_alone() {
    let (dir, a) = setup(
        "off",
        "data/pilots_completion.csv",
        "measure = \"PLO\"\nglmm = \"off\"\n",
    );
    let results = json(&a.join("results.json"));
    assert!(results.get("glmm").is_none());
    assert!(!read(&a.join("summary.md")).contains("GLMM"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_glmm_that_cannot_be_fitted_is_a_note_not_a_failure() {
    let (dir, a) = setup("k1", "data/als_responders.csv", "measure = \"PLO\"\n");
    let results = json(&a.join("results.json"));
    assert!(results["glmm"]["error"]
        .as_str()
        .unwrap()
        .contains("not fitted"));
    let md = read(&a.join("summary.md"));
    assert!(
        md.contains("**Caution.** The binomial-normal GLMM was not fitted"),
        "{md}"
    );
    // The single study's row and Results give x/n with its Clopper–Pearson interval.
    assert!(
        md.contains("Single study: proportion 0.00 (95% CI 0.00 to 0.11)"),
        "{md}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_manifest_chooses_the_study_intervals() {
    let (dir, a) = setup(
        "wilson",
        "data/pilots_completion.csv",
        "measure = \"PLO\"\nstudy_ci = \"wilson\"\n",
    );
    let results = json(&a.join("results.json"));
    assert_eq!(results["studies"]["ci_method"], "wilson");
    // prop.test(correct = FALSE)'s bounds (tests/fixtures/exact_ci/make.R) for 20/25, 8/10, 18/31.
    let e = json(&root().join("tests/fixtures/exact_ci/expected.json"));
    for (i, (x, n)) in [(20.0, 25.0), (8.0, 10.0), (18.0, 31.0)]
        .into_iter()
        .enumerate()
    {
        let c = e["proportions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["x"] == x && c["n"] == n)
            .unwrap();
        for (key, j) in [("ci_lb", 0), ("ci_ub", 1)] {
            let (got, want) = (
                results["studies"][key][i].as_f64().unwrap(),
                c["wilson"][j].as_f64().unwrap(),
            );
            assert!(
                (got - want).abs() <= 1e-10 * want,
                "{key} {x}/{n}: {got} vs {want}"
            );
        }
    }
    let md = read(&a.join("summary.md"));
    assert!(
        md.contains("Wilson score confidence interval (Wilson 1927)"),
        "{md}"
    );
    assert!(read(&a.join("index.html")).contains("Wilson EB (1927)"));
    std::fs::remove_dir_all(&dir).ok();
}
