//! RevMan 5's forest layout and the size options: every number on the plot against metafor
//! (tests/fixtures/revman_forest/gen.R), rows where they belong, legible text at 170 mm.

mod common;

use common::cli::{Cli, Run};
use common::svg::texts;
use evident::data::{read_studies, ColumnMap, CsvOptions};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::{rma, Method, RmaOptions, Test};
use evident::render::plot::figure::Figure;
use evident::render::plot::forest::{
    column_totals, forest, revman_columns, ArmTotals, ForestOptions, PlotSize, RevmanLayout,
};
use evident::render::plot::size::parse_length;
use evident::Measure;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// metafor's lines for `case` (bcg, dz), in the order gen.R wrote them.
fn expected(case: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/revman_forest/expected.txt"))
        .expect("expected.txt");
    text.lines()
        .filter_map(|l| l.strip_prefix(&format!("{case}\t")))
        .map(str::to_string)
        .collect()
}

/// The texts on the same line as each item labelled `label`, in order.
fn rows_of(t: &[(String, String)], label: &str) -> Vec<Vec<String>> {
    t.iter()
        .filter(|(_, s)| s == label)
        .map(|(y, _)| {
            t.iter()
                .filter(|(y2, s)| y2 == y && s != label)
                .map(|(_, s)| s.clone())
                .collect()
        })
        .collect()
}

