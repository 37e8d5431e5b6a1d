//! Issue 14's numerical items against metafor 3.8-1: `tests/fixtures/numerics/gen.R` wrote the
//! CSVs and `expected.json` (one fit per case, in the corpus's `rma` keys); each case is fitted
//! with the library and compared key by key with the corpus tolerances (`common::tol`).

mod common;

use common::*;
use evident::bias::{regtest, Predictor, RegModel};
use evident::data::{read_studies, ColumnMap, CsvOptions};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::{rma, Control, Method, RmaOptions, Solver, Test};
use evident::render::json::rma_json;
use evident::Measure;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/numerics")
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap()).unwrap()
}

/// The effect set of a fixture CSV (`yi`, `vi`).
fn set(name: &str) -> EffectSet {
    let file = dir().join(format!("{name}.csv"));
    let studies = read_studies(&file, &CsvOptions::default(), &ColumnMap::new()).unwrap();
    EffectSet::from_studies(&studies, Measure::GEN, &EscalcOptions::default()).unwrap()
}

/// The library options of a case's `options` block.
fn options(o: &Value) -> RmaOptions {
    RmaOptions {
        method: o["method"].as_str().unwrap().parse::<Method>().unwrap(),
        test: o["test"].as_str().unwrap().parse::<Test>().unwrap(),
        tau2_fixed: o.get("tau2").and_then(Value::as_f64),
        weighted: o.get("weighted").and_then(Value::as_bool).unwrap_or(true),
        qprofile_tol: o
            .get("qprofile_tol")
            .and_then(Value::as_f64)
            .unwrap_or(RmaOptions::default().qprofile_tol),
        control: Control {
            solver: match o.get("solver").and_then(Value::as_str) {
                Some("newton") => Solver::Newton,
                _ => Solver::Fisher,
            },
            tol: o
                .get("tol")
                .and_then(Value::as_f64)
                .unwrap_or(Control::default().tol),
            ..Control::default()
        },
        ..RmaOptions::default()
    }
}

/// Every case of `expected.json` whose id starts with `prefix`: fitted and compared.
fn check_cases(prefix: &str) {
    let exp = expected();
    let mut misses = Vec::new();
    let mut n = 0;
    for case in exp["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        if !id.starts_with(prefix) {
            continue;
        }
        n += 1;
        let fit = match rma(
            &set(case["data"].as_str().unwrap()),
            &options(&case["options"]),
        ) {
            Ok(f) => f,
            Err(e) => {
                misses.push(format!("{id}: fit failed: {e}"));
                continue;
            }
        };
        let got = rma_json(&fit);
        let has = |v: &Value| v.get("modified_knha").is_some();
        if has(&case["expected"]) != has(&got) {
            misses.push(format!(
                "{id}: modified_knha expected {}",
                has(&case["expected"])
            ));
        }
        for (key, ev) in case["expected"].as_object().unwrap() {
            if key.starts_with("optimize_") {
                continue; // R's optimize() of the likelihood: see the solver's own test
            }
            if let (Some(sub), Some(gsub)) = (ev.as_object(), got.get(key)) {
                for (k2, e2) in sub {
                    let path = format!("{id} / {key}.{k2}");
                    compare(&path, e2, gsub.get(k2), key_tol(k2, STRICT), &mut misses);
                }
                continue;
            }
            compare(
                &format!("{id} / {key}"),
                ev,
                got.get(key),
                key_tol(key, STRICT),
                &mut misses,
            );
        }
    }
    assert!(n > 0, "no case starts with {prefix}");
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

/// Item 13: metafor's `test = "t"` is t(k − p) on the Wald SE (graves2010 RR REML: SE 0.0815,
/// where Knapp–Hartung gives 0.0932); knha and z alongside, and k = 1 falling back to z.
#[test]
fn test_t_is_a_t_distribution_on_the_wald_se() {
    for d in ["graves2010_rr", "bcg_rr", "bcg_k1"] {
        check_cases(d);
    }
    let s = set("graves2010_rr");
    let t = rma(
        &s,
        &options(&serde_json::json!({"method": "REML", "test": "t"})),
    )
    .unwrap();
    let z = rma(
        &s,
        &options(&serde_json::json!({"method": "REML", "test": "z"})),
    )
    .unwrap();
    let kh = rma(
        &s,
        &options(&serde_json::json!({"method": "REML", "test": "knha"})),
    )
    .unwrap();
    assert_eq!(t.se, z.se);
    assert!((t.se - kh.se).abs() > 0.01);
}

