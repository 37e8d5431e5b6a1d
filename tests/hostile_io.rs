//! Hostile command lines: an output that is the input, out-of-range Fisher-scoring controls,
//! file names at the file system's limit, analysis names that differ only in white space.

mod common;

use common::cli::evident;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
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
