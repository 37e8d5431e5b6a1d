//! Issue 17 item 5: the forest plot of a multilevel model groups its rows under their
//! clusters, in order of first appearance, names the model, draws the robust interval and
//! escapes cluster names.

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