/// Item 15: with a sampling variance of 0, Q, I² and H² are NA with the reason in the JSON, the
/// text and the notes (they were Q = 0, p = 1), as metafor ("Cannot compute Q-test ...").
#[test]
fn q_is_na_with_a_reason_when_a_sampling_variance_is_zero() {
    check_cases("zero_vi");
    let fit = rma(&set("zero_vi"), &RmaOptions::default()).unwrap();
    let why = fit.het.undefined_reason().expect("Q undefined");
    let j = rma_json(&fit);
    assert!(j["Q"].is_null() && j["Q_pval"].is_null() && j["I2"].is_null());
    assert_eq!(j["Q_undefined"], why);
    assert!(fit.notes.iter().any(|n| n == why));
    let text = evident::render::text::rma_summary(&fit);
    assert!(text.contains("Q(4) = NA (cannot be computed)"), "{text}");
    assert!(!text.contains("Q(4) = 0.0000"), "{text}");
    assert!(text.contains(why), "{text}");
}

/// Item 10: Knapp–Hartung with s² = 0 (identical effects) or an interval narrower than Wald's
/// gets a note and the modified Knapp–Hartung beside it (metafor's `test = "adhoc"`), in JSON,
/// text and the report's Results sentence; regtest refuses an infinite t.
#[test]
fn narrow_knapp_hartung_comes_with_the_modified_version() {
    check_cases("kh ");
    let mut s = set("same_k2");
    s.scale = evident::Scale::Log;
    let o = options(&serde_json::json!({"method": "REML", "test": "knha"}));
    let fit = rma(&s, &o).unwrap();
    assert_eq!(fit.ci_lb, fit.ci_ub);
    assert!(fit.notes.iter().any(|n| n.contains("s² = 0")));
    let text = evident::render::text::rma_summary(&fit);
    assert!(text.contains("modified Knapp–Hartung (s² ≥ 1)"), "{text}");
    assert!(text.contains("[0.0752, 53.1903]"), "{text}");
    for model in [RegModel::Rma, RegModel::Lm] {
        let same = set("same_k4");
        let e = regtest(&same, &o, model, Predictor::Sei, None).unwrap_err();
        assert!(e.to_string().contains("tests nothing"), "{e}");
    }
    // Where Knapp–Hartung is wider than Wald nothing is added.
    let g = rma(&set("graves2010_rr"), &o).unwrap();
    assert!(g.modified_kh.is_none() && g.notes.is_empty());
}

