//! Hostile command lines: an output that is the input, out-of-range Fisher-scoring controls,
//! file names at the file system's limit, analysis names that differ only in white space.

mod common;

use common::cli::{evident, Cli};
use std::path::Path;

const LONG: &str = "analysis,yi,vi\n\
a,0.1,0.02\na,0.3,0.05\na,-0.2,0.04\n\
b,0.5,0.01\nb,0.2,0.03\nb,0.4,0.02\n";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn batch_refuses_to_overwrite_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "long.csv", LONG);
    let hard = dir.path().join("hard.csv");
    std::fs::hard_link(&input, &hard).unwrap();
    let mut outputs = vec![input.clone(), hard, dir.path().join(".").join("long.csv")];
    #[cfg(unix)]
    {
        let sym = dir.path().join("sym.csv");
        std::os::unix::fs::symlink(&input, &sym).unwrap();
        outputs.push(sym);
    }
    for out in &outputs {
        let r = evident([
            "batch".as_ref(),
            input.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ]);
        assert_eq!(r.code, Some(1), "{out:?}: {r:?}");
        assert!(
            r.stderr.contains("is the input file")
                && r.stderr.contains(&*out.to_string_lossy())
                && r.stderr.contains(&*input.to_string_lossy()),
            "{}",
            r.stderr
        );
        assert_eq!(std::fs::read_to_string(&input).unwrap(), LONG);
    }
    // Another file is fine.
    let out = dir.path().join("pooled.csv");
    let r = evident([
        "batch".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(r.ok, "{r:?}");
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("analysis,"));
}

#[test]
fn bad_fisher_scoring_controls_are_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let long = write(dir.path(), "long.csv", LONG);
    let single = write(
        dir.path(),
        "one.csv",
        "yi,vi\n0.1,0.02\n0.3,0.05\n-0.2,0.04\n",
    );
    for (flag, value, says) in [
        (
            "--threshold",
            "-1",
            "--threshold must be a positive number, got -1",
        ),
        (
            "--threshold",
            "NaN",
            "--threshold must be a positive number, got NaN",
        ),
        (
            "--threshold",
            "0",
            "--threshold must be a positive number, got 0",
        ),
        ("--maxiter", "0", "--maxiter must be at least 1, got 0"),
        ("--stepadj", "0", "--stepadj"),
        ("--stepadj", "-0.5", "--stepadj"),
        ("--stepadj", "NaN", "--stepadj"),
    ] {
        for (cmd, file) in [("batch", &long), ("pool", &single)] {
            let r = Cli::new([cmd.as_ref(), file.as_os_str()])
                .arg(format!("{flag}={value}"))
                .run();
            assert_eq!(r.code, Some(1), "{cmd} {flag} {value}: {r:?}");
            assert!(
                r.stderr.contains(says),
                "{cmd} {flag} {value}: {}",
                r.stderr
            );
            assert!(r.stdout.is_empty(), "{cmd} {flag} {value}: {}", r.stdout);
        }
    }
}

#[test]
fn library_names_the_control_parameter() {
    let mut c = evident::model::Control {
        threshold: -1.0,
        ..Default::default()
    };
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("threshold") && !e.contains("--"), "{e}");
    c.threshold = 1e-5;
    assert!(c.validate().is_ok());
    c.maxiter = 0;
    assert_eq!(c.invalid_parameter().unwrap().0, "maxiter");
    // A fit refuses such settings itself, before any iteration.
    let set = evident::EffectSet::from_yi_vi(
        vec![0.1, 0.4, -0.2],
        vec![0.04, 0.09, 0.05],
        evident::Measure::GEN,
        evident::Scale::Identity,
    );
    let opts = evident::RmaOptions {
        control: c,
        ..Default::default()
    };
    let e = evident::rma(&set, &opts).unwrap_err().to_string();
    assert!(e.contains("control maxiter"), "{e}");
}

#[test]
fn output_names_at_the_file_system_limit_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let single = write(
        dir.path(),
        "one.csv",
        "study,yi,vi\nA,0.1,0.02\nB,0.3,0.05\nC,-0.2,0.04\n",
    );
    let name = format!("{}.svg", "f".repeat(246));
    assert_eq!(name.len(), 250);
    let out = dir.path().join(&name);
    let r = evident([
        "forest".as_ref(),
        single.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(r.ok, "{r:?}");
    assert!(std::fs::read_to_string(&out).unwrap().contains("<svg"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "no temporary left"
    );
}

/// Analysis names are trimmed like every other cell, but rows of one analysis must write its name
/// alike: `a` then ` a ` is an error row naming both lines (issue 14), never a silent merge; one
/// name written alike with surrounding spaces is that analysis, and a trimmed name that comes
/// back later is an error.
#[test]
fn analysis_names_are_trimmed() {
    let contiguous = "analysis,yi,vi\na,0.1,0.02\n a ,0.3,0.05\na ,-0.2,0.04\n";
    let r = Cli::new(["batch", "-"]).stdin(contiguous).run();
    assert!(!r.ok, "{r:?}");
    assert!(
        r.stdout
            .contains("differ only in surrounding white space: 'a' at line 2 and ' a ' at line 3"),
        "{}",
        r.stdout
    );
    let spaced = "analysis,yi,vi\n a ,0.1,0.02\n a ,0.3,0.05\n a ,-0.2,0.04\n";
    let r = Cli::new(["batch", "-"]).stdin(spaced).run();
    assert!(r.ok, "{r:?}");
    let rows: Vec<&str> = r.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{}", r.stdout);
    assert!(rows[0].starts_with("a,3,"), "{}", rows[0]);
    let plain = "analysis,yi,vi\na,0.1,0.02\na,0.3,0.05\na,-0.2,0.04\n";
    let p = Cli::new(["batch", "-"]).stdin(plain).run();
    assert_eq!(p.stdout, r.stdout);

    let apart = "analysis,yi,vi\na,0.1,0.02\na,0.3,0.05\nb,0.5,0.01\nb,0.2,0.03\na ,-0.2,0.04\n";
    let r = Cli::new(["batch", "-"]).stdin(apart).run();
    assert!(!r.ok, "{r:?}");
    assert!(
        r.stdout.contains("rows of analysis 'a' are not contiguous")
            || r.stderr.contains("rows of analysis 'a' are not contiguous"),
        "{r:?}"
    );
}
