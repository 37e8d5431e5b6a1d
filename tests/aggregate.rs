//! `evident aggregate` against metafor 3.8-1's `aggregate.escalc` on dat.assink2016
//! (`tests/fixtures/aggregate/make.R` wrote `assink.csv` and `expected.json`): CS at two rho,
//! ID, unweighted; the carried columns (means, most frequent text); the non-positive-definite
//! refusal; the CLI's CSV read back as input.

mod common;

use common::check::{fixture, fixture_expected as expected, Check};
use common::cli::{evident, run_ok};
use common::RTOL;
use evident::data::{read_studies, ColumnMap, CsvOptions, Value};
use evident::effect::{EffectSet, EscalcOptions};
use evident::multilevel::aggregate::{aggregate, AggregateOptions, AggregateStruct, Aggregated};
use evident::Measure;

fn input() -> std::path::PathBuf {
    fixture("aggregate").join("assink.csv")
}

fn set() -> EffectSet {
    let studies = read_studies(&input(), &CsvOptions::default(), &ColumnMap::new()).unwrap();
    EffectSet::from_studies(&studies, Measure::GEN, &EscalcOptions::default()).unwrap()
}

fn options(e: &serde_json::Value) -> AggregateOptions {
    AggregateOptions {
        cluster: "paper".into(),
        structure: match e["struct"].as_str().unwrap() {
            "ID" => AggregateStruct::Id,
            _ => AggregateStruct::Cs {
                rho: e["rho"].as_f64().unwrap(),
            },
        },
        weighted: e["weighted"].as_bool().unwrap(),
    }
}

fn column<'a>(a: &'a Aggregated, name: &str) -> &'a [Value] {
    &a.columns.iter().find(|c| c.name == name).unwrap().values
}

#[test]
fn aggregate_matches_metafor() {
    let all = expected("aggregate");
    let set = set();
    let mut c = Check::default();
    let mut text = 0;
    for (key, e) in all.as_object().unwrap() {
        let a = aggregate(&set, &options(e)).unwrap();
        c.arr(&format!("{key} yi"), &e["yi"], &a.yi, RTOL);
        c.arr(&format!("{key} vi"), &e["vi"], &a.vi, RTOL);
        let ki: Vec<f64> = a.ki.iter().map(|&k| k as f64).collect();
        c.arr(&format!("{key} ki"), &e["ki"], &ki, 0.0);
        for name in ["paper", "esid", "pubstatus", "year"] {
            let got: Vec<f64> = column(&a, name)
                .iter()
                .map(|v| match v {
                    Value::Number(x) => *x,
                    _ => f64::NAN,
                })
                .collect();
            c.arr(&format!("{key} {name}"), &e[name], &got, RTOL);
        }
        for name in ["deltype", "mixed"] {
            let want: Vec<&str> = e[name]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            let got: Vec<String> = column(&a, name).iter().map(Value::as_text).collect();
            assert_eq!(got, want, "{key} {name}");
            text += want.len();
        }
    }
    assert_eq!(text, 4 * 2 * 17);
    c.done(4 * 17 * 7);
}

#[test]
fn not_positive_definite_names_the_cluster() {
    let opts = AggregateOptions {
        cluster: "paper".into(),
        structure: AggregateStruct::Cs { rho: -0.2 },
        weighted: true,
    };
    let err = aggregate(&set(), &opts).unwrap_err().to_string();
    assert!(
        err.contains("paper = 1") && err.contains("not positive definite"),
        "{err}"
    );
}

#[test]
fn bad_rho_and_unknown_cluster_are_refused() {
    let mut opts = AggregateOptions {
        cluster: "paper".into(),
        structure: AggregateStruct::Cs { rho: 1.5 },
        weighted: true,
    };
    let err = aggregate(&set(), &opts).unwrap_err().to_string();
    assert!(err.contains("[-1, 1]") && err.contains("1.5"), "{err}");
    opts.structure = AggregateStruct::Id;
    opts.cluster = "nope".into();
    let err = aggregate(&set(), &opts).unwrap_err().to_string();
    assert!(err.contains("'nope'") && err.contains("paper"), "{err}");
}

#[test]
fn cli_csv_matches_metafor_and_reads_back() {
    let e = &expected("aggregate")["cs06"];
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("agg.csv");
    run_ok([
        "aggregate".as_ref(),
        input().as_os_str(),
        "--cluster".as_ref(),
        "paper".as_ref(),
        "--rho".as_ref(),
        "0.6".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    let studies = read_studies(&out, &CsvOptions::default(), &ColumnMap::new()).unwrap();
    let back = EffectSet::from_studies(&studies, Measure::GEN, &EscalcOptions::default()).unwrap();
    let mut c = Check::default();
    c.arr("yi", &e["yi"], &back.yi, RTOL);
    c.arr("vi", &e["vi"], &back.vi, RTOL);
    c.done(34);
    let header = std::fs::read_to_string(&out).unwrap();
    assert!(header.starts_with("paper,esid,pubstatus,year,deltype,mixed,yi,vi,ki\n"));
}

#[test]
fn cli_json_and_refusals() {
    let e = &expected("aggregate")["id"];
    let path = input();
    let p = path.to_str().unwrap();
    let r = run_ok([
        "aggregate",
        p,
        "--cluster",
        "paper",
        "--struct",
        "ID",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let yi: Vec<f64> = v["yi"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let mut c = Check::default();
    c.arr("yi", &e["yi"], &yi, RTOL);
    c.done(17);
    assert_eq!(v["struct"], "ID");
    assert_eq!(v["columns"]["deltype"][11], "overt");
    let r = evident(["aggregate", p, "--cluster", "paper"]);
    assert!(!r.ok && r.stderr.contains("--rho"), "{}", r.stderr);
    let r = evident(["aggregate", p, "--cluster", "paper", "--rho", "-0.2"]);
    assert!(!r.ok && r.stderr.contains("paper = 1"), "{}", r.stderr);
}
