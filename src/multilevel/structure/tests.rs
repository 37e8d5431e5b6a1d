//! Tests of the G structures: derivatives against central differences, positive
//! semidefiniteness, level order and AR lags, and metafor's fits (tests/fixtures/mv_struct,
//! made by gen.R there) rebuilt from their (tau2, rho): G and both log-likelihoods.

use super::*;
use nalgebra::DVector;
use serde_json::Value as Json;

/// A small deterministic generator (64-bit LCG; the tests need no statistical quality).
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + (hi - lo) * ((self.0 >> 11) as f64 / (1u64 << 53) as f64)
    }
}

fn random_theta(gs: &GStructure, rng: &mut Lcg) -> Vec<f64> {
    (0..gs.n_params())
        .map(|j| {
            if gs.is_variance(j) {
                rng.uniform(-3.0, 2.0)
            } else {
                rng.uniform(-1.5, 1.5)
            }
        })
        .collect()
}

fn max_abs_diff(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a - b).abs().max()
}

fn shifted(theta: &[f64], j: usize, h: f64) -> Vec<f64> {
    let mut t = theta.to_vec();
    t[j] += h;
    t
}

#[test]
fn names_parse_case_insensitively_and_display_as_metafor() {
    for s in Structure::ALL {
        assert_eq!(s.to_string().parse::<Structure>().unwrap(), s);
        assert_eq!(s.name().to_lowercase().parse::<Structure>().unwrap(), s);
    }
    assert_eq!("Har".parse::<Structure>().unwrap(), Structure::HAR);
    let e = "CAR".parse::<Structure>().unwrap_err();
    assert_eq!(
        e,
        StructureError::UnknownStructure {
            name: "CAR".to_owned()
        }
    );
    assert!(e.to_string().contains("'CAR'"));
}

#[test]
fn parameters_come_in_metafors_order_with_its_names() {
    let un = GStructure::new(Structure::UN, 4).unwrap();
    assert_eq!(un.n_params(), 10);
    assert_eq!(
        un.param_names(),
        [
            "tau2.1", "tau2.2", "tau2.3", "tau2.4", "rho.2.1", "rho.3.1", "rho.4.1", "rho.3.2",
            "rho.4.2", "rho.4.3"
        ]
    );
    for (k, j) in (4..10).enumerate() {
        let GParam::Rho { pair: Some((r, c)) } = un.param(j) else {
            panic!("not a pair")
        };
        assert_eq!(un.pair_index(r, c), k);
    }
    let counts = |s, l| {
        let g = GStructure::new(s, l).unwrap();
        (g.n_tau2(), g.n_rho(), g.param_names())
    };
    assert_eq!(
        counts(Structure::CS, 3),
        (1, 1, vec!["tau2".into(), "rho".into()])
    );
    assert_eq!(counts(Structure::AR, 3).2, ["tau2", "rho"]);
    assert_eq!(counts(Structure::HCS, 2).2, ["tau2.1", "tau2.2", "rho"]);
    assert_eq!(counts(Structure::HAR, 3).0, 3);
    assert_eq!(counts(Structure::DIAG, 3).2, ["tau2.1", "tau2.2", "tau2.3"]);
    assert_eq!(counts(Structure::ID, 3).2, ["tau2"]);
    // a single inner level: rho is fixed at 0 by metafor, so not a parameter
    assert_eq!(counts(Structure::CS, 1).2, ["tau2"]);
    assert_eq!(counts(Structure::UN, 1).2, ["tau2.1"]);
    assert!(GStructure::new(Structure::CS, 0).is_err());
    let hcs = GStructure::new(Structure::HCS, 3).unwrap();
    assert_eq!(hcs.n_estimated(&[]), 4);
    assert_eq!(hcs.n_estimated(&[false, false, false, true]), 3);
    assert!(hcs.is_variance(2) && !hcs.is_variance(3));
}

