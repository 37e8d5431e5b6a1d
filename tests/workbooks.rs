//! Workbooks read directly (issue 16 item 4, workbook half): `.xlsx`, `.ods` and `.xls` holding
//! data/bcg.csv's studies pool to exactly the CSV's estimate; `--sheet`; errors name the cell.
//! Fixtures: tests/fixtures/workbooks/make.py (LibreOffice converts the flat ODS it writes).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_evident");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/workbooks")
        .join(name)
}

fn run(args: &[&str], file: &Path) -> Output {
    Command::new(BIN).args(args).arg(file).output().unwrap()
}

fn estimate(out: &Output) -> f64 {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["estimate"].as_f64().unwrap()
}

fn error(out: &Output) -> String {
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn bcg_csv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/bcg.csv")
}

#[test]
fn each_format_pools_as_the_csv() {
    let csv = estimate(&run(&["pool", "--json"], &bcg_csv()));
    for f in ["bcg.xlsx", "bcg.ods", "bcg.xls"] {
        let got = estimate(&run(&["pool", "--json"], &fixture(f)));
        assert_eq!(got.to_bits(), csv.to_bits(), "{f}: {got} vs {csv}");
    }
}

#[test]
fn sheet_picks_the_second_sheet() {
    // "Second" holds the first six studies from B3, with a blank row among them.
    let dir = tempfile::tempdir().unwrap();
    let six: String = std::fs::read_to_string(bcg_csv())
        .unwrap()
        .lines()
        .take(7)
        .map(|l| {
            let f: Vec<&str> = l.splitn(6, ',').take(5).collect();
            f.join(",") + "\n"
        })
        .collect();
    let csv = dir.path().join("six.csv");
    std::fs::write(&csv, six).unwrap();
    let want = estimate(&run(&["pool", "--json"], &csv));
    for f in ["bcg.xlsx", "bcg.ods", "bcg.xls"] {
        let got = estimate(&run(&["pool", "--json", "--sheet", "Second"], &fixture(f)));
        assert_eq!(got.to_bits(), want.to_bits(), "{f}");
    }
    let first = estimate(&run(&["pool", "--json"], &bcg_csv()));
    assert_ne!(want, first);
}

#[test]
fn unknown_sheet_lists_the_sheets() {
    let e = error(&run(&["pool", "--sheet", "Third"], &fixture("bcg.xlsx")));
    assert!(
        e.contains("no sheet named 'Third'; the workbook's sheets are 'Sheet1', 'Second'"),
        "{e}"
    );
    // A text file has no sheets.
    let e = error(&run(&["pool", "--sheet", "Second"], &bcg_csv()));
    assert!(e.contains("not a workbook"), "{e}");
}

#[test]
fn text_in_a_numeric_column_names_the_cell() {
    let e = error(&run(&["pool"], &fixture("bad.xlsx")));
    assert!(e.contains("bad.xlsx, Sheet1!C4, column 'bi'"), "{e}");
    assert!(e.contains("'abc'"), "{e}");
}

#[test]
fn a_date_is_refused_naming_the_cell() {
    let e = error(&run(&["pool", "--sheet", "Dates"], &fixture("bad.xlsx")));
    assert!(e.contains("bad.xlsx, Dates!C3, column 'bi'"), "{e}");
    assert!(
        e.contains("a date (2021-03-04)") && e.contains("format"),
        "{e}"
    );
}

#[test]
fn an_empty_workbook_says_so() {
    let e = error(&run(&["pool"], &fixture("empty.xlsx")));
    assert!(
        e.contains("empty.xlsx, sheet Sheet1: the sheet is empty"),
        "{e}"
    );
}

#[test]
fn a_workbook_on_standard_input() {
    let csv = estimate(&run(&["pool", "--json"], &bcg_csv()));
    for f in ["bcg.xlsx", "bcg.ods", "bcg.xls"] {
        let mut child = Command::new(BIN)
            .args(["pool", "--json", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let bytes = std::fs::read(fixture(f)).unwrap();
        child.stdin.take().unwrap().write_all(&bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(estimate(&out).to_bits(), csv.to_bits(), "{f}");
    }
}

#[test]
fn a_text_file_named_as_a_workbook() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("data.xlsx");
    std::fs::copy(bcg_csv(), &p).unwrap();
    let e = error(&run(&["pool"], &p));
    assert!(
        e.contains("is not one") && e.contains("rename it .csv"),
        "{e}"
    );
    let e = error(&run(&["batch"], &fixture("bcg.xlsx")));
    assert!(e.contains("a batch streams CSV text only"), "{e}");
    let e = error(&run(&["batch"], &p.with_file_name("missing.csv")));
    assert!(e.contains("no such file: "), "{e}");
}

#[test]
fn every_table_command_takes_sheet() {
    for cmd in [
        "pool",
        "forest",
        "funnel",
        "check",
        "recompute",
        "combine",
        "batch",
    ] {
        let out = Command::new(BIN).args([cmd, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("--sheet <NAME>"), "{cmd}: {help}");
    }
}

#[test]
fn a_manifest_names_the_sheet() {
    use evident::app::report::{analyse, plan, Plan};
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("bcg.ods"), dir.path().join("bcg.ods")).unwrap();
    let manifest = dir.path().join("evident.toml");
    let planned = |sheet: &str| -> Plan {
        let text = format!("[[analysis]]\nfile = \"bcg.ods\"\nmeasure = \"RR\"\n{sheet}");
        std::fs::write(&manifest, text).unwrap();
        plan(std::slice::from_ref(&manifest))
    };
    let k = |p: Plan| {
        assert!(p.failed.is_empty(), "{:?}", p.failed);
        analyse(&p.specs[0]).unwrap().fit.k
    };
    assert_eq!(k(planned("")), 13);
    assert_eq!(k(planned("sheet = \"Second\"")), 6);
    let p = planned("sheet = \"Third\"");
    assert!(
        p.failed[0].1.contains("no sheet named 'Third'"),
        "{:?}",
        p.failed
    );
}

#[test]
fn show_r_writes_no_read_csv_for_a_workbook() {
    // The R code reads a CSV file: for a workbook it is left out, never pointed at the .xlsx.
    let out = run(&["pool", "--show-r"], &fixture("bcg.xlsx"));
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("read.csv"));
}
