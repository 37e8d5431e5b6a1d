//! Issue 15 items 4, 6 and 7: the report's Methods and Results text says what was done, small k is
//! handled honestly, and a Knapp–Hartung interval narrower than Wald's comes with the modified
//! one. Numbers against tests/fixtures/report_text/expected.json (metafor, gen.R).

mod common;

use common::cli::evident;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report_text")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// One report of every fixture analysis, written once for all tests.
fn report() -> &'static Path {
    static OUT: OnceLock<tempfile::TempDir> = OnceLock::new();
    OUT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let f = |p: &str| fixtures().join(p).display().to_string().replace('\\', "/");
        let d = |p: &str| {
            root.join("data")
                .join(p)
                .display()
                .to_string()
                .replace('\\', "/")
        };
        let manifest = format!(
            r#"
[[analysis]]
name = "hackshaw"
file = "{}"
[[analysis]]
name = "tight"
file = "{}"
[[analysis]]
name = "two"
file = "{}"
[[analysis]]
name = "bcg9"
file = "{}"
measure = "RR"
[[analysis]]
name = "pilots"
file = "{}"
measure = "PLO"
[[analysis]]
name = "pilots_test"
file = "{}"
measure = "PLO"
null_test = true
[[analysis]]
name = "bcg_sj"
file = "{}"
measure = "OR"
method = "SJ"
by = "alloc"
[[analysis]]
name = "single"
file = "{}"
[[analysis]]
name = "als"
file = "{}"
measure = "PLO"
"#,
            f("hackshaw.csv"),
            f("tight.csv"),
            f("two.csv"),
            f("bcg9.csv"),
            f("pilots.csv"),
            f("pilots.csv"),
            d("bcg.csv"),
            d("lupus_tacrolimus_dose.csv"),
            d("als_responders.csv"),
        );
        let m = dir.path().join("evident.toml");
        std::fs::write(&m, manifest).unwrap();
        let out = dir.path().join("out");
        let r = evident([
            "report",
            m.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--docx",
        ]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        dir
    })
    .path()
}

fn page(name: &str, file: &str) -> String {
    std::fs::read_to_string(report().join("out").join(name).join(file)).unwrap()
}

fn num(x: f64, d: usize) -> String {
    format!("{x:.d$}").replace('-', "\u{2212}")
}

/// The Results paragraph of summary.md.
fn results(name: &str) -> String {
    let md = page(name, "summary.md");
    let start = md.find("## Results\n\n").unwrap() + 12;
    md[start..].split("\n\n").next().unwrap().to_string()
}

fn methods(name: &str) -> String {
    let md = page(name, "summary.md");
    let start = md.find("## Methods\n\n").unwrap() + 12;
    md[start..].split("\n\n").next().unwrap().to_string()
}

/// Item 7: the pooled card, the study table, the Results and Methods text, summary.md and the
/// forest plot's notes give the modified Knapp–Hartung interval beside the narrower one.
#[test]
fn knapp_hartung_narrower_than_wald_shows_the_modified_interval() {
    let e = &expected()["hackshaw"];
    let f = |k: &str| e[k].as_f64().unwrap();
    assert!(f("s2") < 1.0, "the fixture must have s² < 1");
    // metafor: the untruncated interval is narrower than Wald's, the adhoc one is not.
    assert!(f("kh_ub") - f("kh_lb") < f("wald_ub") - f("wald_lb"));
    let (lb, ub) = (num(f("adhoc_lb"), 2), num(f("adhoc_ub"), 2));
    let r = results("hackshaw");
    assert!(
        r.contains(&format!(
            "The Knapp–Hartung interval is narrower than the Wald interval; the modified Knapp–Hartung result (never narrower than Wald) is 0.22 (95% CI {lb} to {ub}; p \\< 0.001)."
        )),
        "{r}"
    );
    assert!(methods("hackshaw").contains("(Röver, Knapp & Friede 2015)"));
    let html = page("hackshaw", "index.html");
    assert!(
        html.contains(&format!("modified Knapp–Hartung CI {lb} to {ub}")),
        "card"
    );
    assert!(html.contains(&format!("Modified Knapp–Hartung</em> (Knapp–Hartung narrower than Wald)</td><td class=\"num\">0.22 [{lb}, {ub}]")), "study table");
    assert!(
        html.contains("<li>Röver C, Knapp G, Friede T (2015)."),
        "reference"
    );
    let md = page("hackshaw", "summary.md");
    assert!(md.contains(&format!("| 0.22 [{lb}, {ub}] |")), "{md}");
    let svg = page("hackshaw", "forest.svg");
    assert!(
        svg.contains(&format!(
            "Knapp–Hartung CI narrower than Wald (s² = {}); modified Knapp–Hartung: 0.22 [{lb}, {ub}], p &lt; 0.001",
            num(f("s2"), 2)
        )),
        "forest note"
    );
    // Where Knapp–Hartung is wider than Wald nothing is added.
    assert!(!page("bcg_sj", "index.html").contains("odified Knapp–Hartung"));
    assert!(!page("bcg_sj", "forest.svg").contains("odified Knapp–Hartung"));
}

