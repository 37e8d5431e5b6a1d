//! S-values and bias-corrected estimates (Mathur & VanderWeele 2020) against the R package
//! PublicationBias 2.2.0 (`tests/fixtures/svalue/gen.R`): fixed and robust (independent and
//! clustered) models, S-values of the estimate and of the confidence bound, the worst-case
//! meta-analysis and `corrected_meta` at three selection ratios.

mod common;

use common::check::{fixture, fixture_expected as expected, Check};
use common::cli::evident;
use common::{PVAL_RTOL, RTOL};
use evident::bias::svalue::{corrected, svalue, Sval, SvalModel, SvalOptions};
use evident::data::{read_studies, ColumnMap, CsvOptions};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::RmaOptions;
use evident::robust::Clusters;
use evident::Measure;
use serde_json::Value;

fn effects(file: &str) -> EffectSet {
    let path = fixture("svalue").join(format!("{file}.csv"));
    let studies = read_studies(&path, &CsvOptions::default(), &ColumnMap::new()).unwrap();
    EffectSet::from_studies(&studies, Measure::GEN, &EscalcOptions::default()).unwrap()
}

fn options(e: &Value, q: f64) -> SvalOptions {
    SvalOptions {
        model: match e["model"].as_str().unwrap() {
            "fixed" => SvalModel::Fixed,
            _ => SvalModel::Robust,
        },
        q,
        favor_positive: Some(e["favor_positive"].as_bool().unwrap()),
        alpha_select: 0.05,
        eta_max: 200.0,
        level: RmaOptions::default().level,
        rma: RmaOptions::default(),
    }
}

/// The S-value against the package's kind ("value", "Not possible", "--") and, for a value,
/// the precise root (the package's own optimize() answer is good to ~1e-4 only).
fn check_sval(c: &mut Check, key: &str, kind: &Value, precise: &Value, got: Sval) {
    c.n += 1;
    match (kind.as_str().unwrap(), got) {
        ("value", Sval::Value(x)) => c.num(key, precise, x, RTOL),
        ("Not possible", Sval::NotPossible) | ("--", Sval::CiContainsQ) => {}
        (k, g) => c.misses.push(format!("{key}: expected {k}, got {g:?}")),
    }
}

#[test]
fn svalues_match_publication_bias() {
    let exp = expected("svalue");
    let mut c = Check::default();
    for (key, e) in exp.as_object().unwrap() {
        let set = effects(e["file"].as_str().unwrap());
        let clusters = e["clustered"]
            .as_bool()
            .unwrap()
            .then(|| Clusters::from_column(&set, "cluster").unwrap());
        let o = options(e, e["q"].as_f64().unwrap());
        let s = svalue(&set, clusters.as_ref(), &o).unwrap();
        assert_eq!(s.favor_positive, o.favor_positive.unwrap());
        for (name, g) in [
            ("k_affirmative", s.k_affirmative),
            ("k_nonaffirmative", s.k_nonaffirmative),
        ] {
            c.num(&format!("{key} {name}"), &e[name], g as f64, 0.0);
        }
        check_sval(
            &mut c,
            &format!("{key} sval_est"),
            &e["sval_est_kind"],
            &e["sval_est_precise"],
            s.sval_est,
        );
        check_sval(
            &mut c,
            &format!("{key} sval_ci"),
            &e["sval_ci_kind"],
            &e["sval_ci_precise"],
            s.sval_ci,
        );
        // The package reports the worst case with the signs recoded.
        let w = s.worst.unwrap();
        let (est, lo, hi) = if s.favor_positive {
            (w.estimate, w.ci_lb, w.ci_ub)
        } else {
            (-w.estimate, -w.ci_ub, -w.ci_lb)
        };
        let ew = &e["worst"];
        for (name, g) in [("est", est), ("se", w.se), ("lo", lo), ("hi", hi)] {
            c.num(&format!("{key} worst {name}"), &ew[name], g, RTOL);
        }
        if let Some(df) = w.df {
            c.num(&format!("{key} worst df"), &ew["df"], df, RTOL);
        }
        for (eta, ec) in e["corrected"].as_object().unwrap() {
            let r = corrected(&set, clusters.as_ref(), &o, eta.parse().unwrap()).unwrap();
            let k = format!("{key} corrected eta {eta}");
            for (name, g) in [
                ("est", r.estimate),
                ("se", r.se),
                ("lo", r.ci_lb),
                ("hi", r.ci_ub),
            ] {
                c.num(&format!("{k} {name}"), &ec[name], g, RTOL);
            }
            c.num(&format!("{k} pval"), &ec["pval"], r.pval, PVAL_RTOL);
        }
    }
    assert!(c.n > 400, "only {} comparisons", c.n);
    assert!(c.misses.is_empty(), "{}", c.misses.join("\n"));
}

