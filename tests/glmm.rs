//! `evident pool --glmm` and the GLMM's refusals of bad input. The numbers themselves are held
//! to metafor by the conformance corpus (`rma.glmm` analyses in tests/conformance/).

mod common;

use common::cli::{evident, run_ok};
use evident::data::{read_studies, ColumnMap, CsvOptions, Studies};
use evident::glmm::{rma_glmm, GlmmModel, GlmmOptions};
use evident::Measure;
use std::io::Write;

fn csv(text: &str) -> (tempfile::NamedTempFile, Studies) {
    let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    let s = read_studies(f.path(), &CsvOptions::default(), &ColumnMap::new()).unwrap();
    (f, s)
}

fn err(s: &Studies, m: Measure, o: &GlmmOptions) -> String {
    rma_glmm(s, m, o)
        .expect_err("should be refused")
        .to_string()
}

const PRITZ: &str = "tests/conformance/cases/pritz1997_glmm_plo/input.csv";

/// `evident pool` of the Pritz et al. (1997) proportions by the binomial-normal GLMM, then `more`.
fn pool_pritz(more: &[&str]) -> common::cli::Run {
    let head = [
        "pool",
        PRITZ,
        "--measure",
        "PLO",
        "--method",
        "ML",
        "--glmm",
        "UM.FS",
    ];
    run_ok(head.iter().chain(more))
}

fn pritz_studies() -> Studies {
    read_studies(PRITZ.as_ref(), &CsvOptions::default(), &ColumnMap::new()).unwrap()
}

