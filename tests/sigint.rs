//! SIGINT, SIGTERM or SIGHUP during `evident batch -o out.csv` or `evident report` leave either
//! the old output (or none) or the complete new one, and no temporary file or directory (issue 9:
//! safe outputs; issue 14 items 20 and 21); the process dies of the signal it got. The leftovers
//! of a SIGKILL are removed by the next run.
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

/// Sends `sig` to a run of `args` after `delay`; how it ended: `Err(signal)` when killed by a
/// signal, `Ok(code)` when it exited first.
fn signal_after(args: &[&str], sig: libc::c_int, delay: Duration) -> Result<i32, i32> {
    signal_after_with(args, sig, delay, libc::SIG_DFL)
}

/// As [`signal_after`], the child started with `disposition` (SIG_DFL, or SIG_IGN as `nohup`
/// leaves SIGHUP) for all three signals: the test does not depend on what its own parent
/// ignores (a CI runner under `nohup`, a shell's background job).
fn signal_after_with(
    args: &[&str],
    sig: libc::c_int,
    delay: Duration,
    disposition: libc::sighandler_t,
) -> Result<i32, i32> {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let mut cmd = Cli::new(args).command();
    // SAFETY: signal(2) is async-signal-safe, the only call between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::signal(s, disposition);
            }
            Ok(())
        });
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    unsafe {
        libc::kill(child.id() as libc::pid_t, sig);
    }
    let status = child.wait().unwrap();
    status.code().ok_or_else(|| status.signal().unwrap())
}

fn leftovers(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

const SIGNALS: [(libc::c_int, &str); 3] = [
    (libc::SIGINT, "SIGINT"),
    (libc::SIGTERM, "SIGTERM"),
    (libc::SIGHUP, "SIGHUP"),
];

fn batch_args<'a>(input: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec![
        "batch",
        input.to_str().unwrap(),
        "--measure",
        "OR",
        "-o",
        out.to_str().unwrap(),
    ]
}

#[test]
fn interrupted_batch_leaves_no_partial_or_temporary_file() {
    // Large enough that the batch (about 5 µs per analysis of 13 studies on two cores, 0.3 s in
    // all) is still running at the first signal.
    let n = 60_000;
    let dir = tempfile::tempdir().unwrap();
    let input = long_input(dir.path(), n);
    let out = dir.path().join("out.csv");
    for (sig, sig_name) in SIGNALS {
        let mut interrupted = 0;
        for ms in [100, 250, 600] {
            let _ = std::fs::remove_file(&out);
            let end = signal_after(&batch_args(&input, &out), sig, Duration::from_millis(ms));
            assert!(
                end == Err(sig) || end == Ok(0),
                "{end:?} after {sig_name} at {ms} ms: the process dies of the signal it got"
            );
            interrupted += usize::from(end == Err(sig));
            if out.exists() {
                let text = std::fs::read_to_string(&out).unwrap();
                let mut rdr = csv::Reader::from_reader(text.as_bytes());
                assert!(rdr.headers().unwrap().iter().any(|h| h == "analysis"));
                assert_eq!(rdr.records().count(), n, "output is complete");
            } else {
                assert_eq!(end, Err(sig), "no output only when interrupted");
            }
            assert_eq!(
                leftovers(dir.path(), &["long.csv", "out.csv"]),
                Vec::<String>::new(),
                "no temporary file after {sig_name} at {ms} ms"
            );
        }
        assert!(
            interrupted > 0,
            "at least one run was stopped mid-way by {sig_name}"
        );
    }
}

