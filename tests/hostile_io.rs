//! Hostile command lines: an output that is the input, out-of-range Fisher-scoring controls,
//! file names at the file system's limit, analysis names that differ only in white space.

mod common;

use common::cli::evident;
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
