//! `evident batch` gives, for each analysis, exactly the numbers of `evident pool` on it alone.

use std::process::Command;

const BCG: &str = include_str!("conformance/cases/bcg_or/input.csv");

#[test]
fn batch_rows_equal_single_pool_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = BCG.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    // Three analyses: rows 0..5, 5..9, 9..13; and one whose only row has no data.
    let mut long = format!("analysis,{header}\n");
    let mut singles = Vec::new();
    for (name, range) in [("first", 0..5), ("second", 5..9), ("third", 9..13)] {
        let mut single = format!("{header}\n");
        for r in &rows[range] {
            long.push_str(&format!("{name},{r}\n"));
            single.push_str(&format!("{r}\n"));
        }
        let p = dir.path().join(format!("{name}.csv"));
        std::fs::write(&p, single).unwrap();
        singles.push((name, p));
    }
    long.push_str("broken,Nobody,,,,,1,1,x\n");
    let lp = dir.path().join("long.csv");
    std::fs::write(&lp, &long).unwrap();
    let out = dir.path().join("out.csv");
    let st = Command::new(env!("CARGO_BIN_EXE_evident"))
        .args([
            "batch",
            lp.to_str().unwrap(),
            "--measure",
            "OR",
            "-o",
            out.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(2), "one analysis fails, so exit code 2");
    let text = std::fs::read_to_string(&out).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let hdr = rdr.headers().unwrap().clone();
    let recs: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 4);
    let col = |name: &str| hdr.iter().position(|h| h == name).unwrap();
    for (i, (name, p)) in singles.iter().enumerate() {
        let o = Command::new(env!("CARGO_BIN_EXE_evident"))
            .args(["pool", p.to_str().unwrap(), "--measure", "OR", "--json"])
            .output()
            .unwrap();
        assert!(o.status.success());
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let r = &recs[i];
        assert_eq!(&r[col("analysis")], *name);
        for (key, jkey) in [
            ("estimate", "estimate"),
            ("se", "se"),
            ("pval", "pval"),
            ("ci_lb", "ci_lb"),
            ("pi_ub", "pi_ub"),
            ("tau2", "tau2"),
            ("tau2_ci_ub", "tau2_ci_ub"),
            ("I2", "I2"),
            ("Q_pval", "Q_pval"),
            ("estimate_exp", "estimate_exp"),
        ] {
            let got: f64 = r[col(key)].parse().unwrap();
            let want = j[jkey].as_f64().unwrap();
            assert_eq!(got, want, "{name} {key}");
        }
    }
    assert!(
        recs[3][col("error")].contains("no studies"),
        "{:?}",
        &recs[3]
    );
}

#[test]
fn non_contiguous_analysis_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let lp = dir.path().join("long.csv");
    std::fs::write(
        &lp,
        "analysis,study,yi,vi\na,1,0.1,0.1\na,2,0.3,0.1\nb,1,0.2,0.1\na,3,0.5,0.1\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_evident"))
        .args(["batch", lp.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("not contiguous"), "{text}");
    assert_eq!(o.status.code(), Some(2));
}
