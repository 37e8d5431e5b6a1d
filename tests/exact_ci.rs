//! Each study's own interval for single proportions and rates: Clopper–Pearson, Wilson, Garwood's
//! exact Poisson interval and the Poisson score interval against base R
//! (`tests/fixtures/exact_ci/make.R`: `binom.test`, `prop.test(correct = FALSE)`, `poisson.test`,
//! and uniroot on the score statistic), then through `pool --json` and `forest`.

mod common;

use common::cli::run_ok;
use evident::stats::exact::{clopper_pearson, poisson_exact, poisson_score, wilson};
use evident::stats::level::Level;
use serde_json::Value;
use std::path::Path;

/// Tighter than the corpus's 1e-8: these are closed forms and beta/χ² quantiles.
const RTOL: f64 = 1e-10;
const ATOL: f64 = 1e-14;

fn expected() -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("tests/fixtures/exact_ci/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn pair(v: &Value) -> (f64, f64) {
    (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
}

fn close(what: &str, got: (f64, f64), want: (f64, f64)) {
    for (g, w) in [(got.0, want.0), (got.1, want.1)] {
        assert!(
            (g - w).abs() <= ATOL + RTOL * w.abs(),
            "{what}: got {got:?}, R gives {want:?}"
        );
    }
}

fn level(case: &Value) -> Level {
    Level::new(case["level"].as_f64().unwrap()).unwrap()
}

#[test]
fn proportions_match_binom_test_and_prop_test() {
    let e = expected();
    let cases = e["proportions"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let (x, n) = (c["x"].as_f64().unwrap(), c["n"].as_f64().unwrap());
        let l = level(c);
        let what = format!("{x}/{n} at {}%", l.percent());
        close(
            &format!("CP {what}"),
            clopper_pearson(x, n, l.alpha()).unwrap(),
            pair(&c["cp"]),
        );
        close(
            &format!("Wilson {what}"),
            wilson(x, n, l.z()).unwrap(),
            pair(&c["wilson"]),
        );
    }
}

#[test]
fn rates_match_poisson_test_and_the_score_roots() {
    let e = expected();
    for c in e["rates"].as_array().unwrap() {
        let (x, t) = (c["x"].as_f64().unwrap(), c["t"].as_f64().unwrap());
        let l = level(c);
        let what = format!("{x} over {t} at {}%", l.percent());
        close(
            &format!("Garwood {what}"),
            poisson_exact(x, t, l.alpha()).unwrap(),
            pair(&c["exact"]),
        );
        // uniroot's tolerance, not the closed form's, limits the score reference.
        let (g, w) = (poisson_score(x, t, l.z()).unwrap(), pair(&c["score"]));
        for (a, b) in [(g.0, w.0), (g.1, w.1)] {
            assert!(
                (a - b).abs() <= 1e-12 + 1e-9 * b.abs(),
                "score {what}: {g:?} vs {w:?}"
            );
        }
    }
}

fn data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .display()
        .to_string()
}

fn pool_json(args: &[&str]) -> Value {
    let mut all = vec!["pool"];
    all.extend_from_slice(args);
    all.push("--json");
    serde_json::from_str(&run_ok(all).stdout).unwrap()
}

