//! Hostile inputs that once crashed the binary (stack overflow, formatting panic): each must
//! now end in a clear error or a normal result, never a panic or an abort.

mod common;

use common::cli::{evident, Run};

const BCG: &str = include_str!("conformance/cases/bcg_or/input.csv");

fn nested(depth: usize) -> String {
    format!("{}ablat{}", "(".repeat(depth), ")".repeat(depth))
}

#[test]
fn deeply_nested_formula_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bcg.csv");
    std::fs::write(&csv, BCG).unwrap();
    let mods = nested(10_000);
    let Run { code, stderr, .. } =
        evident(["pool", csv.to_str().unwrap(), "--mods", mods.as_str()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("formula nests parentheses more than 100 deep"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn report_survives_a_deeply_nested_formula() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("bcg.csv"), BCG).unwrap();
    let manifest = format!(
        "[[analysis]]\nname = \"good\"\nfile = \"bcg.csv\"\n\n\
         [[analysis]]\nname = \"deep\"\nfile = \"bcg.csv\"\nmods = [\"{}\"]\n",
        nested(3_000)
    );
    std::fs::write(input.join("evident.toml"), manifest).unwrap();
    let out = dir.path().join("out");
    let Run { code, stderr, .. } = evident([
        "report",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    // Was a stack overflow that killed the whole report before the index was written; now
    // the meta-regression section of that analysis says why it was not computed.
    assert_eq!(code, Some(0), "{stderr}");
    assert!(out.join("good/index.html").exists(), "{stderr}");
    let deep = std::fs::read_to_string(out.join("deep/index.html")).unwrap();
    assert!(
        deep.contains("not computed: formula nests parentheses more than 100 deep"),
        "the analysis gives the failure's cause"
    );
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("good") && index.contains("deep"));
    assert!(out.join("index.md").exists());
}

#[test]
fn very_long_study_labels_print_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let label = "L".repeat(70_000);
    let csv = dir.path().join("long.csv");
    std::fs::write(&csv, BCG.replacen("Aronson 1948", &label, 1)).unwrap();
    let csv = csv.to_str().unwrap();
    let runs: [&[&str]; 5] = [
        &["leave1out", csv],
        &["cumul", csv],
        &["influence", csv],
        &["sensitivity", csv],
        &["gosh", csv],
    ];
    for args in runs {
        let Run {
            code,
            stdout,
            stderr,
            ..
        } = evident(args);
        assert_eq!(code, Some(0), "{}: {stderr}", args[0]);
        assert!(stdout.contains(&label), "{}: the label is printed", args[0]);
    }
    // `pool --by` pads its subgroup levels, not study labels.
    let csv2 = dir.path().join("long_level.csv");
    std::fs::write(&csv2, BCG.replace(",random", &format!(",{label}"))).unwrap();
    let Run {
        code,
        stdout,
        stderr,
        ..
    } = evident(["pool", csv2.to_str().unwrap(), "--by", "alloc"]);
    assert_eq!(code, Some(0), "pool --by: {stderr}");
    assert!(stdout.contains(&label), "pool --by: the level is printed");
}
