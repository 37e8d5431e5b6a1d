//! Egger's test and PEESE's regression on multilevel models with CR2 inference (Rodgers &
//! Pustejovsky 2021) against metafor's rma.mv(yi ~ sqrt(vi)) / rma.mv(yi ~ vi) and
//! clubSandwich's coef_test(vcov = "CR2") (`tests/fixtures/egger_mv/gen.R`).

mod common;

use common::check::{fixture, fixture_expected as expected, Check};
use common::cli::evident;
use common::{MV_CONVERGED, MV_DEFAULT, PVAL_RTOL};
use evident::bias::{regtest_mv, Predictor};
use evident::data::{read_studies, ColumnMap, CsvOptions, Studies};
use evident::model::Method;
use evident::multilevel::MvOptions;
use evident::robust::RobustType;
use serde_json::Value;

fn studies(file: &str) -> Studies {
    let path = fixture("egger_mv").join(format!("{file}.csv"));
    read_studies(&path, &CsvOptions::default(), &ColumnMap::new()).unwrap()
}

fn options(e: &Value) -> MvOptions {
    MvOptions {
        random: vec![e["random"].as_str().unwrap().to_string()],
        method: match e["method"].as_str().unwrap() {
            "ML" => Method::ML,
            _ => Method::REML,
        },
        ..MvOptions::default()
    }
}

fn predictor(e: &Value) -> Predictor {
    match e["predictor"].as_str().unwrap() {
        "sei" => Predictor::Sei,
        _ => Predictor::Vi,
    }
}

#[test]
fn multilevel_egger_and_peese_match_metafor_and_club_sandwich() {
    let exp = expected("egger_mv");
    for (block, tol) in [("tight", MV_CONVERGED), ("default", MV_DEFAULT)] {
        let mut c = Check::with_atol(tol.atol);
        for (key, e) in exp.as_object().unwrap() {
            let s = studies(e["file"].as_str().unwrap());
            let cluster = e["cluster"].as_str().unwrap();
            let r = regtest_mv(
                &s,
                &options(e),
                predictor(e),
                Some((cluster, RobustType::CR2)),
            )
            .unwrap();
            let x = &e[block];
            let names: Vec<&str> = r.fit.coefficients.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(serde_json::json!(names), e["names"], "{key}");
            let fc = &r.fit.coefficients;
            let rc = &r.robust.as_ref().unwrap().coefficients;
            let col = |f: &dyn Fn(usize) -> f64| vec![f(0), f(1)];
            let k = |name: &str| format!("{key} {block} {name}");
            c.arr(&k("b"), &x["b"], &col(&|j| fc[j].estimate), tol.rtol);
            c.arr(&k("se"), &x["se"], &col(&|j| fc[j].se), tol.rtol);
            c.arr(&k("zval"), &x["zval"], &col(&|j| fc[j].stat), tol.rtol);
            c.arr(
                &k("pval"),
                &x["pval"],
                &col(&|j| fc[j].pval),
                tol.rtol.max(PVAL_RTOL),
            );
            c.arr(&k("ci_lb"), &x["ci_lb"], &col(&|j| fc[j].ci_lb), tol.rtol);
            c.arr(&k("ci_ub"), &x["ci_ub"], &col(&|j| fc[j].ci_ub), tol.rtol);
            let s2: Vec<f64> = r.fit.components.iter().map(|c| c.sigma2).collect();
            c.arr(&k("sigma2"), &x["sigma2"], &s2, tol.rtol);
            c.arr(&k("cr2_se"), &x["cr2_se"], &col(&|j| rc[j].se), tol.rtol);
            c.arr(
                &k("cr2_tval"),
                &x["cr2_tval"],
                &col(&|j| rc[j].tval),
                tol.rtol,
            );
            c.arr(&k("cr2_df"), &x["cr2_df"], &col(&|j| rc[j].df), tol.rtol);
            c.arr(
                &k("cr2_pval"),
                &x["cr2_pval"],
                &col(&|j| rc[j].pval),
                tol.rtol.max(PVAL_RTOL),
            );
            c.arr(
                &k("cr2_ci_lb"),
                &x["cr2_ci_lb"],
                &col(&|j| rc[j].ci_lb),
                tol.rtol,
            );
            c.arr(
                &k("cr2_ci_ub"),
                &x["cr2_ci_ub"],
                &col(&|j| rc[j].ci_ub),
                tol.rtol,
            );
            // The test is the slope's robust t; the limit estimate is the intercept.
            assert_eq!(r.slope.stat, rc[1].tval);
            assert_eq!(r.limit.unwrap().estimate, rc[0].estimate);
        }
        assert_eq!(c.n, 8 * 26, "{block}");
        assert!(c.misses.is_empty(), "{}", c.misses.join("\n"));
    }
}

/// `regtest --random ... --robust CR2 --cluster COL` prints the same test (JSON: the
/// library's numbers, checked above against clubSandwich); --robust without --random or
/// --cluster, and --model lm with --random, are refused.
#[test]
fn regtest_cli_runs_the_multilevel_test() {
    let exp = expected("egger_mv");
    let e = &exp["assink sei REML"];
    let file = fixture("egger_mv").join("assink.csv");
    let f = file.to_str().unwrap();
    let base = ["regtest", f, "--measure", "GEN", "--preset", "metafor"];
    let mv = ["--random", "~ 1 | paper/esid"];
    let rob = ["--robust", "CR2", "--cluster", "paper"];
    let run = evident(base.iter().chain(&mv).chain(&rob).chain(&["--json"]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut c = Check::with_atol(MV_DEFAULT.atol);
    let x = &e["default"];
    c.num(
        "tval",
        &x["cr2_tval"][1],
        v["tval"].as_f64().unwrap(),
        MV_DEFAULT.rtol,
    );
    c.num(
        "df",
        &x["cr2_df"][1],
        v["df"].as_f64().unwrap(),
        MV_DEFAULT.rtol,
    );
    c.num(
        "pval",
        &x["cr2_pval"][1],
        v["pval"].as_f64().unwrap(),
        MV_DEFAULT.rtol,
    );
    c.num(
        "limit",
        &x["b"][0],
        v["limit_estimate"].as_f64().unwrap(),
        MV_DEFAULT.rtol,
    );
    c.num(
        "limit_ci_lb",
        &x["cr2_ci_lb"][0],
        v["limit_ci_lb"].as_f64().unwrap(),
        MV_DEFAULT.rtol,
    );
    assert!(c.misses.is_empty(), "{:?}", c.misses);
    assert_eq!(v["model"], "rma.mv");
    assert_eq!(v["predictor"], "sei");
    let text = evident(base.iter().chain(&mv).chain(&rob));
    assert!(
        text.stdout
            .contains("cluster-robust CR2 tests (Satterthwaite df) by 'paper'"),
        "{}",
        text.stdout
    );
    for (extra, says) in [
        (
            vec!["--robust", "CR2", "--cluster", "paper"],
            "give its --random formula",
        ),
        (
            vec!["--random", "~ 1 | paper/esid", "--robust", "CR2"],
            "--robust needs --cluster",
        ),
        (
            vec!["--random", "~ 1 | paper/esid", "--model", "lm"],
            "leave --model out",
        ),
        (
            vec!["--random", "~ 1 | paper/esid", "--predictor", "ninv"],
            "not ninv",
        ),
    ] {
        let run = evident(base.iter().copied().chain(extra.iter().copied()));
        assert_eq!(run.code, Some(1), "{extra:?}: {}", run.stdout);
        assert!(run.stderr.contains(says), "{extra:?}: {}", run.stderr);
    }
}