#[test]
fn cli_json_is_the_library_fit() {
    let r = pool_pritz(&["--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let s = pritz_studies();
    let fit = rma_glmm(&s, Measure::PLO, &GlmmOptions::default()).unwrap();
    assert_eq!(v["k"], 14);
    assert_eq!(v["estimate"].as_f64().unwrap(), fit.coefs[0].estimate);
    assert_eq!(v["tau2"].as_f64().unwrap(), fit.tau2);
    assert!(v.get("estimate_ilogit").is_some() && v.get("QE_LRT").is_some());
}

#[test]
fn cli_refuses_other_methods() {
    let r = evident([
        "pool",
        PRITZ,
        "--measure",
        "PLO",
        "--method",
        "REML",
        "--glmm",
        "UM.FS",
    ]);
    assert!(!r.ok && r.stderr.contains("--method ML"), "{}", r.stderr);
}

#[test]
fn non_integer_counts_name_line_and_column() {
    let (_f, s) = csv("xi,ni\n3,10\n2.5,12\n4,9\n");
    let e = err(&s, Measure::PLO, &GlmmOptions::default());
    assert!(
        e.contains("line 3") && e.contains("xi") && e.contains("whole number"),
        "{e}"
    );
}

#[test]
fn one_study_cannot_estimate_tau2() {
    let (_f, s) = csv("xi,ni\n3,10\n");
    let e = err(&s, Measure::PLO, &GlmmOptions::default());
    assert!(e.contains("k > p"), "{e}");
}

#[test]
fn constant_moderator_is_named() {
    let (_f, s) = csv("xi,ni,dose\n3,10,1\n5,12,1\n4,9,1\n7,11,1\n");
    let o = GlmmOptions {
        mods: Some("dose".into()),
        ..GlmmOptions::default()
    };
    let e = err(&s, Measure::PLO, &o);
    assert!(e.contains("dose") && e.contains("constant"), "{e}");
}

#[test]
fn proportions_of_zero_and_one_and_all_zero_arms_fit() {
    let (_f, s) = csv("xi,ni\n0,10\n12,12\n4,9\n7,11\n");
    let fit = rma_glmm(&s, Measure::PLO, &GlmmOptions::default()).unwrap();
    assert_eq!(fit.k, 4);
    assert!(fit.coefs[0].estimate.is_finite() && fit.tau2 >= 0.0);
    // A double-zero study is dropped (rma.glmm's drop00); an all-zero arm stays.
    let (_g, t) = csv("ai,bi,ci,di\n0,20,0,20\n0,20,4,16\n3,17,6,14\n2,18,5,15\n5,15,9,11\n");
    for model in [GlmmModel::UmFs, GlmmModel::CmAl, GlmmModel::CmEl] {
        let o = GlmmOptions {
            model,
            ..GlmmOptions::default()
        };
        let fit = rma_glmm(&t, Measure::OR, &o).unwrap();
        assert_eq!(fit.k, 4, "{model:?}");
        assert!(fit.coefs[0].estimate < 0.0, "{model:?}");
    }
}

#[test]
fn wrong_data_type_is_refused() {
    let (_f, s) = csv("xi,ni\n3,10\n5,12\n");
    let e = err(&s, Measure::OR, &GlmmOptions::default());
    assert!(e.contains("OR") && e.contains("single proportions"), "{e}");
}

/// CM.EL (OR): the Wald heterogeneity test from the exact conditional MLEs and information,
/// against R (tests/fixtures/glmm_cmel/exact_wald.R; metafor's own QE_Wld uses a numerical
/// Hessian of BiasedUrn's density and is matched loosely by the conformance corpus).
#[test]
fn cm_el_wald_test_is_the_exact_one() {
    let text = std::fs::read_to_string("tests/fixtures/glmm_cmel/exact_wald.json").unwrap();
    let refs: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(refs.len(), 2);
    for r in refs {
        let case = r["case"].as_str().unwrap();
        let path = format!("tests/conformance/cases/{case}/input.csv");
        let s = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new()).unwrap();
        let o = GlmmOptions {
            model: GlmmModel::CmEl,
            ..GlmmOptions::default()
        };
        let fit = rma_glmm(&s, Measure::OR, &o).unwrap();
        let want = r["QE_Wld_exact"].as_f64().unwrap();
        assert!(
            (fit.qe_wld - want).abs() < 1e-9 * want,
            "{case}: {} vs {want}",
            fit.qe_wld
        );
    }
}

/// Complete separation (no events in group 1 of any study): the pooled log OR is −∞, so every
/// OR model refuses instead of reporting where the optimiser stopped; likewise one study.
#[test]
fn separation_and_one_study_are_refused_by_every_model() {
    let (_f, s) = csv("ai,bi,ci,di\n0,20,4,16\n0,17,6,14\n0,18,5,15\n0,15,9,11\n");
    let (_g, one) = csv("ai,bi,ci,di\n2,18,5,15\n");
    for model in [GlmmModel::UmFs, GlmmModel::CmAl, GlmmModel::CmEl] {
        let o = GlmmOptions {
            model,
            ..GlmmOptions::default()
        };
        let e = err(&s, Measure::OR, &o);
        assert!(e.contains("separation"), "{model:?}: {e}");
        let e = err(&one, Measure::OR, &o);
        assert!(e.contains("k > p"), "{model:?}: {e}");
    }
    let (_h, r) = csv("xi,ti\n3,100\n");
    let e = err(&r, Measure::IRLN, &GlmmOptions::default());
    assert!(e.contains("k > p"), "{e}");
}

/// `|got − want| ≤ atol + rtol·|want|`.
fn near(got: f64, want: f64, rtol: f64, atol: f64) -> bool {
    (got - want).abs() <= atol + rtol * want.abs()
}

/// The JSON number or array of numbers as a vector.
fn nums(v: &serde_json::Value) -> Vec<f64> {
    match v.as_array() {
        Some(a) => a.iter().map(|x| x.as_f64().unwrap()).collect(),
        None => vec![v.as_f64().unwrap()],
    }
}

/// A coefficient key of the fixture: its name, how to read it, rtol and atol.
type CoefKey = (&'static str, fn(&evident::glmm::Coef) -> f64, f64, f64);

/// Every fit of a fixture of metafor's tight lme4 fits (`converged` settings) against evident's,
/// at README_more's `converged` tolerances; `sigma2` where the model has one.
fn matches_fixture(json: &str, model: GlmmModel, n: usize) {
    let text = std::fs::read_to_string(json).unwrap();
    let refs: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(refs.len(), n);
    for r in refs {
        let name = r["name"].as_str().unwrap();
        let path = r["file"].as_str().unwrap();
        let s = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new()).unwrap();
        let o = GlmmOptions {
            model,
            test: if r["test"] == "t" {
                evident::model::Test::T
            } else {
                evident::model::Test::Z
            },
            mods: r["mods"].as_str().map(String::from),
            ..GlmmOptions::default()
        };
        let measure: Measure = r["measure"].as_str().unwrap().parse().unwrap();
        let fit = rma_glmm(&s, measure, &o).unwrap();
        assert_eq!(fit.k as u64, r["k"].as_u64().unwrap(), "{name}");
        let keys: [CoefKey; 5] = [
            ("beta", |c| c.estimate, 1e-4, 1e-8),
            ("se", |c| c.se, 2e-4, 1e-6),
            ("ci_lb", |c| c.ci_lb, 2e-4, 1e-6),
            ("ci_ub", |c| c.ci_ub, 2e-4, 1e-6),
            ("pval", |c| c.pval, 2e-3, 1e-8),
        ];
        for (key, get, rtol, atol) in keys {
            for (c, want) in fit.coefs.iter().zip(nums(&r[key])) {
                let got = get(c);
                assert!(near(got, want, rtol, atol), "{name} {key}: {got} vs {want}");
            }
        }
        let mut scalars = vec![
            ("tau2", fit.tau2, 1e-4, 1e-6),
            ("loglik", fit.loglik, 1e-5, 1e-4),
            ("QE_LRT", fit.qe_lrt, 1e-4, 1e-8),
        ];
        if let Some(sigma2) = fit.sigma2 {
            scalars.push(("sigma2", sigma2, 1e-4, 1e-6));
        }
        for (key, got, rtol, atol) in scalars {
            let want = r[key].as_f64().unwrap();
            assert!(near(got, want, rtol, atol), "{name} {key}: {got} vs {want}");
        }
    }
}

/// UM.RS against metafor's tight lme4 fits (tests/fixtures/glmm_umrs/umrs.R): t tests, a study
/// with no events in one arm, a double-zero study (dropped), IRR with a zero count, a moderator.
#[test]
fn um_rs_matches_metafor_beyond_the_corpus() {
    matches_fixture("tests/fixtures/glmm_umrs/umrs.json", GlmmModel::UmRs, 4);
}

/// The binomial-normal (PLO) and Poisson-normal (IRLN) models against metafor's tight lme4 fits
/// (tests/fixtures/glmm_plo/gen.R): k from 2 to 100, τ² at 0 and τ = 2, proportions of 0 and 1,
/// moderators under z and t, rates with a zero count, the bundled pilot data.
#[test]
fn plo_and_irln_match_metafor_beyond_the_corpus() {
    matches_fixture("tests/fixtures/glmm_plo/plo.json", GlmmModel::UmFs, 17);
}

/// UM.RS refuses what metafor refuses or cannot estimate: one study, complete separation,
/// non-integer counts; a study with every cell 0 is a double-zero study and is dropped.
#[test]
fn um_rs_bad_input() {
    let o = GlmmOptions {
        model: GlmmModel::UmRs,
        ..GlmmOptions::default()
    };
    let (_a, one) = csv("ai,bi,ci,di\n2,18,5,15\n");
    let e = err(&one, Measure::OR, &o);
    assert!(e.contains("k > p"), "{e}");
    let (_b, sep) = csv("ai,bi,ci,di\n0,20,4,16\n0,17,6,14\n0,18,5,15\n0,15,9,11\n");
    let e = err(&sep, Measure::OR, &o);
    assert!(e.contains("separation"), "{e}");
    let (_c, frac) = csv("x1i,t1i,x2i,t2i\n3,100,5,90\n2.5,80,4,85\n6,120,9,110\n");
    let e = err(&frac, Measure::IRR, &o);
    assert!(
        e.contains("line 3") && e.contains("x1i") && e.contains("whole number"),
        "{e}"
    );
    let (_d, empty) = csv("ai,bi,ci,di\n0,0,0,0\n2,18,5,15\n3,17,6,14\n4,16,9,11\n1,19,4,16\n");
    let fit = rma_glmm(&empty, Measure::OR, &o).unwrap();
    assert_eq!(fit.k, 4);
    assert!(fit.coefs[0].estimate.is_finite() && fit.coefs[0].se > 0.0);
}

#[test]
fn cli_fits_um_rs() {
    let hart = "tests/conformance/cases/hart1999_glmm_irr/input.csv";
    let r = run_ok([
        "pool",
        hart,
        "--measure",
        "IRR",
        "--method",
        "ML",
        "--glmm",
        "UM.RS",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["model"], "UM.RS");
    assert!(v["sigma2"].as_f64().unwrap() > 0.0 && v["estimate"].as_f64().unwrap() < 0.0);
}

/// A printed number and its decimals.
type Printed = (f64, usize);

/// The numbers of a text line, in order, each with its printed decimals; metafor's "< .0001"
/// reads as 0.00005 ± 0.00005.
fn line_numbers(line: &str) -> Vec<Printed> {
    line.replace("< .0001", "<.0001")
        .split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | ',' | ';' | '%' | '='))
        .filter_map(|t| {
            if t == "<.0001" {
                return Some((5e-5, 4));
            }
            let decimals = t.split_once('.').map_or(0, |(_, d)| d.len());
            t.parse::<f64>().ok().map(|x| (x, decimals))
        })
        .collect()
}

