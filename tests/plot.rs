//! Forest and funnel plots: SVG structure, text geometry, PNG/PDF rendering and the CLI.

mod common;

use common::cli::{Cli, Run};
use evident::data::{read_studies, ColumnMap, CsvOptions};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::rma;
use evident::model::Method;
use evident::model::RmaFit;
use evident::model::RmaOptions;
use evident::moderators::subgroup::subgroups;
use evident::render::plot::figure::{Figure, Shape};
use evident::render::plot::forest::{
    forest, ForestOptions, TextColumn, STUDY_COLOR, SUBGROUP_COLOR, SUMMARY_COLOR,
};
use evident::{Measure, Scale};
use std::path::{Path, PathBuf};

fn bcg_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/cases/bcg_or/input.csv")
}

fn bcg_fit() -> RmaFit {
    let studies = read_studies(&bcg_path(), &CsvOptions::default(), &ColumnMap::new()).unwrap();
    let set = EffectSet::from_studies(&studies, Measure::OR, &EscalcOptions::default()).unwrap();
    rma(
        &set,
        &RmaOptions {
            method: Method::REML,
            ..Default::default()
        },
    )
    .unwrap()
}

/// Study squares are the rectangles in the study colour; diamonds the polygons in summary colours.
fn squares(svg: &str) -> usize {
    svg.lines()
        .filter(|l| {
            l.starts_with("<rect") && l.contains(&format!("fill=\"{}\"", STUDY_COLOR.hex()))
        })
        .count()
}

fn diamonds(svg: &str) -> usize {
    svg.lines()
        .filter(|l| {
            l.starts_with("<polygon")
                && (l.contains(&format!("fill=\"{}\"", SUMMARY_COLOR.hex()))
                    || l.contains(&format!("fill=\"{}\"", SUBGROUP_COLOR.hex())))
        })
        .count()
}

fn assert_clean_geometry(fig: &Figure, what: &str) {
    let boxes = fig.text_boxes();
    for (t, b) in &boxes {
        assert!(
            b.x0 >= 0.0 && b.y0 >= 0.0 && b.x1 <= fig.width && b.y1 <= fig.height,
            "{what}: '{t}' leaves the {}×{} canvas: {b:?}",
            fig.width,
            fig.height
        );
    }
    for i in 0..boxes.len() {
        for j in i + 1..boxes.len() {
            assert!(
                !boxes[i].1.overlaps(&boxes[j].1),
                "{what}: '{}' {:?} overlaps '{}' {:?}",
                boxes[i].0,
                boxes[i].1,
                boxes[j].0,
                boxes[j].1
            );
        }
    }
}

#[test]
fn bcg_svg_structure_and_numbers() {
    let fit = bcg_fit();
    let svg = forest(&fit, &ForestOptions::default())
        .unwrap()
        .to_svg()
        .unwrap();
    assert_eq!(squares(&svg), 13);
    assert_eq!(diamonds(&svg), 1);
    assert!(svg.contains("Aronson 1948") && svg.contains("Comstock et al 1976"));
    // R: r <- rma(measure="OR", ai=ai, bi=bi, ci=ci, di=di, data=d, method="REML");
    //    predict(r, transf=exp): 0.4746499 [0.3296296, 0.6834719], pi [0.1435312, 1.5696419]
    assert!(svg.contains("0.47 [0.33, 0.68]"));
    assert!(svg.contains("[0.14, 1.57]"));
    // confint(r): I^2 92.0727 [81.7376, 97.5971]; r$QE = 163.1649; r$tau2 = 0.337772
    assert!(svg.contains("τ² = 0.34; I² = 92% [82%, 98%]; Q = 163.2, df = 12, p &lt; 0.001"));
    // weights(r)[1] = 4.980074; escalc(...)[1] OR 0.3911 [0.1212, 1.2619]
    assert!(svg.contains("0.39 [0.12, 1.26]"));
    assert!(svg.contains("5.0%"));
    // The fit's own numbers, formatted to the printed digits.
    let s = fit.effects.scale;
    let summary = format!(
        "{:.2} [{:.2}, {:.2}]",
        s.back(fit.estimate),
        s.back(fit.ci_lb),
        s.back(fit.ci_ub)
    );
    assert!(svg.contains(&summary), "{summary}");
    for w in &fit.weights {
        assert!(svg.contains(&format!("{w:.1}%")));
    }
}

