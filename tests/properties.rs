//! Property tests of the library (proptest): invariances and bounds that hold for every input.

use evident::data::{Data, Studies};
use evident::effect::{escalc, EffectSet, EscalcOptions};
use evident::model::rma;
use evident::model::Method;
use evident::model::RmaOptions;
use evident::model::Test;
use evident::{Measure, Scale};
use proptest::prelude::*;

fn close(a: f64, b: f64, rtol: f64) -> bool {
    (a - b).abs() <= 1e-12 + rtol * a.abs().max(b.abs())
}

fn studies() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (2usize..25).prop_flat_map(|k| {
        (
            prop::collection::vec(-3.0f64..3.0, k),
            prop::collection::vec(0.001f64..2.0, k),
        )
    })
}

fn fit(
    yi: &[f64],
    vi: &[f64],
    method: Method,
    test: Test,
) -> Result<evident::model::RmaFit, evident::Error> {
    let set = EffectSet::from_yi_vi(yi.to_vec(), vi.to_vec(), Measure::GEN, Scale::Identity);
    rma(
        &set,
        &RmaOptions {
            method,
            test,
            ..RmaOptions::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Reordering the studies changes no result.
    #[test]
    fn permutation_invariance((yi, vi) in studies(), seed in any::<u64>()) {
        let k = yi.len();
        let mut idx: Vec<usize> = (0..k).collect();
        let mut s = seed | 1;
        for i in (1..k).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            idx.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let (py, pv): (Vec<f64>, Vec<f64>) = idx.iter().map(|&i| (yi[i], vi[i])).unzip();
        for m in Method::ALL {
            let (a, b) = (fit(&yi, &vi, m, Test::Z), fit(&py, &pv, m, Test::Z));
            prop_assert_eq!(a.is_ok(), b.is_ok());
            if let (Ok(a), Ok(b)) = (a, b) {
                prop_assert!(close(a.estimate, b.estimate, 1e-9), "{:?} {} {}", m, a.estimate, b.estimate);
                prop_assert!(close(a.tau2, b.tau2, 1e-8), "{:?} {} {}", m, a.tau2, b.tau2);
                prop_assert!(close(a.het.q, b.het.q, 1e-9));
            }
        }
    }

    /// Bounds: tau2 ≥ 0, 0 ≤ I² < 100, estimate within [min yi, max yi], CIs contain their
    /// estimate, and the RE CI is at least as wide as the FE CI when tau2 > 0 (z test).
    #[test]
    fn bounds((yi, vi) in studies()) {
        let fe = fit(&yi, &vi, Method::FE, Test::Z).unwrap();
        let lo = yi.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = yi.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        for m in Method::ALL {
            for t in [Test::Z, Test::Knha] {
                let Ok(f) = fit(&yi, &vi, m, t) else { continue };
                prop_assert!(f.tau2 >= 0.0);
                prop_assert!(f.het.i2 >= 0.0 && f.het.i2 < 100.0, "I2 {}", f.het.i2);
                prop_assert!(f.estimate >= lo - 1e-12 && f.estimate <= hi + 1e-12);
                prop_assert!(f.ci_lb <= f.estimate && f.estimate <= f.ci_ub);
                if let Some(pi) = f.pi { prop_assert!(pi.lb <= f.ci_lb + 1e-12 && pi.ub >= f.ci_ub - 1e-12); }
                if t == Test::Z && f.tau2 > 0.0 {
                    prop_assert!(f.ci_ub - f.ci_lb >= fe.ci_ub - fe.ci_lb - 1e-12);
                }
            }
        }
    }

    /// Multiplying every variance by c > 0 leaves the FE estimate unchanged.
    #[test]
    fn fe_scale_invariance((yi, vi) in studies(), c in 0.01f64..100.0) {
        let a = fit(&yi, &vi, Method::FE, Test::Z).unwrap();
        let scaled: Vec<f64> = vi.iter().map(|v| v * c).collect();
        let b = fit(&yi, &scaled, Method::FE, Test::Z).unwrap();
        prop_assert!(close(a.estimate, b.estimate, 1e-10));
    }

    /// Swapping the arms inverts ratios (negates their logs) and negates differences.
    #[test]
    fn arm_swap(a in 0u32..60, b in 1u32..60, c in 0u32..60, d in 1u32..60) {
        let f = |x: u32| vec![Some(x as f64)];
        let tab = |a, b, c, d| Studies {
            source: "p.csv".into(), labels: vec!["A".into()], lines: vec![2],
            data: Data::TwoByTwo { ai: f(a), bi: f(b), ci: f(c), di: f(d) }, moderators: vec![], warnings: vec![],
        };
        let (s1, s2) = (tab(a, b, c, d), tab(c, d, a, b));
        for m in [Measure::OR, Measure::RR, Measure::RD, Measure::PETO] {
            let o = EscalcOptions::default();
            let (e1, e2) = (escalc(&s1, m, &o).unwrap(), escalc(&s2, m, &o).unwrap());
            match (e1.yi[0], e2.yi[0]) {
                (Some(y1), Some(y2)) => {
                    prop_assert!(close(y1, -y2, 1e-12), "{m}: {y1} vs {y2}");
                    prop_assert!(close(e1.vi[0].unwrap(), e2.vi[0].unwrap(), 1e-12));
                }
                (None, None) => {}
                other => prop_assert!(false, "{m}: {other:?}"),
            }
        }
    }

    /// Means: swapping the groups negates MD and SMD.
    #[test]
    fn arm_swap_means(m1 in -10.0f64..10.0, m2 in -10.0f64..10.0, s1 in 0.1f64..5.0, s2 in 0.1f64..5.0, n1 in 2u32..200, n2 in 2u32..200) {
        let f = |x: f64| vec![Some(x)];
        let st = |m1, s1, n1: u32, m2, s2, n2: u32| Studies {
            source: "p.csv".into(), labels: vec!["A".into()], lines: vec![2],
            data: Data::Means { m1i: f(m1), sd1i: f(s1), n1i: f(n1 as f64), m2i: f(m2), sd2i: f(s2), n2i: f(n2 as f64) }, moderators: vec![], warnings: vec![],
        };
        for m in [Measure::MD, Measure::SMD] {
            let o = EscalcOptions::default();
            let (a, b) = (escalc(&st(m1, s1, n1, m2, s2, n2), m, &o).unwrap(), escalc(&st(m2, s2, n2, m1, s1, n1), m, &o).unwrap());
            prop_assert!(close(a.yi[0].unwrap(), -b.yi[0].unwrap(), 1e-12));
            prop_assert!(close(a.vi[0].unwrap(), b.vi[0].unwrap(), 1e-12));
        }
    }

    /// Incidence: swapping the groups negates log IRR and IRD.
    #[test]
    fn arm_swap_incidence(x1 in 0u32..50, x2 in 0u32..50, t1 in 1.0f64..1000.0, t2 in 1.0f64..1000.0) {
        let f = |x: f64| vec![Some(x)];
        let st = |x1: u32, t1, x2: u32, t2| Studies {
            source: "p.csv".into(), labels: vec!["A".into()], lines: vec![2],
            data: Data::Incidence { x1i: f(x1 as f64), t1i: f(t1), x2i: f(x2 as f64), t2i: f(t2) }, moderators: vec![], warnings: vec![],
        };
        for m in [Measure::IRR, Measure::IRD] {
            let o = EscalcOptions::default();
            let (a, b) = (escalc(&st(x1, t1, x2, t2), m, &o).unwrap(), escalc(&st(x2, t2, x1, t1), m, &o).unwrap());
            prop_assert!(close(a.yi[0].unwrap(), -b.yi[0].unwrap(), 1e-12));
        }
    }

    /// Any finite or non-finite input gives a value or a typed error — never a panic.
    #[test]
    fn never_panics(yi in prop::collection::vec(prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(0.0), Just(5e-324), Just(1e300), Just(-1e300), -5.0f64..5.0], 1..8),
                    vi in prop::collection::vec(prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(0.0), Just(5e-324), Just(1e300), 0.0f64..3.0], 1..8)) {
        let k = yi.len().min(vi.len());
        for m in Method::ALL {
            for t in [Test::Z, Test::Knha, Test::Adhoc] {
                let _ = fit(&yi[..k], &vi[..k], m, t);
            }
        }
    }
}