/// Central differences with step h = 1e-5 on the optimiser scale (θ of order 1): truncation
/// error h²/6·|G'''| ≈ 2e-11·|G| and rounding ε|G|/h ≈ 2e-11·|G|, so 1e-8·(1 + max|G|) leaves
/// a wide margin while catching any wrong factor.
#[test]
fn derivatives_match_central_differences_for_every_structure() {
    let h = 1e-5;
    let mut rng = Lcg(20261202);
    for s in Structure::ALL {
        for l in [1, 2, 4] {
            let gs = GStructure::new(s, l).unwrap();
            for _ in 0..5 {
                let theta = random_theta(&gs, &mut rng);
                let scale = 1.0 + gs.g(&theta).abs().max();
                for j in 0..gs.n_params() {
                    let fd =
                        (gs.g(&shifted(&theta, j, h)) - gs.g(&shifted(&theta, j, -h))) / (2.0 * h);
                    let err = max_abs_diff(&fd, &gs.dg(&theta, j));
                    assert!(err <= 1e-8 * scale, "{s} L={l} dG/dθ{j}: error {err:e}");
                    for i in 0..gs.n_params() {
                        let fd2 = (gs.dg(&shifted(&theta, i, h), j)
                            - gs.dg(&shifted(&theta, i, -h), j))
                            / (2.0 * h);
                        let err = max_abs_diff(&fd2, &gs.d2g(&theta, i, j));
                        assert!(err <= 1e-8 * scale, "{s} L={l} d2G/dθ{i}dθ{j}: {err:e}");
                        assert_eq!(gs.d2g(&theta, i, j), gs.d2g(&theta, j, i));
                    }
                }
            }
        }
    }
}

/// A structure, its tau2 and rho, and the G over 3 levels it must give.
type GCase<'a> = (Structure, &'a [f64], &'a [f64], [[f64; 3]; 3]);

#[test]
fn g_is_the_structure_metafor_documents() {
    let t2 = [0.5, 2.0, 1.5];
    let rho = 0.4f64;
    let sq = |a: f64, b: f64| a.sqrt() * b.sqrt();
    let cases: [GCase; 6] = [
        (
            Structure::CS,
            &[0.5],
            &[rho],
            [[0.5, 0.2, 0.2], [0.2, 0.5, 0.2], [0.2, 0.2, 0.5]],
        ),
        (
            Structure::AR,
            &[0.5],
            &[rho],
            [[0.5, 0.2, 0.08], [0.2, 0.5, 0.2], [0.08, 0.2, 0.5]],
        ),
        (
            Structure::ID,
            &[0.5],
            &[],
            [[0.5, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 0.5]],
        ),
        (
            Structure::DIAG,
            &t2,
            &[],
            [[0.5, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.5]],
        ),
        (
            Structure::HCS,
            &t2,
            &[rho],
            [
                [0.5, rho * sq(0.5, 2.0), rho * sq(0.5, 1.5)],
                [rho * sq(0.5, 2.0), 2.0, rho * sq(2.0, 1.5)],
                [rho * sq(0.5, 1.5), rho * sq(2.0, 1.5), 1.5],
            ],
        ),
        (
            Structure::HAR,
            &t2,
            &[rho],
            [
                [0.5, rho * sq(0.5, 2.0), rho * rho * sq(0.5, 1.5)],
                [rho * sq(0.5, 2.0), 2.0, rho * sq(2.0, 1.5)],
                [rho * rho * sq(0.5, 1.5), rho * sq(2.0, 1.5), 1.5],
            ],
        ),
    ];
    for (s, tau2, rho, want) in cases {
        let g = GStructure::new(s, 3).unwrap().g_natural(tau2, rho).unwrap();
        let want = DMatrix::from_fn(3, 3, |r, c| want[r][c]);
        assert!(max_abs_diff(&g, &want) <= 1e-15, "{s}: {g} vs {want}");
    }
    let un = GStructure::new(Structure::UN, 3).unwrap();
    let g = un.g_natural(&t2, &[0.1, 0.2, 0.3]).unwrap();
    assert!((g[(1, 0)] - 0.1 * sq(0.5, 2.0)).abs() < 1e-15);
    assert!((g[(2, 0)] - 0.2 * sq(0.5, 1.5)).abs() < 1e-15);
    assert!((g[(2, 1)] - 0.3 * sq(2.0, 1.5)).abs() < 1e-15);
    assert_eq!(g, g.transpose());
}

