//! Headless Chromium for the browser tests: where it is, the flags it runs with on this closed
//! network, and a page's DOM once its scripts have run.

use std::path::Path;
use std::process::{Command, Output};

/// The Chromium binary, or `None` (after a SKIPPED message) on a machine without one; `.ci/run`
/// installs it.
pub fn find() -> Option<&'static str> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    if found.is_none() {
        println!("SKIPPED: no chromium on this machine (apt-get install chromium)");
    }
    found
}

/// Headless, and no background connections (the machine's closed network refuses them, many at
/// a time); each run also gets a fresh `--user-data-dir`.
pub const HEADLESS: [&str; 7] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// The DOM of `page` after its scripts ran (`--dump-dom`) with the `extra` flags, in a fresh
/// profile, killed after `timeout_s` seconds.
pub fn dump_dom(chromium: &str, page: &Path, timeout_s: u32, extra: &[&str]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    Command::new("timeout")
        .arg(timeout_s.to_string())
        .arg(chromium)
        .args(HEADLESS)
        .args(extra)
        .arg("--dump-dom")
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap()
}