#[test]
fn user_text_is_escaped() {
    let mut fit = bcg_fit();
    fit.effects.labels[0] = "<script>&\"x\"".into();
    let opts = ForestOptions {
        title: Some("A & B <i>".into()),
        columns: vec![TextColumn {
            header: vec!["<b>".into()],
            values: vec!["1 < 2".into(); 13],
        }],
        ..Default::default()
    };
    let svg = forest(&fit, &opts).unwrap().to_svg().unwrap();
    assert!(!svg.contains("<script>"));
    assert!(!svg.contains("<i>") && !svg.contains("<b>"));
    assert!(svg.contains("&lt;script&gt;&amp;&quot;x&quot;"));
    assert!(svg.contains("A &amp; B &lt;i&gt;"));
    assert!(svg.contains("1 &lt; 2"));
}

fn synthetic(k: usize, label_len: usize) -> RmaFit {
    let yi: Vec<f64> = (0..k)
        .map(|i| -0.5 + ((i * 37) % 23) as f64 / 15.0)
        .collect();
    let vi: Vec<f64> = (0..k)
        .map(|i| 0.02 + ((i * 11) % 7) as f64 / 20.0)
        .collect();
    let mut set = EffectSet::from_yi_vi(yi, vi, Measure::GEN, Scale::Log);
    let base = "Long study label with many words: Smith, Jones and colleagues ";
    for (i, l) in set.labels.iter_mut().enumerate() {
        let s = format!("{i:03} {base}{base}");
        *l = s.chars().take(label_len).collect();
    }
    rma(&set, &RmaOptions::default()).unwrap()
}

#[test]
fn nothing_overlaps_or_is_clipped() {
    for k in [1usize, 2, 13, 200] {
        for len in [8usize, 60] {
            let fit = synthetic(k, len);
            let cols = vec![
                TextColumn {
                    header: vec!["Treatment".into(), "Events/Total".into()],
                    values: (0..k)
                        .map(|i| format!("{}/{}", i * 7 % 300, 1000 + i))
                        .collect(),
                },
                TextColumn {
                    header: vec!["Year".into()],
                    values: (0..k).map(|i| format!("{}", 1950 + i % 70)).collect(),
                },
            ];
            let opts = ForestOptions {
                title: Some("A title that is rather long for a forest plot of many studies".into()),
                favours: Some(("Favours treatment".into(), "Favours control".into())),
                columns: cols,
                subgroup_test: Some(
                    "Test for subgroup differences: Q = 1.00, df = 1, p = 0.32".into(),
                ),
                ..Default::default()
            };
            let fig = forest(&fit, &opts).unwrap();
            assert_clean_geometry(&fig, &format!("k = {k}, labels of {len} chars"));
            let svg = fig.to_svg().unwrap();
            assert_eq!(squares(&svg), k, "k = {k}");
            // A single study is not pooled: no diamond.
            assert_eq!(diamonds(&svg), usize::from(k > 1), "k = {k}");
            // The canvas grows with k.
            assert!(fig.height > 20.0 * k as f64);
        }
    }
}

#[test]
fn narrow_xlim_gives_arrows_and_stays_clean() {
    let fit = bcg_fit();
    let opts = ForestOptions {
        xlim: Some((0.25, 2.0)),
        favours: Some(("Favours vaccine".into(), "Favours control".into())),
        ..Default::default()
    };
    let fig = forest(&fit, &opts).unwrap();
    assert_clean_geometry(&fig, "xlim");
    let arrows = fig
        .shapes
        .iter()
        .filter(|s| matches!(s, Shape::Polygon { points, .. } if points.len() == 3))
        .count();
    // Studies 1, 2, 3, 7, 10 run below 0.25 (and 2, 3, 7 lie partly outside); study 12 above 2.
    assert!(arrows >= 6, "{arrows} arrows");
    assert!(forest(
        &fit,
        &ForestOptions {
            xlim: Some((-1.0, 2.0)),
            ..Default::default()
        }
    )
    .is_err());
}

