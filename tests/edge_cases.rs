//! Edge cases beyond the corpus, each with its stated behaviour.

use evident::data::{ColumnMap, CsvOptions, Studies, Table};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::rma;
use evident::model::Method;
use evident::model::RmaOptions;
use evident::model::Test;
use evident::{Measure, Scale};
use std::path::Path;

fn set(yi: &[f64], vi: &[f64]) -> EffectSet {
    EffectSet::from_yi_vi(yi.to_vec(), vi.to_vec(), Measure::GEN, Scale::Identity)
}

fn opts(method: Method, test: Test) -> RmaOptions {
    RmaOptions {
        method,
        test,
        ..RmaOptions::default()
    }
}

/// Identical studies: Q = 0, every estimator gives tau2 = 0; under Knapp–Hartung metafor sets the
/// scale factor to 0 (so se = 0); we follow it, and the CI collapses to the common value.
#[test]
fn identical_studies() {
    let s = set(&[0.3; 5], &[0.1; 5]);
    for m in Method::ALL {
        let f = rma(&s, &opts(m, Test::Z)).unwrap();
        assert_eq!(f.tau2, 0.0, "{m:?}");
        assert!((f.estimate - 0.3).abs() < 1e-15);
        assert!(f.het.q.abs() < 1e-20);
        assert_eq!(f.het.i2, 0.0);
    }
    let f = rma(&s, &opts(Method::REML, Test::Knha)).unwrap();
    assert_eq!(f.s2w, 0.0);
    assert_eq!(f.se, 0.0);
    // adhoc never goes below the Wald standard error.
    let f = rma(&s, &opts(Method::REML, Test::Adhoc)).unwrap();
    assert!((f.se - (0.1f64 / 5.0).sqrt()).abs() < 1e-15);
}

/// Q below its df: DL, HE, HS truncate at 0; SJ stays positive (it cannot reach 0).
#[test]
fn tau2_truncated_at_zero() {
    let s = set(&[0.1, 0.12, 0.09, 0.11], &[0.2, 0.3, 0.25, 0.2]);
    for m in [
        Method::DL,
        Method::HE,
        Method::HS,
        Method::ML,
        Method::REML,
        Method::EB,
        Method::PM,
    ] {
        assert_eq!(rma(&s, &opts(m, Test::Z)).unwrap().tau2, 0.0, "{m:?}");
    }
    assert!(rma(&s, &opts(Method::SJ, Test::Z)).unwrap().tau2 > 0.0);
}

/// k = 1: tau2 = 0, no se(tau2), no tau2 CI, Knapp–Hartung falls back to z, PI = CI (metafor).
#[test]
fn single_study() {
    let s = set(&[0.5], &[0.04]);
    let f = rma(&s, &opts(Method::REML, Test::Knha)).unwrap();
    assert_eq!(f.k, 1);
    assert_eq!(f.tau2, 0.0);
    assert!(f.se_tau2.is_none() && f.tau2_ci.is_none());
    assert_eq!(f.test, Test::Z);
    let pi = f.pi.unwrap();
    assert!((pi.lb - f.ci_lb).abs() < 1e-15 && (pi.ub - f.ci_ub).abs() < 1e-15);
    assert!(!f.notes.is_empty());
}

/// Extreme variances: a value or a typed error, never a panic or a silent NaN estimate.
#[test]
fn huge_and_tiny_variances() {
    for vi in [
        [1e-300, 1e-300, 2e-300],
        [1e300, 1e300, 2e300],
        [1e-12, 1.0, 1e12],
    ] {
        let s = set(&[0.1, 0.5, -0.2], &vi);
        for m in Method::ALL {
            if let Ok(f) = rma(&s, &opts(m, Test::Z)) {
                assert!(f.estimate.is_finite(), "{m:?} {vi:?}: {}", f.estimate);
                assert!(f.tau2 >= 0.0);
            }
        }
    }
}

/// A zero sampling variance with tau2 = 0 cannot be weighted: a clear error, as metafor.
#[test]
fn zero_variance_with_fe_is_an_error() {
    let s = set(&[0.1, 0.5], &[0.0, 0.1]);
    let e = rma(&s, &opts(Method::FE, Test::Z)).unwrap_err().to_string();
    assert!(
        e.contains("division by zero") && e.contains("sampling variance 0"),
        "{e}"
    );
    // DL refuses non-positive variances outright.
    let e = rma(&s, &opts(Method::DL, Test::Z)).unwrap_err().to_string();
    assert!(e.contains("zero or negative"), "{e}");
}

/// All-zero 2x2 tables: under the default rule each gets 1/2 in every cell (yi = 0 for OR); with
/// drop00 they are omitted and, if nothing is left, pooling says so.
#[test]
fn all_double_zero_studies() {
    let t = Table::from_bytes(
        Path::new("z.csv"),
        b"study,ai,bi,ci,di\nA,0,10,0,12\nB,0,8,0,9\n",
        &CsvOptions::default(),
    )
    .unwrap();
    let st = Studies::from_table(&t, &ColumnMap::new()).unwrap();
    let s = EffectSet::from_studies(&st, Measure::OR, &EscalcOptions::default()).unwrap();
    assert_eq!(s.k(), 2);
    // log((0.5 · 12.5) / (10.5 · 0.5)) and log((0.5 · 9.5) / (8.5 · 0.5)).
    let want = [(12.5f64 / 10.5).ln(), (9.5f64 / 8.5).ln()];
    for (g, w) in s.yi.iter().zip(want) {
        assert!((g - w).abs() < 1e-14, "{g} vs {w}");
    }
    let drop = EscalcOptions {
        drop00: true,
        ..EscalcOptions::default()
    };
    let s = EffectSet::from_studies(&st, Measure::OR, &drop).unwrap();
    assert_eq!(s.k(), 0);
    assert!(rma(&s, &RmaOptions::default())
        .unwrap_err()
        .to_string()
        .contains("no studies"));
}

/// k = 2 with heterogeneity: Knapp–Hartung has 1 df and the Q-profile upper bound is censored.
#[test]
fn two_heterogeneous_studies() {
    let s = set(&[-1.5, 0.4], &[0.05, 0.04]);
    let f = rma(&s, &opts(Method::REML, Test::Knha)).unwrap();
    assert_eq!(f.df, Some(1.0));
    assert!(f.ci_ub - f.ci_lb > 10.0, "t(1) intervals are very wide");
    let ci = f.tau2_ci.unwrap();
    assert!(ci.tau2_lb > 0.0 && ci.tau2_ub > ci.tau2_lb);
}

/// Regression (found as a stack overflow in the property tests): a pooled estimate of exactly 0
/// under Knapp–Hartung gives t = 0 and p = 1.
#[test]
fn zero_estimate_under_knapp_hartung() {
    let s = set(&[-0.5, 0.5, 0.0], &[0.1, 0.1, 0.1]);
    let f = rma(&s, &opts(Method::REML, Test::Knha)).unwrap();
    assert_eq!(f.estimate, 0.0);
    assert_eq!(f.pval, 1.0);
}
