//! Numerical safety (issue 9): Q-profile bounds on extreme data, non-convergence reported alike by
//! ML, REML and EB, counts of 10⁹ without overflow, and rank-deficient meta-regression from the
//! CLI. Reference values from metafor 3.8-1 (the R call is beside each).

#![allow(clippy::excessive_precision)]

mod common;

use common::cli::evident;
use common::RTOL;
use evident::data::{ColumnMap, CsvOptions, Studies, Table};
use evident::effect::{escalc, EffectSet, EscalcOptions};
use evident::model::rma;
use evident::model::Control;
use evident::model::Method;
use evident::model::RmaOptions;
use evident::pool::mh::{rma_mh, MhOptions};
use evident::pool::peto::rma_peto;
use evident::{Error, Measure, Scale};
use std::path::Path;

fn close(a: f64, b: f64, rtol: f64) -> bool {
    (a - b).abs() <= rtol * b.abs().max(1e-300)
}

fn studies(csv: &str) -> Studies {
    let t = Table::from_bytes(Path::new("t.csv"), csv.as_bytes(), &CsvOptions::default()).unwrap();
    Studies::from_table(&t, &ColumnMap::new()).unwrap()
}

/// tau2 ≈ 5e5: the upper Q-profile bound hits the search limit max(100, 10 tau2) and is marked ">".
#[test]
fn q_profile_upper_bound_censored_at_the_search_limit() {
    let set = EffectSet::from_yi_vi(
        vec![0.0, 1000.0],
        vec![1.0, 1.0],
        Measure::GEN,
        Scale::Identity,
    );
    let f = rma(&set, &RmaOptions::default()).unwrap();
    // rma(yi=c(0,1000), vi=c(1,1))$tau2
    assert!(close(f.tau2, 499998.99999999977, 1e-10));
    let ci = f.tau2_ci.expect("Q-profile CI");
    // confint(rma(yi=c(0,1000), vi=c(1,1)))$random[1,]: 99523.547602706443, 4999989.999999998137,
    // lb.sign "", ub.sign ">"
    assert!(close(ci.tau2_lb, 99523.547602706443, 1e-6), "{ci:?}");
    assert!(close(ci.tau2_ub, 4999989.999999998137, 1e-10), "{ci:?}");
    assert_eq!(ci.lb_censor.sign(), "");
    assert_eq!(ci.ub_censor.sign(), ">");
}