/// The line after the item labelled `label` (its k-th occurrence).
fn next_row(t: &[(String, String)], label: &str, k: usize) -> Vec<String> {
    let ys: Vec<f64> = {
        let mut v: Vec<f64> = t.iter().map(|(y, _)| y.parse().unwrap()).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let at: f64 = t
        .iter()
        .filter(|(_, s)| s == label)
        .nth(k)
        .unwrap()
        .0
        .parse()
        .unwrap();
    let next = ys[ys.iter().position(|&y| y == at).unwrap() + 1];
    t.iter()
        .filter(|(y, _)| y.parse::<f64>().unwrap() == next)
        .map(|(_, s)| s.clone())
        .collect()
}

fn cli<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(args: I) -> Run {
    Cli::new(args).current_dir(root()).run()
}

fn plot(args: &[&str], dir: &Path, name: &str) -> String {
    let out = dir.join(name);
    let mut a: Vec<&str> = args.to_vec();
    let o = out.to_str().unwrap();
    a.extend(["-o", o]);
    let r = cli(&a);
    assert!(r.ok, "{a:?}: {}", r.stderr);
    std::fs::read_to_string(out).unwrap()
}

fn has(t: &[(String, String)], s: &str) -> bool {
    t.iter().any(|(_, x)| x == s)
}

#[test]
/// The inverse-variance DerSimonian–Laird model in RevMan's layout (under `--preset revman5` 2×2 data
/// are pooled by Mantel–Haenszel instead, which `tests/revman5.rs` checks).
fn revman_layout_numbers_match_metafor() {
    let dir = tempfile::tempdir().unwrap();
    let svg = plot(
        &[
            "forest",
            "data/bcg.csv",
            "--preset",
            "metafor",
            "--method",
            "DL",
            "--layout",
            "revman",
            "--by",
            "alloc",
            "--arms",
            "BCG,Control",
        ],
        dir.path(),
        "bcg.svg",
    );
    let t = texts(&svg);
    let want = expected("bcg");
    assert_eq!(want.len(), 17);
    // Headers: the method and the arms' names; RevMan's column names.
    for h in [
        "Study or Subgroup",
        "IV, Random, 95% CI",
        "Odds Ratio",
        "BCG",
        "Control",
        "Events",
        "Total",
    ] {
        assert!(has(&t, h), "no header '{h}'");
    }
    assert!(!has(&t, "Experimental"));
    // Overall: heterogeneity and the test in the notes, the Total row's estimate and N per arm,
    // the events per arm on the row under it.
    assert!(has(&t, &want[0]) && has(&t, &want[1]), "{:?}", &want[..2]);
    let mut total = rows_of(&t, "Total (95% CI)")[0].clone();
    total.sort();
    let n: Vec<&str> = want[3].split('\t').collect();
    let mut row = vec![
        n[1].to_string(),
        n[3].to_string(),
        "100.0%".into(),
        want[2].clone(),
    ];
    row.sort();
    assert_eq!(total, row);
    let events = next_row(&t, "Total (95% CI)", 0);
    assert_eq!(events, ["Total events", n[0], n[2]]);
    // Each subgroup (alternate, random, systematic): its subtotal, events, heterogeneity (Tau²,
    // Chi² with df, P, I²) and test for overall effect, in that order under its studies.
    let subtotals = rows_of(&t, "Subtotal (95% CI)");
    assert_eq!(subtotals.len(), 3);
    for (g, sub) in subtotals.iter().enumerate() {
        let w = &want[4 + 4 * g..8 + 4 * g];
        let n: Vec<&str> = w[3].split('\t').collect();
        assert_eq!(sub[0], n[1]);
        assert_eq!(sub[1], n[3]);
        assert!(sub.contains(&w[2]), "subgroup {g}: {sub:?}");
        assert_eq!(
            next_row(&t, "Subtotal (95% CI)", g),
            ["Total events", n[0], n[2]]
        );
        assert!(has(&t, &w[0]), "subgroup {g}: no '{}'", w[0]);
        assert!(has(&t, &w[1]), "subgroup {g}: no '{}'", w[1]);
    }
    assert!(has(&t, &want[16]), "no '{}'", want[16]);
}

#[test]
fn not_estimable_rows_and_both_models() {
    let dir = tempfile::tempdir().unwrap();
    let file = "tests/snapshots/inputs/revman_double_zero.csv";
    let base = [
        "forest",
        file,
        "--preset",
        "metafor",
        "--method",
        "DL",
        "--drop00",
        "--both-models",
    ];
    let want = expected("dz");
    for (layout, name) in [("revman", "rm.svg"), ("standard", "std.svg")] {
        let mut a = base.to_vec();
        a.extend(["--layout", layout, "--arms", "Tacrolimus,Control"]);
        let t = texts(&plot(&a, dir.path(), name));
        // The double-zero studies keep their place, with their data and no estimate.
        let order: Vec<&str> = t
            .iter()
            .map(|(_, s)| s.as_str())
            .filter(|s| {
                s.ends_with(" 2001")
                    || s.ends_with(" 2003")
                    || s.ends_with(" 2005")
                    || s.ends_with(" 2008")
                    || s.ends_with(" 2010")
                    || s.ends_with(" 2012")
            })
            .collect();
        assert_eq!(
            order,
            [
                "Adams 2001",
                "Baker 2003",
                "Chen 2005",
                "Diaz 2008",
                "Evans 2010",
                "Fox 2012"
            ],
            "{layout}"
        );
        let baker = &rows_of(&t, "Baker 2003")[0];
        assert!(
            baker.contains(&"Not estimable".to_string()),
            "{layout}: {baker:?}"
        );
        let evans = &rows_of(&t, "Evans 2010")[0];
        assert!(
            evans.contains(&"Not estimable".to_string()),
            "{layout}: {evans:?}"
        );
        assert!(
            t.iter()
                .any(|(_, s)| s.starts_with("Baker 2003; Evans 2010: not estimable")),
            "{layout}: no note"
        );
        assert!(has(&t, "Tacrolimus"), "{layout}");
        // Both diamonds' numbers and the common-effect weights, one column each.
        let cis: Vec<&String> = t
            .iter()
            .map(|(_, s)| s)
            .filter(|s| **s == want[2])
            .collect();
        assert!(cis.len() >= 2, "{layout}: random and common CI {}", want[2]);
        assert_eq!(want[2], want[3]);
        assert!(has(&t, "(common)") && has(&t, "(random)"), "{layout}");
        for w in want[6].split('\t') {
            assert!(
                t.iter().filter(|(_, s)| s == w).count() >= 2,
                "{layout}: weight {w} in both columns (τ² = 0)"
            );
        }
        if layout == "revman" {
            assert!(has(&t, &want[0]) && has(&t, &want[1]) && has(&t, &want[4]));
            let n: Vec<&str> = want[5].split('\t').collect();
            let total = &rows_of(&t, "Total (random, 95% CI)")[0];
            assert_eq!(total[..2], [n[1], n[3]]);
            assert!(has(&t, "Total (fixed, 95% CI)"));
            assert_eq!(
                next_row(&t, "Total (random, 95% CI)", 0),
                ["Total events", n[0], n[2]]
            );
            // Not-estimable studies count in the arms' totals (465 = 100 + 45 + 60 + 80 + 30 + 150).
            assert_eq!(n[1], "465");
        }
    }
}

/// Every text box inside the canvas and apart from every other.
fn assert_clean(fig: &Figure, what: &str) {
    let boxes = fig.text_boxes();
    for (t, b) in &boxes {
        assert!(
            b.x0 >= -0.01 && b.y0 >= -0.01 && b.x1 <= fig.width + 0.01 && b.y1 <= fig.height + 0.01,
            "{what}: '{t}' leaves the canvas {}×{}: {b:?}",
            fig.width,
            fig.height
        );
    }
    for i in 0..boxes.len() {
        for j in i + 1..boxes.len() {
            assert!(
                !boxes[i].1.overlaps(&boxes[j].1),
                "{what}: '{}' overlaps '{}'",
                boxes[i].0,
                boxes[j].0
            );
        }
    }
}

fn bcg_revman(size: PlotSize) -> evident::error::Result<Figure> {
    let path = root().join("data/bcg.csv");
    let studies = read_studies(&path, &CsvOptions::default(), &ColumnMap::new()).unwrap();
    let set = EffectSet::from_studies(&studies, Measure::OR, &EscalcOptions::default()).unwrap();
    let fit = rma(
        &set,
        &RmaOptions {
            method: Method::DL,
            test: Test::Z,
            ..Default::default()
        },
    )
    .unwrap();
    let (columns, spans) =
        revman_columns(&studies.data, &set.rows, ("Vaccinated", "Control")).unwrap();
    let t = ArmTotals {
        events: Some([1065.0, 1510.0]),
        n: [191064.0, 166283.0],
    };
    let opts = ForestOptions {
        columns,
        favours: Some(("Favours vaccine".into(), "Favours control".into())),
        revman: Some(RevmanLayout {
            spans,
            total: Some(column_totals(&studies.data, &t)),
            ..Default::default()
        }),
        size,
        ..Default::default()
    };
    forest(&fit, &opts)
}

#[test]
fn width_170mm_gives_legible_text_and_a_clean_layout() {
    let natural = bcg_revman(PlotSize::default()).unwrap();
    assert_clean(&natural, "natural");
    let w = parse_length("170mm").unwrap();
    let fig = bcg_revman(PlotSize {
        width: Some(w),
        ..Default::default()
    })
    .unwrap();
    assert_clean(&fig, "170 mm");
    assert!((fig.width - w).abs() < 1e-9);
    // Sizes in pixels at 96 per inch: points are 0.75 px.
    let least = fig
        .labels()
        .map(|l| l.size * 0.75)
        .fold(f64::INFINITY, f64::min);
    let body = fig.labels().map(|l| l.size * 0.75).fold(0.0, f64::max);
    assert!(least >= 6.0, "smallest text {least} pt");
    // Eight tick labels set the least panel here: the body text is 6.65 pt.
    assert!(body >= 6.5, "body text {body} pt");
    // A wider page keeps 9 pt and stretches the panel.
    let wide = bcg_revman(PlotSize {
        width: Some(parse_length("300mm").unwrap()),
        ..Default::default()
    })
    .unwrap();
    assert_clean(&wide, "300 mm");
    let sizes: Vec<f64> = wide.labels().map(|l| l.size).collect();
    let nat: Vec<f64> = natural.labels().map(|l| l.size).collect();
    assert_eq!(sizes, nat);
    assert!(wide.width > natural.width);
    // A font size asked is kept; the height asked is the canvas's.
    let sized = bcg_revman(PlotSize {
        font_pt: Some(8.0),
        height: Some(parse_length("150mm").unwrap()),
        ..Default::default()
    })
    .unwrap();
    assert_clean(&sized, "8 pt");
    let body = sized.labels().map(|l| l.size * 0.75).fold(0.0, f64::max);
    assert!((body - 8.0).abs() < 1e-9, "{body}");
    assert!((sized.height - parse_length("150mm").unwrap()).abs() < 1e-9);
    // Too small for legible text, or a font size that cannot fit: a clear error.
    for bad in [
        PlotSize {
            width: Some(parse_length("80mm").unwrap()),
            ..Default::default()
        },
        PlotSize {
            width: Some(w),
            font_pt: Some(12.0),
            ..Default::default()
        },
    ] {
        let e = bcg_revman(bad).unwrap_err().to_string();
        assert!(e.contains("does not fit") && e.contains("mm"), "{e}");
    }
}

#[test]
fn cli_sizes_png_and_other_plots() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("f.png");
    let r = cli([
        "forest",
        "data/bcg.csv",
        "--layout",
        "revman",
        "--width",
        "170mm",
        "--dpi",
        "300",
        "-o",
        png.to_str().unwrap(),
    ]);
    assert!(r.ok, "{}", r.stderr);
    let bytes = std::fs::read(&png).unwrap();
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    // 170 mm at 300 dpi.
    assert_eq!(w, (170.0_f64 / 25.4 * 300.0).ceil() as u32);
    let svg = plot(
        &["funnel", "data/bcg.csv", "--width", "120mm"],
        dir.path(),
        "funnel.svg",
    );
    assert!(svg.starts_with("<svg width=\"453.54\""), "{}", &svg[..60]);
    for (args, msg) in [
        (
            vec!["forest", "data/bcg.csv", "--width", "17furlongs"],
            "unknown unit",
        ),
        (
            vec!["forest", "data/bcg.csv", "--font-size", "3"],
            "out of range",
        ),
        (
            vec!["forest", "data/bcg.csv", "--width", "40mm"],
            "does not fit",
        ),
        (
            vec!["forest", "data/bcg.csv", "--arms", "Tacrolimus"],
            "--arms",
        ),
        (
            vec![
                "funnel",
                "data/bcg.csv",
                "--width",
                "90mm",
                "--font-size",
                "8",
            ],
            "not both",
        ),
    ] {
        let mut a = args.clone();
        let o = dir.path().join("x.svg");
        a.extend(["-o", o.to_str().unwrap()]);
        let r = cli(&a);
        assert!(!r.ok && r.stderr.contains(msg), "{args:?}: {}", r.stderr);
    }
}