#[test]
fn subgroups_have_their_own_diamonds() {
    let fit = bcg_fit();
    let groups = subgroups(&fit, "alloc").unwrap();
    assert_eq!(
        groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        ["random", "alternate", "systematic"]
    );
    let random = groups[0].fit.clone();
    assert_eq!(random.k, 7);
    let opts = ForestOptions {
        subgroups: groups,
        subgroup_test: Some("Test for subgroup differences: (pending)".into()),
        ..Default::default()
    };
    let fig = forest(&fit, &opts).unwrap();
    assert_clean_geometry(&fig, "subgroups");
    let svg = fig.to_svg().unwrap();
    assert_eq!(squares(&svg), 13);
    assert_eq!(diamonds(&svg), 4);
    // R: predict(rma(measure="OR", ai=ai, bi=bi, ci=ci, di=di, data=d, subset=alloc=="random"),
    //    transf=exp): 0.3695821 [0.2122223, 0.6436221]
    assert!(svg.contains("0.37 [0.21, 0.64]"));
    assert!(subgroups(&fit, "nope")
        .unwrap_err()
        .to_string()
        .contains("alloc"));
}

#[test]
fn bcg_png_renders_at_the_requested_size() {
    let fit = bcg_fit();
    let fig = forest(&fit, &ForestOptions::default()).unwrap();
    let svg = fig.to_svg().unwrap();
    for dpi in [96.0, 192.0] {
        let png = evident::render::plot::render::svg_to_png(&svg, dpi).unwrap();
        let img = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
        let s = dpi / 96.0;
        assert_eq!(img.width(), (fig.width * s).ceil() as u32);
        assert_eq!(img.height(), (fig.height * s).ceil() as u32);
        let px = img.pixels();
        let dark = px.iter().filter(|p| p.red() < 128).count();
        let frac = dark as f64 / px.len() as f64;
        assert!(frac > 0.005 && frac < 0.5, "dark fraction {frac}");
        // Text is drawn: the label column's left strip has ink.
        let left_ink = (0..img.height())
            .flat_map(|y| (0..(100.0 * s) as u32).map(move |x| (x, y)))
            .filter(|&(x, y)| img.pixel(x, y).unwrap().red() < 128)
            .count();
        assert!(left_ink > 100, "labels missing: {left_ink}");
    }
    let pdf = evident::render::plot::render::svg_to_pdf(&svg).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("DejaVuSans"), "font not embedded");
}

/// `evident ARGS` with an empty fontconfig configuration in `dir`: no system font can be found.
fn evident_cli(args: &[&str], dir: &Path) -> Run {
    let empty = dir.join("fonts.conf");
    std::fs::write(
        &empty,
        "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig></fontconfig>\n",
    )
    .unwrap();
    Cli::new(args)
        .env("FONTCONFIG_FILE", &empty)
        .env("FONTCONFIG_PATH", dir)
        .env_remove("FONTCONFIG_SYSROOT")
        .run()
}