#[test]
fn boundaries_are_exact_and_their_derivatives_finite() {
    // tau2 = 0 and rho = ±1 map to θ = -∞ and ±∞
    let har = GStructure::new(Structure::HAR, 3).unwrap();
    let theta = har.to_theta(&[0.0, 2.0, 1.0], &[1.0]).unwrap();
    assert_eq!(theta[0], f64::NEG_INFINITY);
    assert_eq!(theta[3], f64::INFINITY);
    let g = har.g(&theta);
    assert_eq!(g[(0, 0)], 0.0);
    assert_eq!(g[(0, 2)], 0.0);
    assert!((g[(1, 2)] - 2f64.sqrt()).abs() < 1e-15);
    for s in Structure::ALL {
        let gs = GStructure::new(s, 3).unwrap();
        for rho in [-1.0, 1.0] {
            let tau2 = vec![0.0; gs.n_tau2()];
            let mut tau2b = vec![1.0; gs.n_tau2()];
            tau2b[0] = 0.0;
            for t in [tau2, tau2b] {
                let th = gs.to_theta(&t, &vec![rho; gs.n_rho()]).unwrap();
                for i in 0..gs.n_params() {
                    assert!(gs.dg(&th, i).iter().all(|x| x.is_finite()), "{s}");
                    for j in 0..gs.n_params() {
                        assert!(gs.d2g(&th, i, j).iter().all(|x| x.is_finite()), "{s}");
                    }
                }
            }
        }
    }
    // AR with rho = 1 (ishak2007's boundary): every entry tau2
    let ar = GStructure::new(Structure::AR, 4).unwrap();
    let g = ar.g_natural(&[3.0], &[1.0]).unwrap();
    assert!(g.iter().all(|&x| x == 3.0));
    // metafor's zero threshold: a variance <= 10 eps is 0
    let g = ar.g_natural(&[1e-16], &[0.5]).unwrap();
    assert!(g.iter().all(|&x| x == 0.0));
    assert!(ar.to_theta(&[-1.0], &[0.5]).is_err());
    assert!(ar.to_theta(&[1.0], &[1.5]).is_err());
    assert!(ar.to_theta(&[1.0, 2.0], &[0.5]).is_err());
    assert!(ar.to_theta(&[f64::NAN], &[0.5]).is_err());
}

/// PSD over a grid of variances and correlations wherever the structure guarantees it: ID,
/// DIAG, AR, HAR always; CS and HCS for rho >= -1/(L-1); UN with two levels. metafor allows the
/// other CS/HCS values (only M must be positive definite); UN with 3+ levels is guarded by
/// `is_admissible`.
#[test]
fn g_is_positive_semidefinite_where_the_structure_guarantees_it() {
    let rhos = [-1.0, -0.99, -0.6, -0.3, 0.0, 0.25, 0.5, 0.9, 0.999, 1.0];
    let tau2s: [f64; 5] = [0.0, 1e-8, 0.3, 1.0, 40.0];
    for s in Structure::ALL {
        for l in [2, 3, 5] {
            let gs = GStructure::new(s, l).unwrap();
            for &rho in &rhos {
                let guaranteed = match s {
                    Structure::CS | Structure::HCS => rho >= -1.0 / (l as f64 - 1.0),
                    Structure::UN => l == 2,
                    _ => true,
                };
                if !guaranteed {
                    continue;
                }
                for (a, &t) in tau2s.iter().enumerate() {
                    let tau2: Vec<f64> = (0..gs.n_tau2())
                        .map(|i| tau2s[(a + i) % 5].max(t))
                        .collect();
                    let th = gs.to_theta(&tau2, &vec![rho; gs.n_rho()]).unwrap();
                    let scale = gs.g(&th).abs().max().max(1.0);
                    let ev = gs.min_eigenvalue(&th);
                    assert!(ev >= -1e-13 * scale, "{s} L={l} rho={rho}: {ev:e}");
                    assert!(gs.is_admissible(&th));
                }
            }
        }
    }
}

