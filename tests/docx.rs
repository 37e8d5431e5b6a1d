//! `evident report --docx`: the Word document is a valid OOXML package (a zip with its content
//! types, parseable XML, the forest plot as an image part) holding the study names escaped and the
//! pooled numbers as the HTML page shows them; two runs give identical bytes; LibreOffice, when
//! installed, converts it to PDF.

use std::io::Read;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn report(dir: &Path, csv: &Path, out: &str) -> PathBuf {
    let out = dir.join(out);
    common::cli::Cli::new(["report", "--docx", "-o"])
        .arg(&out)
        .arg(csv)
        .run_ok();
    out
}

fn part(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    zip.by_name(name).unwrap().read_to_end(&mut v).unwrap();
    v
}

// Study names with markup, quotes and a control character; the text of document.xml is the
// names themselves (the control character replaced), never markup.
#[test]
fn docx_is_a_valid_package_with_the_pages_numbers_and_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("hostile.csv");
    std::fs::write(
        &csv,
        "study,yi,vi\n\"<b>A & B</b>\",0.1,0.04\n\"Q \"\"quoted\"\" 'x'\",0.3,0.05\nC\u{1},0.5,0.03\nD,0.2,0.06\n",
    )
    .unwrap();
    let a = report(dir.path(), &csv, "a");
    let b = report(dir.path(), &csv, "b");
    let (da, db) = (a.join("hostile.docx"), b.join("hostile.docx"));
    let bytes = std::fs::read(&da).unwrap();
    assert_eq!(bytes, std::fs::read(&db).unwrap(), "two runs differ");
    let mut z = zip::ZipArchive::new(std::fs::File::open(&da).unwrap()).unwrap();
    let ct = String::from_utf8(part(&mut z, "[Content_Types].xml")).unwrap();
    roxmltree::Document::parse(&ct).unwrap();
    let png = part(&mut z, "word/media/forest.png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let xml = String::from_utf8(part(&mut z, "word/document.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let text: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("t"))
        .filter_map(|n| n.text())
        .collect();
    for name in ["<b>A & B</b>", "Q \"quoted\" 'x'", "C\u{FFFD}"] {
        assert!(text.contains(&name), "{name} not in {text:?}");
    }
    assert!(doc.descendants().any(|n| n.has_tag_name("blip")));
    // The pooled row and the Results text are the HTML page's, character for character.
    let html = std::fs::read_to_string(a.join("hostile/index.html")).unwrap();
    let pooled = text
        .iter()
        .position(|t| *t == "Pooled (random effects)")
        .map(|i| text[i + 1])
        .unwrap();
    assert!(
        html.contains(&format!("<strong>{pooled}</strong>")),
        "{pooled}"
    );
    let md = std::fs::read_to_string(a.join("hostile/summary.md")).unwrap();
    let results = text
        .iter()
        .position(|t| *t == "Results")
        .map(|i| text[i + 1])
        .unwrap();
    assert!(md.contains(&results.replace('*', "\\*")), "{results}");
    if Command::new("soffice").arg("--version").output().is_err() {
        eprintln!("skipped: soffice (LibreOffice) is not installed");
        return;
    }
    let pdf = dir.path().join("pdf");
    let st = Command::new("soffice")
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(&pdf)
        .arg(&da)
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let out = std::fs::read(pdf.join("hostile.pdf")).unwrap();
    assert!(out.starts_with(b"%PDF"));
}