#[test]
fn cli_writes_svg_png_pdf_without_system_fonts() {
    let dir = tempfile::tempdir().unwrap();
    let input = bcg_path();
    for (ext, magic) in [
        ("svg", &b"<svg"[..]),
        ("png", &b"\x89PNG"[..]),
        ("pdf", &b"%PDF-"[..]),
    ] {
        let out = dir.path().join(format!("bcg.{ext}"));
        let o = evident_cli(
            &[
                "forest",
                input.to_str().unwrap(),
                "--measure",
                "OR",
                "--preset",
                "metafor",
                "--labels",
                "Favours vaccine,Favours control",
                "--title",
                "BCG",
                "--cols",
                "year",
                "--dpi",
                "100",
                "-o",
                out.to_str().unwrap(),
            ],
            dir.path(),
        );
        assert!(o.ok, "{}", o.stderr);
        let bytes = std::fs::read(&out).unwrap();
        assert!(bytes.starts_with(magic), "{ext}");
    }
    let svg = std::fs::read_to_string(dir.path().join("bcg.svg")).unwrap();
    assert!(svg.contains("0.47 [0.33, 0.68]"));
    // Subgroups and sorting by a column through the CLI.
    let sub = dir.path().join("sub.svg");
    let o = evident_cli(
        &[
            "forest",
            input.to_str().unwrap(),
            "--by",
            "alloc",
            "--sort",
            "year",
            "-o",
            sub.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.ok, "{}", o.stderr);
    let s = std::fs::read_to_string(&sub).unwrap();
    assert_eq!(diamonds(&s), 4);
    assert!(s.find("Aronson 1948").unwrap() < s.find("Ferguson &amp; Simes 1949").unwrap());
    assert!(s.contains("Subtotal (7 studies)"));
    assert!(svg.contains("1948") && svg.contains("4/123"));
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn cli_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let input = bcg_path();
    let run = |extra: &[&str]| {
        let mut a = vec!["forest", input.to_str().unwrap()];
        a.extend_from_slice(extra);
        let o = evident_cli(&a, dir.path());
        assert!(!o.ok);
        o.stderr
    };
    let out = dir.path().join("x.svg");
    let out = out.to_str().unwrap();
    // MH forests are drawn (tests/revman5.rs); their subgroups are not yet.
    assert!(run(&["--method", "MH", "--by", "alloc", "-o", out]).contains("Mantel–Haenszel"));
    assert!(run(&["-o", dir.path().join("x.gif").to_str().unwrap()]).contains(".svg, .png or .pdf"));
    assert!(run(&["--xlim", "0,2", "-o", out]).contains("positive"));
    assert!(run(&["--cols", "dose", "-o", out]).contains("ablat"));
    assert!(!dir.path().join("x.svg").exists());
}

#[test]
fn funnel_plots() {
    use evident::render::plot::funnel::{funnel, FunnelOptions};
    let fit = bcg_fit();
    for contours in [false, true] {
        let opts = FunnelOptions {
            title: Some("BCG <funnel>".into()),
            contours,
            filled: vec![(0.5, 0.1), (0.9, 0.3)],
            ..Default::default()
        };
        let fig = funnel(&fit, &opts).unwrap();
        assert_clean_geometry(&fig, "funnel");
        let circles = |filled: bool| {
            fig.shapes
                .iter()
                .filter(|s| matches!(s, Shape::Circle { filled: f, .. } if *f == filled))
                .count()
        };
        assert_eq!(circles(true), 13);
        // Two imputed studies and the legend's hollow circle.
        assert_eq!(circles(false), 3);
        let svg = fig.to_svg().unwrap();
        assert!(svg.contains("BCG &lt;funnel&gt;"));
        assert!(svg.contains("Standard error"));
        assert_eq!(svg.contains("0.01 &lt; p ≤ 0.05"), contours);
        evident::render::plot::render::svg_to_png(&svg, 96.0).unwrap();
    }
    let err = funnel(
        &fit,
        &FunnelOptions {
            xlim: Some((2.0, 1.0)),
            ..Default::default()
        },
    );
    assert!(err.is_err());
}

#[test]
fn cli_funnel() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.pdf");
    let o = evident_cli(
        &[
            "funnel",
            bcg_path().to_str().unwrap(),
            "--measure",
            "OR",
            "--contours",
            "-o",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.ok, "{}", o.stderr);
    assert!(std::fs::read(&out).unwrap().starts_with(b"%PDF-"));
}

#[test]
fn risk_of_bias_columns_and_sort_by_column() {
    use evident::data::Value;
    use evident::render::plot::forest::{rob_columns, RobLevel, SortOrder};
    let mut fit = bcg_fit();
    let levels = ["low", "Some concerns", "HIGH", "no information"];
    fit.effects.moderators.push(evident::data::Moderator {
        name: "rob_D1".into(),
        values: (0..13)
            .map(|i| {
                if i == 12 {
                    Value::Missing
                } else {
                    Value::Text(levels[i % 4].into())
                }
            })
            .collect(),
        numeric: false,
    });
    let rob = rob_columns(&fit).unwrap();
    assert_eq!(rob.len(), 1);
    assert_eq!(rob[0].header, "D1");
    assert_eq!(rob[0].values[1], Some(RobLevel::SomeConcerns));
    assert_eq!(rob[0].values[12], None);
    let opts = ForestOptions {
        rob,
        sort: SortOrder::Column("year".into()),
        ..Default::default()
    };
    let fig = forest(&fit, &opts).unwrap();
    assert_clean_geometry(&fig, "rob");
    let lights = fig
        .shapes
        .iter()
        .filter(|s| matches!(s, Shape::Circle { filled: true, .. }))
        .count();
    assert_eq!(lights, 12);
    // Sorted by year: Aronson 1948 first, TPT Madras 1980 last.
    let order: Vec<&str> = fig
        .labels()
        .map(|l| l.text.as_str())
        .filter(|t| fit.effects.labels.iter().any(|l| l == t))
        .collect();
    assert_eq!(order.first(), Some(&"Aronson 1948"));
    assert_eq!(order.last(), Some(&"TPT Madras 1980"));
    // A judgement that is not one is an error naming the study.
    fit.effects.moderators.last_mut().unwrap().values[0] = Value::Text("maybe".into());
    let e = rob_columns(&fit).unwrap_err().to_string();
    assert!(e.contains("Aronson 1948") && e.contains("maybe"), "{e}");
    assert!(forest(
        &fit,
        &ForestOptions {
            sort: SortOrder::Column("nope".into()),
            ..Default::default()
        }
    )
    .is_err());
}

/// The BCG forest plot's SVG is fixed: any change in layout shows up here. Regenerate with
/// `UPDATE_SNAPSHOTS=1 cargo test --test plot` after checking the new picture.
#[test]
fn bcg_forest_svg_snapshot() {
    let fit = bcg_fit();
    let opts = ForestOptions {
        title: Some("BCG vaccine and tuberculosis".into()),
        favours: Some(("Favours vaccine".into(), "Favours control".into())),
        ..Default::default()
    };
    let svg = forest(&fit, &opts).unwrap().to_svg().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/forest_bcg.svg");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &svg).unwrap();
    }
    let want =
        std::fs::read_to_string(&path).expect("snapshot missing: run with UPDATE_SNAPSHOTS=1");
    assert!(
        svg == want,
        "forest SVG changed; compare with {}",
        path.display()
    );
}

