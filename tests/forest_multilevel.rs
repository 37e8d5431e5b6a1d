//! Issue 17 item 5: the forest plot of a multilevel model groups its rows under their
//! clusters, in order of first appearance, names the model, draws the robust interval and
//! escapes cluster names. A meta-regression's fitted values (drawn by the report) are
//! metafor's `predict(res)` (`tests/fixtures/mv_fitted/gen.R`).

mod common;

use std::process::Command;

const KONST: &str = "tests/conformance/cases/konstantopoulos2011_mv_threelevel/input.csv";

fn svg(args: &[&str], dir: &std::path::Path) -> String {
    let out = dir.join("f.svg");
    let o = Command::new(env!("CARGO_BIN_EXE_evident"))
        .arg("forest")
        .args(args)
        .args(["-o", out.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn rows_sit_under_their_clusters_with_the_model_and_robust_rows() {
    let dir = tempfile::tempdir().unwrap();
    let s = svg(
        &[
            KONST,
            "--random",
            "~ 1 | district/school",
            "--robust",
            "CR2",
            "--cluster",
            "district",
        ],
        dir.path(),
    );
    let t = common::svg::text_content(&s);
    let at = |x: &str| {
        t.iter()
            .position(|y| y == x)
            .unwrap_or_else(|| panic!("no '{x}' in the plot: {t:?}"))
    };
    assert!(at("district 11") < at("District 11, school 1"));
    assert!(at("District 11, school 4") < at("district 12"));
    assert!(at("district 12") < at("district 18"));
    assert!(at("district 644") < at("Multilevel model (REML)"));
    assert!(at("Multilevel model (REML)") < at("Robust 95% CI (CR2, 11 clusters)"));
    assert!(t.iter().any(|x| x.contains("σ²(district/school)")));
    assert!(t
        .iter()
        .any(|x| x.starts_with("Cluster-robust test (CR2, 11 clusters)")));
}

#[test]
fn cluster_names_are_escaped_and_moderators_refused() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("d.csv");
    std::fs::write(
        &csv,
        "study,yi,vi,lab\nA1,0.1,0.04,<b>&x\nA2,0.3,0.05,<b>&x\nB1,0.2,0.03,lab2\nB2,0.5,0.06,lab2\nC1,-0.1,0.04,lab3\n",
    )
    .unwrap();
    let s = svg(
        &[csv.to_str().unwrap(), "--random", "~ 1 | lab"],
        dir.path(),
    );
    assert!(s.contains("&lt;b&gt;&amp;x"), "escaped cluster name");
    assert!(!s.contains("<b>&x"));
    assert!(common::svg::text_content(&s).contains(&"<b>&x".to_string()));
    let o = Command::new(env!("CARGO_BIN_EXE_evident"))
        .args([
            "forest",
            KONST,
            "--random",
            "~ 1 | district/school",
            "--by",
            "year",
        ])
        .args(["-o", dir.path().join("g.svg").to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("groups its rows by cluster"));
}

/// `MvFit::fitted` is metafor's `predict(res)` at the fit's rows: pred, se and CI, with z and
/// with t on the containment df, within the corpus's tolerance for metafor's nlminb path
/// (rtol 1e-5, atol 1e-8).
#[test]
fn fitted_values_are_metafors_predict() {
    use evident::{rma_mv, ColumnMap, CsvOptions, Dfs, Method, MvOptions, Test};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let refs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/fixtures/mv_fitted/fitted.json")).unwrap(),
    )
    .unwrap();
    let studies =
        evident::read_studies(&root.join(KONST), &CsvOptions::default(), &ColumnMap::new())
            .unwrap();
    let cases = [
        ("reml_z", Method::REML, Test::Z, Dfs::Residual),
        ("ml_t_contain", Method::ML, Test::T, Dfs::Contain),
    ];
    for (name, method, test, dfs) in cases {
        let fit = rma_mv(
            &studies,
            &MvOptions {
                random: vec!["~ 1 | district/school".into()],
                mods: Some("~ year".into()),
                method,
                test,
                dfs,
                ..MvOptions::default()
            },
        )
        .unwrap();
        assert!(fit.has_moderators());
        let f = fit.fitted();
        let r = &refs[name];
        let column = |key: &str| -> Vec<f64> {
            r[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        };
        let (pred, se) = (column("pred"), column("se"));
        let (lb, ub) = (column("ci_lb"), column("ci_ub"));
        assert_eq!(f.len(), pred.len(), "{name}: one fitted value per row");
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-8 + 1e-5 * b.abs();
        for (i, x) in f.iter().enumerate() {
            assert!(
                close(x.pred, pred[i]),
                "{name} pred[{i}]: {} vs {}",
                x.pred,
                pred[i]
            );
            assert!(close(x.se, se[i]), "{name} se[{i}]: {} vs {}", x.se, se[i]);
            // The bounds are pred ± crit·se: crit (z, or t on the row's df) is exact; a bound
            // near 0 carries pred's and se's rounding of the optimum, not its own.
            for (ours, theirs) in [
                ((x.ci_ub - x.pred) / x.se, (ub[i] - pred[i]) / se[i]),
                ((x.pred - x.ci_lb) / x.se, (pred[i] - lb[i]) / se[i]),
            ] {
                assert!(
                    (ours - theirs).abs() <= 1e-9 * theirs,
                    "{name} crit[{i}]: {ours} vs {theirs}"
                );
            }
            assert!(close(x.ci_ub - x.ci_lb, ub[i] - lb[i]), "{name} width[{i}]");
        }
    }
}
