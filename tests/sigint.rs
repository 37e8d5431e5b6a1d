//! Ctrl-C during `evident batch -o out.csv` leaves either no output or the complete one, and no
//! temporary file (issue 9: safe outputs).
#![cfg(unix)]

mod common;

use common::cli::Cli;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const BCG: &str = include_str!("conformance/cases/bcg_or/input.csv");

/// A long CSV of `n` analyses, each the 13 BCG trials.
fn long_input(dir: &Path, n: usize) -> std::path::PathBuf {
    let mut lines = BCG.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let mut s = format!("analysis,{header}\n");
    for a in 0..n {
        for r in &rows {
            s.push_str(&format!("a{a},{r}\n"));
        }
    }
    let p = dir.join("long.csv");
    std::fs::write(&p, s).unwrap();
    p
}

fn interrupt_after(args: &[&str], delay: Duration) -> Option<i32> {
    let mut child = Cli::new(args)
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    child.wait().unwrap().code()
}

fn leftovers(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

#[test]
fn interrupted_batch_leaves_no_partial_or_temporary_file() {
    // Large enough that the batch (about 5 µs per analysis of 13 studies on two cores, 0.3 s in
    // all) is still running at the first interrupt.
    let n = 60_000;
    let dir = tempfile::tempdir().unwrap();
    let input = long_input(dir.path(), n);
    let out = dir.path().join("out.csv");
    let mut interrupted = 0;
    for ms in [100, 250, 600] {
        let _ = std::fs::remove_file(&out);
        let code = interrupt_after(
            &[
                "batch",
                input.to_str().unwrap(),
                "--measure",
                "OR",
                "-o",
                out.to_str().unwrap(),
            ],
            Duration::from_millis(ms),
        );
        assert!(
            code == Some(130) || code == Some(0),
            "exit code {code:?} after SIGINT at {ms} ms"
        );
        interrupted += usize::from(code == Some(130));
        if out.exists() {
            let text = std::fs::read_to_string(&out).unwrap();
            let mut rdr = csv::Reader::from_reader(text.as_bytes());
            assert!(rdr.headers().unwrap().iter().any(|h| h == "analysis"));
            assert_eq!(rdr.records().count(), n, "output is complete");
        } else {
            assert_eq!(code, Some(130), "no output only when interrupted");
        }
        assert_eq!(
            leftovers(dir.path(), &["long.csv", "out.csv"]),
            Vec::<String>::new(),
            "no temporary file after SIGINT at {ms} ms"
        );
    }
    assert!(interrupted > 0, "at least one run was interrupted mid-way");
}