/// The command line prints the library's S-values with the package's keys; bad requests are
/// clear errors.
#[test]
fn svalue_cli_reports_and_refuses() {
    let exp = expected("svalue");
    let e = &exp["lehmann robust clustered 0"];
    let file = fixture("svalue").join("lehmann.csv");
    let f = file.to_str().unwrap();
    let run = evident([
        "svalue",
        f,
        "--measure",
        "GEN",
        "--cluster",
        "cluster",
        "--json",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut c = Check::default();
    c.num(
        "sval_ci",
        &e["sval_ci_precise"],
        v["sval_ci"].as_f64().unwrap(),
        RTOL,
    );
    assert!(c.misses.is_empty(), "{:?}", c.misses);
    assert_eq!(v["sval_est_kind"], "not possible");
    assert_eq!(v["k_affirmative"], e["k_affirmative"]);
    let text = evident([
        "svalue",
        f,
        "--measure",
        "GEN",
        "--model",
        "fixed",
        "--q",
        "0.1",
    ]);
    assert!(
        text.stdout
            .contains("S-value to shift the estimate to q = 0.1000: 2.2923"),
        "{}",
        text.stdout
    );
    // q beyond the uncorrected estimate, clusters for the fixed model, eta below 1.
    for (extra, says) in [
        (vec!["--q", "0.5"], "must lie on its side of it nearer zero"),
        (
            vec!["--model", "fixed", "--cluster", "cluster"],
            "needs the robust model",
        ),
        (vec!["--eta", "0.5"], "eta must be at least 1"),
    ] {
        let run = evident(
            ["svalue", f, "--measure", "GEN"]
                .into_iter()
                .chain(extra.iter().copied()),
        );
        assert_eq!(run.code, Some(1), "{extra:?}: {}", run.stdout);
        assert!(run.stderr.contains(says), "{extra:?}: {}", run.stderr);
    }
}

/// With every study affirmative (or none) no selection ratio can move the estimate: the
/// S-values are "not possible", never a number or a panic; the corrected estimate is refused.
#[test]
fn one_group_only_is_not_possible() {
    let set = EffectSet::from_yi_vi(
        vec![0.5, 0.6, 0.7, 0.55],
        vec![0.01, 0.02, 0.015, 0.01],
        Measure::GEN,
        evident::measure::Scale::Identity,
    );
    for model in [SvalModel::Fixed, SvalModel::Robust] {
        let o = SvalOptions {
            model,
            ..options(
                &serde_json::json!({"model": "fixed", "favor_positive": true}),
                0.0,
            )
        };
        let s = svalue(&set, None, &o).unwrap();
        assert_eq!((s.k_affirmative, s.k_nonaffirmative), (4, 0));
        assert_eq!(s.sval_est, Sval::NotPossible);
        assert_eq!(s.sval_ci, Sval::NotPossible);
        assert!(s.worst.is_none());
        let e = corrected(&set, None, &o, 2.0).unwrap_err().to_string();
        assert!(e.contains("all 4 studies are affirmative"), "{e}");
    }
}
