//! More plots: forest with the test for subgroup differences, funnel with trim-and-fill, bubble,
//! leave-one-out/cumulative forest, Baujat and GOSH: structure, numbers and text geometry.

mod common;

use common::cli::evident;
use evident::data::{read_studies, ColumnMap, CsvOptions};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::rma;
use evident::model::Method;
use evident::model::RmaFit;
use evident::model::RmaOptions;
use evident::moderators::subgroup;
use evident::moderators::subgroup::subgroups_from;
use evident::render::plot::figure::Figure;
use evident::render::plot::forest::{forest, subgroup_test_text, ForestOptions};
use evident::Measure;
use std::path::{Path, PathBuf};

fn bcg_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/cases/bcg_or/input.csv")
}

fn bcg_set() -> EffectSet {
    let studies = read_studies(&bcg_path(), &CsvOptions::default(), &ColumnMap::new()).unwrap();
    EffectSet::from_studies(&studies, Measure::OR, &EscalcOptions::default()).unwrap()
}

fn bcg_fit() -> RmaFit {
    let o = RmaOptions {
        method: Method::REML,
        ..Default::default()
    };
    rma(&bcg_set(), &o).unwrap()
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

/// A path in a fresh temporary directory, removed when the returned guard drops.
fn tmp(name: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(name);
    (d, p)
}

#[test]
fn forest_by_group_prints_the_subgroup_test_of_the_subgroup_module() {
    let fit = bcg_fit();
    let sg = subgroup(&fit.effects, "alloc", &fit.options).unwrap();
    let groups = subgroups_from(&fit, &sg).unwrap();
    // The diamonds are the subgroup module's fits, in its (factor) order.
    assert_eq!(groups.len(), 3);
    for (g, s) in groups.iter().zip(&sg.groups) {
        assert_eq!(g.name, s.level);
        assert_eq!(g.fit.estimate, s.fit.estimate);
        assert_eq!(g.members, s.members);
    }
    let text = subgroup_test_text(&sg);
    let opts = ForestOptions {
        subgroups: groups,
        subgroup_test: Some(text.clone()),
        ..Default::default()
    };
    let fig = forest(&fit, &opts).unwrap();
    assert_clean_geometry(&fig, "subgroup test");
    let svg = fig.to_svg().unwrap();
    // The module's numbers, to the printed digits.
    let qb = format!(
        "Q = {:.2}, df = {}, p = {:.2}",
        sg.q_between.q, sg.q_between.df, sg.q_between.pval
    );
    let qm = format!(
        "QM = {:.2}, df = {}, p = {:.2}",
        sg.mixed.qm.stat, sg.mixed.qm.df, sg.mixed.qm.pval
    );
    assert!(svg.contains(&qb), "{qb}");
    assert!(svg.contains(&qm), "{qm}");
    // R: fs <- lapply(c("alternate","random","systematic"), function(a) rma(measure="OR", ai=ai,
    //    bi=bi, ci=ci, di=di, data=d, subset=alloc==a));
    //    rma(sapply(fs, coef), sei=sapply(fs, function(f) f$se), method="FE"): QE 1.64024, p 0.4403789
    assert!(
        svg.contains("Test for subgroup differences (separate fits): Q = 1.64, df = 2, p = 0.44")
    );
    // R: rma(measure="OR", ai=ai, bi=bi, ci=ci, di=di, data=d, mods=~factor(alloc)):
    //    QM 1.64629, QMp 0.4390487
    assert!(svg.contains("(mixed-effects model, common τ²): QM = 1.65, df = 2, p = 0.44"));
}

#[test]
fn cli_forest_by_prints_the_test() {
    let (_dir, out) = tmp("forest_by.svg");
    let o = evident([
        "forest",
        bcg_path().to_str().unwrap(),
        "--measure",
        "OR",
        "--preset",
        "metafor",
        "--by",
        "alloc",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.ok, "{}", o.stderr);
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.contains("Q = 1.64, df = 2, p = 0.44"));
    assert!(svg.contains("QM = 1.65, df = 2, p = 0.44"));
}

#[test]
fn funnel_with_trimfill_draws_one_hollow_point_per_filled_study() {
    use evident::bias::{trimfill, Estimator};
    use evident::render::plot::figure::Shape;
    use evident::render::plot::funnel::{funnel, FunnelOptions};
    let yi = vec![0.05, 0.12, 0.2, 0.31, 0.42, 0.55, 0.7, 0.85, 1.0, 1.2];
    let vi = vec![0.005, 0.01, 0.015, 0.02, 0.04, 0.06, 0.09, 0.12, 0.16, 0.2];
    let (_dir, csv) = tmp("asym.csv");
    let mut body = String::from("study,yi,vi\n");
    for (i, (y, v)) in yi.iter().zip(&vi).enumerate() {
        body.push_str(&format!("S{i},{y},{v}\n"));
    }
    std::fs::write(&csv, body).unwrap();
    let set = EffectSet::from_yi_vi(yi, vi, Measure::GEN, evident::Scale::Identity);
    let o = RmaOptions {
        method: Method::REML,
        ..Default::default()
    };
    let fit = rma(&set, &o).unwrap();
    let t = trimfill(&fit.effects, &fit.options, Estimator::L0, None).unwrap();
    // R: trimfill(rma(yi, vi)) with the yi, vi above: k0 = 5 (left), estimate 0.1818083
    assert_eq!(t.k0, 5);
    assert!((t.fit.estimate - 0.1818083).abs() < 1e-6);
    let opts = FunnelOptions {
        filled: t
            .filled_yi
            .iter()
            .copied()
            .zip(t.filled_vi.iter().copied())
            .collect(),
        adjusted: Some(t.fit.estimate),
        ..Default::default()
    };
    let fig = funnel(&fit, &opts).unwrap();
    assert_clean_geometry(&fig, "trimfill funnel");
    let hollow = fig
        .shapes
        .iter()
        .filter(|s| matches!(s, Shape::Circle { filled: false, .. }))
        .count();
    // One per imputed study, plus the legend's.
    assert_eq!(hollow, t.k0 + 1);
    // The pseudo confidence region's apex sits on the adjusted estimate's line, as in metafor's
    // funnel(trimfill(...)): the filled funnel is symmetric about the adjusted estimate.
    let adjusted_x = fig
        .shapes
        .iter()
        .find_map(|s| match s {
            Shape::Line { points, color, .. }
                if *color == evident::render::plot::funnel::ADJUSTED_COLOR =>
            {
                Some(points[0].0)
            }
            _ => None,
        })
        .expect("the adjusted estimate's line");
    let apex_x = fig
        .shapes
        .iter()
        .find_map(|s| match s {
            Shape::Polygon {
                points,
                fill: Some(_),
                ..
            } => Some(points[0].0),
            _ => None,
        })
        .expect("the pseudo confidence region");
    assert!(
        (apex_x - adjusted_x).abs() < 1e-9,
        "{apex_x} vs {adjusted_x}"
    );
    let svg = fig.to_svg().unwrap();
    let lab = "Adjusted estimate: 0.18";
    assert!(svg.contains(lab), "{lab}");
    let (_dir, out) = tmp("tf.svg");
    let o = evident([
        "funnel",
        csv.to_str().unwrap(),
        "--preset",
        "metafor",
        "--trimfill",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.ok, "{}", o.stderr);
    assert!(std::fs::read_to_string(&out).unwrap().contains(lab));
    let (_dir, out) = tmp("tf2.svg");
    let o = evident([
        "trimfill",
        csv.to_str().unwrap(),
        "--preset",
        "metafor",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.ok, "{}", o.stderr);
    assert!(std::fs::read_to_string(&out).unwrap().contains(lab));
}

fn bcg_rr_set() -> EffectSet {
    let studies = read_studies(&bcg_path(), &CsvOptions::default(), &ColumnMap::new()).unwrap();
    EffectSet::from_studies(&studies, Measure::RR, &EscalcOptions::default()).unwrap()
}

#[test]
fn bubble_plot_has_one_bubble_per_study_and_the_model_line() {
    use evident::moderators::metareg;
    use evident::render::plot::bubble::{bubble, BubbleOptions, BUBBLE_COLOR};
    use evident::render::plot::figure::Shape;
    let fit = metareg(&bcg_rr_set(), "ablat", &RmaOptions::default()).unwrap();
    let fig = bubble(
        &fit,
        "ablat",
        &BubbleOptions {
            title: Some("Latitude & <BCG>".into()),
            ..BubbleOptions::default()
        },
    )
    .unwrap();
    assert_clean_geometry(&fig, "bubble");
    let bubbles = fig
        .shapes
        .iter()
        .filter(
            |s| matches!(s, Shape::Circle { filled: true, color, .. } if *color == BUBBLE_COLOR),
        )
        .count();
    assert_eq!(bubbles, 13);
    // The band and line come from the model's predictions: R: r <- rma(measure="RR", ai=ai,
    // bi=bi, ci=ci, di=di, data=d, mods=~ablat); predict(r, newmods=c(10, 60)):
    // pred -0.03955231491 / -1.49463536131, ci.lb -0.40530685889 / -1.95013650110,
    // ci.ub 0.32620222908 / -1.03913422151
    let p10 = fit.predict_at(&[10.0]).unwrap();
    let p60 = fit.predict_at(&[60.0]).unwrap();
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-7, "{a} vs {b}");
    close(p10.pred, -0.03955231491);
    close(p60.pred, -1.49463536131);
    close(p10.ci_lb, -0.40530685889);
    close(p60.ci_ub, -1.03913422151);
    let svg = fig.to_svg().unwrap();
    // coef(summary(r))["ablat",]: -0.02910166 [-0.04320469, -0.01499863], p 5.2e-05
    assert!(svg.contains("Slope = −0.029 [−0.043, −0.015], p &lt; 0.001 (analysis scale)"));
    assert!(svg.contains("Latitude &amp; &lt;BCG&gt;") && !svg.contains("<BCG>"));
    assert!(svg.contains("Risk ratio (log scale)"));
    // A moderator not in the model is refused with the reason (several moderators: tests/bubble.rs).
    let e = bubble(&fit, "year", &BubbleOptions::default()).unwrap_err();
    assert!(e.to_string().contains("'year' is not one"), "{e}");
    for ext in ["svg", "png", "pdf"] {
        let (_dir, out) = tmp(&format!("bubble.{ext}"));
        let o = evident([
            "bubble",
            bcg_path().to_str().unwrap(),
            "--measure",
            "RR",
            "--mods",
            "ablat",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.ok, "{}", o.stderr);
        assert!(std::fs::metadata(&out).unwrap().len() > 1000);
    }
}

#[test]
fn leave1out_and_cumulative_plots_have_one_point_per_refit() {
    use evident::render::plot::figure::Shape;
    use evident::render::plot::refits::{refit_forest, RefitKind, RefitPlotOptions, POINT_COLOR};
    use evident::sensitivity::{cumul, cumul_order, leave1out};
    let mut fit = bcg_fit();
    fit.effects.labels[0] = "<b>Aronson & co</b>".into();
    let l1o = leave1out(&fit.effects, &fit.options).unwrap();
    let order = cumul_order(&fit.effects, "year", false).unwrap();
    let cum = cumul(&fit.effects, &fit.options, &order).unwrap();
    for (series, kind) in [
        (&l1o, RefitKind::LeaveOneOut),
        (&cum, RefitKind::Cumulative),
    ] {
        let opts = RefitPlotOptions {
            kind,
            title: Some("Sensitivity <1>".into()),
            decimals: 2,
        };
        let fig = refit_forest(series, &fit, &opts).unwrap();
        assert_clean_geometry(&fig, &format!("{kind:?}"));
        let points = fig
            .shapes
            .iter()
            .filter(|s| matches!(s, Shape::Circle { color, .. } if *color == POINT_COLOR))
            .count();
        assert_eq!(points, 13);
        // No weight squares: only the overall diamond is a filled polygon wider than an arrow.
        assert!(!fig.shapes.iter().any(|s| matches!(s, Shape::Rect { .. })));
        let svg = fig.to_svg().unwrap();
        assert!(svg.contains("&lt;b&gt;Aronson &amp; co&lt;/b&gt;") && !svg.contains("<b>"));
        assert!(svg.contains("Sensitivity &lt;1&gt;"));
        for r in series.fits.iter().flatten() {
            let t = format!(
                "{:.2} [{:.2}, {:.2}]",
                r.estimate.exp(),
                r.ci_lb.exp(),
                r.ci_ub.exp()
            );
            assert!(svg.contains(&t), "{t}");
        }
    }
    // R: l <- leave1out(rma(measure="OR", ai=ai, bi=bi, ci=ci, di=di, data=d), transf=exp):
    //    row 1 (without Aronson 1948): estimate 0.4786564 [0.3257785, 0.7032753]; tau2 0.3616351,
    //    I2 93.07946
    let svg = refit_forest(
        &l1o,
        &fit,
        &RefitPlotOptions {
            kind: RefitKind::LeaveOneOut,
            title: None,
            decimals: 2,
        },
    )
    .unwrap()
    .to_svg()
    .unwrap();
    assert!(svg.contains("0.48 [0.33, 0.70]") && svg.contains("0.36") && svg.contains("93%"));
    for cmd in ["leave1out", "cumul"] {
        let (_dir, out) = tmp(&format!("{cmd}.png"));
        let o = evident([
            cmd,
            bcg_path().to_str().unwrap(),
            "--measure",
            "OR",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.ok, "{}", o.stderr);
        assert!(std::fs::metadata(&out).unwrap().len() > 1000);
    }
}

#[test]
fn baujat_and_gosh_plots() {
    use evident::render::plot::figure::Shape;
    use evident::render::plot::scatter::{baujat_plot, gosh_plot, GOSH_DOTS, POINT_COLOR};
    use evident::sensitivity::{baujat, gosh};
    let mut fit = bcg_fit();
    fit.effects.labels[0] = "<x>".into();
    let b = baujat(&fit.effects, &fit.options).unwrap();
    let fig = baujat_plot(&b, Some("Baujat & <co>")).unwrap();
    assert_clean_geometry(&fig, "baujat");
    let points = |fig: &Figure| {
        fig.shapes
            .iter()
            .filter(|s| matches!(s, Shape::Circle { color, .. } if *color == POINT_COLOR))
            .count()
    };
    assert_eq!(points(&fig), 13);
    assert!(fig.to_svg().unwrap().contains("Baujat &amp; &lt;co&gt;"));

    // 2^13 - 1 = 8191 subsets: a density raster, not 8191 elements.
    let g = gosh(&fit.effects, &fit.options, 1 << 20, 1).unwrap();
    assert_eq!(g.len(), 8191);
    assert!(g.len() > GOSH_DOTS);
    let fig = gosh_plot(&g, fit.effects.measure, fit.effects.scale, None).unwrap();
    assert_clean_geometry(&fig, "gosh");
    assert_eq!(points(&fig), 0);
    let svg = fig.to_svg().unwrap();
    assert!(svg.len() < 600_000, "GOSH SVG is {} bytes", svg.len());
    assert!(svg.contains("8191 subsets"));
    // A small sample is drawn as dots, one per subset.
    let g = gosh(&fit.effects, &fit.options, 500, 7).unwrap();
    let fig = gosh_plot(&g, fit.effects.measure, fit.effects.scale, None).unwrap();
    let finite = (0..g.len())
        .filter(|&r| g.estimate[r].is_finite() && g.i2[r].is_finite())
        .count();
    assert!(finite + 5 >= g.len());
    assert_eq!(points(&fig), finite);

    let (_dir, out) = tmp("baujat.svg");
    let o = evident([
        "sensitivity",
        bcg_path().to_str().unwrap(),
        "--measure",
        "OR",
        "--baujat",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.ok, "{}", o.stderr);
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("Influence on the overall estimate"));
    let (_dir, out) = tmp("gosh.png");
    let o = evident([
        "gosh",
        bcg_path().to_str().unwrap(),
        "--measure",
        "OR",
        "--max-subsets",
        "300",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.ok, "{}", o.stderr);
    assert!(std::fs::metadata(&out).unwrap().len() > 1000);
}

/// `funnel --3psm --pet-peese` marks both adjusted estimates, each a vertical line at the
/// library's estimate (the 3PSM is `selmodel --type stepfun --steps 0.025`, checked against
/// metafor in the corpus) with a marker and a legend entry; trim-and-fill's line then says which
/// it is.
#[test]
fn funnel_marks_the_selection_model_and_pet_peese_estimates() {
    use evident::render::plot::figure::Shape;
    use evident::render::plot::funnel::{funnel, AdjustedLine, FunnelOptions};
    let fit = bcg_fit();
    let s = evident::bias::three_psm(&fit.effects, &fit.options).unwrap();
    let selm = evident::bias::selmodel(
        &rma(
            &fit.effects,
            &RmaOptions {
                method: Method::ML,
                ..RmaOptions::default()
            },
        )
        .unwrap(),
        &evident::bias::SelOptions {
            sel_type: evident::bias::SelType::Stepfun,
            steps: vec![0.025],
            alternative: evident::bias::Alternative::Less,
        },
    )
    .unwrap();
    // bcg's pooled log odds ratio is negative: selection favours negative effects.
    assert_eq!(s.estimate, selm.estimate);
    let pp = evident::bias::pet_peese(&fit.effects, &fit.options, 0.10).unwrap();
    let opts = FunnelOptions {
        lines: vec![
            AdjustedLine {
                label: "3PSM".into(),
                estimate: s.estimate,
            },
            AdjustedLine {
                label: "PET-PEESE (PET)".into(),
                estimate: pp.estimate,
            },
        ],
        ..FunnelOptions::default()
    };
    let fig = funnel(&fit, &opts).unwrap();
    let vertical: Vec<f64> = fig
        .shapes
        .iter()
        .filter_map(|sh| match sh {
            Shape::Line {
                points,
                dash: Some(_),
                ..
            } if points.len() == 2 && points[0].0 == points[1].0 => Some(points[0].0),
            _ => None,
        })
        .collect();
    assert_eq!(vertical.len(), 2, "{vertical:?}");
    assert!(vertical[0] < vertical[1], "3PSM left of PET: {vertical:?}");
    let svg = fig.to_svg().unwrap();
    let back = |x: f64| format!("{:.2}", x.exp());
    for lab in [
        format!("3PSM estimate: {}", back(s.estimate)),
        format!("PET-PEESE (PET) estimate: {}", back(pp.estimate)),
    ] {
        assert!(svg.contains(&lab), "{lab}");
    }
    let (_dir, out) = tmp("adj.svg");
    let bcg = bcg_path();
    let o = evident([
        "funnel",
        bcg.to_str().unwrap(),
        "--measure",
        "OR",
        "--preset",
        "metafor",
        "--trimfill",
        "--3psm",
        "--pet-peese",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.ok, "{}", o.stderr);
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.contains("Trim-and-fill estimate: "), "{svg}");
    assert!(svg.contains(&format!("3PSM estimate: {}", back(s.estimate))));
}