/// Item 6: an empty Q-profile interval (metafor: both bounds below 0, "the null/empty set") is
/// printed as such, never as "[0.0000, 0.0000]": in `pool`'s text, the report's page, summary.md,
/// forest plot and Word document.
#[test]
fn an_empty_q_profile_interval_is_printed_as_the_empty_set() {
    let e = &expected()["tight"];
    assert_eq!(e["lb"].as_f64(), Some(0.0));
    assert_eq!(e["ub"].as_f64(), Some(0.0));
    let r = results("tight");
    assert!(r.contains("τ² = 0.00 (95% CI: empty set;"), "{r}");
    let html = page("tight", "index.html");
    assert!(html.contains(">CI: empty set (Q at τ² = 0"), "het table");
    assert!(!html.contains("[0.0000, 0.0000]") && !html.contains("[0.0%, 0.0%]"));
    assert!(page("tight", "forest.svg").contains("I² = 0% (CI: empty set)"));
    let pool = evident(["pool", fixtures().join("tight.csv").to_str().unwrap()]);
    assert!(
        pool.stdout.contains("95% CI: empty set (Q-profile)"),
        "{}",
        pool.stdout
    );
    assert!(pool.stdout.contains("I^2   = 0.00% (CI: empty set)"));
    // The Word document says so too: in its Results text and its heterogeneity table.
    let docx = std::fs::File::open(report().join("out/tight.docx")).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut zip::ZipArchive::new(docx)
            .unwrap()
            .by_name("word/document.xml")
            .unwrap(),
        &mut xml,
    )
    .unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let text: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("t"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        text.iter()
            .any(|t| t.contains("τ² = 0.00 (95% CI: empty set;")),
        "{text:?}"
    );
    let at = text.iter().position(|t| *t == "τ²").unwrap();
    assert_eq!(text[at + 2], "empty set", "{:?}", &text[at..at + 3]);
    assert!(!xml.contains("[0.0000, 0.0000]") && !xml.contains("[0.0%, 0.0%]"));
}

/// Item 4: k = 2 bounds keep a significant digit (0.002, not 0.00) and the others keep two.
#[test]
fn small_bounds_keep_a_significant_digit() {
    let e = &expected()["two"];
    let f = |k: &str| e[k].as_f64().unwrap();
    assert!(
        f("lb") < 0.005 && f("lb") >= 0.0005,
        "fixture: a bound needing 3 decimals"
    );
    let r = results("two");
    let want = format!(
        "the pooled random-effects OR was {} (95% CI {} to {}; p = {})",
        num(f("est"), 2),
        num(f("lb"), 3),
        num(f("ub"), 2),
        num(f("p"), 2)
    );
    assert!(r.contains(&want), "{r}\n{want}");
}

