//! Issue 16 item 10: `evident report` runs every `pool` option its manifest accepts, and each
//! analysis's results files carry what `evident pool --json` gives for the equivalent flags (the
//! same library calls: `app::pool`), with the page showing those numbers. Bad values still stop
//! the run at their manifest line and key.

mod common;

use common::cli::{evident, Run};
use serde_json::Value;
use std::path::{Path, PathBuf};

const BCG: &str = include_str!("conformance/cases/bcg_or/input.csv");

/// A directory holding `files` and the manifest `toml`, reported into its `out` directory.
struct Report {
    dir: tempfile::TempDir,
}

impl Report {
    fn run(toml: &str, files: &[(&str, &str)]) -> Report {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        std::fs::write(dir.path().join("evident.toml"), toml).unwrap();
        let out = dir.path().join("out");
        let Run {
            code,
            stdout,
            stderr,
            ..
        } = evident([
            "report",
            dir.path().to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        Report { dir }
    }

    fn file(&self, analysis: &str, name: &str) -> PathBuf {
        self.dir.path().join("out").join(analysis).join(name)
    }

    fn json(&self, analysis: &str, name: &str) -> Value {
        let p = self.file(analysis, name);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        serde_json::from_str(&text).unwrap()
    }

    fn page(&self, analysis: &str) -> String {
        std::fs::read_to_string(self.file(analysis, "index.html")).unwrap()
    }

    fn data(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }
}

/// `evident pool FILE --json ARGS`.
fn pool_json(file: &str, args: &[&str]) -> Value {
    let mut all = vec!["pool", file, "--json"];
    all.extend_from_slice(args);
    let Run {
        code,
        stdout,
        stderr,
        ..
    } = evident(&all);
    assert_eq!(code, Some(0), "{all:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// A number as the page prints it with `d` decimals (Unicode minus).
fn shown(x: &Value, d: usize) -> String {
    let s = format!("{:.d$}", x.as_f64().unwrap());
    s.replacen('-', "\u{2212}", 1)
}

/// The same keys and values (every digit: the page's numbers come from the same calls).
fn same(report: &Value, pool: &Value, what: &str) {
    assert_eq!(
        report, pool,
        "{what}: the report's JSON differs from pool --json"
    );
}

#[test]
fn meta_regression_options_match_pool() {
    let r = Report::run(
        r#"
[[analysis]]
name = "mr"
file = "bcg.csv"
measure = "RR"
mods = ["ablat", "factor(alloc)"]
reference = ["alloc=systematic"]
test_coefs = ["alloc"]
predict = ["30, 0, 1", [50, 1, 0]]
permutations = 60
seed = 11
tau2_ci = "pl"
"#,
        &[("bcg.csv", BCG)],
    );
    let bcg = r.data("bcg.csv");
    let args = [
        "--measure",
        "RR",
        "--mods",
        "ablat + factor(alloc)",
        "--reference",
        "alloc=systematic",
        "--test-coefs",
        "alloc",
        "--predict",
        "30,0,1",
        "--predict",
        "50,1,0",
        "--permutations",
        "60",
        "--seed",
        "11",
        "--tau2-ci",
        "pl",
    ];
    let p = pool_json(&bcg, &args);
    same(&r.json("mr", "metareg.json"), &p, "mods");
    for key in ["predictions", "wald_tests", "permutation", "tau2_ci_lb"] {
        assert!(p.get(key).is_some(), "pool --json has no {key}: {p}");
    }
    // The reference level is systematic: its dummy is gone, random's and alternate's shown.
    let names: Vec<&str> = p["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with("systematic")),
        "{names:?}"
    );
    let page = r.page("mr");
    for pred in p["predictions"].as_array().unwrap() {
        assert!(page.contains(&shown(&pred["pred"], 4)), "{pred}");
    }
    let wald = &p["wald_tests"][0];
    assert!(page.contains(&shown(&wald["QM"], 4)), "{wald}");
    assert!(page.contains("Permutation test") && page.contains("Higgins &amp; Thompson 2004"));
    assert!(page.contains("profile likelihood (Hardy &amp; Thompson 1996"));
}

#[test]
fn pooled_permutations_and_tau2_ci_match_pool() {
    let r = Report::run(
        r#"
[[analysis]]
name = "perm"
file = "bcg.csv"
permutations = 200
seed = 5
tau2_ci = "pl"
"#,
        &[("bcg.csv", BCG)],
    );
    let p = pool_json(
        &r.data("bcg.csv"),
        &["--permutations", "200", "--seed", "5", "--tau2-ci", "pl"],
    );
    same(&r.json("perm", "results.json"), &p, "permutations");
    assert!(p["permutation"].is_object(), "{p}");
    let page = r.page("perm");
    assert!(
        page.contains("sign flips"),
        "the intercept-only test flips signs"
    );
    assert!(page.contains("200 random permutations (seed 5)"));
}

#[test]
fn cluster_robust_cr1_and_cr2_match_pool() {
    let r = Report::run(
        r#"
[[analysis]]
name = "cr1"
file = "bcg.csv"
robust = "CR1"
cluster = "alloc"
[[analysis]]
name = "cr2"
file = "bcg.csv"
mods = ["ablat"]
robust = "CR2"
cluster = "alloc"
"#,
        &[("bcg.csv", BCG)],
    );
    let bcg = r.data("bcg.csv");
    let p1 = pool_json(&bcg, &["--robust", "CR1", "--cluster", "alloc"]);
    same(&r.json("cr1", "results.json"), &p1, "CR1");
    let p2 = pool_json(
        &bcg,
        &["--mods", "ablat", "--robust", "CR2", "--cluster", "alloc"],
    );
    same(&r.json("cr2", "metareg.json"), &p2, "CR2");
    for (name, p, cite) in [
        ("cr1", &p1, "Hedges, Tipton &amp; Johnson 2010"),
        ("cr2", &p2, "Pustejovsky &amp; Tipton 2018"),
    ] {
        let page = r.page(name);
        for c in p["robust"]["coefficients"].as_array().unwrap() {
            assert!(page.contains(&shown(&c["se"], 4)), "{name}: {c}");
            assert!(page.contains(&shown(&c["df"], 2)), "{name}: {c}");
        }
        assert!(page.contains(cite), "{name} cites {cite}");
        assert!(page.contains("Journal of Business") == (name == "cr2"));
    }
}

#[test]
fn subgroups_with_common_tau2_and_permutations_match_pool() {
    let r = Report::run(
        r#"
[[analysis]]
name = "sg"
file = "bcg.csv"
by = "alloc"
common_tau2 = true
permutations = 40
"#,
        &[("bcg.csv", BCG)],
    );
    let p = pool_json(
        &r.data("bcg.csv"),
        &["--by", "alloc", "--common-tau2", "--permutations", "40"],
    );
    same(&r.json("sg", "subgroup.json"), &p, "by");
    assert!(p["mixed_permutation"].is_object());
    let page = r.page("sg");
    let common = page.find("Subgroup estimates with a common τ²").unwrap();
    let separate = page.find("Separate fits").unwrap();
    assert!(
        common < separate,
        "common_tau2 leads with the common-τ² model"
    );
    assert!(page.contains(&shown(&p["mixed_tau2"], 4)));
}

#[test]
fn no_correct_events_desirable_and_reading_options_match_pool() {
    // '|' is no delimiter the reader detects: only `delimiter` reads this file.
    let piped: String = BCG.replace(',', "|");
    let given = "study;yi;vi\nA;0,10;0,04\nB;0,35;0,02\nC;-0,05;0,09\nD;0,42;0,05\n";
    let r = Report::run(
        r#"
[[analysis]]
name = "mh"
file = "bcg.csv"
method = "MH"
no_correct = true
[[analysis]]
name = "good"
file = "bcg.csv"
measure = "RR"
events_desirable = true
[[analysis]]
name = "piped"
file = "bcg.txt.csv"
delimiter = "|"
[[analysis]]
name = "given"
file = "given.csv"
delimiter = ";"
decimal = ","
scale = "log"
"#,
        &[
            ("bcg.csv", BCG),
            ("bcg.txt.csv", &piped),
            ("given.csv", given),
        ],
    );
    let bcg = r.data("bcg.csv");
    let mh = pool_json(&bcg, &["--method", "MH", "--no-correct"]);
    same(&r.json("mh", "results.json"), &mh, "no_correct");
    assert_ne!(
        mh,
        pool_json(&bcg, &["--method", "MH"]),
        "no_correct matters"
    );
    let good = pool_json(&bcg, &["--measure", "RR", "--events-desirable"]);
    same(&r.json("good", "results.json"), &good, "events_desirable");
    assert_ne!(good["sof"], pool_json(&bcg, &["--measure", "RR"])["sof"]);
    let piped_pool = pool_json(&r.data("bcg.txt.csv"), &["--delimiter", "|"]);
    same(&r.json("piped", "results.json"), &piped_pool, "delimiter");
    same(&piped_pool, &pool_json(&bcg, &[]), "the piped file is bcg");
    let g = pool_json(
        &r.data("given.csv"),
        &["--delimiter", ";", "--decimal", ",", "--scale", "log"],
    );
    same(&r.json("given", "results.json"), &g, "decimal and scale");
    // On the log scale the page shows the ratio exp(b).
    let ratio = Value::from(g["estimate"].as_f64().unwrap().exp());
    let page = r.page("given");
    assert!(
        [2, 3].iter().any(|&d| page.contains(&shown(&ratio, d))),
        "exp(b) = {ratio} shown"
    );
}

/// The manifest's error as `evident report` prints it.
fn manifest_error(body: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bcg.csv"), BCG).unwrap();
    let toml = format!("title = 't'\n[[analysis]]\nfile = 'bcg.csv'\n{body}\n");
    std::fs::write(dir.path().join("evident.toml"), toml).unwrap();
    let out = dir.path().join("out");
    let Run { code, stderr, .. } = evident([
        "report",
        dir.path().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_ne!(code, Some(0), "{body}: the run stops");
    assert!(!Path::new(&out).join("index.html").exists(), "{body}");
    stderr
}

#[test]
fn bad_values_stop_the_run_at_their_line_and_key() {
    for (body, line, says) in [
        ("seed = 3", 4, "`seed` needs `permutations`"),
        ("cluster = 'alloc'", 4, "`cluster` is used with `robust`"),
        ("struct = 'XYZ'\nrandom = '~ 1 | study'", 4, "`struct`"),
        (
            "random = '~ 1 | alloc'\nby = 'alloc'",
            4,
            "`random` cannot be used with `by`",
        ),
        (
            "random = '~ 1 | alloc'\npermutations = 9",
            4,
            "`random` cannot be used with `permutations`",
        ),
        (
            "random = '~ 1 | alloc'\ncontrol_risk = 0.1",
            4,
            "`random` cannot be used with `control_risk`",
        ),
        (
            "mods = ['ablat']\npredict = ['a, b']",
            5,
            "'a' is not a number",
        ),
        (
            "robust = 'CR2'\ncluster = 'alloc'\nreported = true",
            4,
            "`robust` cannot be used with `reported`",
        ),
        (
            "reported = true\nadd = 1",
            5,
            "`add` cannot apply to `reported` rows",
        ),
        (
            "reported = true\npermutations = 10",
            4,
            "`reported` cannot be used with `permutations`",
        ),
    ] {
        let e = manifest_error(body);
        assert!(e.contains("evident.toml"), "{body}: {e}");
        assert!(e.contains(&format!("line {line}")), "{body}: {e}");
        assert!(e.contains(says), "{body}: {e}");
    }
}

#[test]
fn options_a_table_pooling_cannot_take_are_refused_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bcg.csv"), BCG).unwrap();
    std::fs::write(
        dir.path().join("evident.toml"),
        "[[analysis]]\nname = 'mh'\nfile = 'bcg.csv'\nmethod = 'MH'\nrobust = 'CR1'\ncluster = 'alloc'\n[[analysis]]\nname = 'nc'\nfile = 'bcg.csv'\nno_correct = true\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let Run { stdout, .. } = evident([
        "report",
        dir.path().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let index = std::fs::read_to_string(out.join("index.html")).unwrap_or_default();
    assert!(
        index.contains("`robust` needs an inverse-variance model"),
        "{stdout}{index}"
    );
    assert!(
        index.contains("`no_correct` applies to the tests of `method` MH only"),
        "{index}"
    );
}

const K11: &str = include_str!("conformance/cases/konstantopoulos2011_mv_threelevel/input.csv");
const ASSINK: &str = include_str!("conformance/cases/assink2016_mv_threelevel/input.csv");
const BERKEY: &str = include_str!("conformance/cases/berkey1998_mv_multivariate/input.csv");

#[test]
fn multilevel_pages_match_pool_random() {
    let r = Report::run(
        r#"
[[analysis]]
name = "k11"
file = "k11.csv"
random = "~ 1 | district/school"
method = "ML"
test = "t"
dfs = "contain"
robust = "CR2"
cluster = "district"
tau2_ci = "pl"
[[analysis]]
name = "che"
file = "assink.csv"
random = "~ 1 | study_id/esid"
rho = 0.6
cluster = "study_id"
obs = "esid"
[[analysis]]
name = "berkey"
file = "berkey.csv"
random = "~ outcome | trial"
struct = "UN"
V_block = "v1i,v2i"
cluster = "trial"
"#,
        &[
            ("k11.csv", K11),
            ("assink.csv", ASSINK),
            ("berkey.csv", BERKEY),
        ],
    );
    let cases: [(&str, &str, &[&str]); 3] = [
        (
            "k11",
            "k11.csv",
            &[
                "--random",
                "~ 1 | district/school",
                "--method",
                "ML",
                "--test",
                "t",
                "--dfs",
                "contain",
                "--robust",
                "CR2",
                "--cluster",
                "district",
                "--tau2-ci",
                "pl",
            ],
        ),
        (
            "che",
            "assink.csv",
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
        ),
        (
            "berkey",
            "berkey.csv",
            &[
                "--random",
                "~ outcome | trial",
                "--struct",
                "UN",
                "--V-block",
                "v1i,v2i",
                "--cluster",
                "trial",
            ],
        ),
    ];
    for (name, file, args) in cases {
        let p = pool_json(&r.data(file), args);
        same(&r.json(name, "results.json"), &p, name);
        let page = r.page(name);
        assert!(page.contains("<h2>Multilevel model</h2>"), "{name}");
        assert!(page.contains("Konstantopoulos 2011"), "{name}");
        assert!(!page.contains("Egger"), "{name}: no univariate bias tests");
        let sigma2 = p["sigma2"].as_array().unwrap();
        let tau2 = p.get("tau2").and_then(Value::as_array);
        for v in sigma2.iter().chain(tau2.into_iter().flatten()) {
            assert!(page.contains(&shown(v, 4)), "{name}: component {v}");
        }
        for c in p["coefficients"].as_array().unwrap() {
            assert!(page.contains(&shown(&c["se"], 4)), "{name}: {c}");
        }
    }
    let k11 = pool_json(&r.data("k11.csv"), cases[0].2);
    // tau2_ci = "pl": the profile CIs of both σ² (results.json equals pool's, above).
    assert_eq!(
        k11["sigma2_ci_lb"].as_array().map(Vec::len),
        Some(2),
        "{k11}"
    );
    let page = r.page("k11");
    for c in k11["robust"]["coefficients"].as_array().unwrap() {
        assert!(page.contains(&shown(&c["df"], 2)), "{c}");
    }
    assert!(page.contains("containment degrees of freedom"));
    assert!(r.page("che").contains("working correlation ρ = 0.6"));
    assert!(r.page("berkey").contains("UN covariance structure"));
    // The forest groups the rows by cluster (as `forest --random` draws them).
    let svg = std::fs::read_to_string(r.file("k11", "forest.svg")).unwrap();
    assert!(svg.contains("district 11") || svg.contains("District 11"));
}

/// Issue 17 item 3: `random` with `mods` is a multilevel meta-regression: results.json is
/// `pool --random --mods --json`'s, the page shows the variance components, the coefficients
/// (and the robust table), the test of the moderators and the rma.mv call, and the forest
/// draws each row's fitted value as a grey diamond instead of one pooled diamond.
#[test]
fn a_multilevel_meta_regression_matches_pool_and_draws_fitted_values() {
    let r = Report::run(
        r#"
[[analysis]]
name = "mr"
file = "k11.csv"
random = "~ 1 | district/school"
mods = ["year"]
robust = "CR2"
cluster = "district"
"#,
        &[("k11.csv", K11)],
    );
    let p = pool_json(
        &r.data("k11.csv"),
        &[
            "--random",
            "~ 1 | district/school",
            "--mods",
            "year",
            "--robust",
            "CR2",
            "--cluster",
            "district",
        ],
    );
    same(&r.json("mr", "results.json"), &p, "mr");
    let page = r.page("mr");
    assert!(page.contains("<h2>Multilevel model</h2>"));
    assert!(
        page.contains(&format!(
            "Test of moderators (coefficient 2): QM(1) = {}",
            shown(&p["QM"], 4)
        )),
        "QM on the page"
    );
    for v in p["sigma2"].as_array().unwrap() {
        assert!(page.contains(&shown(v, 4)), "component {v}");
    }
    for c in p["coefficients"].as_array().unwrap() {
        assert!(page.contains(&format!("<code>{}</code>", c["name"].as_str().unwrap())));
        assert!(page.contains(&shown(&c["estimate"], 4)), "{c}");
        assert!(page.contains(&shown(&c["se"], 4)), "{c}");
    }
    for c in p["robust"]["coefficients"].as_array().unwrap() {
        assert!(page.contains(&shown(&c["se"], 4)), "robust {c}");
    }
    assert!(page.contains("mods = ~ year"), "the rma.mv call");
    assert!(
        page.contains("grey diamond"),
        "the Methods say what the forest draws"
    );
    assert!(!page.contains("Pooled (random effects)"), "no pooled row");
    let svg = std::fs::read_to_string(r.file("mr", "forest.svg")).unwrap();
    let k = p["k"].as_u64().unwrap() as usize;
    assert_eq!(
        svg.matches("fill=\"#BEBEBE\"").count(),
        k,
        "one fitted diamond per row"
    );
    let text = common::svg::text_content(&svg);
    assert!(
        !text.iter().any(|t| t.starts_with("Multilevel model")),
        "no pooled row"
    );
    assert!(text.iter().any(|t| t.contains("test of moderators: QM(1)")));
}

const MIXED: &str = include_str!("data/reported/mixed.csv");

#[test]
fn reported_rows_are_pooled_as_pool_reported_pools_them() {
    let r = Report::run(
        r#"
[[analysis]]
name = "rep"
file = "mixed.csv"
reported = true
method = "DL"
preset = "metafor"
[[analysis]]
name = "bounds"
file = "mixed.csv"
reported = true
include_p_bounds = true
tau2_ci = "pl"
"#,
        &[("mixed.csv", MIXED)],
    );
    let f = r.data("mixed.csv");
    let rep = pool_json(&f, &["--reported", "--method", "DL", "--preset", "metafor"]);
    same(&r.json("rep", "results.json"), &rep, "reported");
    let bounds = pool_json(&f, &["--reported", "--include-p-bounds", "--tau2-ci", "pl"]);
    same(
        &r.json("bounds", "results.json"),
        &bounds,
        "include_p_bounds",
    );
    assert_eq!(
        (rep["k"].as_u64(), bounds["k"].as_u64()),
        (Some(3), Some(4))
    );
    let page = r.page("bounds");
    assert!(page.contains("(line 5), estimate_p_bound: pooled at the SE bound"));
    assert!(page.contains("(line 6), p_only: left out"));
    assert!(
        !page.contains("(line 0)"),
        "every row named by its file line"
    );
    assert!(page.contains("recomputed from what its paper reported"));
    assert!(
        !page.contains("R code (metafor)"),
        "no R code reads reported rows"
    );
}

const CREDE: &str = include_str!("fixtures/mv_twoterms/crede.csv");

/// Two `~ inner | outer` terms in a report: results.json is `pool`'s, and the page's
/// components table, Results sentence and Methods text carry the second term's γ² and φ
/// beside the first's τ² and ρ; the forest's note names both terms.
#[test]
fn a_two_term_multilevel_page_shows_gamma2_and_phi() {
    let r = Report::run(
        r#"
[[analysis]]
name = "crede"
file = "crede.csv"
random = ["~ criterion | studyid", "~ criterion | sample"]
struct = ["UN", "ID"]
"#,
        &[("crede.csv", CREDE)],
    );
    let args = [
        "--random",
        "~ criterion | studyid",
        "--random",
        "~ criterion | sample",
        "--struct",
        "UN",
        "--struct",
        "ID",
    ];
    let p = pool_json(&r.data("crede.csv"), &args);
    same(&r.json("crede", "results.json"), &p, "crede");
    let page = r.page("crede");
    let gamma2 = &p["gamma2"].as_array().unwrap()[0];
    assert!(
        page.contains(&format!("γ² = {}", shown(gamma2, 4))),
        "{page}"
    );
    assert!(page.contains("γ²<sub>1</sub>"));
    assert!(page.contains("φ<sub>1</sub>"));
    for t in p["tau2"].as_array().unwrap() {
        assert!(page.contains(&shown(t, 4)), "tau2 {t}");
    }
    assert!(page.contains("The term ~ criterion | sample has the ID covariance structure"));
    let svg = std::fs::read_to_string(r.file("crede", "forest.svg")).unwrap();
    assert!(svg.contains("γ²(~ criterion | sample)"), "forest note");
    assert!(svg.contains("τ²(~ criterion | studyid)"), "forest note");
}