#[test]
fn the_next_run_removes_what_a_killed_run_left() {
    let n = 60_000;
    let dir = tempfile::tempdir().unwrap();
    let input = long_input(dir.path(), n);
    let out = dir.path().join("out.csv");
    // SIGKILL cannot be handled: the temporary file stays (if the batch had started writing).
    let mut killed = None;
    for ms in [150, 300, 500] {
        let end = signal_after(
            &batch_args(&input, &out),
            libc::SIGKILL,
            Duration::from_millis(ms),
        );
        let left = leftovers(dir.path(), &["long.csv", "out.csv"]);
        if end == Err(libc::SIGKILL) && !left.is_empty() {
            killed = Some(left);
            break;
        }
    }
    let left = killed.expect("a SIGKILL mid-way left a temporary file");
    assert!(
        left.iter().all(|n| n.starts_with(".out.csv.evident-")),
        "{left:?}"
    );
    // Not ours, or of a live process: kept.
    let live = format!(".out.csv.evident-{}-0.tmp", std::process::id());
    let foreign = [
        ".out.csv.1.0.tmp",
        "out.csv.evident-1-0.tmp",
        ".x.evident-1-0.tmp.bak",
    ];
    for f in foreign.iter().copied().chain([live.as_str()]) {
        std::fs::write(dir.path().join(f), "x").unwrap();
    }
    let o = Cli::new(batch_args(&input, &out)).run();
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let mut left = leftovers(dir.path(), &["long.csv", "out.csv"]);
    left.sort();
    let mut want: Vec<String> = foreign.iter().map(|s| s.to_string()).collect();
    want.push(live);
    want.sort();
    assert_eq!(left, want, "only the dead run's temporary file was removed");
}

/// A report of `n` analyses, then reruns of it stopped by each signal at several moments:
/// the directory is always the old report or the complete new one, never a mix, and nothing
/// is left beside it.
#[test]
fn interrupted_report_rerun_keeps_a_whole_report() {
    // Enough analyses that a run lasts well beyond the first signal (a report of 150 took
    // under 200 ms once PNGs became opt-in).
    let n = 400;
    let dir = tempfile::tempdir().unwrap();
    let input = long_input(dir.path(), n);
    let out = dir.path().join("rep");
    let args = [
        "report",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    let o = Cli::new(args).run();
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let pages: Vec<_> = (0..n)
        .map(|a| out.join(format!("a{a}")).join("index.html"))
        .chain([out.join("index.md")])
        .collect();
    let mut interrupted = 0;
    for (sig, sig_name) in SIGNALS {
        for ms in [60, 250, 700] {
            for p in &pages {
                std::fs::write(p, "old").unwrap();
            }
            let end = signal_after(&args, sig, Duration::from_millis(ms));
            assert!(
                end == Err(sig) || end == Ok(0),
                "{end:?} after {sig_name} at {ms} ms"
            );
            interrupted += usize::from(end == Err(sig));
            let old = pages
                .iter()
                .filter(|p| std::fs::read(p).unwrap() == b"old")
                .count();
            assert!(
                old == 0 || old == pages.len(),
                "{old} of {} pages are the old ones after {sig_name} at {ms} ms: a mix",
                pages.len()
            );
            if end == Ok(0) {
                assert_eq!(old, 0, "a completed run replaced the report");
            }
            assert_eq!(
                leftovers(dir.path(), &["long.csv", "rep"]),
                Vec::<String>::new(),
                "no build directory or lock after {sig_name} at {ms} ms"
            );
        }
    }
    assert!(interrupted > 0, "at least one rerun was stopped mid-way");
}

/// A signal the parent set to be ignored stays ignored (`nohup evident batch …` survives the
/// SIGHUP of a closed terminal): the run ends normally with its complete output.
#[test]
fn an_ignored_sighup_stays_ignored() {
    let n = 60_000;
    let dir = tempfile::tempdir().unwrap();
    let input = long_input(dir.path(), n);
    let out = dir.path().join("out.csv");
    let end = signal_after_with(
        &batch_args(&input, &out),
        libc::SIGHUP,
        Duration::from_millis(100),
        libc::SIG_IGN,
    );
    assert_eq!(end, Ok(0), "an ignored SIGHUP ended the run");
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        csv::Reader::from_reader(text.as_bytes()).records().count(),
        n
    );
}
