//! Square-root (IRS) and Freeman–Tukey (IRFT) incidence rates pooled with REML and shown as rates,
//! as metafor does (`tests/fixtures/irs_irft/gen.R`): `predict(res, transf = transf.isqrt)`,
//! `predict(res, transf = transf.iirft, targs = harmonic mean of ti)`, each study's exact Poisson
//! interval (`poisson.test`) and its Wald interval back-transformed (`summary.escalc`), through
//! `pool --json`, the library and the forest plot.

mod common;

use common::cli::run_ok;
use common::nums;
use common::{ATOL, RTOL};
use evident::data::{read_studies, ColumnMap, CsvOptions};
use evident::effect::{EffectSet, EscalcOptions, StudyCi, StudyIntervals};
use evident::model::{Level, RmaOptions, Test};
use evident::{rma, Measure, Scale};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Closed forms and χ² quantiles, as tests/exact_ci.rs holds them.
const EXACT_RTOL: f64 = 1e-10;
const EXACT_ATOL: f64 = 1e-14;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/irs_irft")
        .join(name)
}

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(fixture("expected.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn close(what: &str, got: f64, want: f64, rtol: f64, atol: f64) {
    assert!(
        (got - want).abs() <= atol + rtol * want.abs(),
        "{what}: got {got}, R gives {want}"
    );
}

fn close_all(what: &str, got: &[f64], want: &[f64], rtol: f64, atol: f64) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        close(&format!("{what}[{i}]"), *g, *w, rtol, atol);
    }
}

fn suffix(measure: &str) -> &'static str {
    if measure == "IRS" {
        "isqrt"
    } else {
        "iirft_hm"
    }
}

fn pool_json(file: &Path, measure: &str, test: &str, extra: &[&str]) -> Value {
    let f = file.to_str().unwrap();
    let mut args = vec!["pool", f, "--measure", measure, "--method", "REML"];
    args.extend(["--test", test, "--json"]);
    args.extend_from_slice(extra);
    serde_json::from_str(&run_ok(args).stdout).unwrap()
}

#[test]
fn pool_json_back_transforms_to_rates_as_predict_does() {
    for c in cases() {
        let file = fixture(c["file"].as_str().unwrap());
        for f in c["fits"].as_array().unwrap() {
            let (m, t) = (f["measure"].as_str().unwrap(), f["test"].as_str().unwrap());
            let what = format!("{} {m} {t}", c["file"]);
            let v = pool_json(&file, m, t, &[]);
            let num = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{what}: no {k}"));
            close(
                &what,
                num("estimate"),
                f["estimate"].as_f64().unwrap(),
                RTOL,
                ATOL,
            );
            for key in ["estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub"] {
                let want = f[format!("{key}_back")].as_f64().unwrap();
                let got = num(&format!("{key}_{}", suffix(m)));
                close(&format!("{what} {key}"), got, want, RTOL, ATOL);
            }
        }
    }
}

#[test]
fn each_study_gets_its_exact_poisson_interval() {
    for c in cases() {
        let file = fixture(c["file"].as_str().unwrap());
        let e = &c["exact"];
        for m in ["IRS", "IRFT"] {
            let what = format!("{} {m}", c["file"]);
            let v = pool_json(&file, m, "z", &[]);
            let s = &v["studies"];
            assert_eq!(s["ci_method"], "cp", "{what}");
            for key in ["ci_lb", "ci_ub"] {
                let (g, w) = (nums(&s[key]), nums(&e[key]));
                close_all(&format!("{what} {key}"), &g, &w, EXACT_RTOL, EXACT_ATOL);
            }
            let (g, w) = (nums(&s["estimate"]), nums(&e["rate"]));
            close_all(&format!("{what} x/t"), &g, &w, EXACT_RTOL, EXACT_ATOL);
        }
    }
}

#[test]
fn wald_study_intervals_are_back_transformed_at_the_harmonic_mean() {
    for c in cases() {
        let file = fixture(c["file"].as_str().unwrap());
        for f in c["fits"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["test"] == "z")
        {
            let m = f["measure"].as_str().unwrap();
            let what = format!("{} {m} wald", c["file"]);
            let v = pool_json(&file, m, "z", &["--study-ci", "wald"]);
            assert_eq!(v["studies"]["ci_method"], "wald", "{what}");
            for (key, want) in [("ci_lb", "wald_lb"), ("ci_ub", "wald_ub")] {
                let (g, w) = (nums(&v["studies"][key]), nums(&f[want]));
                close_all(&format!("{what} {key}"), &g, &w, EXACT_RTOL, EXACT_ATOL);
            }
        }
    }
}