#[test]
fn unstructured_g_outside_the_cone_is_not_admissible() {
    let un = GStructure::new(Structure::UN, 3).unwrap();
    // rho21 = rho32 = 0.9 force rho31 >= 0.62
    let bad = un.to_theta(&[1.0, 2.0, 3.0], &[0.9, -0.9, 0.9]).unwrap();
    assert!(un.min_eigenvalue(&bad) < 0.0);
    assert!(!un.is_admissible(&bad));
    let good = un.to_theta(&[1.0, 2.0, 3.0], &[0.9, 0.7, 0.9]).unwrap();
    assert!(un.is_admissible(&good));
    // CS with rho below -1/(L-1) is indefinite yet admissible, as in metafor
    let cs = GStructure::new(Structure::CS, 4).unwrap();
    let th = cs.to_theta(&[1.0], &[-0.9]).unwrap();
    assert!(cs.min_eigenvalue(&th) < 0.0 && cs.is_admissible(&th));
}

fn numbers(xs: &[f64]) -> Vec<Value> {
    xs.iter().map(|&x| Value::Number(x)).collect()
}

fn texts(xs: &[&str]) -> Vec<Value> {
    xs.iter().map(|x| Value::Text((*x).to_owned())).collect()
}

#[test]
fn levels_sort_numbers_numerically_and_text_in_byte_order() {
    let num = InnerLevels::new(&numbers(&[10.0, 2.0, 1.0, 2.0, 0.5])).unwrap();
    assert_eq!(num.labels, ["0.5", "1", "2", "10"]);
    assert_eq!(num.positions, [3, 2, 1, 2, 0]);
    let txt = InnerLevels::new(&texts(&["b", "B", "a", "10", "2", "a"])).unwrap();
    assert_eq!(txt.labels, ["10", "2", "B", "a", "b"]);
    assert_eq!(txt.positions, [4, 2, 3, 0, 1, 3]);
    assert_eq!(txt.positions_of(&[1, 5]), [2, 3]);
    let e = InnerLevels::new(&[Value::Number(1.0), Value::Missing]).unwrap_err();
    assert_eq!(e, StructureError::MissingInner { row: 2 });
    assert!(e.to_string().starts_with("row 2:"));
    assert_eq!(InnerLevels::new(&[]).unwrap_err(), StructureError::NoLevels);
}

/// A study observed at times 1 and 10 has lag 2 when time 5 occurs in another study: the lag is
/// the difference of level positions, not of the values (that would be metafor's CAR).
#[test]
fn ar_lags_are_differences_of_level_positions() {
    let inner = InnerLevels::new(&numbers(&[1.0, 10.0, 5.0, 1.0])).unwrap();
    let outer = [0, 0, 1, 1];
    let ar = GStructure::new(Structure::AR, inner.len()).unwrap();
    let th = ar.to_theta(&[2.0], &[0.5]).unwrap();
    let mut m = DMatrix::zeros(4, 4);
    ar.add_to_block(&th, &inner.positions, &outer, &mut m);
    assert!((m[(0, 1)] - 2.0 * 0.25).abs() < 1e-15);
    assert!((m[(2, 3)] - 2.0 * 0.5).abs() < 1e-15);
    assert_eq!(m[(0, 2)], 0.0);
    assert_eq!(m[(1, 3)], 0.0);
    assert_eq!(m[(0, 0)], 2.0);
    // derivatives land in the same cells
    let mut d = DMatrix::zeros(4, 4);
    ar.add_dg_to_block(&th, 1, &inner.positions, &outer, &mut d);
    let want = 2.0 * 2.0 * 0.5 * (1.0 - 0.25);
    assert!((d[(0, 1)] - want).abs() < 1e-15);
    assert_eq!(d[(0, 0)], 0.0);
    let mut d2 = DMatrix::zeros(4, 4);
    ar.add_d2g_to_block(&th, (0, 0), &inner.positions, &outer, &mut d2);
    assert_eq!(d2, m);
}

#[test]
fn contain_groupings_are_inner_by_outer_and_outer() {
    let [combo, outer] = contain_groupings(&[0, 1, 0, 0, 1], &[7, 7, 3, 7, 3]);
    assert_eq!(combo.ids, [0, 1, 2, 0, 3]);
    assert_eq!(combo.n_levels, 4);
    assert_eq!(outer.ids, [0, 0, 1, 0, 1]);
    assert_eq!(outer.n_levels, 2);
}

