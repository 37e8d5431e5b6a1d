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

/// Runs a command that must succeed and parses its standard output as JSON.
fn json_of(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = run(args, None);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

/// Every key of `part` has the value it has in `whole`.
fn assert_within(part: &serde_json::Value, whole: &serde_json::Value, what: &str) {
    let part = part.as_object().unwrap_or_else(|| panic!("{what}: {part}"));
    assert!(!part.is_empty(), "{what}: empty");
    for (k, v) in part {
        assert_eq!(Some(v), whole.get(k), "{what}: key {k}");
    }
}

/// Issue 16 item 9: `bias --json` is the pooled model of `pool --json` and the objects the
/// single-test commands print.
#[test]
fn bias_prints_json() {
    let v = json_of(&["bias", BCG, "--json"]);
    assert_within(&v["model"], &json_of(&["pool", BCG, "--json"]), "model");
    assert_eq!(v["ranktest"], json_of(&["ranktest", BCG, "--json"]));
    assert_eq!(v["fsn"], json_of(&["fsn", BCG, "--json"]));
    for k in ["regtest", "peters", "trimfill", "pet_peese"] {
        assert!(v[k].is_object(), "{k}: {v}");
    }
}

/// `sensitivity --json`: the pooled model with the `leave1out` and `influence` objects of
/// their own commands, and the Baujat coordinates.
#[test]
fn sensitivity_prints_json() {
    let v = json_of(&["sensitivity", BCG, "--json"]);
    assert_within(&v["model"], &json_of(&["pool", BCG, "--json"]), "model");
    assert_eq!(v["leave1out"], json_of(&["leave1out", BCG, "--json"]));
    assert_eq!(v["influence"], json_of(&["influence", BCG, "--json"]));
    assert_eq!(v["baujat"]["x"].as_array().map(Vec::len), Some(13));
}

/// The plotting commands draw the figure and, with `--json`, print the fitted model as
/// `pool --json` prints it (a meta-regression's for the bubble plot).
#[test]
fn plots_print_the_model_as_json() {
    let dir = std::env::temp_dir().join(format!("evident-plotjson-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("fig.svg");
    let o = out.to_str().unwrap();
    let cases: [(&[&str], &[&str]); 4] = [
        (
            &["forest", BCG, "-o", o, "--json"],
            &["pool", BCG, "--json"],
        ),
        (
            &["forest", BCG, "-o", o, "--json", "--method", "MH"],
            &["pool", BCG, "--json", "--method", "MH"],
        ),
        (
            &["funnel", BCG, "-o", o, "--json"],
            &["pool", BCG, "--json"],
        ),
        (
            &["bubble", BCG, "--mods", "ablat", "-o", o, "--json"],
            &["pool", BCG, "--mods", "ablat", "--json"],
        ),
    ];
    for (plot, pool) in cases {
        let _ = std::fs::remove_file(&out);
        let v = json_of(plot);
        assert!(out.exists(), "{plot:?}: no figure");
        assert_within(&v, &json_of(pool), &format!("{plot:?}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--digits N` sets the decimals of text output (4 by default, as metafor); JSON keeps every
/// digit; 0, more than 12 or a non-number is refused.
#[test]
fn digits_set_the_decimals_of_text_output() {
    let (_, four, _) = run(&["pool", BCG], None);
    let (code, six, err) = run(&["pool", BCG, "--digits", "6"], None);
    assert_eq!(code, Some(0), "{err}");
    // metafor: tau^2 = 0.3378 (digits = 4), 0.337772 (digits = 6); tau2 = 0.3377716 in the corpus.
    let tau2 = json_of(&["pool", BCG, "--json"])["tau2"].as_f64().unwrap();
    assert!(four.contains(&format!("tau^2 = {tau2:.4} ")), "{four}");
    assert!(six.contains(&format!("tau^2 = {tau2:.6} ")), "{six}");
    for cmd in [
        &["bias", BCG][..],
        &["sensitivity", BCG],
        &["regtest", BCG],
        &["effects", BCG],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["--digits", "7"]);
        let (code, out, err) = run(&args, None);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        let seven = out
            .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
            .any(|t| t.split_once('.').is_some_and(|(_, d)| d.len() == 7));
        assert!(seven, "{args:?}: no number with 7 decimals: {out}");
    }
    for bad in ["0", "13", "x"] {
        let (code, _, err) = run(&["pool", BCG, "--digits", bad], None);
        assert_eq!(code, Some(1), "{bad}");
        assert!(err.contains("from 1 to 12"), "{bad}: {err}");
    }
}

/// `effects` prints an aligned table (study, yi, vi, sei, CI) unless `--json` or `--csv`.
#[test]
fn effects_prints_a_readable_table() {
    let (code, out, err) = run(&["effects", BCG, "--measure", "RR"], None);
    assert_eq!(code, Some(0), "{err}");
    let v = json_of(&["effects", BCG, "--measure", "RR", "--json"]);
    let lines: Vec<&str> = out.lines().collect();
    let head = lines.iter().position(|l| l.starts_with("study")).unwrap();
    assert!(lines[head].contains("ci.lb") && lines[head].contains("ci.ub"));
    let first = lines[head + 1];
    let yi = v["yi"][0].as_f64().unwrap();
    let vi = v["vi"][0].as_f64().unwrap();
    assert!(first.starts_with("Aronson 1948"), "{first}");
    for x in [yi, vi, vi.sqrt(), yi - 1.959964 * vi.sqrt()] {
        assert!(first.contains(&format!("{x:.4}")), "{x}: {first}");
    }
    // Aligned: every row as long as the header.
    let width = lines[head].chars().count();
    assert!(lines[head + 1..head + 14]
        .iter()
        .all(|l| l.chars().count() == width));
    let (_, csv, _) = run(&["effects", BCG, "--csv"], None);
    assert!(csv.starts_with("study,yi,vi,sei,corrected"), "{csv}");
}

/// Issue 16 item 11: the studies dropped for a missing moderator value are one warning with the
/// count and the first rows, not a line each.
#[test]
fn missing_moderator_values_are_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(BCG).unwrap();
    let csv: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let mut cells: Vec<String> = l.splitn(7, ',').map(str::to_string).collect();
            if (1..=5).contains(&i) {
                cells[5] = String::new(); // ablat
            }
            cells.join(",") + "\n"
        })
        .collect();
    let file = dir.path().join("bcg_missing.csv");
    std::fs::write(&file, csv).unwrap();
    let (code, _, err) = run(&["pool", file.to_str().unwrap(), "--mods", "ablat"], None);
    assert_eq!(code, Some(0), "{err}");
    let omitted: Vec<&str> = err.lines().filter(|l| l.contains("omitted")).collect();
    assert_eq!(omitted.len(), 1, "{err}");
    assert!(
        omitted[0].starts_with("warning: 5 studies omitted: Aronson 1948 (line 2), Ferguson & Simes 1949 (line 3), Rosenthal et al 1960 (line 4) and 2 more: missing moderator value"),
        "{err}"
    );
}

/// Issue 16 item 11: a report's error rows name the input files relative to the directory given,
/// not where it sits on this machine.
#[test]
fn report_error_rows_show_relative_paths() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(
        input.join("broken.csv"),
        "study,yi,vi\nA,abc,0.1\nB,0.2,0.1\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let (code, _, err) = run(
        &[
            "report",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, Some(2), "{err}");
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("broken.csv"), "{index}");
    let abs = input.display().to_string();
    assert!(!index.contains(&abs), "absolute path in the index: {index}");
    assert!(!err.contains(&abs), "absolute path on stderr: {err}");
}

/// Issue 16 item 10: a manifest maps columns (`col`) and takes `pool`'s options; the report's
/// model is then `pool`'s with the same flags. A bad value stops the run with its line and key.
#[test]
fn manifest_takes_column_mappings_and_pool_options() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let effects = json_of(&["effects", BCG, "--json"]);
    let mut csv = String::from("trial,logOR,var\n");
    for i in 0..13 {
        csv += &format!("S{i},{},{}\n", effects["yi"][i], effects["vi"][i]);
    }
    let file = input.join("log_or.csv");
    std::fs::write(&file, &csv).unwrap();
    let manifest = input.join("evident.toml");
    let toml = "[[analysis]]\nfile = \"log_or.csv\"\ncol = { yi = \"logOR\", vi = \"var\" }\nmethod = \"DL\"\ntest = \"z\"\npi = \"riley\"\ntol = 1e-10\n";
    std::fs::write(&manifest, toml).unwrap();
    let out = dir.path().join("out");
    let (code, _, err) = run(
        &[
            "report",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, Some(0), "{err}");
    let page: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("log_or/results.json")).unwrap())
            .unwrap();
    let f = file.to_str().unwrap();
    let pool = json_of(&[
        "pool", f, "--col", "yi=logOR", "--col", "vi=var", "--method", "DL", "--test", "z", "--pi",
        "riley", "--tol", "1e-10", "--json",
    ]);
    for k in ["estimate", "se", "tau2", "pi_lb", "pi_ub", "tau2_ci_lb"] {
        assert_eq!(page[k], pool[k], "{k}");
    }
    std::fs::write(&manifest, format!("{toml}tau2 = -1\n")).unwrap();
    let (code, _, err) = run(
        &[
            "report",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("line 8") && err.contains("`tau2`"), "{err}");
    std::fs::write(&manifest, format!("{toml}stepsize = 1\n")).unwrap();
    let (code, _, err) = run(
        &[
            "report",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("line 8") && err.contains("stepsize"), "{err}");
}
