//! Formula features against metafor 3.8-1: factor reference levels (byte order, `relevel()`,
//! a reference chosen outside the formula), `I()`/`log()`/`exp()`/`sqrt()`, redundant columns,
//! one-level factors, intercept-only permutation tests, and influence diagnostics and regtest
//! of a meta-regression. `tests/fixtures/formula/gen.R` wrote `arms.csv` and `expected.json`.

mod common;

use common::check::Check;
use common::tol::{PVAL_RTOL, RTOL};
use evident::data::{read_studies, ColumnMap, CsvOptions};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::{Method, RmaOptions, Test};
use evident::moderators::{metareg_formula, Formula, Reference};
use evident::Measure;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formula")
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap()).unwrap()
}

fn load(path: &Path, measure: Measure) -> EffectSet {
    let studies = read_studies(path, &CsvOptions::default(), &ColumnMap::new()).unwrap();
    EffectSet::from_studies(&studies, measure, &EscalcOptions::default()).unwrap()
}

fn arms() -> EffectSet {
    load(&dir().join("arms.csv"), Measure::GEN)
}

fn bcg() -> EffectSet {
    load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("data/bcg.csv"),
        Measure::RR,
    )
}

fn test_of(e: &Value) -> Test {
    e["test"].as_str().unwrap().parse().unwrap()
}

fn method_of(e: &Value) -> Method {
    e["method"].as_str().unwrap().parse().unwrap()
}