/// plotters' `ttf` feature finds fonts through fontconfig and fails on machines without fonts;
/// nothing may switch it back on.
#[test]
fn no_system_font_lookup_in_the_build() {
    let lock =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock")).unwrap();
    for banned in ["font-kit", "yeslogic-fontconfig-sys", "servo-fontconfig"] {
        assert!(
            !lock.contains(&format!("name = \"{banned}\"")),
            "{banned} is in the build"
        );
    }
}

/// The text boxes the layout computes contain the ink resvg actually draws: the measurement
/// with the bundled font is the rendering.
#[test]
fn measured_boxes_contain_rendered_text() {
    use resvg::usvg::Node;
    fn texts(g: &resvg::usvg::Group, out: &mut Vec<resvg::usvg::Rect>) {
        for n in g.children() {
            match n {
                Node::Group(g) => texts(g, out),
                Node::Text(_) => out.push(n.abs_bounding_box()),
                _ => {}
            }
        }
    }
    let fit = bcg_fit();
    let mut fit_long = fit.clone();
    fit_long.effects.labels[3] = "Wj WAVE Tŷ ffi — a label with kerning pairs: AV To Ye".into();
    let opts = ForestOptions {
        title: Some("BCG".into()),
        favours: Some(("Favours vaccine".into(), "Favours control".into())),
        ..Default::default()
    };
    let fig = forest(&fit_long, &opts).unwrap();
    let tree = evident::render::plot::render::parse(&fig.to_svg().unwrap()).unwrap();
    let mut ink = Vec::new();
    texts(tree.root(), &mut ink);
    let labels: Vec<_> = fig.labels().collect();
    assert_eq!(ink.len(), labels.len());
    for (l, r) in labels.iter().zip(&ink) {
        let b = l.bbox();
        let tol = 1.0;
        assert!(
            r.left() as f64 >= b.x0 - tol
                && r.right() as f64 <= b.x1 + tol
                && r.top() as f64 >= b.y0 - tol
                && r.bottom() as f64 <= b.y1 + tol,
            "'{}': drawn {r:?} outside measured {b:?}",
            l.text
        );
        // And the measured width is not far wider than the ink (no gross overestimate).
        assert!(
            (b.x1 - b.x0) - (r.width() as f64) < 0.2 * l.size + 2.0,
            "'{}': measured {:?} vs drawn {r:?}",
            l.text,
            b
        );
    }
}

