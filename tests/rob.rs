//! Risk-of-bias figures (issue 15 item 11): the weighted summary's shares against metafor's
//! weights (`tests/fixtures/rob/gen.R`), the `rob` command on files with and without effect
//! data, the report's section, and the forest's traffic lights (item 9).

mod common;

use common::cli::evident;
use evident::render::plot::rob::rob_columns;
use evident::render::plot::robfig::{shares, RobTable, RobTool};
use evident::{read_studies, rma, ColumnMap, CsvOptions, EffectSet, EscalcOptions, Measure};
use evident::{RmaOptions, Test};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rob")
        .join(name)
}

fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("evident-rob-")
        .tempdir()
        .unwrap()
}

#[test]
fn weighted_shares_match_metafors_weights() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap();
    let studies = read_studies(
        &fixture("rob2.csv"),
        &CsvOptions::default(),
        &ColumnMap::new(),
    )
    .unwrap();
    let set = EffectSet::from_studies(&studies, Measure::OR, &EscalcOptions::default()).unwrap();
    let o = RmaOptions {
        test: Test::Knha,
        ..RmaOptions::default()
    };
    let fit = rma(&set, &o).unwrap();
    for (w, e) in fit
        .weights
        .iter()
        .zip(expected["weights"].as_array().unwrap())
    {
        let e = e.as_f64().unwrap();
        assert!((w - e).abs() <= 1e-8 * e, "weight {w} vs {e}");
    }
    let cols = rob_columns(&fit).unwrap();
    let t = RobTable::new(
        fit.effects.labels.clone(),
        cols.clone(),
        Some((fit.weights.clone(), "model".into())),
        None,
    )
    .unwrap();
    assert_eq!(t.tool, RobTool::Rob2);
    let mut checked = 0;
    for c in &cols {
        let want = expected["shares"][&c.header].as_object().unwrap();
        let got = shares(&t, c);
        assert_eq!(got.len(), want.len(), "{}: {got:?}", c.header);
        for (level, share) in got {
            let e = want[level.name(false)].as_f64().unwrap();
            assert!(
                (share - e).abs() <= 1e-8 * e,
                "{} {level:?}: {share} vs {e}",
                c.header
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked}");
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn traffic_lights_one_per_judgement_with_rob2s_domains() {
    let d = tmp();
    let out = d.path().join("t.svg");
    let run = evident([
        "rob",
        fixture("rob2.csv").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(run.ok, "{}", run.stderr);
    let svg = std::fs::read_to_string(&out).unwrap();
    // 6 studies × (5 domains + overall), one judgement left empty.
    assert_eq!(count(&svg, "<circle"), 35, "{svg}");
    assert!(svg.contains("D1: Bias arising from the randomisation process."));
    assert!(svg.contains("? Unclear") && svg.contains("? No information"));
}

#[test]
fn a_file_of_judgements_only_gives_robins_i_figures() {
    let d = tmp();
    let f = fixture("robins_only.csv");
    let t = d.path().join("t.svg");
    let run = evident(["rob", f.to_str().unwrap(), "-o", t.to_str().unwrap()]);
    assert!(run.ok, "{}", run.stderr);
    let svg = std::fs::read_to_string(&t).unwrap();
    assert!(svg.contains("D1: Bias due to confounding."), "{svg}");
    assert!(svg.contains("! Critical") && svg.contains("Serious") && svg.contains("Moderate"));
    let s = d.path().join("s.svg");
    let run = evident([
        "rob",
        f.to_str().unwrap(),
        "-o",
        s.to_str().unwrap(),
        "--type",
        "summary",
    ]);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stderr.contains("unweighted"), "{}", run.stderr);
    let svg = std::fs::read_to_string(&s).unwrap();
    assert!(svg.contains("each counted once"));
    // Weights from a column: cohort C (3 of 6) alone is moderate overall.
    let run = evident([
        "rob",
        f.to_str().unwrap(),
        "-o",
        s.to_str().unwrap(),
        "--type",
        "summary",
        "--weights",
        "w",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let svg = std::fs::read_to_string(&s).unwrap();
    assert!(
        svg.contains("\n50%\n") && svg.contains("the column w"),
        "{svg}"
    );
    // Model weights need effect data.
    let run = evident([
        "rob",
        f.to_str().unwrap(),
        "-o",
        s.to_str().unwrap(),
        "--type",
        "summary",
        "--weights",
        "model",
    ]);
    assert!(!run.ok);
}

#[test]
fn a_judgement_that_is_none_is_refused_with_its_place() {
    let d = tmp();
    let f = d.path().join("bad.csv");
    std::fs::write(&f, "study,rob_D1\nA,Low\nB,perhaps\n").unwrap();
    let run = evident([
        "rob",
        f.to_str().unwrap(),
        "-o",
        d.path().join("x.svg").to_str().unwrap(),
    ]);
    assert!(!run.ok);
    assert!(
        run.stderr.contains("rob_D1")
            && run.stderr.contains("'B'")
            && run.stderr.contains("perhaps"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_forest_draws_rob_columns_once_and_unclear_as_a_question_mark() {
    let d = tmp();
    let out = d.path().join("f.svg");
    let run = evident([
        "forest",
        fixture("rob2.csv").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--cols",
        "rob_D1,rob_D2",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let svg = std::fs::read_to_string(&out).unwrap();
    assert_eq!(count(&svg, "\nD1\n"), 1, "D1 is drawn as lights only");
    assert!(svg.contains("? unclear"), "the key names unclear");
    assert!(!svg.contains("rob_D1"));
}

#[test]
fn the_report_has_the_figures_and_the_summary_of_findings() {
    let d = tmp();
    let input = d.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(fixture("rob2.csv"), input.join("rob2.csv")).unwrap();
    let out = d.path().join("out");
    let run = evident([
        "report",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(run.ok, "{}", run.stderr);
    let page = std::fs::read_to_string(out.join("rob2/index.html")).unwrap();
    assert!(
        page.contains("<h2>Risk of bias</h2>") && page.contains("<h2>Summary of findings</h2>")
    );
    assert!(out.join("rob2/rob_traffic.svg").exists());
    assert!(out.join("rob2/rob_summary.svg").exists());
    let md = std::fs::read_to_string(out.join("rob2/summary.md")).unwrap();
    assert!(
        md.contains("## Summary of findings") && md.contains("per 1,000"),
        "{md}"
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("rob2/results.json")).unwrap())
            .unwrap();
    assert!(json["sof"]["nnt"].is_number());
}