/// Coefficient names (metafor's rownames(beta)), estimates, SEs, p-values, CIs, QM, τ², QE;
/// metafor's warning about redundant predictors must come with a note naming them.
#[test]
fn formulas_fit_as_metafor() {
    let exp = expected();
    let set = arms();
    let mut c = Check::default();
    for (key, e) in exp["fits"].as_object().unwrap() {
        let refs: Vec<Reference> = e["reference"]
            .as_str()
            .map(|r| vec![Reference::parse(r)])
            .unwrap_or_default();
        let f = Formula::parse(e["formula"].as_str().unwrap())
            .unwrap()
            .with_references(refs);
        let o = RmaOptions {
            test: test_of(e),
            ..Default::default()
        };
        let fit = metareg_formula(&set, &f, &o).unwrap();
        let names: Vec<&str> = e["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(fit.names(), names, "{key}");
        let col = |g: &dyn Fn(&evident::moderators::metareg::Coefficient) -> f64| {
            fit.coefficients.iter().map(g).collect::<Vec<f64>>()
        };
        c.arr(
            &format!("{key} b"),
            &e["estimate"],
            &col(&|x| x.estimate),
            RTOL,
        );
        c.arr(&format!("{key} se"), &e["se"], &col(&|x| x.se), RTOL);
        c.arr(
            &format!("{key} pval"),
            &e["pval"],
            &col(&|x| x.pval),
            PVAL_RTOL,
        );
        c.arr(
            &format!("{key} ci_lb"),
            &e["ci_lb"],
            &col(&|x| x.ci_lb),
            RTOL,
        );
        c.arr(
            &format!("{key} ci_ub"),
            &e["ci_ub"],
            &col(&|x| x.ci_ub),
            RTOL,
        );
        c.num(&format!("{key} QM"), &e["QM"], fit.qm.stat, RTOL);
        c.num(&format!("{key} QMp"), &e["QMp"], fit.qm.pval, PVAL_RTOL);
        c.num(&format!("{key} tau2"), &e["tau2"], fit.tau2, RTOL);
        c.num(&format!("{key} QE"), &e["QE"], fit.het.q, RTOL);
        let warned = e["warning"].as_str().is_some();
        assert_eq!(!fit.matrix.redundant.is_empty(), warned, "{key}");
        assert_eq!(
            fit.notes
                .iter()
                .any(|n| n.contains("redundant predictors dropped")),
            warned,
            "{key}"
        );
    }
    c.done(100);
}

/// Text levels sort in byte order ("Active" < "Placebo" < "active" < "beta"), and every fit
/// says which level is the reference and why.
#[test]
fn reference_levels_are_recorded() {
    let set = arms();
    let o = RmaOptions::default();
    let fit = |f: &str, r: Vec<Reference>| {
        metareg_formula(&set, &Formula::parse(f).unwrap().with_references(r), &o).unwrap()
    };
    let f = fit("arm", vec![]);
    let coding = &f.matrix.factors[0];
    assert_eq!(coding.levels, ["Active", "Placebo", "active", "beta"]);
    assert_eq!(coding.reference.as_deref(), Some("Active"));
    assert_eq!(coding.rule, evident::moderators::ReferenceRule::ByteOrder);
    let f = fit("arm", vec![Reference::parse("beta")]);
    assert_eq!(f.matrix.factors[0].reference.as_deref(), Some("beta"));
    assert_eq!(
        f.names(),
        ["intrcpt", "armActive", "armPlacebo", "armactive"]
    );
    // With every level coded there is no reference.
    let f = fit("arm - 1", vec![]);
    assert_eq!(f.matrix.factors[0].reference, None);
    // Unknown levels and non-factors are refused with the levels listed.
    let err = |f: &str, r: &str| {
        let formula = Formula::parse(f)
            .unwrap()
            .with_references(vec![Reference::parse(r)]);
        metareg_formula(&set, &formula, &o).unwrap_err().to_string()
    };
    let e = err("arm", "arm=placebo");
    assert!(
        e.contains("'placebo' is not a level") && e.contains("Active, Placebo, active, beta"),
        "{e}"
    );
    let e = err("arm + x", "x=1");
    assert!(e.contains("'x' is not a factor"), "{e}");
    let e = err("arm", "gamma");
    assert!(e.contains("'gamma' is not a level of any factor"), "{e}");
    let e = metareg_formula(
        &set,
        &Formula::parse("relevel(arm, ref = \"gamma\")").unwrap(),
        &o,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("'gamma' is not a level of column 'arm'"), "{e}");
}

/// metafor refuses a one-level factor ("contrasts can be applied only to factors with 2 or more
/// levels"); so does evident, naming the column and its level.
#[test]
fn one_level_factor_is_refused() {
    let exp = expected();
    let r_msg = exp["one_level_error"].as_str().unwrap();
    let set = arms();
    for f in ["factor(one)", "one", "factor(one) - 1", "x + one"] {
        let e = metareg_formula(&set, &Formula::parse(f).unwrap(), &RmaOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column 'one' has a single level ('only')"),
            "{f}: {e}"
        );
        assert!(e.contains(r_msg), "{f}: {e}");
    }
}

/// log of a non-positive value (and sqrt of a negative one) is an error naming the study and
/// its row, where R would give NaN.
#[test]
fn undefined_transformations_name_the_row() {
    let set = arms();
    let o = RmaOptions::default();
    let e = metareg_formula(&set, &Formula::parse("log(x)").unwrap(), &o)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("log(x) is undefined for study 'S 1' (data row 1)"),
        "{e}"
    );
    assert!(e.contains("not positive"), "{e}");
    let e = metareg_formula(&set, &Formula::parse("sqrt(x)").unwrap(), &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("square root of"), "{e}");
    let e = metareg_formula(&set, &Formula::parse("I(1/(x - x))").unwrap(), &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("is undefined for study"), "{e}");
    let e = metareg_formula(&set, &Formula::parse("log(arm)").unwrap(), &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("column 'arm' is not numeric"), "{e}");
    let e = Formula::parse("dose^2").unwrap_err().to_string();
    assert!(e.contains("write I(dose^2)"), "{e}");
}

/// permutest of an rma without moderators: all 2^k sign flips, as metafor's exact test.
#[test]
fn intercept_only_permutations_match_metafor() {
    use evident::moderators::permutation::{permutest, PermutationOptions};
    let exp = expected();
    let all = bcg();
    let mut c = Check::default();
    for e in exp["permutation"].as_array().unwrap() {
        let k = e["k"].as_u64().unwrap() as usize;
        let set = all.subset(&(0..k).collect::<Vec<_>>());
        let o = RmaOptions {
            method: method_of(e),
            test: test_of(e),
            ..Default::default()
        };
        let fit = metareg_formula(&set, &Formula::parse("1").unwrap(), &o).unwrap();
        let po = PermutationOptions {
            exact: true,
            threads: 2,
            ..Default::default()
        };
        let t = permutest(&fit, &po).unwrap();
        assert!(t.exact);
        assert_eq!(t.iterations as u64, e["iter"].as_u64().unwrap());
        let key = format!("k={k} {:?} {:?}", o.method, o.test);
        c.num(&format!("{key} pval"), &e["pval"], t.pval[0], PVAL_RTOL);
        c.num(&format!("{key} QMp"), &e["QMp"], t.qm_pval, PVAL_RTOL);
    }
    c.done(24);
}

