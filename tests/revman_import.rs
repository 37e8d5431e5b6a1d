//! RevMan import (issue 16, item 6): a RevMan 5 review (`tests/fixtures/revman_import/
//! review.rm5`, written after the RevMan 5 file format by `gen.R`, with the totals RevMan stores
//! computed by metafor with RevMan 5's algorithms) pooled outcome by outcome reproduces every
//! stored total; RevMan Web's CSV export of the same review pools to the same numbers; `pool
//! --outcome` and `report` on a review; bad reviews refused with the file, line and element.

mod common;

use common::cli::evident;
use evident::app::review::{fit_outcome, Choice, ReviewPooling};
use evident::data::revman::{read_review, DataType, Review, RevmanMethod};
use evident::pool::TablePooling;
use evident::render::revman::reproduced;
use evident::Measure;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The fixtures' numbers come from R at full precision: agreement to 1e-8, relative (absolute
/// below 1).
const TOL: f64 = 1e-8;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/revman_import")
        .join(name)
}

fn review() -> Review {
    read_review(&fixture("review.rm5")).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOL * b.abs().max(1.0)
}

#[test]
fn every_outcome_reproduces_revmans_stored_totals() {
    let r = review();
    let ids: Vec<&str> = r.outcomes.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["1.1", "1.2", "2.1", "2.2", "3.1", "3.2"]);
    let mut checked = 0;
    for o in &r.outcomes {
        let fit = fit_outcome(o, &Choice::default()).unwrap();
        for (name, stored, ours) in reproduced(o, &fit.fit) {
            let stored = stored.unwrap_or_else(|| panic!("{} has no {name}", o.id));
            assert!(
                close(ours, stored),
                "{} {name}: RevMan {stored}, evident {ours}",
                o.id
            );
            checked += 1;
        }
    }
    // Nine totals per outcome, and τ² for the three random-effects outcomes.
    assert_eq!(checked, 6 * 9 + 3);
}

#[test]
fn the_review_settings_are_read() {
    let r = review();
    assert_eq!(
        r.title.as_deref(),
        Some("Interventions for an example condition (evident test review)")
    );
    let o = r.outcome("1.1").unwrap();
    assert_eq!(o.comparison, "Drug versus placebo");
    assert_eq!(o.name, "Death at 12 months");
    assert_eq!(
        (o.data_type, o.method, o.measure.as_str(), o.random),
        (
            DataType::Dichotomous,
            RevmanMethod::MantelHaenszel,
            "RR",
            true
        )
    );
    assert_eq!(o.subgroups, ["Adults", "Children & adolescents"]);
    assert_eq!(o.studies.labels[1], "Baker & Chan 2001");
    assert_eq!(o.studies.moderator("subgroup").unwrap().values.len(), 7);
    let fit = fit_outcome(o, &Choice::default()).unwrap();
    assert_eq!(fit.pooling, ReviewPooling::MhRandom(Measure::RR));
    // The double-zero study (Diaz 2005) is not estimable.
    assert_eq!(fit.fit.k, 6);
    let peto = fit_outcome(r.outcome("1.2").unwrap(), &Choice::default()).unwrap();
    assert_eq!(peto.pooling, ReviewPooling::Tables(TablePooling::Peto));
    let iv = r.outcome("3.1").unwrap();
    assert!(iv.log_data && iv.measure == "HR" && iv.data_type == DataType::GenericIv);
    let oe = r.outcome("3.2").unwrap();
    assert_eq!((oe.method, oe.random), (RevmanMethod::Peto, false));
}

#[test]
fn choices_override_the_review() {
    let r = review();
    let o = r.outcome("1.1").unwrap();
    let fixed = Choice {
        method: Some("MH".parse().unwrap()),
        measure: Some(Measure::OR),
        ..Choice::default()
    };
    let fit = fit_outcome(o, &fixed).unwrap();
    assert_eq!(
        fit.pooling,
        ReviewPooling::Tables(TablePooling::MantelHaenszel(Measure::OR))
    );
    let choice = Choice {
        method: Some("Peto".parse().unwrap()),
        ..Choice::default()
    };
    let e = fit_outcome(r.outcome("2.2").unwrap(), &choice).unwrap_err();
    assert!(e.to_string().contains("outcome 2.2"), "{e}");
}

#[test]
fn revman_web_csv_export_pools_to_the_same_numbers() {
    let csv = read_review(&fixture("review-data-rows.csv")).unwrap();
    let rm5 = review();
    assert_eq!(csv.outcomes.len(), rm5.outcomes.len());
    for (c, o) in csv.outcomes.iter().zip(&rm5.outcomes) {
        assert_eq!(
            (&c.id, &c.name, &c.comparison),
            (&o.id, &o.name, &o.comparison)
        );
        assert_eq!(
            (c.data_type, c.method, c.random),
            (o.data_type, o.method, o.random)
        );
        assert_eq!(c.subgroups, o.subgroups);
        let fc = fit_outcome(c, &Choice::default()).unwrap();
        for (name, stored, ours) in reproduced(o, &fc.fit) {
            let stored = stored.unwrap();
            assert!(
                close(ours, stored),
                "CSV {} {name}: RevMan {stored}, evident {ours}",
                c.id
            );
        }
    }
}