#[test]
fn metafors_automatic_rho_fixes() {
    // levels 0 and 2 never share a cluster: UN's rho.3.1 (index 3 + 1) is fixed at 0
    let un = GStructure::new(Structure::UN, 3).unwrap();
    assert_eq!(un.auto_fixed(&[0, 1, 1, 2], &[0, 0, 1, 1]).unwrap(), [4]);
    assert_eq!(
        un.auto_fixed(&[0, 1, 2], &[0, 1, 2]).unwrap_err(),
        StructureError::SingleRowClusters
    );
    let cs = GStructure::new(Structure::CS, 3).unwrap();
    assert_eq!(cs.auto_fixed(&[0, 1, 2], &[0, 1, 2]).unwrap(), [1]);
    assert!(cs.auto_fixed(&[0, 1, 2], &[0, 0, 2]).unwrap().is_empty());
    let diag = GStructure::new(Structure::DIAG, 3).unwrap();
    assert!(diag.auto_fixed(&[0, 1, 2], &[0, 1, 2]).unwrap().is_empty());
    // a level whose rows were all dropped: its tau2 (and, with two levels, rho) fixed at 0
    assert_eq!(diag.auto_fixed(&[0, 2, 2], &[0, 0, 1]).unwrap(), [1]);
    let hcs = GStructure::new(Structure::HCS, 3).unwrap();
    assert_eq!(hcs.auto_fixed(&[0, 2, 2], &[0, 0, 1]).unwrap(), [1]);
    let har = GStructure::new(Structure::HAR, 2).unwrap();
    assert_eq!(har.auto_fixed(&[1, 1], &[0, 0]).unwrap(), [0, 2]);
    let un2 = GStructure::new(Structure::UN, 3).unwrap();
    assert_eq!(un2.auto_fixed(&[0, 2, 2], &[0, 0, 1]).unwrap(), [1, 3, 5]);
    assert!(cs.auto_fixed(&[0, 2, 2], &[0, 0, 1]).unwrap().is_empty());
}

#[test]
fn start_values_and_profile_brackets_are_metafors() {
    assert_eq!(start_variance(0.5, 0.1, 2), 0.2);
    assert_eq!(start_variance(0.05, 0.1, 2), 0.001);
    let har = GStructure::new(Structure::HAR, 2).unwrap();
    let t = har.start_theta(0.2);
    assert_eq!(t, [0.2f64.ln(), 0.2f64.ln(), 0.5f64.atanh()]);
    assert_eq!(start_n_vc(0, Some(4), None), 6);
    assert_eq!(start_n_vc(2, Some(1), Some(3)), 6);
    // UN: tau2 = the conditional variances of CS(0.2, 0.5), rho = 0
    let un = GStructure::new(Structure::UN, 3).unwrap().start_theta(0.2);
    let c3: f64 = 0.2 * (1.0 - 0.5 / 1.5);
    let want = [0.2f64.ln(), 0.15f64.ln(), c3.ln(), 0.0, 0.0, 0.0];
    for (a, b) in un.iter().zip(want) {
        assert!((a - b).abs() < 1e-14, "{a} vs {b}");
    }
    let c = har.components(&t, &["a".into(), "b".into()], 7);
    assert!((c.tau2[0] - 0.2).abs() < 1e-16 && (c.rho[0] - 0.5).abs() < 1e-16);
    assert_eq!(c.g_nlevels, [2, 7]);
    let json = serde_json::to_value(&c).unwrap();
    for key in ["tau2", "rho", "g_levels", "g_nlevels"] {
        assert!(json.get(key).is_some(), "{key}");
    }
    let diag = GStructure::new(Structure::DIAG, 2).unwrap();
    assert_eq!(diag.components(&[0.0, 0.0], &[], 1).rho, [0.0]);
    assert_eq!(har.profile_bracket(0, 0.05), (0.0, 10.0));
    assert_eq!(har.profile_bracket(0, 0.5), (0.0, 50.0));
    assert_eq!(har.profile_bracket(0, 1e-9), (0.0, 10.0));
    assert_eq!(har.profile_bracket(2, -0.3), (-0.3, 1.0));
    assert_eq!(har.profile_bracket(2, 0.3), (0.0, 1.0));
    let un = GStructure::new(Structure::UN, 2).unwrap();
    assert_eq!(un.profile_bracket(2, 0.3), (-1.0, 1.0));
}