/// Item 10 in the report: the Results sentence gives the modified Knapp–Hartung result beside
/// the zero-width interval.
#[test]
fn report_results_sentence_gives_the_modified_knapp_hartung() {
    let out = tempfile::tempdir().unwrap();
    let csv = dir().join("same_k2.csv");
    let r = common::cli::evident([
        "report",
        csv.to_str().unwrap(),
        "-o",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let md = std::fs::read_to_string(out.path().join("same_k2/summary.md")).unwrap();
    assert!(md.contains("(95% CI 0.69 to 0.69; "), "{md}");
    assert!(
        md.contains("the modified Knapp–Hartung result (never narrower than Wald) is 0.69 (95% CI −2.59 to 3.97; p = 0.23)."),
        "{md}"
    );
}

/// Item 24: QE of a model without intercept (dat.senn2013 as contrasts) is the weighted residual
/// sum of squares of the model (R's `lm(yi ~ X - 1, weights = 1/vi)`, independent of metafor),
/// not metafor 3.8-1's QE on mean-centred yi; τ², coefficients and deviance stay metafor's.
#[test]
fn qe_without_intercept_is_the_residual_q() {
    let exp = expected();
    let senn = &exp["senn2013"];
    let formula = senn["formula"].as_str().unwrap();
    let s = set("senn2013_contrasts");
    let mut misses = Vec::new();
    for (m, e) in senn["fits"].as_object().unwrap() {
        let o = options(&serde_json::json!({"method": m, "test": "z"}));
        let fit = evident::moderators::metareg::metareg(&s, formula, &o).unwrap();
        let got = evident::render::json::metareg_json(&fit);
        for key in ["QE", "QE_df", "QE_pval", "tau2", "deviance"] {
            let path = format!("senn2013 {m} / {key}");
            compare(
                &path,
                &e[key],
                got.get(key),
                key_tol(key, STRICT),
                &mut misses,
            );
        }
        let coefs: Vec<f64> = fit.coefficients.iter().map(|c| c.estimate).collect();
        compare(
            &format!("senn2013 {m} / coefficients"),
            &e["coefficients"],
            Some(&serde_json::json!(coefs)),
            STRICT,
            &mut misses,
        );
        // The deliberate difference from metafor, stated in the output.
        assert!((e["metafor_QE"].as_f64().unwrap() - fit.het.q).abs() > 1.0);
        assert!(fit
            .notes
            .iter()
            .any(|n| n.contains("model without intercept")));
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
    // With an intercept nothing changes: no note.
    let bcg = rma(&set("bcg_rr"), &RmaOptions::default()).unwrap();
    assert!(bcg.notes.is_empty());
}

/// Item 19: τ² fixed (metafor's `rma(tau2 = …)`: SE by each method's formula, no Q-profile CI,
/// one parameter fewer) and unweighted estimation (`weighted = FALSE`), against metafor.
#[test]
fn fixed_tau2_and_unweighted_match_metafor() {
    check_cases("fixed ");
    check_cases("unweighted ");
    let o = options(&serde_json::json!({"method": "REML", "test": "z", "tau2": 0.1}));
    let fit = rma(&set("bcg_rr"), &o).unwrap();
    assert!(fit.tau2_ci.is_none() && fit.tau2 == 0.1);
    assert!(fit.notes.iter().any(|n| n.contains("tau2 fixed at 0.1")));
    let bad = RmaOptions {
        tau2_fixed: Some(-1.0),
        ..RmaOptions::default()
    };
    assert!(rma(&set("bcg_rr"), &bad).is_err());
}

/// `--tau2` and `--unweighted` reach the library from the CLI; bad values are refused.
#[test]
fn cli_fixed_tau2_and_unweighted() {
    let csv = dir().join("bcg_rr.csv");
    let csv = csv.to_str().unwrap();
    let run = |extra: &[&str]| {
        common::cli::evident([&["pool", csv, "--preset", "metafor", "--json"][..], extra].concat())
    };
    let r = run(&["--tau2", "0.1", "--unweighted"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let j: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["tau2"], 0.1);
    assert!(j["tau2_ci_lb"].is_null());
    let w = j["weights"].as_array().unwrap();
    assert!(w.iter().all(|x| x == &w[0]));
    let bad = run(&["--tau2=-1"]);
    assert_ne!(bad.code, Some(0));
    assert!(
        bad.stderr.contains("--tau2 must be a non-negative number"),
        "{}",
        bad.stderr
    );
}

/// Item 23: `--tol` reproduces the corpus's precise answers from the CLI: the PM `converged`
/// blocks (metafor's `control = list(tol = 1e-12)`) and the `*_precise` Q-profile bounds
/// (`confint(res, control = list(tol = 1e-12))`).
#[test]
fn cli_tol_reproduces_the_corpus_precise_answers() {
    let mut n = 0;
    let mut misses = Vec::new();
    for (case, id) in [
        ("bcg_or", "rma_PM_knha"),
        ("molloy2014_zcor", "rma_PM_z"),
        ("normand1999_smd", "rma_PM_z"),
        ("hart1999_irr", "rma_REML_z"),
        ("pritz1997_plo", "rma_DL_knha"),
    ] {
        let dir = common::cases_dir().join(case);
        let exp: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        let a = exp["analyses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap();
        let o = &a["options"];
        let input = dir.join("input.csv");
        let r = common::cli::evident([
            "pool",
            input.to_str().unwrap(),
            "--preset",
            "metafor",
            "--measure",
            o["measure"].as_str().unwrap(),
            "--method",
            o["method"].as_str().unwrap(),
            "--test",
            o["test"].as_str().unwrap(),
            "--tol",
            "1e-12",
            "--json",
        ]);
        assert_eq!(r.code, Some(0), "{case} {id}: {}", r.stderr);
        let got: Value = serde_json::from_str(&r.stdout).unwrap();
        let e = &a["expected"];
        if let Some(c) = e.get("converged") {
            for (k, v) in c.as_object().unwrap() {
                if k != "call" && k != "warnings" {
                    n += 1;
                    let path = format!("{case} {id} converged.{k}");
                    compare(&path, v, got.get(k), key_tol(k, CONVERGED), &mut misses);
                }
            }
        }
        for (k, v) in e.as_object().unwrap() {
            if let Some(base) = k.strip_suffix("_precise") {
                n += 1;
                let path = format!("{case} {id} {k}");
                compare(&path, v, got.get(base), PRECISE, &mut misses);
            }
        }
    }
    assert!(n > 40, "only {n} keys compared");
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

/// Item 23 (second half): on the corpus's case where metafor's Fisher scoring cycles and fails,
/// the safeguarded Newton solver reaches the REML optimum: metafor's own answer with a halved
/// step iterated to threshold 1e-12 (every key), and R's optimize() of metafor's REML
/// log-likelihood (τ² within optimize's tolerance, the log-likelihood no lower than its maximum).
#[test]
fn newton_solver_reaches_the_reml_optimum_where_fisher_scoring_cycles() {
    check_cases("newton ");
    let exp = expected();
    let case = exp["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "newton nonconv_or REML z")
        .unwrap();
    let mut o = options(&case["options"]);
    let fit = rma(&set("nonconv_or"), &o).unwrap();
    let mut misses = Vec::new();
    let e = &case["expected"];
    compare(
        "tau2",
        &e["optimize_tau2"],
        Some(&fit.tau2.into()),
        CONVERGED,
        &mut misses,
    );
    assert!(misses.is_empty(), "{}", misses.join("\n"));
    let ll = fit.fit.loglik;
    assert!(ll >= e["optimize_loglik"].as_f64().unwrap() - 1e-12, "{ll}");
    o.control.solver = Solver::Fisher;
    assert!(matches!(
        rma(&set("nonconv_or"), &o),
        Err(evident::Error::IterationLimit { .. })
    ));
    let input = common::cases_dir().join("synthetic_reml_nonconvergence/input.csv");
    let run = |extra: &[&str]| {
        let base = ["pool", input.to_str().unwrap(), "--preset", "metafor"];
        common::cli::evident([&base[..], &["--measure", "OR", "--json"], extra].concat())
    };
    let r = run(&[]);
    assert_ne!(r.code, Some(0));
    assert!(r.stderr.contains("--solver newton"), "{}", r.stderr);
    let r = run(&["--solver", "newton"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let j: Value = serde_json::from_str(&r.stdout).unwrap();
    compare("cli tau2", &e["tau2"], j.get("tau2"), STRICT, &mut misses);
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

/// Item 16 against metafor: BCG with variances times 1e150, every estimator but ML, z and
/// Knapp–Hartung, with the Q-profile CI. metafor's Fisher scoring does not converge for ML at
/// this scale (gen.R checks that it fails); evident's ML fit is the ordinary one rescaled.
#[test]
fn extreme_scale_fits_match_metafor() {
    check_cases("extreme ");
    let o = RmaOptions {
        method: Method::ML,
        ..RmaOptions::default()
    };
    let fit = rma(&set("bcg_rr_e150"), &o).unwrap();
    let r0 = rma(&set("bcg_rr"), &o).unwrap();
    assert!(
        (fit.tau2 / 1e150 / r0.tau2 - 1.0).abs() < 1e-4,
        "{}",
        fit.tau2
    );
}

/// The fixture's studies times c (effects) and c² (variances).
fn scaled(base: &EffectSet, c2: f64) -> EffectSet {
    let mut s = base.clone();
    let c = c2.sqrt();
    s.yi.iter_mut().for_each(|y| *y *= c);
    s.vi.iter_mut().for_each(|v| *v *= c2);
    s
}

/// Compares one scaled result with the ordinary-scale one times `factor` (relative 1e-8; 0 and
/// NaN must match as such).
struct Scaled<'a> {
    id: String,
    misses: &'a mut Vec<String>,
}

impl Scaled<'_> {
    fn check(&mut self, what: &str, base: f64, factor: f64, got: f64) {
        let want = base * factor;
        let ok = if want.is_nan() {
            got.is_nan()
        } else {
            (got - want).abs() <= 1e-8 * want.abs().max(f64::MIN_POSITIVE)
        };
        if !ok {
            self.misses
                .push(format!("{} {what}: want {want:e}, got {got:e}", self.id));
        }
    }

    fn opt(&mut self, what: &str, base: Option<f64>, factor: f64, got: Option<f64>) {
        match (base, got) {
            (Some(b), Some(g)) => self.check(what, b, factor, g),
            (None, None) => {}
            _ => self
                .misses
                .push(format!("{} {what}: {base:?} vs {got:?}", self.id)),
        }
    }

    /// Log-likelihood terms: the rescaled data's log-likelihood is the original's less
    /// `terms`·ln c, the criteria follow it.
    fn ll(&mut self, what: &str, base: f64, shift: f64, got: f64) {
        let want = base + shift;
        if (got - want).abs() > 1e-8 * want.abs().max(1.0) {
            self.misses
                .push(format!("{} {what}: want {want}, got {got}", self.id));
        }
    }
}

/// Item 16: every result of the intercept-only model is scale-invariant at extreme scales
/// (variances near 1e150, 1e-120, 1e-160): fitted on yᵢ·c, vᵢ·c², estimates and intervals are
/// the ordinary-scale fit's times c, τ² and its SE, Q-profile and profile-likelihood bounds and
/// the typical variance times c², Q, I², H², weights and p-values the same, and the
/// log-likelihood less (k or k − p)·ln c. Stopping rules are tight, so that where each search
/// stops does not depend on the scale. Without the rescaling I², the SEs of τ² and the τ² CIs
/// break at these scales.
#[test]
fn every_result_is_scale_invariant_at_extreme_scales() {
    let base = set("bcg_rr");
    let tight = Control {
        threshold: 1e-13,
        tol: 1e-13,
        maxiter: 1000,
        ..Control::default()
    };
    let mut misses = Vec::new();
    for method in ["FE", "DL", "HS", "SJ", "HE", "PM", "REML", "ML", "EB"] {
        for test in [Test::Z, Test::Knha] {
            let o = RmaOptions {
                method: method.parse().unwrap(),
                test,
                control: tight,
                qprofile_tol: 1e-13,
                ..RmaOptions::default()
            };
            let r0 = rma(&base, &o).unwrap();
            for c2 in [1e150, 1e-120, 1e-160] {
                let r = rma(&scaled(&base, c2), &o).unwrap();
                let mut s = Scaled {
                    id: format!("{method} {test:?} c2={c2:e}"),
                    misses: &mut misses,
                };
                compare_fits(&mut s, &r0, &r, c2);
            }
        }
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

fn compare_fits(s: &mut Scaled, r0: &evident::model::RmaFit, r: &evident::model::RmaFit, c2: f64) {
    let c = c2.sqrt();
    for (what, b, g) in [
        ("estimate", r0.estimate, r.estimate),
        ("se", r0.se, r.se),
        ("ci_lb", r0.ci_lb, r.ci_lb),
        ("ci_ub", r0.ci_ub, r.ci_ub),
    ] {
        s.check(what, b, c, g);
    }
    s.opt("pi_lb", r0.pi.map(|p| p.lb), c, r.pi.map(|p| p.lb));
    s.opt("pi_ub", r0.pi.map(|p| p.ub), c, r.pi.map(|p| p.ub));
    s.opt(
        "mkh_lb",
        r0.modified_kh.map(|m| m.ci_lb),
        c,
        r.modified_kh.map(|m| m.ci_lb),
    );
    s.check("tau2", r0.tau2, c2, r.tau2);
    s.opt("se_tau2", r0.se_tau2, c2, r.se_tau2);
    s.check("vt", r0.het.vt, c2, r.het.vt);
    for (what, b, g) in [
        ("stat", r0.stat, r.stat),
        ("pval", r0.pval, r.pval),
        ("Q", r0.het.q, r.het.q),
        ("I2", r0.het.i2, r.het.i2),
        ("H2", r0.het.h2, r.het.h2),
        ("s2w", r0.s2w, r.s2w),
        ("weight 1", r0.weights[0], r.weights[0]),
    ] {
        s.check(what, b, 1.0, g);
    }
    let ci =
        |f: &evident::model::RmaFit| f.tau2_ci.map(|t| [t.tau2_lb, t.tau2_ub, t.i2_lb, t.i2_ub]);
    match (ci(r0), ci(r)) {
        (Some(b), Some(g)) => {
            for (i, what) in ["tau2_ci_lb", "tau2_ci_ub", "I2_ci_lb", "I2_ci_ub"]
                .iter()
                .enumerate()
            {
                s.check(what, b[i], if i < 2 { c2 } else { 1.0 }, g[i]);
            }
        }
        (b, g) => s.opt("tau2_ci", b.map(|x| x[1]), c2, g.map(|x| x[1])),
    }
    if matches!(r0.options.method, Method::ML | Method::REML) {
        let pl = |f: &evident::model::RmaFit| {
            let con = evident::model::heterogeneity::QProfileControl {
                tol: 1e-13,
                maxiter: 1000,
            };
            let d = evident::model::design::Intercept { k: f.k };
            let (y, v) = (&f.effects.yi, &f.effects.vi);
            let m = f.options.method;
            evident::model::profile::pl_ci(&d, y, v, m, f.tau2, f.het.vt, 95.0, &con).unwrap()
        };
        let (b, g) = (pl(r0), pl(r));
        s.check("pl_lb", b.tau2_lb, c2, g.tau2_lb);
        s.check("pl_ub", b.tau2_ub, c2, g.tau2_ub);
    }
    let terms = if r0.options.method == Method::REML {
        r0.k - 1
    } else {
        r0.k
    } as f64;
    let shift = -terms * c.ln();
    s.ll("loglik", r0.fit.loglik, shift, r.fit.loglik);
    s.ll("AIC", r0.fit.aic, -2.0 * shift, r.fit.aic);
    s.ll("BIC", r0.fit.bic, -2.0 * shift, r.fit.bic);
    s.ll("AICc", r0.fit.aicc, -2.0 * shift, r.fit.aicc);
    let dev_shift = if r0.options.method == Method::REML {
        -2.0 * shift
    } else {
        0.0
    };
    s.ll("deviance", r0.fit.deviance, dev_shift, r.fit.deviance);
}

/// Item 16 for meta-regression: coefficients times c, QM, QE and R² unchanged, τ² and its
/// Q-profile CI times c² (BCG with absolute latitude, REML, Knapp–Hartung).
#[test]
fn meta_regression_is_scale_invariant_at_extreme_scales() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/profile/bcg.csv");
    let studies = read_studies(&file, &CsvOptions::default(), &ColumnMap::new()).unwrap();
    let base = EffectSet::from_studies(&studies, Measure::GEN, &EscalcOptions::default()).unwrap();
    let o = RmaOptions {
        test: Test::Knha,
        control: Control {
            threshold: 1e-13,
            ..Control::default()
        },
        qprofile_tol: 1e-13,
        ..RmaOptions::default()
    };
    let fit = |set: &EffectSet| evident::moderators::metareg::metareg(set, "ablat", &o).unwrap();
    let m0 = fit(&base);
    let mut misses = Vec::new();
    for c2 in [1e150, 1e-120, 1e-160] {
        let m = fit(&scaled(&base, c2));
        let mut s = Scaled {
            id: format!("metareg c2={c2:e}"),
            misses: &mut misses,
        };
        for (a, b) in m0.coefficients.iter().zip(&m.coefficients) {
            s.check(
                &format!("{} estimate", a.name),
                a.estimate,
                c2.sqrt(),
                b.estimate,
            );
            s.check(&format!("{} se", a.name), a.se, c2.sqrt(), b.se);
            s.check(&format!("{} pval", a.name), a.pval, 1.0, b.pval);
        }
        s.check("QM", m0.qm.stat, 1.0, m.qm.stat);
        s.check("QE", m0.het.q, 1.0, m.het.q);
        s.check("I2", m0.het.i2, 1.0, m.het.i2);
        s.opt("R2", m0.r2, 1.0, m.r2);
        s.check("tau2", m0.tau2, c2, m.tau2);
        s.opt("se_tau2", m0.se_tau2, c2, m.se_tau2);
        let ub = |f: &evident::moderators::metareg::MetaregFit| f.tau2_ci.map(|t| t.tau2_ub);
        s.opt("tau2_ci_ub", ub(&m0), c2, ub(&m));
        s.ll(
            "loglik",
            m0.fit.loglik,
            -((m0.k - m0.p) as f64) * c2.sqrt().ln(),
            m.fit.loglik,
        );
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}
