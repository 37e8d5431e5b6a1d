//! Plot axes: ticks that follow the data on back-transformed scales, end ticks at user limits,
//! arrows and clipping at the limits, favours labels on their sides of no effect, and the
//! measure's name on the axis.

use evident::data::{read_studies, ColumnMap, CsvOptions};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::{rma, Method, RmaFit, RmaOptions};
use evident::render::plot::figure::{Anchor, Color, Figure, Shape};
use evident::render::plot::forest::{forest, ForestOptions, SUMMARY_COLOR};
use evident::render::plot::funnel::{funnel, FunnelOptions, POINT_COLOR};
use evident::{Measure, Scale};
use std::path::Path;

fn fit_of(set: &EffectSet) -> RmaFit {
    rma(
        set,
        &RmaOptions {
            method: Method::REML,
            ..Default::default()
        },
    )
    .unwrap()
}

fn read(rel: &str, measure: Measure) -> EffectSet {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let studies = read_studies(&path, &CsvOptions::default(), &ColumnMap::new()).unwrap();
    EffectSet::from_studies(&studies, measure, &EscalcOptions::default()).unwrap()
}

/// The x of the tick label `text` (centred under its tick) on the axis.
fn tick_x(fig: &Figure, text: &str) -> f64 {
    fig.labels()
        .find(|l| l.text == text && l.anchor == Anchor::Middle)
        .unwrap_or_else(|| panic!("no tick '{text}'"))
        .x
}

fn label_box(fig: &Figure, start: &str) -> evident::render::plot::figure::BoxPx {
    fig.labels()
        .find(|l| l.text.starts_with(start))
        .unwrap_or_else(|| panic!("no label '{start}'"))
        .bbox()
}

fn texts(fig: &Figure) -> Vec<String> {
    fig.labels().map(|l| l.text.clone()).collect()
}

// The README's lupus command: two reported ORs above 1. "← Favours monotherapy" was drawn right
// of OR 1 and the axis said "Ratio".
#[test]
fn lupus_favours_labels_sit_on_their_sides_and_the_axis_names_the_odds_ratio() {
    let set = read("data/lupus_tacrolimus_addon.csv", Measure::GEN);
    let fit = fit_of(&set);
    let opts = ForestOptions {
        favours: Some((
            "Favours monotherapy".into(),
            "Favours tacrolimus add-on".into(),
        )),
        ..Default::default()
    };
    let fig = forest(&fit, &opts).unwrap();
    let one = tick_x(&fig, "1");
    let a = label_box(&fig, "← Favours monotherapy");
    let b = label_box(&fig, "Favours tacrolimus add-on");
    assert!(
        a.x1 < one,
        "left label ends at {} right of OR 1 at {one}",
        a.x1
    );
    assert!(
        b.x0 > one,
        "right label starts at {} left of OR 1 at {one}",
        b.x0
    );
    let t = texts(&fig);
    assert!(t.iter().any(|s| s == "Odds ratio (log scale)"), "{t:?}");
    assert!(t.iter().any(|s| s == "OR [95% CI]"), "{t:?}");
    assert!(!t.iter().any(|s| s.starts_with("Ratio")), "{t:?}");
}

/// 160 correlations, one of them at z = 3.4 (r = 0.998).
fn correlations() -> EffectSet {
    let yi: Vec<f64> = (0..160)
        .map(|i| {
            if i == 5 {
                3.4
            } else {
                0.3 + 0.9 * ((i as f64) * 0.7).sin()
            }
        })
        .collect();
    let vi: Vec<f64> = (0..160)
        .map(|i| 1.0 / (20.0 + (i % 40) as f64 * 4.0))
        .collect();
    let mut set = EffectSet::from_yi_vi(yi, vi, Measure::ZCOR, Scale::FisherZ);
    set.labels = (1..=160).map(|i| format!("S{i}")).collect();
    set
}

