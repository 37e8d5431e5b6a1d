//! Replays inputs through the same pipelines as the cargo-fuzz targets in `fuzz/` (CSV reader,
//! pool end to end, reported rows), so that whatever fuzzing finds stays fixed under `cargo test`.
//! Each input that once crashed, hung or gave an absurd result is listed with what it found.

#![allow(clippy::neg_cmp_op_on_partial_ord)] // `!(a > b)` also accepts NaN, deliberately

use evident::data::{ColumnMap, CsvOptions, Studies, Table};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::rma;
use evident::model::Method;
use evident::model::RmaOptions;
use evident::model::Test;
use evident::render::json::rma_json;
use evident::reported::check::check;
use evident::reported::{to_effects, ReportedTable};
use std::path::Path;

fn csv_reader(data: &[u8]) {
    for delimiter in [None, Some(b','), Some(b';'), Some(b'\t')] {
        for decimal_comma in [None, Some(false), Some(true)] {
            let opts = CsvOptions {
                delimiter,
                decimal_comma,
                ..CsvOptions::default()
            };
            if let Ok(table) = Table::from_bytes(Path::new("f.csv"), data, &opts) {
                let _ = Studies::from_table(&table, &ColumnMap::new());
            }
        }
    }
}

fn pool_end_to_end(data: &[u8]) {
    let Ok(table) = Table::from_bytes(Path::new("f.csv"), data, &CsvOptions::default()) else {
        return;
    };
    let Ok(studies) = Studies::from_table(&table, &ColumnMap::new()) else {
        return;
    };
    let measure = studies.data.default_measure();
    let Ok(set) = EffectSet::from_studies(&studies, measure, &EscalcOptions::default()) else {
        return;
    };
    for method in [Method::REML, Method::DL] {
        for test in [Test::Z, Test::Knha] {
            let o = RmaOptions {
                method,
                test,
                ..Default::default()
            };
            if let Ok(fit) = rma(&set, &o) {
                assert!(fit.estimate.is_finite() && fit.tau2 >= 0.0, "{fit:?}");
                // Absurd results: a CI not containing its estimate, I² or p outside their range.
                assert!(
                    !(fit.ci_lb > fit.estimate || fit.ci_ub < fit.estimate),
                    "CI excludes the estimate {fit:?}"
                );
                assert!(!(fit.het.i2 < 0.0 || fit.het.i2 > 100.0), "I2 {fit:?}");
                assert!(!(fit.pval < 0.0 || fit.pval > 1.0), "p {fit:?}");
                serde_json::to_string(&rma_json(&fit)).unwrap();
            }
        }
    }
}

fn reported_rows(data: &[u8]) {
    let Ok(table) = Table::from_bytes(Path::new("f.csv"), data, &CsvOptions::default()) else {
        return;
    };
    for measure in [None, Some("OR")] {
        let rt = ReportedTable::new(&table, measure);
        for r in 0..rt.len() {
            let _ = rt.convert(r);
            if let Ok(input) = rt.check_input(r) {
                let _ = check(&input);
            }
        }
        let _ = to_effects(&table, measure);
    }
}

fn all(data: &[u8]) {
    csv_reader(data);
    pool_end_to_end(data);
    reported_rows(data);
}

/// Hostile shapes the fuzz targets start from or reached; none may panic.
#[test]
fn hostile_inputs_never_panic() {
    let cases: &[&[u8]] = &[
        b"",
        b"\0",
        b"\xef\xbb\xbf",
        b"yi,vi\n",
        b"yi,vi\n\0,\0\n",
        b"yi;vi\n1,5;0,1\n2,5;0,2\n",
        b"yi,vi\n1e308,1e-308\n-1e308,1e-308\n",
        b"yi,vi\n1e154,1\n-1e154,1\n0,1\n",
        b"yi,vi\n5e-324,5e-324\n0,5e-324\n",
        b"ai,bi,ci,di\n0,0,0,0\n0,0,0,0\n",
        b"ai,bi,ci,di\n1e15,1e15,1e15,1e15\n1,1e15,1e15,1\n",
        b"ai,n1i,ci,n2i\n4294967296,4294967296,0,4294967296\n",
        b"m1i,sd1i,n1i,m2i,sd2i,n2i\n1,0,2,1,0,2\n1,0,2,2,0,2\n",
        b"ri,ni\n1,10\n-1,10\n",
        b"ri,ni\n0.5,3\n0.5,4\n",
        b"xi,ni\n0,0\n1,1\n",
        b"xi,ti\n0,1e-300\n1,1e300\n",
        b"study,estimate,ci_lb,ci_ub,pval,measure\na,1,0.5,2,0,OR\nb,1,1,1,1,HR\n",
        b"study,estimate,ci_lb,ci_ub,level,pval\na,0,-1,1,99.9999999999,1e-320\n",
        b"study,estimate,se,pval\na,1e308,1e308,<0\nb,-0,0,>1\n",
        b"\"a\n,\"\"\n",
        b",,,,\n,,,,\n",
        b"yi,vi,yi\n1,1,1\n",
    ];
    for c in cases {
        all(c);
    }
}