/// Item 4: with fewer than 10 studies no Egger, Begg or trim-and-fill, the page says why (the
/// Handbook), and Methods do not claim them.
#[test]
fn fewer_than_ten_studies_get_no_funnel_tests() {
    for name in ["bcg9", "two", "pilots", "tight"] {
        let html = page(name, "index.html");
        assert!(html.contains("not done: k = "), "{name}");
        assert!(html.contains("Cochrane Handbook §13.3.5.4"), "{name}");
        let m = methods(name);
        assert!(!m.contains("Egger's regression test (Egger"), "{name}: {m}");
        assert!(
            m.contains("Funnel-plot asymmetry was not tested"),
            "{name}: {m}"
        );
        assert!(results(name).contains("Funnel-plot asymmetry was not tested: with "));
        assert!(!html.contains("Kendall"), "{name}");
    }
    // Nine studies still get leave-one-out.
    assert!(methods("bcg9").contains("leaving out one study at a time"));
    let m = methods("bcg_sj");
    assert!(
        m.contains("Egger's regression test (Egger et al. 1997)"),
        "{m}"
    );
    assert!(results("bcg_sj").contains("Egger's test for funnel-plot asymmetry gave t = "));
}

/// Item 4: one study is a single study: no model, I², Q, funnel or pooling sentence.
#[test]
fn a_single_study_page_pools_nothing() {
    let r = results("single");
    assert!(r.starts_with("Single study: OR "), "{r}");
    // The page's own text; the forest plot's layout (its summary row) is not this test's subject.
    let full = page("single", "index.html");
    let mut html = String::new();
    for (i, part) in full.split("<svg").enumerate() {
        html.push_str(if i == 0 {
            part
        } else {
            part.split_once("</svg>").map_or("", |(_, t)| t)
        });
    }
    for absent in [
        "random-effects",
        "Heterogeneity I²",
        "<h2>Heterogeneity",
        "Funnel",
        "funnel plot",
        "Pooled",
        "prediction interval",
        "Knapp",
        "REML",
    ] {
        assert!(!html.contains(absent), "{absent}");
    }
    assert!(html.contains("single study"));
    let m = methods("single");
    assert!(
        m.contains("Only one study was included, so nothing was pooled"),
        "{m}"
    );
    assert!(
        !m.contains("Viechtbauer 2005") && !m.contains("Q and I²"),
        "{m}"
    );
}

/// Item 6: the estimator actually used is cited (no DerSimonian–Laird where DL was not used),
/// the subgroup test is in the Results, "2×2", lower-case names mid-sentence, the continuity
/// correction as applied, and the test of p = 0.5 only when asked for.
#[test]
fn methods_and_results_say_what_was_done() {
    let m = methods("bcg_sj");
    assert!(
        m.contains("Sidik–Jonkman estimator (Sidik & Jonkman 2005)"),
        "{m}"
    );
    assert!(
        m.contains("from the 2×2 tables") && !m.contains("2x2"),
        "{m}"
    );
    let html = page("bcg_sj", "index.html");
    assert!(!html.contains("DerSimonian"));
    assert!(html.contains("<li>Sidik K, Jonkman JN (2005)."));
    assert!(
        !page("single", "index.html").contains("Begg CB"),
        "uncited reference"
    );
    let r = results("bcg_sj");
    assert!(
        r.contains("The test for subgroup differences gave Q = "),
        "{r}"
    );
    assert!(r.contains("By alloc: alternate "), "{r}");
    // Proportions: lower case, no "(PLO) from the single proportions", no test unless asked.
    let p = results("pilots");
    assert!(
        p.contains("the pooled random-effects proportion was 0.71 (95% CI 0.33 to 0.92)."),
        "{p}"
    );
    assert!(!methods("pilots").contains("(PLO)"));
    let pv = num(expected()["pilots"]["p"].as_f64().unwrap(), 2);
    let html = page("pilots", "index.html");
    assert!(!html.contains(&format!("p = {pv}")));
    assert!(!html.contains(">p</th>"), "leave-one-out p column");
    assert!(page("pilots_test", "forest.svg").contains(&format!("p = {pv}")));
    assert!(results("pilots_test").contains(&format!("test of p = 0.5: p = {pv})")));
    // The continuity correction that was applied.
    let m = methods("als");
    assert!(m.contains("A continuity correction of 0.5 was added to every cell of the one study with a zero cell"), "{m}");
    assert!(methods("bcg9")
        .contains("No study had a zero cell, so no continuity correction was needed."));
}