#[test]
fn pool_outcome_json_carries_revmans_numbers() {
    let f = fixture("review.rm5");
    for id in ["1.1", "2.1", "3.2"] {
        let run = evident([
            "pool".as_ref(),
            f.as_os_str(),
            "--outcome".as_ref(),
            id.as_ref(),
            "--json".as_ref(),
        ]);
        assert!(run.ok, "{}", run.stderr);
        let v: Value = serde_json::from_str(&run.stdout).unwrap();
        let rm = &v["revman"];
        assert_eq!(rm["outcome"], id);
        let stored = rm["stored"].as_object().unwrap();
        for (k, s) in stored {
            let ours = rm["reproduced"][k].as_f64().unwrap();
            assert!(close(ours, s.as_f64().unwrap()), "{id} {k}");
        }
    }
    let run = evident([
        "pool".as_ref(),
        f.as_os_str(),
        "--outcome".as_ref(),
        "1.1".as_ref(),
    ]);
    assert!(
        run.ok && run.stdout.contains("RevMan outcome 1.1"),
        "{}",
        run.stdout
    );
}

#[test]
fn pool_without_or_with_an_unknown_outcome_lists_the_outcomes() {
    let f = fixture("review.rm5");
    for extra in [vec![], vec!["--outcome", "9.9"]] {
        let mut args = vec!["pool".into(), f.clone().into_os_string()];
        args.extend(extra.iter().map(Into::into));
        let run = evident(args);
        assert!(!run.ok);
        assert!(
            run.stderr
                .contains("1.1 (Drug versus placebo: Death at 12 months)")
                && run
                    .stderr
                    .contains("3.2 (Early versus late treatment: Overall survival)"),
            "{}",
            run.stderr
        );
    }
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/bcg.csv");
    let run = evident([
        "pool".as_ref(),
        csv.as_os_str(),
        "--outcome".as_ref(),
        "1.1".as_ref(),
    ]);
    assert!(
        !run.ok && run.stderr.contains("not a RevMan review"),
        "{}",
        run.stderr
    );
}

#[test]
fn report_on_a_review_writes_one_page_per_outcome() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("report");
    let f = fixture("review.rm5");
    let run = evident([
        "report".as_ref(),
        f.as_os_str(),
        "-o".as_ref(),
        dir.as_os_str(),
    ]);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stderr.contains("6 of 6 analyses"), "{}", run.stderr);
    let page =
        std::fs::read_to_string(dir.join("1_1_Drug_versus_placebo_Death_at_12_months/index.html"))
            .unwrap();
    assert!(page.contains("<title>1.1 Drug versus placebo: Death at 12 months</title>"));
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.join("2_1_Therapy_versus_usual_care_Symptom_score/results.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // RevMan's SMD, not metafor's.
    let stored = review().outcome("2.1").unwrap().stored.effect.unwrap();
    assert!(close(json["estimate"].as_f64().unwrap(), stored), "{json}");
    let pages = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("index.html").is_file())
        .count();
    assert_eq!(pages, 6);
}

/// A review's text with a substitution, written to a temporary `.rm5`.
fn broken(from: &str, to: &str) -> (tempfile::TempDir, PathBuf) {
    let text = std::fs::read_to_string(fixture("review.rm5")).unwrap();
    assert!(text.contains(from), "{from}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.rm5");
    std::fs::write(&p, text.replace(from, to)).unwrap();
    (dir, p)
}

#[test]
fn bad_reviews_are_refused_with_file_line_and_element() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("not.rm5");
    std::fs::write(&p, "Study,ai\nA,1\n").unwrap();
    let e = read_review(&p).unwrap_err().to_string();
    assert!(e.contains("not.rm5") && e.contains("malformed"), "{e}");
    let (_d, p) = broken("COCHRANE_REVIEW", "OTHER_ROOT");
    let e = read_review(&p).unwrap_err().to_string();
    assert!(e.contains("<OTHER_ROOT>") && e.contains("line 2"), "{e}");
    let (_d, p) = broken("STUDY_ID=\"STD-01\"", "");
    let e = read_review(&p).unwrap_err().to_string();
    assert!(
        e.contains("<DICH_DATA>") && e.contains("STUDY_ID") && e.contains("line "),
        "{e}"
    );
    let (_d, p) = broken("EVENTS_1=\"12\"", "EVENTS_1=\"twelve\"");
    let e = read_review(&p).unwrap_err().to_string();
    assert!(e.contains("outcome 1.1") && e.contains("bad.rm5"), "{e}");
    let (_d, p) = broken("METHOD=\"MH\"", "METHOD=\"XX\"");
    let e = read_review(&p).unwrap_err().to_string();
    assert!(e.contains("METHOD=\"XX\""), "{e}");
    let (_d, p) = broken("VAR=\"10.1\"", "VAR=\"-1\"");
    let e = read_review(&p).unwrap_err().to_string();
    assert!(e.contains("<IPD_DATA>") && e.contains("positive"), "{e}");
    let run = evident([
        "pool".as_ref(),
        p.as_os_str(),
        "--outcome".as_ref(),
        "1.1".as_ref(),
    ]);
    assert!(
        !run.ok && !run.stderr.contains("panicked"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_directory_with_a_revman_export_reports_its_outcomes() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir(&input).unwrap();
    for f in [
        "review-data-rows.csv",
        "review-overall-estimates-and-settings.csv",
    ] {
        std::fs::copy(fixture(f), input.join(f)).unwrap();
    }
    let out = tmp.path().join("out");
    let run = evident([
        "report".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    // The settings file is read with the data rows; on its own it is no analysis.
    assert!(
        run.ok && run.stderr.contains("6 of 6 analyses"),
        "{}",
        run.stderr
    );
    assert!(out
        .join("1_1_Drug_versus_placebo_Death_at_12_months/index.html")
        .is_file());
}