#[test]
fn favours_labels_stay_on_the_canvas_when_no_effect_is_at_the_edge() {
    // Mean differences all above zero, short labels: the null line sits at the axis's left end.
    let mut set = EffectSet::from_yi_vi(
        vec![1.0, 1.4, 2.2],
        vec![0.01, 0.02, 0.015],
        Measure::GEN,
        Scale::Identity,
    );
    set.labels = vec!["A".into(), "B".into(), "C".into()];
    let fit = rma(&set, &RmaOptions::default()).unwrap();
    for xlim in [None, Some((0.0, 3.0)), Some((0.5, 3.0)), Some((-3.0, 0.0))] {
        let opts = ForestOptions {
            xlim,
            favours: Some((
                "Favours the experimental intervention".into(),
                "Favours control".into(),
            )),
            ..Default::default()
        };
        assert_clean_geometry(&forest(&fit, &opts).unwrap(), &format!("{xlim:?}"));
    }
}

/// The plot prints what `evident pool --json` reports, to the printed digits.
#[test]
fn cli_plot_numbers_match_pool_json() {
    let dir = tempfile::tempdir().unwrap();
    let input = bcg_path();
    let input = input.to_str().unwrap();
    let out = dir.path().join("f.svg");
    for args in [
        vec!["--measure", "OR"],
        vec!["--measure", "RR", "--method", "DL", "--test", "z"],
    ] {
        let mut pool = vec!["pool", input, "--json"];
        pool.extend_from_slice(&args);
        let o = evident_cli(&pool, dir.path());
        assert!(o.ok);
        let j: serde_json::Value = serde_json::from_slice(&o.stdout_bytes).unwrap();
        let f = |k: &str| j[k].as_f64().unwrap();
        let mut plot = vec![
            "forest",
            input,
            "-o",
            out.to_str().unwrap(),
            "--digits",
            "3",
        ];
        plot.extend_from_slice(&args);
        let o = evident_cli(&plot, dir.path());
        assert!(o.ok, "{}", o.stderr);
        let svg = std::fs::read_to_string(&out).unwrap();
        let want = [
            format!(
                "{:.3} [{:.3}, {:.3}]",
                f("estimate_exp"),
                f("ci_lb_exp"),
                f("ci_ub_exp")
            ),
            format!("[{:.3}, {:.3}]", f("pi_lb_exp"), f("pi_ub_exp")),
            format!("τ² = {:.2}; I² = {:.0}%", f("tau2"), f("I2")),
            format!("[{:.0}%, {:.0}%]", f("I2_ci_lb"), f("I2_ci_ub")),
            format!("Q = {:.1}, df = {}", f("Q"), j["Q_df"]),
        ];
        for w in want {
            assert!(svg.contains(&w), "{args:?}: '{w}' not in the plot");
        }
    }
}
