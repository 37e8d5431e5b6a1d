//! Data files as spreadsheets and other tools write them (issue 16 items 2, 3, 4 (text part), 5):
//! each variant must pool to exactly the estimate of the same studies as a plain UTF-8 CSV.
//! Reference: metafor's `rma(measure = "RR", ai, bi, ci, di, data = dat.bcg)` data, data/bcg.csv.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_evident");

/// bcg.csv's study names and 2×2 tables, with a Windows-1252-worthy name first.
fn rows() -> Vec<(String, [u32; 4])> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv")).unwrap();
    let mut out: Vec<(String, [u32; 4])> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let n = |i: usize| f[i].parse::<u32>().unwrap();
            (f[0].to_owned(), [n(1), n(2), n(3), n(4)])
        })
        .collect();
    out[0].0 = "“Aronson” 1948 – €".to_owned();
    out
}

fn pool(path: &Path) -> std::process::Output {
    Command::new(BIN)
        .args(["pool", "--json"])
        .arg(path)
        .output()
        .unwrap()
}

fn estimate(path: &Path) -> f64 {
    let out = pool(path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["estimate"].as_f64().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn csv(sep: &str) -> String {
    let mut s = format!("study{sep}ai{sep}bi{sep}ci{sep}di\n");
    for (name, [a, b, c, d]) in rows() {
        s += &format!("{name}{sep}{a}{sep}{b}{sep}{c}{sep}{d}\n");
    }
    s
}

fn utf16(s: &str, le: bool, bom: bool) -> Vec<u8> {
    let units = bom.then_some(0xFEFF).into_iter().chain(s.encode_utf16());
    units
        .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
        .collect()
}

#[test]
fn encodings_pool_as_the_utf8_file() {
    let dir = tempfile::tempdir().unwrap();
    let reference = estimate(&write(dir.path(), "plain.csv", csv(",").as_bytes()));
    for (le, bom) in [(true, true), (true, false), (false, true), (false, false)] {
        let p = write(dir.path(), "u16.csv", &utf16(&csv(","), le, bom));
        assert_eq!(estimate(&p), reference, "UTF-16 le {le} bom {bom}");
    }
    let text = csv(",");
    let (cp1252, _, bad) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!bad);
    let p = write(dir.path(), "cp1252.csv", &cp1252);
    assert_eq!(estimate(&p), reference);
    // The study name comes out with its curly quotes, en dash and euro sign.
    let studies = evident::read_studies(&p, &Default::default(), &Default::default()).unwrap();
    assert_eq!(studies.labels[0], "“Aronson” 1948 – €");
}

#[test]
fn german_decimal_comma_with_thousands_separators() {
    let dir = tempfile::tempdir().unwrap();
    let plain = "study,ai,n1i,ci,n2i,yi_note\nA,12,1200,30,1250,0.5\nB,40,2300,52,2210,1.5\nC,7,810,15,790,2.5\n";
    let german = "study;ai;n1i;ci;n2i;yi_note\nA;12;1.200;30;1.250;0,5\nB;40;2.300;52;2.210;1,5\nC;7;810;15;790;2,5\n";
    let reference = estimate(&write(dir.path(), "plain.csv", plain.as_bytes()));
    assert_eq!(
        estimate(&write(dir.path(), "de.csv", german.as_bytes())),
        reference
    );
    // A decimal point in a decimal-comma file that is no thousands separator is refused.
    let bad = german.replace("1.250", "1.25,5");
    let out = pool(&write(dir.path(), "bad.csv", bad.as_bytes()));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        e.contains("bad.csv, line 2, column 'n2i'") && e.contains("'1.25,5' has a decimal point"),
        "{e}"
    );
}

#[test]
fn fractional_sample_sizes_are_errors_and_fractional_counts_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let n = "study,ai,n1i,ci,n2i\nA,12,120,30,125\nB,40,230,52,221\nC,7,81,15,79\nD,3,40,5,50.5\n";
    let out = pool(&write(dir.path(), "n.csv", n.as_bytes()));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        e.contains("n.csv, line 5, column 'n2i': 50.5 is not a whole number of participants"),
        "{e}"
    );
    let counts = "study,ai,bi,ci,di\nA,12.5,120,30,125\nB,40,230,52,221\nC,7,81,15,79\n";
    let out = pool(&write(dir.path(), "c.csv", counts.as_bytes()));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{e}");
    assert!(
        e.contains("c.csv, line 2, column 'ai': 12.5 is not a whole number of events"),
        "{e}"
    );
}

#[test]
fn unreadable_files_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    let e = String::from_utf8_lossy(&pool(&missing).stderr).into_owned();
    assert!(
        e.contains(&format!("no such file: {}", missing.display())),
        "{e}"
    );
    let e = String::from_utf8_lossy(&pool(dir.path()).stderr).into_owned();
    assert!(
        e.contains(&format!("{} is a directory", dir.path().display())),
        "{e}"
    );
}