#[test]
fn the_library_fit_shown_on_the_rate_scale_matches_metafor() {
    for c in cases() {
        let file = fixture(c["file"].as_str().unwrap());
        let studies = read_studies(&file, &CsvOptions::default(), &ColumnMap::new()).unwrap();
        for f in c["fits"].as_array().unwrap() {
            let m: Measure = f["measure"].as_str().unwrap().parse().unwrap();
            let what = format!("{} {m:?} {}", c["file"], f["test"]);
            // metafor's add = 0 for the square-root measures, which the command line applies.
            let eo = EscalcOptions {
                add: m.default_add(),
                ..EscalcOptions::default()
            };
            let mut set = EffectSet::from_studies(&studies, m, &eo).unwrap();
            match set.scale {
                Scale::SquareRoot => assert_eq!(m, Measure::IRS),
                Scale::FreemanTukeyRate(t) => {
                    let hm = c["hm_ti"].as_f64().unwrap();
                    close(&format!("{what} hm"), t.get(), hm, RTOL, ATOL);
                }
                s => panic!("{what}: scale {s:?}"),
            }
            let level = Level::NINETY_FIVE;
            set.study_ci = StudyIntervals::compute(&studies, &set, StudyCi::Exact, level).unwrap();
            let opts = RmaOptions {
                test: f["test"].as_str().unwrap().parse::<Test>().unwrap(),
                ..RmaOptions::default()
            };
            let shown = rma(&set, &opts).unwrap().on_display_scale();
            let pi = shown.pi.unwrap();
            for (key, got) in [
                ("estimate", shown.estimate),
                ("ci_lb", shown.ci_lb),
                ("ci_ub", shown.ci_ub),
                ("pi_lb", pi.lb),
                ("pi_ub", pi.ub),
            ] {
                let want = f[format!("{key}_back")].as_f64().unwrap();
                close(&format!("{what} {key}"), got, want, RTOL, ATOL);
            }
            let s = shown.effects.study_ci.unwrap();
            let e = &c["exact"];
            close_all(&what, &s.ci_lb, &nums(&e["ci_lb"]), EXACT_RTOL, EXACT_ATOL);
            close_all(&what, &s.ci_ub, &nums(&e["ci_ub"]), EXACT_RTOL, EXACT_ATOL);
        }
    }
}

#[test]
fn the_r_code_back_transforms_with_transf_isqrt_and_transf_iirft() {
    let file = fixture("zeros.csv");
    let f = file.to_str().unwrap();
    let code = |m: &str| {
        let v: Value =
            serde_json::from_str(&run_ok(["pool", f, "--measure", m, "--json", "--show-r"]).stdout)
                .unwrap();
        v["r_code"].as_str().unwrap().to_string()
    };
    assert!(code("IRS").contains("predict(res, transf = transf.isqrt)"));
    assert!(code("IRFT").contains(
        r#"predict(res, transf = transf.iirft, targs = 1/mean(1/dat[["ti"]], na.rm = TRUE))"#
    ));
}

#[test]
fn the_forest_plot_shows_rates_from_zero() {
    let dir = std::env::temp_dir().join(format!("evident-irs-forest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("f.svg");
    let file = fixture("zeros.csv");
    for m in ["IRS", "IRFT"] {
        let args = ["forest", file.to_str().unwrap(), "--measure", m, "-o"];
        run_ok(args.iter().copied().chain([out.to_str().unwrap()]));
        let texts = common::svg::text_content(&std::fs::read_to_string(&out).unwrap());
        assert!(
            texts.iter().any(|t| t == "Incidence rate"),
            "{m}: {texts:?}"
        );
        assert!(
            texts.iter().any(|t| t == "0"),
            "{m}: no tick at 0 in {texts:?}"
        );
        // Study 2 has no events: its exact interval starts at 0, not at a negative rate.
        assert!(
            texts.iter().any(|t| t.starts_with("0.00 [0.00, ")),
            "{m}: {texts:?}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn forward_inverts_back_on_the_rate_scales() {
    for scale in [Scale::SquareRoot, Scale::freeman_tukey_rate(341.259)] {
        for r in [0.0, 1e-3, 0.0571, 0.5, 3.0] {
            let x = scale.forward(r);
            close(&format!("{scale:?} {r}"), scale.back(x), r, 1e-12, 1e-15);
        }
        assert!(scale.forward(-0.1).is_nan(), "{scale:?}");
        assert_eq!(scale.back(-0.1), 0.0, "{scale:?}");
    }
}
