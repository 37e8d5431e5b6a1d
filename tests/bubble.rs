//! Bubble plots of meta-regressions with several moderators: the line is metafor's `regplot`
//! (the other coefficients at their column means; tests/fixtures/bubble/gen.R), the moderators
//! that can be drawn, and `evident bubble --mods FORMULA --mod COLUMN --xlab TEXT`.

mod common;

use common::cli::evident;
use common::nums;
use common::{ATOL, RTOL};
use evident::data::{read_studies, ColumnMap, CsvOptions};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::{Method, RmaOptions, Test};
use evident::moderators::metareg;
use evident::render::plot::bubble::{
    bubble, bubble_line, bubble_moderators, column_means, BubbleOptions,
};
use evident::Measure;
use serde_json::Value;
use std::path::PathBuf;

fn bcg() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv"))
}

fn bcg_rr() -> EffectSet {
    let studies = read_studies(&bcg(), &CsvOptions::default(), &ColumnMap::new()).unwrap();
    EffectSet::from_studies(&studies, Measure::RR, &EscalcOptions::default()).unwrap()
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= ATOL + RTOL * want.abs(),
        "{what}: {got} vs metafor {want}"
    );
}

#[test]
fn the_line_holds_the_other_moderators_at_their_means_as_regplot() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bubble/expected.json"
    );
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let set = bcg_rr();
    for e in cases.as_array().unwrap() {
        let o = RmaOptions {
            method: e["method"].as_str().unwrap().parse::<Method>().unwrap(),
            test: e["test"].as_str().unwrap().parse::<Test>().unwrap(),
            ..RmaOptions::default()
        };
        let fit = metareg(&set, e["mods"].as_str().unwrap(), &o).unwrap();
        let what = format!("{} along {} ({})", e["mods"], e["mod"], e["method"]);
        let names: Vec<&str> = e["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        assert_eq!(fit.names(), names.as_slice(), "{what}");
        for (g, w) in column_means(&fit).iter().zip(nums(&e["means"])) {
            close(*g, w, &format!("{what}: colMeans(X)"));
        }
        let j = names.iter().position(|n| *n == e["mod"]).unwrap();
        let line = bubble_line(&fit, j, &nums(&e["xs"])).unwrap();
        for (key, get) in [
            (
                "pred",
                (|p| p.pred) as fn(&evident::moderators::metareg::Predicted) -> f64,
            ),
            ("se", |p| p.se),
            ("ci_lb", |p| p.ci_lb),
            ("ci_ub", |p| p.ci_ub),
        ] {
            for (p, w) in line.iter().zip(nums(&e[key])) {
                close(get(p), w, &format!("{what}: {key}"));
            }
        }
        match &e["pi_lb"] {
            Value::Null => assert!(line.iter().all(|p| p.pi_lb.is_none()), "{what}"),
            v => {
                for (p, w) in line.iter().zip(nums(v)) {
                    close(p.pi_lb.unwrap(), w, &format!("{what}: pi_lb"));
                }
            }
        }
        // The figure draws that line, with the means it holds the others at in a note.
        let svg = bubble(&fit, names[j], &BubbleOptions::default())
            .unwrap()
            .to_svg()
            .unwrap();
        assert!(
            svg.contains("Other moderators at their means (as metafor"),
            "{what}"
        );
        assert!(svg.contains(&format!("Slope of {}", names[j])), "{what}");
    }
}

#[test]
fn moderators_in_one_term_are_drawn_factors_and_shared_variables_are_not() {
    let set = bcg_rr();
    let o = RmaOptions::default();
    let listed = |f: &str| {
        bubble_moderators(&metareg(&set, f, &o).unwrap())
            .into_iter()
            .map(|(n, r)| (n, r.is_ok()))
            .collect::<Vec<_>>()
    };
    assert_eq!(listed("ablat"), [("ablat".to_string(), true)]);
    assert_eq!(
        listed("ablat + year"),
        [("ablat".to_string(), true), ("year".to_string(), true)]
    );
    // A factor's dummies are contrasts: no bubble plot, not even a reason.
    assert_eq!(listed("alloc"), []);
    assert_eq!(
        listed("ablat + factor(alloc)"),
        [("ablat".to_string(), true)]
    );
    // A variable in two terms: holding one at its mean would draw a line the model lacks.
    assert_eq!(
        listed("ablat + I(ablat^2) + year"),
        [
            ("ablat".to_string(), false),
            ("I(ablat^2)".to_string(), false),
            ("year".to_string(), true)
        ]
    );
    assert_eq!(
        listed("ablat * year"),
        [("ablat".to_string(), false), ("year".to_string(), false)]
    );
    let fit = metareg(&set, "ablat + I(ablat^2)", &o).unwrap();
    let e = bubble(&fit, "ablat", &BubbleOptions::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("also enters the model as I(ablat^2)"),
        "{e}"
    );
    let e = bubble(&fit, "alloc", &BubbleOptions::default()).unwrap_err();
    assert!(e.to_string().contains("'alloc' is not one"), "{e}");
}

#[test]
fn the_x_label_is_the_moderator_unless_given() {
    let fit = metareg(&bcg_rr(), "ablat", &RmaOptions::default()).unwrap();
    let plain = bubble(&fit, "ablat", &BubbleOptions::default())
        .unwrap()
        .to_svg()
        .unwrap();
    assert!(plain.contains(">\nablat\n</text>"));
    let named = bubble(
        &fit,
        "ablat",
        &BubbleOptions {
            xlab: Some("Absolute latitude (°) <N/S>".into()),
            ..BubbleOptions::default()
        },
    )
    .unwrap()
    .to_svg()
    .unwrap();
    assert!(named.contains(">\nAbsolute latitude (°) &lt;N/S&gt;\n</text>"));
    assert!(!named.contains(">\nablat\n</text>"));
}

#[test]
fn the_cli_draws_a_model_with_several_moderators_along_the_chosen_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.svg");
    let (b, o) = (bcg(), out.to_str().unwrap().to_string());
    let run = |extra: &[&str]| {
        let mut args = vec!["bubble", b.to_str().unwrap(), "--measure", "RR", "-o", &o];
        args.extend_from_slice(extra);
        evident(args)
    };
    let r = run(&["--mods", "ablat + year", "--mod", "year", "--xlab", "Year"]);
    assert!(r.ok, "{}", r.stderr);
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.contains(">\nYear\n</text>") && svg.contains("Slope of year"));
    assert!(svg.contains("ablat = 33.46"), "the note gives ablat's mean");
    // Several numeric moderators and no --mod: the error lists them.
    let r = run(&["--mods", "ablat + year"]);
    assert!(!r.ok && r.stderr.contains("ablat, year") && r.stderr.contains("--mod"));
    // One numeric moderator beside a factor needs no --mod.
    let r = run(&["--mods", "ablat + factor(alloc)"]);
    assert!(r.ok, "{}", r.stderr);
    let r = run(&["--mods", "alloc"]);
    assert!(
        !r.ok && r.stderr.contains("no numeric moderator"),
        "{}",
        r.stderr
    );
}