// ---- metafor's fits ----

fn fixture() -> Json {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/mv_struct/expected.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A number or an array of numbers (jsonlite unboxes length-1 vectors).
fn vecf(v: &Json) -> Vec<f64> {
    match v {
        Json::Array(a) => a.iter().map(|x| x.as_f64().unwrap()).collect(),
        x => vec![x.as_f64().unwrap()],
    }
}

fn matrix(v: &Json) -> DMatrix<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(vecf).collect();
    DMatrix::from_fn(rows.len(), rows[0].len(), |r, c| rows[r][c])
}

fn inner_values(set: &Json) -> Vec<Value> {
    let numeric = set["inner_numeric"].as_bool().unwrap();
    set["inner"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| match numeric {
            true => Value::Number(x.as_f64().unwrap()),
            false => Value::Text(x.as_str().unwrap().to_owned()),
        })
        .collect()
}

/// Dense ML and REML log-likelihoods (README_mv, REMLf = TRUE): the reference the kernel's fast
/// path is not needed for.
fn loglik(y: &DVector<f64>, x: &DMatrix<f64>, m: &DMatrix<f64>) -> (f64, f64) {
    let (k, p) = (x.nrows() as f64, x.ncols() as f64);
    let logdet = |a: &DMatrix<f64>| {
        let c = a.clone().cholesky().expect("positive definite");
        2.0 * c.l().diagonal().iter().map(|d| d.ln()).sum::<f64>()
    };
    let w = m.clone().cholesky().unwrap().inverse();
    let xtw = x.transpose() * &w;
    let xtwx = &xtw * x;
    let b = xtwx.clone().cholesky().unwrap().solve(&(&xtw * y));
    let r = y - x * b;
    let rss = (r.transpose() * &w * &r)[(0, 0)];
    let l2pi = (2.0 * std::f64::consts::PI).ln();
    let ml = -k / 2.0 * l2pi - logdet(m) / 2.0 - rss / 2.0;
    let reml = -(k - p) / 2.0 * l2pi + logdet(&(x.transpose() * x)) / 2.0
        - logdet(m) / 2.0
        - logdet(&xtwx) / 2.0
        - rss / 2.0;
    (ml, reml)
}

/// One metafor fit with the rows it kept (a missing y drops a row, as in metafor).
struct Case {
    gs: GStructure,
    labels: Vec<String>,
    /// Inner positions and outer ids of the kept rows.
    pos: Vec<usize>,
    outer: Vec<usize>,
    y: DVector<f64>,
    v: DMatrix<f64>,
    x: DMatrix<f64>,
    tau2: Vec<f64>,
    /// rho as metafor reports it (`[0]` for DIAG, ID).
    rho: Vec<f64>,
    theta: Vec<f64>,
}