/// Found by `pool_end_to_end` (round 2, after ~2 minutes): one effect of 5.6e77 gives τ² = 1.5e155,
/// and I² = 100 τ²/(vt + τ²) rounded to 100.00000000000001 (metafor's formula rounds the same way
/// in R). I² is now clamped to [0, 100], in the fit and in the Q-profile interval.
#[test]
fn huge_tau2_keeps_i2_at_most_100() {
    let data: &[u8] = include_bytes!("data/fuzz/pool_i2_above_100.csv");
    pool_end_to_end(data);
    let t = Table::from_bytes(Path::new("f.csv"), data, &CsvOptions::default()).unwrap();
    let s = Studies::from_table(&t, &ColumnMap::new()).unwrap();
    let set =
        EffectSet::from_studies(&s, s.data.default_measure(), &EscalcOptions::default()).unwrap();
    for method in [Method::DL, Method::REML, Method::ML, Method::PM, Method::HE] {
        let o = RmaOptions {
            method,
            ..Default::default()
        };
        if let Ok(f) = rma(&set, &o) {
            assert!(f.het.i2 <= 100.0, "{method:?}: I2 = {}", f.het.i2);
            if let Some(ci) = f.tau2_ci {
                assert!(ci.i2_lb <= 100.0 && ci.i2_ub <= 100.0, "{method:?}: {ci:?}");
            }
        }
    }
}

/// The `formula` target's inputs: the parser (and a model matrix on the target's effect set)
/// must give a formula or a structured error. Found while writing the target (by reading, not
/// by a fuzzer run): a chain of `*` over n variables expands to 2^n terms, so 26 names asked for
/// 67 million terms with a quadratic duplicate check; it is now an error beyond 1024 terms. Unary signs inside `I()` and chains of `^` are read in loops, so
/// thousands of them cannot overflow the stack.
#[test]
fn formula_inputs_give_formulas_or_errors() {
    use evident::moderators::Formula;
    let names: Vec<String> = (0..26).map(|i| format!("v{i}")).collect();
    let chain = names.join("*");
    let t = std::time::Instant::now();
    let e = Formula::parse(&chain).unwrap_err().to_string();
    assert!(e.contains("more than 1024 terms"), "{e}");
    assert!(t.elapsed().as_secs() < 5);
    let signs = format!("I({}x)", "-".repeat(100_000));
    let powers = format!("I(x{})", "^-x".repeat(50_000));
    let t = std::thread::Builder::new().stack_size(256 * 1024);
    let ok = t
        .spawn(move || {
            let long = format!("I({})", vec!["x"; 5000].join(" + "));
            [signs, powers, long].iter().all(|s| {
                let e = Formula::parse(s).unwrap_err().to_string();
                e.contains("more than 200 operations")
            })
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(ok);
    for s in [
        "relevel(",
        "relevel(a, ref=",
        "relevel(factor(",
        "I()",
        "log(,)",
        "x^",
        "I(x^)",
        "\"",
        "'a",
        "`",
        "1e",
        "1e+",
        ".5",
        "I(1e400)",
        "factor(1)",
        "relevel(g, ref = 'P') - 1",
    ] {
        let _ = Formula::parse(s);
    }
}

/// libFuzzer (formula target, 600 s): an unexpected character in a 3,000-character formula gave a
/// message quoting all of it; every formula error now quotes at most 200 characters and says
/// where the character is.
#[test]
fn formula_errors_quote_long_formulas_cut() {
    use evident::moderators::Formula;
    for long in [
        format!("{} + a %", "x + ".repeat(1000)),
        format!("{} + `a", "x + ".repeat(1000)),
        format!("{} + + )", "x + ".repeat(1000)),
    ] {
        let e = Formula::parse(&long).unwrap_err().to_string();
        assert!(e.len() < 600 && e.contains('…'), "{e}");
    }
    let e = Formula::parse("ablat + %").unwrap_err().to_string();
    assert!(e.contains("unexpected character '%' at character 9"), "{e}");
}

/// The `manifest` fuzz target's promise: a manifest, or an `Error::Input` naming the file and a
/// line of the text in a one-line message.
fn manifest(text: &str) -> Option<usize> {
    use evident::app::manifest::Manifest;
    let path = Path::new("evident.toml");
    match Manifest::parse(text, path) {
        Ok(m) => {
            assert!(m.analysis.iter().all(|a| a.file.is_some()));
            None
        }
        Err(evident::Error::Input { location, message }) => {
            assert_eq!(location.file.as_deref(), Some(path));
            assert!(!message.contains('\n'), "{message:?}");
            let line = location.line.expect("a manifest error names its line");
            assert!((1..=text.matches('\n').count() + 1).contains(&line));
            Some(line)
        }
        Err(e) => panic!("unstructured error: {e:?}"),
    }
}

/// A key of 80 or more dotted parts hits TOML's recursion limit, which TOML reports without a
/// position: the error named no line (found while fuzzing the manifest parser).
#[test]
fn manifest_errors_name_a_line_even_without_a_toml_position() {
    let keys = vec!["a"; 200_000].join(".");
    assert_eq!(
        manifest(&format!("title = 't'\n[{keys}]\nx = 1\n")),
        Some(2)
    );
    assert_eq!(manifest(&format!("\n\n\n{keys} = 1")), Some(4));
    let deep = format!("title = {}{}\n", "[".repeat(200_000), "]".repeat(200_000));
    assert_eq!(manifest(&deep), Some(1));
    assert_eq!(manifest("[[analysis]]\nfile = 'a.csv'\n"), None);
}