/// The text summary (metafor's `print.rma.glmm`) prints the fit metafor reports for
/// Pritz et al. (1997), `dat.pritz1997`: the estimate row, its back-transform, τ², I², both
/// tests of heterogeneity and the log-likelihood, each within its printed rounding of
/// README_more's `converged` value (and that value's tolerance).
#[test]
fn text_summary_prints_metafor_pritz1997_fit() {
    let r = pool_pritz(&["--digits", "6"]);
    let text = std::fs::read_to_string("tests/conformance/cases/pritz1997_glmm_plo/expected.json")
        .unwrap();
    let case: serde_json::Value = serde_json::from_str(&text).unwrap();
    let want = &case["analyses"][0]["expected"]["converged"];
    let lines: Vec<&str> = r.stdout.lines().map(str::trim_start).collect();
    let after = |prefix: &str| -> Vec<Printed> {
        let line = lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in\n{}", r.stdout));
        line_numbers(line.strip_prefix(prefix).unwrap())
    };
    let head = lines
        .iter()
        .position(|l| l.starts_with("estimate"))
        .unwrap();
    let checks: Vec<(&str, Vec<Printed>, Vec<&str>)> = vec![
        (
            "row",
            line_numbers(lines[head + 1]),
            vec!["estimate", "se", "zval", "pval", "ci_lb", "ci_ub"],
        ),
        ("PI", after("Prediction interval:"), vec!["pi_lb", "pi_ub"]),
        (
            "back",
            after("Back-transformed (ilogit):"),
            vec![
                "estimate_ilogit",
                "ci_lb_ilogit",
                "ci_ub_ilogit",
                "pi_lb_ilogit",
                "pi_ub_ilogit",
            ],
        ),
        ("tau2", after("tau^2 ="), vec!["tau2"]),
        ("I2", after("I^2"), vec!["I2"]),
        ("Wld", after("Wld(df = 13)"), vec!["QE_Wld", "QE_Wld_pval"]),
        ("LRT", after("LRT(df = 13)"), vec!["QE_LRT", "QE_LRT_pval"]),
        (
            "fit",
            after("logLik (ML) ="),
            vec!["loglik", "deviance", "AIC", "BIC", "AICc"],
        ),
    ];
    for (what, got, keys) in checks {
        assert_eq!(got.len(), keys.len(), "{what}: {got:?}\n{}", r.stdout);
        for ((g, decimals), k) in got.into_iter().zip(keys) {
            let w = want[k].as_f64().unwrap();
            let rounding = 0.5 * 10f64.powi(-(decimals as i32)) * (1.0 + 1e-9);
            let ok = (g - w).abs() <= rounding + 2e-4 * w.abs();
            assert!(ok, "{what} {k}: printed {g}, metafor {w}\n{}", r.stdout);
        }
    }
}

/// A library caller asking for Knapp–Hartung or a level outside (0, 100) is refused, not fitted
/// with z; the model names parse as metafor spells them.
#[test]
fn refuses_knha_and_bad_levels_and_parses_model_names() {
    let s = pritz_studies();
    for test in [evident::model::Test::Knha, evident::model::Test::Adhoc] {
        let o = GlmmOptions {
            test,
            ..GlmmOptions::default()
        };
        let e = err(&s, Measure::PLO, &o);
        assert!(e.contains("z or t tests"), "{e}");
    }
    for level in [0.0, 100.0, f64::NAN] {
        let o = GlmmOptions {
            level,
            ..GlmmOptions::default()
        };
        assert!(err(&s, Measure::PLO, &o).contains("confidence level"));
    }
    assert_eq!("um.rs".parse::<GlmmModel>().unwrap(), GlmmModel::UmRs);
    assert_eq!("CM.EL".parse::<GlmmModel>().unwrap(), GlmmModel::CmEl);
    let e = "UM".parse::<GlmmModel>().unwrap_err().to_string();
    assert!(e.contains("UM.FS, UM.RS, CM.EL or CM.AL"), "{e}");
}
