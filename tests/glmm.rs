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

#[test]
fn cli_json_is_the_library_fit() {
    let r = run_ok([
        "pool",
        PRITZ,
        "--measure",
        "PLO",
        "--method",
        "ML",
        "--glmm",
        "UM.FS",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let s = read_studies(PRITZ.as_ref(), &CsvOptions::default(), &ColumnMap::new()).unwrap();
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