fn column(v: &Value, key: &str) -> Vec<f64> {
    v["studies"][key]
        .as_array()
        .unwrap_or_else(|| panic!("no studies.{key} in {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// The R reference for x/n at 95 %.
fn reference(x: f64, n: f64, key: &str) -> (f64, f64) {
    let e = expected();
    let c = e["proportions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["x"] == x && c["n"] == n && c["level"] == 95.0)
        .unwrap_or_else(|| panic!("no reference for {x}/{n}"));
    pair(&c[key])
}

#[test]
fn pool_json_gives_0_of_31_its_clopper_pearson_interval_by_default() {
    let v = pool_json(&[&data("data/als_responders.csv"), "--measure", "PLO"]);
    assert_eq!(v["studies"]["ci_method"], "cp");
    assert_eq!(column(&v, "estimate"), vec![0.0]);
    let (lb, ub) = (column(&v, "ci_lb")[0], column(&v, "ci_ub")[0]);
    close("0/31", (lb, ub), reference(0.0, 31.0, "cp"));
    // Not the Wald interval around the corrected 0.5/32 = 0.016.
    assert_eq!(lb, 0.0);
}

#[test]
fn pool_json_follows_study_ci_on_every_proportion_scale() {
    let file = data("data/pilots_completion.csv");
    let counts = [(20.0, 25.0), (8.0, 10.0), (18.0, 31.0)];
    for measure in ["PR", "PLO", "PAS", "PFT", "PLN"] {
        for (flag, key) in [("cp", "cp"), ("wilson", "wilson")] {
            let v = pool_json(&[&file, "--measure", measure, "--study-ci", flag]);
            assert_eq!(v["studies"]["ci_method"], flag, "{measure}");
            let (lb, ub) = (column(&v, "ci_lb"), column(&v, "ci_ub"));
            for (i, &(x, n)) in counts.iter().enumerate() {
                close(
                    &format!("{measure} {flag} {x}/{n}"),
                    (lb[i], ub[i]),
                    reference(x, n, key),
                );
                assert_eq!(column(&v, "estimate")[i], x / n);
            }
        }
    }
}

#[test]
fn wald_is_the_back_transformed_interval_of_yi() {
    let v = pool_json(&[
        &data("data/pilots_completion.csv"),
        "--measure",
        "PLO",
        "--study-ci",
        "wald",
    ]);
    let z = Level::NINETY_FIVE.z();
    let ilogit = |x: f64| 1.0 / (1.0 + (-x).exp());
    for (i, &(x, n)) in [(20.0f64, 25.0f64), (8.0, 10.0), (18.0, 31.0)]
        .iter()
        .enumerate()
    {
        let (y, se) = ((x / (n - x)).ln(), (1.0 / x + 1.0 / (n - x)).sqrt());
        let got = (column(&v, "ci_lb")[i], column(&v, "ci_ub")[i]);
        close("wald", got, (ilogit(y - z * se), ilogit(y + z * se)));
    }
}

#[test]
fn rates_get_garwood_intervals() {
    let dir = std::env::temp_dir().join(format!("evident-exact-ci-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("rates.csv");
    std::fs::write(&f, "study,xi,ti\nA,0,10\nB,3,10\nC,12,1520.3\n").unwrap();
    let e = expected();
    let rates = e["rates"].as_array().unwrap();
    let find = |x: f64, t: f64| {
        let c = rates
            .iter()
            .find(|c| c["x"] == x && c["t"] == t && c["level"] == 95.0)
            .unwrap();
        pair(&c["exact"])
    };
    for measure in ["IR", "IRLN"] {
        let v = pool_json(&[f.to_str().unwrap(), "--measure", measure]);
        let (lb, ub) = (column(&v, "ci_lb"), column(&v, "ci_ub"));
        for (i, (x, t)) in [(0.0, 10.0), (3.0, 10.0), (12.0, 1520.3)]
            .into_iter()
            .enumerate()
        {
            close(&format!("{measure} {x}/{t}"), (lb[i], ub[i]), find(x, t));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn other_data_carry_no_study_intervals() {
    let v = pool_json(&[&data("data/bcg.csv"), "--measure", "RR"]);
    assert!(v.get("studies").is_none());
}

#[test]
fn the_forest_plot_prints_the_exact_interval_on_the_proportion_axis() {
    let dir = std::env::temp_dir().join(format!("evident-exact-forest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("f.svg");
    let file = data("data/als_responders.csv");
    let args = ["forest", &file, "--measure", "PLO", "--digits", "3", "-o"];
    run_ok(args.iter().copied().chain([out.to_str().unwrap()]));
    let svg = std::fs::read_to_string(&out).unwrap();
    let texts = common::svg::text_content(&svg);
    assert!(
        texts.iter().any(|t| t == "0.000 [0.000, 0.112]"),
        "{texts:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