// The axis used to reach z = 3.4 with ticks at −0.5, 0 and 0.5 only.
#[test]
fn correlation_axes_tick_out_to_the_data() {
    let fit = fit_of(&correlations());
    let forest_fig = forest(&fit, &ForestOptions::default()).unwrap();
    let funnel_fig = funnel(&fit, &FunnelOptions::default()).unwrap();
    for fig in [&forest_fig, &funnel_fig] {
        let t = texts(fig);
        for want in ["0.9", "0.99", "0.999", "0"] {
            assert!(t.iter().any(|s| s == want), "no tick {want}: {t:?}");
        }
        // The tick at 0.999 (z = 3.8) lies beyond the largest effect.
        assert!(tick_x(fig, "0.999") > tick_x(fig, "0.99"));
    }
}

// `--xlim 0.3,1.5` labels both ends; the pooled diamond, cut by the upper limit, keeps its
// slopes and stops at the edge instead of being squashed into the panel.
#[test]
fn user_limits_have_end_ticks_and_the_cut_diamond_is_clipped() {
    let set = read("tests/conformance/cases/bcg_or/input.csv", Measure::RR);
    let fit = fit_of(&set);
    let (lo, hi) = (0.3, 0.6);
    let fig = forest(
        &fit,
        &ForestOptions {
            xlim: Some((lo, hi)),
            ..Default::default()
        },
    )
    .unwrap();
    let (x_lo, x_hi) = (tick_x(&fig, "0.3"), tick_x(&fig, "0.6"));
    let pooled_ub = fit.ci_ub;
    assert!(pooled_ub.exp() > hi, "the test needs a cut diamond");
    let diamond = fig
        .shapes
        .iter()
        .find_map(|s| match s {
            Shape::Polygon {
                points,
                fill: Some(c),
                ..
            } if *c == SUMMARY_COLOR => Some(points.clone()),
            _ => None,
        })
        .expect("a diamond");
    let right = diamond.iter().map(|p| p.0).fold(f64::MIN, f64::max);
    assert!((right - x_hi).abs() < 1e-9, "{diamond:?} vs edge {x_hi}");
    assert!(diamond.iter().all(|p| p.0 >= x_lo - 1e-9));
    // Cut where the diamond is still thick: two vertices on the edge, above and below the row.
    let on_edge: Vec<_> = diamond
        .iter()
        .filter(|p| (p.0 - x_hi).abs() < 1e-9)
        .collect();
    assert_eq!(on_edge.len(), 2, "{diamond:?}");
    assert!((on_edge[0].1 - on_edge[1].1).abs() > 1.0, "{diamond:?}");
}

// A funnel point beyond user limits is an arrow at the edge, at its standard error.
#[test]
fn funnel_points_beyond_user_limits_get_arrows() {
    let fit = fit_of(&correlations());
    let fig = funnel(
        &fit,
        &FunnelOptions {
            xlim: Some((-0.5, 0.9)),
            ..Default::default()
        },
    )
    .unwrap();
    let beyond = fit
        .effects
        .yi
        .iter()
        .filter(|&&y| y.tanh() < -0.5 || y.tanh() > 0.9)
        .count();
    assert!(beyond > 0);
    let arrows = fig
        .shapes
        .iter()
        .filter(|s| matches!(s, Shape::Polygon { points, fill: Some(c), .. } if *c == POINT_COLOR && points.len() == 3))
        .count();
    assert_eq!(arrows, beyond);
    let circles = fig
        .shapes
        .iter()
        .filter(|s| matches!(s, Shape::Circle { .. }))
        .count();
    assert_eq!(circles + arrows, fit.k);
}

// The point at the largest SE sits above the axis line, not on it.
#[test]
fn funnel_bottom_point_clears_the_axis() {
    let yi = vec![0.1, 0.3, -0.2, 0.5];
    let vi = vec![0.04, 0.01, 0.0225, 0.16];
    let fit = fit_of(&EffectSet::from_yi_vi(
        yi,
        vi,
        Measure::GEN,
        Scale::Identity,
    ));
    let fig = funnel(&fit, &FunnelOptions::default()).unwrap();
    let lowest = fig
        .shapes
        .iter()
        .filter_map(|s| match s {
            Shape::Circle { y, r, .. } => Some(y + r),
            _ => None,
        })
        .fold(f64::MIN, f64::max);
    let axis_y = tick_x_axis_y(&fig);
    assert!(
        lowest < axis_y,
        "point bottom {lowest} reaches the axis at {axis_y}"
    );
}

