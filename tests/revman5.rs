//! Mantel–Haenszel and Peto fits drawn and reported (issue 15, item 1) and RevMan 5's
//! random-effects model for binary data, against metafor (`tests/fixtures/revman5/gen.R`): the
//! views' estimates, intervals, Q, I², H² and MH/Peto weights in percent; RevMan 5's τ², estimate,
//! interval and prediction interval; forest and funnel plots for MH (OR, RR, RD, IRR, IRD) and
//! Peto; and a report from a manifest with `method = "MH"` and `preset = "revman5"`.

mod common;

use common::cli::evident;
use common::{ATOL, RTOL};
use evident::model::{Method, RmaOptions, Test, Weighting};
use evident::pool::view::{fit_with_view, revman5_random};
use evident::pool::{MhOptions, TablePooling};
use evident::{read_studies, ColumnMap, CsvOptions, Measure, Studies};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cases() -> Vec<Value> {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/revman5/expected.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn studies(case: &Value) -> Studies {
    let path = root().join(case["input"].as_str().unwrap());
    read_studies(&path, &CsvOptions::default(), &ColumnMap::new()).unwrap()
}

fn measure(case: &Value) -> Measure {
    case["measure"].as_str().unwrap().parse().unwrap()
}

fn close(what: &str, got: f64, want: f64, misses: &mut Vec<String>) {
    let ok = (got - want).abs() <= ATOL + RTOL * want.abs();
    if !ok {
        misses.push(format!("{what}: got {got}, metafor {want}"));
    }
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn mh_and_peto_views_match_metafor_with_revman_weights() {
    let mut misses = Vec::new();
    let mut n = 0;
    for c in cases().iter().filter(|c| c["kind"] != "re") {
        n += 1;
        let id = c["id"].as_str().unwrap();
        let s = studies(c);
        let by = if c["kind"] == "peto" {
            TablePooling::Peto
        } else {
            TablePooling::MantelHaenszel(measure(c))
        };
        let (mh, view) = fit_with_view(&s, by, &MhOptions::default()).unwrap();
        let e = &c["expected"];
        let want_w = if c["kind"] == "peto" {
            Weighting::Peto
        } else {
            Weighting::MantelHaenszel
        };
        assert_eq!(view.weighting, want_w, "{id}");
        assert_eq!(view.k, e["k_yi"].as_u64().unwrap() as usize, "{id}");
        for (key, got) in [
            ("estimate", view.estimate),
            ("se", view.se),
            ("ci_lb", view.ci_lb),
            ("ci_ub", view.ci_ub),
            ("zval", view.stat),
            ("Q", view.het.q),
            ("I2", view.het.i2),
            ("H2", view.het.h2),
        ] {
            close(&format!("{id} / {key}"), got, num(&e[key]), &mut misses);
        }
        // Every study's weight in percent of the tables pooled (metafor's weights(), RevMan's
        // column); null for tables not pooled.
        let sw = c["study_weights"].as_array().unwrap();
        assert_eq!(mh.study_weights.len(), sw.len(), "{id}");
        for (i, (got, want)) in mh.study_weights.iter().zip(sw).enumerate() {
            match (got, want.as_f64()) {
                (Some(g), Some(w)) => close(&format!("{id} / weight {i}"), *g, w, &mut misses),
                (None, None) => {}
                _ => misses.push(format!("{id} / weight {i}: got {got:?}, metafor {want}")),
            }
        }
        // The view's rows are the studies with an effect, each with its own weight.
        for (j, &r) in view.effects.rows.iter().enumerate() {
            close(
                &format!("{id} / view weight {j}"),
                view.weights[j],
                sw[r].as_f64().unwrap(),
                &mut misses,
            );
        }
        assert!(view.fit.loglik.is_nan() && view.pi.is_none() && view.tau2 == 0.0);
    }
    assert!(n >= 14, "{n} cases");
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

#[test]
fn revman5_random_effects_match_the_published_algorithm() {
    let mut misses = Vec::new();
    let mut n = 0;
    let ro = RmaOptions {
        method: Method::DL,
        test: Test::Z,
        ..RmaOptions::default()
    };
    for c in cases().iter().filter(|c| c["kind"] == "re") {
        n += 1;
        let id = c["id"].as_str().unwrap();
        let (mh, fit) =
            revman5_random(&studies(c), measure(c), &MhOptions::default(), &ro).unwrap();
        let e = &c["expected"];
        assert_eq!(fit.weighting, Weighting::MantelHaenszel, "{id}");
        assert_eq!(fit.options.method, Method::DL, "{id}");
        assert_eq!(fit.k, e["k"].as_u64().unwrap() as usize, "{id}");
        let pi = fit.prediction().unwrap();
        for (key, got) in [
            ("tau2", fit.tau2),
            ("estimate", fit.estimate),
            ("se", fit.se),
            ("ci_lb", fit.ci_lb),
            ("ci_ub", fit.ci_ub),
            ("zval", fit.stat),
            ("pi_lb", pi.lb),
            ("pi_ub", pi.ub),
            ("Q", fit.het.q),
            ("I2", fit.het.i2),
            ("H2", fit.het.h2),
        ] {
            close(&format!("{id} / {key}"), got, num(&e[key]), &mut misses);
        }
        close(&format!("{id} / MH Q"), mh.q, num(&e["Q"]), &mut misses);
        for (i, (g, w)) in fit
            .weights
            .iter()
            .zip(c["weights"].as_array().unwrap())
            .enumerate()
        {
            close(&format!("{id} / weight {i}"), *g, num(w), &mut misses);
        }
        assert!(
            fit.notes.iter().all(|n| !n.contains("fixed at")),
            "{id}: {:?}",
            fit.notes
        );
    }
    assert!(n >= 11, "{n} cases");
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}

fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("evident-revman5-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The text of an SVG's `<text>` elements, one per line as the renderer writes them.
fn has_text(svg: &str, t: &str) -> bool {
    svg.lines().any(|l| l.trim() == t)
}

#[test]
fn forest_and_funnel_plots_draw_mh_for_each_measure_and_peto() {
    let dir = out_dir("plots");
    let mut drawn = 0;
    for c in cases().iter().filter(|c| c["kind"] != "re") {
        let id = c["id"].as_str().unwrap();
        let input = root().join(c["input"].as_str().unwrap());
        let (method, label) = if c["kind"] == "peto" {
            ("Peto", "Peto, fixed effect")
        } else {
            ("MH", "Mantel–Haenszel, fixed effect")
        };
        let forest = dir.join(format!("{id}.svg"));
        let mut args = vec![
            "forest".to_string(),
            input.display().to_string(),
            "--method".into(),
            method.into(),
            "-o".into(),
            forest.display().to_string(),
            "--digits".into(),
            "4".into(),
        ];
        if method == "MH" {
            args.extend(["--measure".into(), c["measure"].as_str().unwrap().into()]);
        }
        let run = evident(&args);
        assert!(run.ok, "{id}: {}", run.stderr);
        let svg = std::fs::read_to_string(&forest).unwrap();
        assert!(has_text(&svg, label), "{id}: no '{label}' row");
        // The weights column shows the MH/Peto weights of the studies drawn, as RevMan does.
        let s = studies(c);
        let by = if method == "Peto" {
            TablePooling::Peto
        } else {
            TablePooling::MantelHaenszel(measure(c))
        };
        let (_, view) = fit_with_view(&s, by, &MhOptions::default()).unwrap();
        for (j, &r) in view.effects.rows.iter().enumerate() {
            let w = c["study_weights"][r].as_f64().unwrap();
            let cell = format!("{w:.1}%");
            assert!(
                has_text(&svg, &cell),
                "{id}: study {j} weight {cell} missing"
            );
        }
        // The diamond spans the MH/Peto interval: its text on the summary row.
        let e = &c["expected"];
        let back = |x: f64| {
            if matches!(measure(c), Measure::RD | Measure::IRD) {
                x
            } else {
                x.exp()
            }
        };
        let pooled = format!(
            "{:.4} [{:.4}, {:.4}]",
            back(num(&e["estimate"])),
            back(num(&e["ci_lb"])),
            back(num(&e["ci_ub"]))
        )
        .replace('-', "\u{2212}");
        assert!(has_text(&svg, &pooled), "{id}: pooled {pooled} missing");
        let funnel = dir.join(format!("{id}_funnel.svg"));
        args[0] = "funnel".into();
        args[5] = funnel.display().to_string();
        args.drain(6..8);
        let run = evident(&args);
        assert!(run.ok, "{id}: {}", run.stderr);
        assert!(std::fs::read_to_string(&funnel)
            .unwrap()
            .starts_with("<svg"));
        drawn += 1;
    }
    assert!(drawn >= 14);
    // What the plots of a table pooling cannot draw is refused, not drawn from another model.
    let bcg = root().join("data/bcg.csv").display().to_string();
    let f = dir.join("x.svg").display().to_string();
    let run = evident(["forest", &bcg, "--method", "MH", "--by", "alloc", "-o", &f]);
    assert!(
        !run.ok && run.stderr.contains("Mantel–Haenszel"),
        "{}",
        run.stderr
    );
    let run = evident(["funnel", &bcg, "--method", "Peto", "--trimfill", "-o", &f]);
    assert!(!run.ok && run.stderr.contains("Peto"), "{}", run.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn revman5_preset_draws_mh_and_its_random_effects_model() {
    let dir = out_dir("preset");
    let bcg = root().join("data/bcg.csv").display().to_string();
    let f = dir.join("fe.svg");
    let run = evident([
        "forest",
        &bcg,
        "--preset",
        "revman5",
        "-o",
        f.to_str().unwrap(),
    ]);
    assert!(run.ok, "{}", run.stderr);
    let svg = std::fs::read_to_string(&f).unwrap();
    // The preset draws RevMan's layout: the method is in the column headers.
    assert!(has_text(&svg, "M-H, Fixed, 95% CI"));
    let c = cases()
        .into_iter()
        .find(|c| c["id"] == "bcg_re_OR")
        .unwrap();
    let e = &c["expected"];
    let f = dir.join("re.svg");
    let run = evident([
        "forest",
        &bcg,
        "--preset",
        "revman5",
        "--method",
        "DL",
        "-o",
        f.to_str().unwrap(),
    ]);
    assert!(run.ok, "{}", run.stderr);
    let svg = std::fs::read_to_string(&f).unwrap();
    assert!(has_text(&svg, "M-H, Random, 95% CI"));
    let pooled = format!(
        "{:.2} [{:.2}, {:.2}]",
        num(&e["estimate"]).exp(),
        num(&e["ci_lb"]).exp(),
        num(&e["ci_ub"]).exp()
    );
    assert!(has_text(&svg, &pooled), "{pooled}");
    // `pool` reports the same model, with RevMan's τ².
    let run = evident([
        "pool", &bcg, "--preset", "revman5", "--method", "DL", "--json",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["pooling"], "Mantel–Haenszel, random effects (DL)");
    let mut misses = Vec::new();
    close("tau2", num(&v["tau2"]), num(&e["tau2"]), &mut misses);
    close(
        "estimate",
        num(&v["estimate"]),
        num(&e["estimate"]),
        &mut misses,
    );
    assert!(misses.is_empty(), "{misses:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_manifest_with_mh_and_the_revman5_preset_gives_a_report() {
    let dir = out_dir("report");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(root().join("data/bcg.csv"), input.join("bcg.csv")).unwrap();
    std::fs::write(
        input.join("evident.toml"),
        r#"
[[analysis]]
name = "mh"
file = "bcg.csv"
method = "MH"
preset = "revman5"

[[analysis]]
name = "re"
file = "bcg.csv"
preset = "revman5"
method = "DL"

[[analysis]]
name = "peto"
file = "bcg.csv"
method = "Peto"
"#,
    )
    .unwrap();
    let out = dir.join("out");
    let run = evident([
        "report",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(run.ok, "{}", run.stderr);
    let cs = cases();
    let case = |id: &str| cs.iter().find(|c| c["id"] == id).unwrap().clone();
    // The MH analysis: metafor's rma.mh in results.json, the method named in summary.md, the
    // page and the index.
    let mh = case("bcg_mh_OR");
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("mh/results.json")).unwrap())
            .unwrap();
    assert_eq!(r["method"], "MH");
    let mut misses = Vec::new();
    for key in ["estimate", "se", "ci_lb", "ci_ub", "Q", "I2"] {
        close(key, num(&r[key]), num(&mh["expected"][key]), &mut misses);
    }
    assert!(misses.is_empty(), "{misses:?}");
    let md = std::fs::read_to_string(out.join("mh/summary.md")).unwrap();
    assert!(md.contains("Mantel–Haenszel fixed-effect OR"), "{md}");
    assert!(md.contains("Mantel–Haenszel fixed-effect method"), "{md}");
    assert!(
        md.contains("**Pooled (Mantel–Haenszel, fixed effect)**"),
        "{md}"
    );
    let w0 = mh["study_weights"][7].as_f64().unwrap();
    assert!(md.contains(&format!("| {w0:.1}% |")), "{md}");
    // Trim-and-fill refits inverse-variance models: said not done, never reported as done.
    assert!(md.contains("trim-and-fill was not computed"), "{md}");
    let page = std::fs::read_to_string(out.join("mh/index.html")).unwrap();
    assert!(page.contains("Mantel–Haenszel fixed-effect"));
    let forest = std::fs::read_to_string(out.join("mh/forest.svg")).unwrap();
    // Under preset = "revman5" the report draws RevMan 5's layout (tests/report_revman.rs).
    assert!(has_text(&forest, "M-H, Fixed, 95% CI"));
    assert!(has_text(&forest, "Total (95% CI)"));
    let index = std::fs::read_to_string(out.join("index.md")).unwrap();
    assert!(index.contains("Mantel–Haenszel, fixed effect"), "{index}");
    assert!(index.contains("Peto, fixed effect"), "{index}");
    assert!(
        index.contains("Mantel–Haenszel, random effects (DL)"),
        "{index}"
    );
    // RevMan 5's random-effects model: its τ² and estimate in results.json.
    let re = case("bcg_re_OR");
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("re/results.json")).unwrap())
            .unwrap();
    for key in ["tau2", "estimate", "ci_lb", "ci_ub"] {
        close(key, num(&r[key]), num(&re["expected"][key]), &mut misses);
    }
    assert!(misses.is_empty(), "{misses:?}");
    let md = std::fs::read_to_string(out.join("re/summary.md")).unwrap();
    assert!(md.contains("as RevMan 5 fits it"), "{md}");
    let md = std::fs::read_to_string(out.join("peto/summary.md")).unwrap();
    assert!(md.contains("Peto fixed-effect OR"), "{md}");
    // A preset the manifest does not know is refused with the manifest's line.
    std::fs::write(
        input.join("evident.toml"),
        "[[analysis]]\nfile = \"bcg.csv\"\npreset = \"revman\"\n",
    )
    .unwrap();
    let run = evident([
        "report",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.stderr.contains("evident.toml") && run.stderr.contains("revman5"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}
