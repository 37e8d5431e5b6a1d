//! `pool --show-r`: the printed metafor code, run through R (when Rscript and metafor are
//! installed), gives evident's estimate, SE and tau^2 to 1e-8 relative.

use std::path::Path;
use std::process::Command;

fn evident_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_evident"))
        .arg("pool")
        .args(args)
        .args(["--json", "--show-r"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn r_available() -> bool {
    Command::new("Rscript")
        .args(["-e", "library(metafor); library(jsonlite)"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn num(v: &serde_json::Value) -> f64 {
    match v {
        serde_json::Value::Array(a) => num(&a[0]),
        v => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-8 * a.abs().max(b.abs()).max(1e-12)
}

const CASES: &[&[&str]] = &[
    &["data/bcg.csv", "--measure", "RR"],
    &[
        "data/bcg.csv",
        "--measure",
        "OR",
        "--method",
        "DL",
        "--test",
        "z",
    ],
    &["data/bcg.csv", "--measure", "RR", "--method", "FE"],
    &["data/bcg.csv", "--measure", "OR", "--method", "MH"],
    &["data/bcg.csv", "--method", "PETO"],
    &[
        "data/bcg.csv",
        "--measure",
        "RD",
        "--method",
        "PM",
        "--level",
        "90",
    ],
    &[
        "data/bcg.csv",
        "--measure",
        "RR",
        "--mods",
        "ablat + factor(alloc)",
    ],
    &[
        "data/bcg.csv",
        "--measure",
        "RR",
        "--method",
        "ML",
        "--mods",
        "year",
    ],
    &["data/pilots_completion.csv", "--measure", "PLO"],
    &[
        "data/als_responders.csv",
        "--measure",
        "PLO",
        "--add",
        "0.25",
    ],
    &["data/lupus_tacrolimus_addon.csv", "--preset", "metafor"],
    &[
        "data/ms_mitoxantrone_rescue.csv",
        "--measure",
        "PR",
        "--method",
        "SJ",
    ],
];

#[test]
fn printed_code_reproduces_the_fit_in_r() {
    if !r_available() {
        eprintln!("skipped: Rscript with metafor and jsonlite is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, case) in CASES.iter().enumerate() {
        let v = evident_json(case);
        let code = v["r_code"].as_str().expect("r_code");
        let script = dir.path().join(format!("case{i}.R"));
        let full = format!(
            "{code}\ncat(jsonlite::toJSON(list(b=unname(coef(res)), se=res$se, tau2=res$tau2), digits=NA))\n"
        );
        std::fs::write(&script, full).unwrap();
        let out = Command::new("Rscript")
            .arg(&script)
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{case:?}: {}\n{code}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let json = &stdout[stdout.rfind('{').unwrap()..];
        let r: serde_json::Value = serde_json::from_str(json).unwrap();
        let (b, se): (Vec<f64>, Vec<f64>) = match v.get("coefficients") {
            Some(serde_json::Value::Array(cs)) => cs
                .iter()
                .map(|c| (num(&c["estimate"]), num(&c["se"])))
                .unzip(),
            _ => {
                let b = v
                    .get("b")
                    .or_else(|| v.get("beta"))
                    .or_else(|| v.get("estimate"));
                let b = b.unwrap_or_else(|| panic!("{case:?}: no estimate key in {v}"));
                (vec![num(b)], vec![num(&v["se"])])
            }
        };
        let rv = |k: &str| -> Vec<f64> {
            match &r[k] {
                serde_json::Value::Array(a) => a.iter().map(num).collect(),
                x => vec![num(x)],
            }
        };
        let (rb, rse) = (rv("b"), rv("se"));
        assert_eq!(b.len(), rb.len(), "{case:?}: coefficients");
        for j in 0..b.len() {
            assert!(
                close(b[j], rb[j]),
                "{case:?}: b[{j}] {} vs R {}",
                b[j],
                rb[j]
            );
            assert!(
                close(se[j], rse[j]),
                "{case:?}: se[{j}] {} vs R {}",
                se[j],
                rse[j]
            );
        }
        if let Some(t) = v.get("tau2").filter(|t| !t.is_null()) {
            assert!(
                close(num(t), num(&r["tau2"])),
                "{case:?}: tau2 {t} vs R {}",
                r["tau2"]
            );
        }
    }
}

#[test]
fn names_are_escaped_as_r_literals() {
    use evident::render::rcode::{r_name, r_string};
    assert_eq!(r_string(r#"C:\data\"x".csv"#), r#""C:\\data\\\"x\".csv""#);
    assert_eq!(r_name("ai"), "ai");
    assert_eq!(r_name("events treated"), "`events treated`");
    assert_eq!(r_name("a`b"), "`a\\`b`");
    assert_eq!(r_name("1st"), "`1st`");
    assert_eq!(r_name("if"), "`if`");
}