fn bcg_fit(e: &Value) -> evident::moderators::MetaregFit {
    let o = RmaOptions {
        method: method_of(e),
        test: test_of(e),
        ..Default::default()
    };
    let f = Formula::parse(e["formula"].as_str().unwrap()).unwrap();
    metareg_formula(&bcg(), &f, &o).unwrap()
}

/// influence(rma(yi, vi, mods = …)): every diagnostic, DFBETAS per coefficient, the flags.
#[test]
fn influence_of_a_metaregression_matches_metafor() {
    let exp = expected();
    let mut c = Check::default();
    for e in exp["influence"].as_array().unwrap() {
        let fit = bcg_fit(e);
        let inf = evident::sensitivity::influence_metareg(&fit).unwrap();
        let key = format!("{} {} {}", e["formula"], e["method"], e["test"]);
        c.arr_normwise(&format!("{key} dffits"), &e["dffits"], &inf.dffits, RTOL);
        for (name, got) in [
            ("rstudent", &inf.rstudent),
            ("cook_d", &inf.cooks_d),
            ("cov_r", &inf.cov_r),
            ("tau2_del", &inf.tau2_del),
            ("QE_del", &inf.qe_del),
            ("hat", &inf.hat),
            ("weight", &inf.weight),
        ] {
            c.arr(&format!("{key} {name}"), &e[name], got, RTOL);
        }
        let names: Vec<&str> = e["dfbs_names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(inf.coefficients, names, "{key}");
        for (n, d) in names.iter().zip(&inf.dfbetas_by_coef) {
            c.arr_normwise(&format!("{key} dfbs {n}"), &e["dfbs"][n], d, RTOL);
        }
        let flags: Vec<Option<bool>> = e["is_infl"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_bool())
            .collect();
        assert_eq!(inf.is_infl, flags, "{key}");
    }
    c.done(1000);
}

/// regtest(rma(yi, vi, mods = …)) for both models and three predictors.
#[test]
fn regtest_of_a_metaregression_matches_metafor() {
    use evident::bias::{regtest_metareg, Predictor, RegModel};
    let exp = expected();
    let set = bcg();
    let studies = read_studies(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("data/bcg.csv"),
        &CsvOptions::default(),
        &ColumnMap::new(),
    )
    .unwrap();
    let mut c = Check::default();
    for e in exp["regtest"].as_array().unwrap() {
        let fit = bcg_fit(e);
        let ni = evident::bias::sample_sizes(&studies, &fit.effects);
        assert_eq!(fit.k, set.k());
        let model: RegModel = e["model"].as_str().unwrap().parse().unwrap();
        let pred: Predictor = e["predictor"].as_str().unwrap().parse().unwrap();
        let r = regtest_metareg(&fit, model, pred, ni.as_deref()).unwrap();
        let key = format!(
            "{} {} {} {} {}",
            e["formula"], e["method"], e["test"], e["predictor"], e["model"]
        );
        c.num(&format!("{key} stat"), &e["stat"], r.stat, RTOL);
        c.num(&format!("{key} pval"), &e["pval"], r.pval, PVAL_RTOL);
        c.num(&format!("{key} slope"), &e["slope"], r.slope, RTOL);
        c.num(&format!("{key} tau2"), &e["tau2"], r.tau2, RTOL);
        match e["ddf"].as_f64() {
            Some(d) => assert_eq!(r.df, Some(d), "{key}"),
            None => assert_eq!(r.df, None, "{key}"),
        }
        assert!(r.limit.is_none() && !r.moderators.is_empty(), "{key}");
    }
    c.done(190);
}
