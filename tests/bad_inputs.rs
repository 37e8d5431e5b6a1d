//! The bad-input catalogue: every file in `tests/bad_inputs/` with its expected outcome
//! (`catalogue.json`): a specific error message, or acceptance with documented behaviour.
//! Large inputs (10⁶ rows, a 10 MB label) are generated here rather than stored.

mod common;

use common::cli::{evident, Cli, Run};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs")
}

/// `evident pool FILE --json EXTRA...`
fn pool(file: &Path, extra: &[&str]) -> Run {
    Cli::new(["pool", file.to_str().unwrap(), "--json"])
        .args(extra)
        .run()
}

#[test]
fn catalogue() {
    let cat: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir().join("catalogue.json")).unwrap())
            .unwrap();
    let files = std::fs::read_dir(dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "csv")
        })
        .count();
    assert!(
        files >= 40,
        "the catalogue holds at least 40 files, found {files}"
    );
    let mut failures = Vec::new();
    for c in &cat {
        let file = dir().join(c["file"].as_str().unwrap());
        let extra: Vec<&str> = c.get("args").map_or(vec![], |a| {
            a.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap())
                .collect()
        });
        let Run {
            ok, stdout, stderr, ..
        } = pool(&file, &extra);
        let name = format!("{} {:?}", c["file"], extra);
        if stderr.contains("panicked") {
            failures.push(format!("{name}: PANIC {stderr}"));
            continue;
        }
        match c["expect"].as_str().unwrap() {
            "error" => {
                if ok {
                    failures.push(format!("{name}: expected an error, got success"));
                }
                for n in c["contains"].as_array().unwrap() {
                    if !stderr.contains(n.as_str().unwrap()) {
                        failures.push(format!("{name}: error should contain {n}: {stderr}"));
                    }
                }
            }
            _ => {
                if !ok {
                    failures.push(format!("{name}: expected success, got {stderr}"));
                    continue;
                }
                let j: Value = serde_json::from_str(&stdout).unwrap();
                if let Some(k) = c.get("k") {
                    if &j["k"] != k {
                        failures.push(format!("{name}: k = {} (expected {k})", j["k"]));
                    }
                }
                if let Some(e) = c.get("estimate") {
                    if (j["estimate"].as_f64().unwrap() - e.as_f64().unwrap()).abs() > 1e-12 {
                        failures.push(format!("{name}: estimate {} (expected {e})", j["estimate"]));
                    }
                }
                if let Some(w) = c.get("warning") {
                    if !stderr.contains(w.as_str().unwrap()) {
                        failures.push(format!(
                            "{name}: expected a warning containing {w}: {stderr}"
                        ));
                    }
                }
                if let Some(l) = c.get("label") {
                    let text = evident(["effects", file.to_str().unwrap(), "--csv"]).stdout;
                    let mut rdr = csv::Reader::from_reader(text.as_bytes());
                    let labels: Vec<String> =
                        rdr.records().map(|r| r.unwrap()[0].to_string()).collect();
                    if !labels.iter().any(|x| x == l.as_str().unwrap()) {
                        failures.push(format!("{name}: label {l} not among {labels:?}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A million rows are read and pooled (linear time, bounded memory per row).
#[test]
fn a_million_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("big.csv");
    let mut s = String::with_capacity(30_000_000);
    s.push_str("study,yi,vi\n");
    for i in 0..1_000_000u32 {
        let y = ((i as f64) * 0.618).fract() - 0.5;
        s.push_str(&format!(
            "s{i},{y:.4},{:.4}\n",
            0.05 + ((i as f64) * 0.414).fract() * 0.2
        ));
    }
    std::fs::write(&p, s).unwrap();
    let Run {
        ok, stdout, stderr, ..
    } = pool(&p, &["--method", "DL", "--test", "z"]);
    assert!(ok, "{stderr}");
    let j: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j["k"], 1_000_000);
}

/// A 10 MB label is kept whole (it is data), and errors quote at most a short prefix of a cell.
#[test]
fn a_ten_megabyte_label() {
    let tmp = tempfile::tempdir().unwrap();
    let label = "x".repeat(10 * 1024 * 1024);
    let p = tmp.path().join("label.csv");
    std::fs::write(&p, format!("study,yi,vi\n{label},0.1,0.1\nB,0.2,0.2\n")).unwrap();
    let Run { ok, stderr, .. } = pool(&p, &[]);
    assert!(ok, "{}", &stderr[..stderr.len().min(300)]);
    let q = tmp.path().join("cell.csv");
    std::fs::write(&q, format!("study,yi,vi\nA,{label},0.1\n")).unwrap();
    let Run { ok, stderr, .. } = pool(&q, &[]);
    assert!(!ok);
    assert!(
        stderr.len() < 1000,
        "the error must not echo the whole cell ({} bytes)",
        stderr.len()
    );
}

/// Issue 14 item 6: control characters and U+FFFE/U+FFFF in labels are replaced on reading (with a
/// warning naming the cell), so the SVG is well-formed and the PNG and PDF are drawn; text the
/// SVG writer gets from elsewhere (a title) is replaced there too.
#[test]
fn control_characters_never_reach_an_svg() {
    let file = dir().join("47_control_chars_in_labels.csv");
    let f = file.to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    for ext in ["svg", "png", "pdf"] {
        let o = out.path().join(format!("f.{ext}"));
        let r = evident([
            "forest",
            f,
            "-o",
            o.to_str().unwrap(),
            "--title",
            "T\u{1}itle\u{FFFE}",
        ]);
        assert!(r.ok, "{ext}: {}", r.stderr);
        assert!(r.stderr.contains("line 3, column 'study'"), "{}", r.stderr);
        assert!(std::fs::metadata(&o).unwrap().len() > 0);
    }
    let svg = std::fs::read_to_string(out.path().join("f.svg")).unwrap();
    assert!(
        !svg.chars().any(evident::xml::xml_illegal),
        "the SVG holds a character XML 1.0 refuses"
    );
    assert!(svg.contains("A\u{FFFD}b") && svg.contains("T\u{FFFD}itle\u{FFFD}"));
}