/// The y of the x axis line: the longest horizontal line of the figure.
fn tick_x_axis_y(fig: &Figure) -> f64 {
    fig.shapes
        .iter()
        .filter_map(|s| match s {
            Shape::Line { points, .. } if points.len() == 2 && points[0].1 == points[1].1 => {
                Some(((points[1].0 - points[0].0).abs(), points[0].1))
            }
            _ => None,
        })
        .fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a })
        .1
}

// An emoji DejaVu Sans lacks is drawn from the bundled Noto Emoji: the PNG differs from one of a
// private-use character that no bundled font has (both would be DejaVu's .notdef box without
// the fallback).
#[test]
fn emoji_fall_back_to_the_second_bundled_font() {
    use evident::render::plot::render::svg_to_png;
    let png = |text: &str| {
        let mut fig = Figure::default();
        fig.text(10.0, 20.0, text, 24.0, false, Anchor::Start, Color::BLACK);
        fig.width = 80.0;
        fig.height = 40.0;
        svg_to_png(&fig.to_svg().unwrap(), 96.0).unwrap()
    };
    let (emoji, missing, other) = (png("🧪"), png("\u{E000}"), png("\u{E001}"));
    assert_eq!(missing, other, "two missing characters draw the same box");
    assert_ne!(
        emoji, missing,
        "the emoji was drawn as the missing-glyph box"
    );
}

// GOSH `--highlight`: the subsets holding the study are red (2^(k-1) of the 2^k - 1), the others
// blue; density cells overlap their neighbours by half a pixel so that no seam shows.
#[test]
fn gosh_highlights_the_subsets_holding_a_study() {
    use evident::render::plot::scatter::{gosh_plot_highlight, HIGHLIGHT_COLOR};
    let yi = vec![0.1, 0.3, -0.2, 0.5, 0.9, 0.0, 0.2, 0.4];
    let vi = vec![0.04, 0.01, 0.0225, 0.16, 0.05, 0.03, 0.02, 0.06];
    let set = EffectSet::from_yi_vi(yi, vi, Measure::GEN, Scale::Identity);
    let g = evident::sensitivity::gosh::gosh(&set, &RmaOptions::default(), 1000, 1).unwrap();
    let fig = gosh_plot_highlight(&g, Measure::GEN, Scale::Identity, None, Some((4, "E"))).unwrap();
    let red = fig
        .shapes
        .iter()
        .filter(|s| matches!(s, Shape::Circle { color, .. } if *color == HIGHLIGHT_COLOR))
        .count();
    let fitted = (0..g.len())
        .filter(|&r| g.estimate[r].is_finite() && g.includes(r, 4))
        .count();
    assert_eq!(red, fitted);
    assert_eq!(g.len(), 255);
    assert!(fitted > 100);
    assert!(gosh_plot_highlight(&g, Measure::GEN, Scale::Identity, None, Some((8, "?"))).is_err());
}

// Baujat labels touch neither each other nor any point.
#[test]
fn baujat_labels_do_not_collide() {
    let fit = fit_of(&correlations());
    let opts = RmaOptions {
        method: Method::REML,
        ..Default::default()
    };
    let b = evident::sensitivity::baujat(&fit.effects, &opts).unwrap();
    let fig = evident::render::plot::scatter::baujat_plot(&b, None).unwrap();
    let labels: Vec<_> = fig
        .labels()
        .filter(|l| {
            l.text
                .parse::<usize>()
                .is_ok_and(|n| (1..=160).contains(&n))
        })
        .map(|l| l.bbox())
        .collect();
    assert!(labels.len() > 10);
    for (i, a) in labels.iter().enumerate() {
        for c in &labels[i + 1..] {
            assert!(!a.overlaps(c), "{a:?} {c:?}");
        }
    }
    for s in &fig.shapes {
        if let Shape::Circle { x, y, r, .. } = s {
            let dot = evident::render::plot::figure::BoxPx {
                x0: x - r,
                y0: y - r,
                x1: x + r,
                y1: y + r,
            };
            assert!(labels.iter().all(|l| !l.overlaps(&dot)));
        }
    }
}