/// Effects of ±1e150 (squares near the top of the double range): a finite fit or a typed error,
/// never a panic or a NaN estimate.
#[test]
fn q_profile_on_astronomical_effects_is_finite_or_an_error() {
    for y in [1e150, 1e154, 1e200, 1e300] {
        let set = EffectSet::from_yi_vi(
            vec![-y, y, 0.0],
            vec![1.0; 3],
            Measure::GEN,
            Scale::Identity,
        );
        for method in [Method::REML, Method::DL, Method::ML, Method::PM] {
            match rma(
                &set,
                &RmaOptions {
                    method,
                    ..Default::default()
                },
            ) {
                Ok(f) => {
                    assert!(
                        f.estimate.is_finite() && f.tau2.is_finite(),
                        "{y} {method:?}: {f:?}"
                    );
                    if let Some(ci) = f.tau2_ci {
                        assert!(
                            ci.tau2_lb.partial_cmp(&ci.tau2_ub)
                                != Some(std::cmp::Ordering::Greater),
                            "{y} {method:?}: {ci:?}"
                        );
                    }
                }
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
    }
}

/// ML, REML and EB share metafor's Fisher scoring: each reports a non-convergence the same way.
#[test]
fn ml_reml_eb_non_convergence_reported_alike() {
    // escalc("RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg); with
    // control=list(maxiter=2) metafor stops each of ML, REML and EB with "Fisher scoring
    // algorithm did not converge".
    let bcg = include_str!("conformance/cases/bcg_or/input.csv");
    let s = studies(bcg);
    let set = EffectSet::from_studies(&s, Measure::RR, &EscalcOptions::default()).unwrap();
    for method in [Method::ML, Method::REML, Method::EB] {
        let o = RmaOptions {
            method,
            control: Control {
                maxiter: 2,
                ..Control::default()
            },
            ..Default::default()
        };
        match rma(&set, &o) {
            Err(
                e @ Error::IterationLimit {
                    method: m,
                    iterations: 2,
                    ..
                },
            ) => {
                assert_eq!(m, method.name());
                assert!(
                    e.to_string().contains("did not converge in 2 iterations"),
                    "{e}"
                );
            }
            other => panic!("{method:?}: expected IterationLimit, got {other:?}"),
        }
        // With the default 100 iterations all three converge.
        assert!(rma(
            &set,
            &RmaOptions {
                method,
                ..Default::default()
            }
        )
        .is_ok());
    }
}

const BIG: &str = "study,ai,bi,ci,di
a,1000000000,3000000000,1200000000,2800000000
b,2000000000,2000000000,1000000000,3000000000
c,500000000,4000000000,700000000,3800000000
";

/// Counts of 10⁹: escalc, Mantel–Haenszel and Peto stay finite and match metafor.
#[test]
fn billion_counts_do_not_overflow() {
    let s = studies(BIG);
    // dat <- data.frame(ai=c(1e9,2e9,5e8), bi=c(3e9,2e9,4e9), ci=c(1.2e9,1e9,7e8),
    //                   di=c(2.8e9,3e9,3.8e9)); escalc("OR", ai=ai, bi=bi, ci=ci, di=di, data=dat)
    let es = escalc(&s, Measure::OR, &EscalcOptions::default()).unwrap();
    let yi = [
        -0.25131442828090622,
        1.09861228866810978,
        -0.38776553100876332,
    ];
    let vi = [
        2.5238095238095238e-09,
        2.3333333333333335e-09,
        3.9417293233082709e-09,
    ];
    for i in 0..3 {
        assert!(close(es.yi[i].unwrap(), yi[i], 1e-10));
        assert!(close(es.vi[i].unwrap(), vi[i], 1e-10));
    }
    let o = MhOptions::default();
    // rma.mh(..., measure="OR"|"RR"|"RD"): c(beta, se)
    for (m, beta, se) in [
        (Measure::OR, 2.5982511794881474e-01, 2.9452780830827641e-05),
        (Measure::RR, 1.8805223150293962e-01, 2.1391136796411789e-05),
        (Measure::RD, 4.8000000000000001e-02, 5.4350827449491918e-06),
    ] {
        let f = rma_mh(&s, m, &o).unwrap();
        assert!(
            close(f.estimate, beta, RTOL),
            "{m:?} {} vs {beta}",
            f.estimate
        );
        assert!(close(f.se, se, RTOL), "{m:?} {} vs {se}", f.se);
    }
    // rma.peto(ai=ai, bi=bi, ci=ci, di=di, data=dat): c(beta, se)
    let f = rma_peto(&s, &o).unwrap();
    assert!(
        close(f.estimate, 2.6607538799420033e-01, RTOL),
        "{}",
        f.estimate
    );
    assert!(close(f.se, 2.9781167874693359e-05, RTOL), "{}", f.se);
}

/// A moderator that duplicates another: dropped as metafor does ("Redundant predictors dropped
/// from the model"), and the output names it.
#[test]
fn rank_deficient_meta_regression_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.csv");
    std::fs::write(
        &p,
        "study,yi,vi,x,x2\na,0.1,0.01,1,2\nb,0.3,0.02,2,4\nc,0.2,0.015,3,6\nd,0.5,0.01,4,8\ne,0.4,0.03,5,10\n",
    )
    .unwrap();
    let o = evident(["pool", p.to_str().unwrap(), "--mods", "x + x2"]);
    assert!(o.ok, "{}", o.stderr);
    assert!(
        o.stdout.contains("redundant predictors dropped") && o.stdout.contains("'x2'"),
        "{}",
        o.stdout
    );
}

/// Issue 14 item 11: when the sampling variances are so far apart that the typical within-study
/// variance is not a number, the text says I^2 and H^2 are NA and why (no "NaN%", no "-inf").
#[test]
fn i2_at_extreme_variances_is_stated_na() {
    let dir = tempfile::tempdir().unwrap();
    // Variances 1e200 or 1e300 apart (the second also fitted rescaled): no common scale serves
    // them, so I² is stated NA. (Variances all of
    // 1e-300 are fitted rescaled and give I² = 100 %: tests/numerics.rs checks the rescaling.)
    for vi in ["1e-200,1,1", "1e-250,1e50,1"] {
        let v: Vec<&str> = vi.split(',').collect();
        let f = dir.path().join("x.csv");
        std::fs::write(
            &f,
            format!(
                "study,yi,vi\nA,0.1,{}\nB,0.3,{}\nC,0.2,{}\n",
                v[0], v[1], v[2]
            ),
        )
        .unwrap();
        let r = evident(["pool", f.to_str().unwrap()]);
        assert!(r.ok, "{}", r.stderr);
        assert!(
            !r.stdout.contains("NaN") && !r.stdout.contains("-inf"),
            "{}",
            r.stdout
        );
        assert!(
            r.stdout.contains("I^2   = NA") && r.stdout.contains("not computable"),
            "{}",
            r.stdout
        );
    }
}
