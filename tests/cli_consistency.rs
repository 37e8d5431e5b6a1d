//! Issue 16 items 1, 9, 11: levels as metafor reads them, `-` for standard input, negative
//! `--xlim` values, and plurals.

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], stdin: Option<&[u8]>) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let s = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code(), s(out.stdout), s(out.stderr))
}

const BCG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");

/// metafor's `.level()` reads a level below 1 as a proportion: `level = 0.9` is `level = 90`.
#[test]
fn a_level_below_one_is_a_proportion() {
    let pct = run(&["pool", BCG, "--level", "90", "--json"], None);
    let prop = run(&["pool", BCG, "--level", "0.9", "--json"], None);
    assert_eq!(pct.0, Some(0), "{}", pct.2);
    assert_eq!(pct.1, prop.1);
    for bad in ["1", "0", "100", "-5", "x"] {
        let (code, _, err) = run(&["pool", BCG, "--level", bad], None);
        assert_eq!(code, Some(1), "{bad}: {err}");
        assert!(err.contains("confidence level"), "{bad}: {err}");
    }
}

/// `-` reads the data from standard input, as the file itself would.
#[test]
fn a_dash_reads_standard_input() {
    let bytes = std::fs::read(BCG).unwrap();
    let file = run(&["pool", BCG, "--json"], None);
    let piped = run(&["pool", "-", "--json"], Some(&bytes));
    assert_eq!(piped.0, Some(0), "{}", piped.2);
    assert_eq!(file.1, piped.1);
    let (code, _, err) = run(&["pool", "-"], Some(b"a,b\n1\n"));
    assert_eq!(code, Some(1));
    assert!(err.contains("<stdin>"), "{err}");
}

/// `--xlim -0.5,0.9` is a value, not an unknown flag.
#[test]
fn negative_xlim_needs_no_equals_sign() {
    let out = std::env::temp_dir().join(format!("evident-xlim-{}.svg", std::process::id()));
    let o = out.to_str().unwrap();
    let (code, _, err) = run(
        &[
            "forest",
            BCG,
            "--measure",
            "RD",
            "-o",
            o,
            "--xlim",
            "-0.05,0.05",
        ],
        None,
    );
    let _ = std::fs::remove_file(&out);
    assert_eq!(code, Some(0), "{err}");
}