fn load_case(key: &str, fx: &Json, fit: &Json) -> Case {
    let set = &fx["sets"][fit["set"].as_str().unwrap()];
    // levels over all rows, before dropping (metafor's g.levels.f)
    let inner = InnerLevels::new(&inner_values(set)).unwrap();
    let labels: Vec<String> = match &fit["g_levels"] {
        Json::Array(a) => a.iter().map(|s| s.as_str().unwrap().to_owned()).collect(),
        s => vec![s.as_str().unwrap().to_owned()],
    };
    assert_eq!(inner.labels, labels, "{key}");
    let y_all = set["y"].as_array().unwrap();
    let kept: Vec<usize> = (0..y_all.len()).filter(|&i| !y_all[i].is_null()).collect();
    let outer_labels: Vec<&str> = set["outer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let outer_all = outer_labels_ids(&outer_labels);
    let v_all = matrix(&set["V"]);
    let structure: Structure = fit["struct"].as_str().unwrap().parse().unwrap();
    let gs = GStructure::new(structure, inner.len()).unwrap();
    let tau2 = vecf(&fit["tau2"]);
    let rho = vecf(&fit["rho"]);
    let free_rho = if gs.n_rho() == 0 { &[][..] } else { &rho[..] };
    let theta = gs.to_theta(&tau2, free_rho).unwrap();
    Case {
        gs,
        labels,
        pos: inner.positions_of(&kept),
        outer: kept.iter().map(|&i| outer_all[i]).collect(),
        y: DVector::from_iterator(kept.len(), kept.iter().map(|&i| y_all[i].as_f64().unwrap())),
        v: DMatrix::from_fn(kept.len(), kept.len(), |r, c| v_all[(kept[r], kept[c])]),
        x: matrix(&fit["X"]),
        tau2,
        rho,
        theta,
    }
}

impl Case {
    fn loglik(&self, theta: &[f64]) -> (f64, f64) {
        let mut m = self.v.clone();
        self.gs.add_to_block(theta, &self.pos, &self.outer, &mut m);
        loglik(&self.y, &self.x, &m)
    }
}

/// For each metafor fit: G rebuilt from its (tau2, rho) equals `res$G` to 1e-12 (relative to
/// max(1, |G|)) over the levels of kept rows (metafor zeroes a removed level's row), the level
/// labels, automatic fixes and parameter count agree, and both log-likelihoods of `fit.stats`
/// computed from M = V + (Z1 G Z1') ∘ (Z2 Z2') agree to 1e-9.
#[test]
fn metafor_fits_are_rebuilt_from_their_tau2_and_rho() {
    let fx = fixture();
    let fits = fx["fits"].as_object().unwrap();
    assert!(fits.len() >= 35);
    let (mut snaps, mut dropped) = (0, 0);
    for (key, fit) in fits {
        let c = load_case(key, &fx, fit);
        let gs = &c.gs;
        let want = matrix(&fit["G"]);
        let tol = 1e-12 * want.abs().max().max(1.0);
        let present = |l: usize| c.pos.contains(&l);
        for g in [
            gs.g_natural(&c.tau2, &c.rho[..gs.n_rho()]).unwrap(),
            gs.g(&c.theta),
        ] {
            for (r, col) in (0..gs.n_levels).flat_map(|r| (0..gs.n_levels).map(move |k| (r, k))) {
                if present(r) && present(col) {
                    let d = (g[(r, col)] - want[(r, col)]).abs();
                    assert!(d <= tol, "{key}: G[{r},{col}] {g} vs {want}");
                }
            }
        }
        let fixed = gs.auto_fixed(&c.pos, &c.outer).unwrap();
        dropped += usize::from(!fixed.is_empty());
        let mask: Vec<bool> = (0..gs.n_params()).map(|j| fixed.contains(&j)).collect();
        let parms = fit["parms"].as_f64().unwrap() as usize;
        assert_eq!(gs.n_estimated(&mask) + c.x.ncols(), parms, "{key}");
        for &j in &fixed {
            let zero = if gs.is_variance(j) {
                f64::NEG_INFINITY
            } else {
                0.0
            };
            assert_eq!(c.theta[j], zero, "{key}: θ{j}");
        }
        let comp = gs.components(&c.theta, &c.labels, 0);
        assert_eq!(comp.rho.len(), c.rho.len(), "{key}");
        for (a, b) in comp
            .tau2
            .iter()
            .zip(&c.tau2)
            .chain(comp.rho.iter().zip(&c.rho))
        {
            assert!(
                (a - b).abs() <= 1e-15 * b.abs().max(1.0),
                "{key}: {a} vs {b}"
            );
        }
        check_start(key, fit, &c);
        let (ml, reml) = c.loglik(&c.theta);
        for (got, name) in [(ml, "ll_ML"), (reml, "ll_REML")] {
            let exp = fit[name].as_f64().unwrap();
            assert!(
                (got - exp).abs() <= 1e-9 * exp.abs().max(1.0),
                "{key} {name}: {got} vs {exp}"
            );
        }
        // components metafor left a hair inside a boundary (ishak2007's AR rho -> 1, fine1993's
        // vanishing variances and |rho| -> 1), set exactly onto it: G at θ = ±∞ is the limit, so
        // the log-likelihood barely moves (the others not re-estimated). Most: fine1993's HAR
        // fits, where nlminb stops short of the optimum (README_mv) and covariances scale with
        // sqrt(tau2), so a tau2 of 5e-10 set to 0 moves the text-level fit by 1.7e-5.
        let scale = c.tau2.iter().cloned().fold(0.0, f64::max);
        let snapped = gs.snap_to_boundaries(&c.theta, scale);
        if snapped != c.theta {
            snaps += 1;
            let (ml_s, reml_s) = c.loglik(&snapped);
            let (got, exp) = match fit["method"] == "REML" {
                true => (reml_s, reml),
                false => (ml_s, ml),
            };
            assert!(
                (got - exp).abs() <= 1e-4,
                "{key}: at the boundary {got} vs {exp}"
            );
        }
    }
    assert!(snaps >= 5, "only {snaps} fits at a boundary");
    assert!(dropped >= 4, "only {dropped} fits with automatic fixes");
}

#[test]
fn boundaries_snap_by_the_corpus_rule() {
    let har = GStructure::new(Structure::HAR, 3).unwrap();
    let th = har.to_theta(&[1e-9, 0.5, 2.0], &[0.9999995]).unwrap();
    let s = har.snap_to_boundaries(&th, 2.0);
    assert_eq!(s[0], f64::NEG_INFINITY);
    assert_eq!(&s[1..3], &th[1..3]);
    assert_eq!(s[3], f64::INFINITY);
    let th = har.to_theta(&[1e-5, 0.5, 2.0], &[-0.9999995]).unwrap();
    let s = har.snap_to_boundaries(&th, 2.0);
    assert_eq!(s[0], th[0]);
    assert_eq!(s[3], f64::NEG_INFINITY);
}

fn outer_labels_ids(labels: &[&str]) -> Vec<usize> {
    let mut seen: Vec<&str> = Vec::new();
    labels
        .iter()
        .map(|l| match seen.iter().position(|s| s == l) {
            Some(i) => i,
            None => {
                seen.push(l);
                seen.len() - 1
            }
        })
        .collect()
}

/// metafor's first evaluation point (traced in gen.R; its parameter vector is a sigma2
/// placeholder, tau2s, rhos, gamma2 and phi placeholders; UN's entries are its Cholesky factor)
/// equals `start_theta` from var(y - X b_FE), 1/mean(1/diag V) and `start_n_vc`.
fn check_start(key: &str, fit: &Json, c: &Case) {
    let (gs, x, y, v) = (&c.gs, &c.x, &c.y, &c.v);
    let w = v.clone().cholesky().unwrap().inverse();
    let xtw = x.transpose() * &w;
    let b = (&xtw * x).cholesky().unwrap().solve(&(&xtw * y));
    let e = y - x * b;
    let k = e.len() as f64;
    let resid_var = e.iter().map(|r| (r - e.mean()).powi(2)).sum::<f64>() / (k - 1.0);
    let typical_v = 1.0 / (v.diagonal().iter().map(|d| 1.0 / d).sum::<f64>() / k);
    let start = start_variance(resid_var, typical_v, start_n_vc(0, Some(gs.n_tau2()), None));
    let theta = gs.start_theta(start);
    let par = vecf(&fit["start_par"]);
    let (tau2, rho) = theta.split_at(gs.n_tau2());
    for (l, t) in tau2.iter().enumerate() {
        let want = match gs.structure {
            Structure::UN => (par[1 + l] * par[1 + l]).ln(),
            _ => par[1 + l],
        };
        assert!(
            (t - want).abs() <= 1e-12,
            "{key} start tau2 {l}: {t} vs {want}"
        );
    }
    for (j, r) in rho.iter().enumerate() {
        let want = par[1 + gs.n_tau2() + j];
        assert!(
            (r - want).abs() <= 1e-12,
            "{key} start rho {j}: {r} vs {want}"
        );
    }
}
