#![allow(clippy::neg_cmp_op_on_partial_ord)]
//! What the integration tests share: the named tolerances (`tol`), the one runner of the
//! `evident` binary (`cli`), and the conformance helpers: loading cases, mapping options,
//! comparing numbers (`bias`, `moderators` dispatch those kinds), and the texts of an SVG (`svg`).
#![allow(dead_code)]

pub mod bias;
pub mod check;
pub mod chromium;
pub mod cli;
pub mod glmm;
pub mod moderators;
pub mod multilevel;
pub mod robust;
pub mod selmodel;
pub mod svg;
pub mod tol;

pub use tol::*;

use evident::data::{read_studies, ColumnMap, CsvOptions, Studies};
use evident::effect::{AddTo, EscalcOptions, VType};
use evident::model::design::Intercept;
use evident::model::heterogeneity::{q_profile, QProfileControl};
use evident::model::Control;
use evident::model::Method;
use evident::model::RmaFit;
use evident::model::RmaOptions;
use evident::model::Test;
use evident::pool::mh::MhOptions;
use evident::Scale;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A JSON array of numbers as a vector (panics naming the value if it is not one).
pub fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/cases")
}

pub struct Case {
    pub name: String,
    pub dir: PathBuf,
    pub expected: Value,
}

pub fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = std::fs::read_dir(cases_dir())
        .expect("tests/conformance/cases exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("expected.json").exists())
        .map(|e| {
            let dir = e.path();
            let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
            Case {
                name: e.file_name().to_string_lossy().into_owned(),
                expected: serde_json::from_str(&text).unwrap(),
                dir,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

pub fn studies(case: &Case) -> Studies {
    read_studies(
        &case.dir.join("input.csv"),
        &CsvOptions::default(),
        &ColumnMap::new(),
    )
    .unwrap()
}

/// The studies of a case as read for `measure` (its column sets tried first).
pub fn studies_for(case: &Case, measure: evident::Measure) -> Studies {
    let table =
        evident::Table::from_path(&case.dir.join("input.csv"), &CsvOptions::default()).unwrap();
    Studies::from_table_for(&table, &ColumnMap::new(), Some(measure)).unwrap()
}

fn first(v: &Value) -> &Value {
    match v {
        Value::Array(a) => &a[0],
        other => other,
    }
}

fn second(v: &Value) -> &Value {
    match v {
        Value::Array(a) => &a[1],
        other => other,
    }
}

fn to(v: &Value) -> AddTo {
    v.as_str().unwrap().parse().unwrap()
}

pub fn escalc_options(opts: &Value) -> EscalcOptions {
    let mut o = EscalcOptions::default();
    if let Some(a) = opts.get("add") {
        o.add = first(a).as_f64().unwrap();
    }
    if let Some(t) = opts.get("to") {
        o.to = to(first(t));
    }
    if let Some(d) = opts.get("drop00") {
        o.drop00 = first(d).as_bool().unwrap();
    }
    if let Some(v) = opts.get("vtype") {
        o.vtype = v.as_str().unwrap().parse::<VType>().unwrap();
    }
    o
}

pub fn mh_options(opts: &Value) -> MhOptions {
    let mut o = MhOptions::default();
    if let Some(a) = opts.get("add") {
        o.add = [first(a).as_f64().unwrap(), second(a).as_f64().unwrap()];
    }
    if let Some(t) = opts.get("to") {
        o.to = [to(first(t)), to(second(t))];
    }
    if let Some(d) = opts.get("drop00") {
        o.drop00 = [first(d).as_bool().unwrap(), second(d).as_bool().unwrap()];
    }
    if let Some(c) = opts.get("correct") {
        o.correct = c.as_bool().unwrap();
    }
    if let Some(l) = opts.get("level") {
        o.level = evident::model::Level::new(l.as_f64().unwrap()).unwrap();
    }
    o
}

/// Reads `name=value` from an R call's `control=list(...)`.
pub fn control_from_call(call: &str, mut con: Control) -> Control {
    if let Some(start) = call.find("control=list(") {
        let rest = &call[start + "control=list(".len()..];
        let body = &rest[..rest.find(')').unwrap_or(rest.len())];
        for part in body.split(',') {
            let mut kv = part.splitn(2, '=');
            let (k, v) = (kv.next().unwrap().trim(), kv.next().unwrap_or("").trim());
            let num = || {
                v.parse::<f64>()
                    .unwrap_or_else(|_| panic!("control value {v} in {call}"))
            };
            match k {
                "threshold" => con.threshold = num(),
                "maxiter" => {
                    con.maxiter = num() as usize;
                    con.uniroot_maxiter = num() as usize;
                }
                "tol" => con.tol = num(),
                "stepadj" => con.stepadj = num(),
                "ll0check" => con.ll0check = v == "TRUE",
                other => panic!("unknown control {other} in {call}"),
            }
        }
    }
    con
}

pub fn rma_options(opts: &Value, call: &str) -> RmaOptions {
    let mut o = RmaOptions {
        method: opts["method"].as_str().unwrap().parse::<Method>().unwrap(),
        test: opts
            .get("test")
            .and_then(|t| t.as_str())
            .unwrap_or("z")
            .parse::<Test>()
            .unwrap(),
        level: evident::model::Level::new(
            opts.get("level").and_then(|l| l.as_f64()).unwrap_or(95.0),
        )
        .unwrap(),
        ..RmaOptions::default()
    };
    if let Some(c) = opts.get("control") {
        if let Some(s) = c.get("stepadj").and_then(|v| v.as_f64()) {
            o.control.stepadj = s;
        }
        if let Some(b) = c.get("ll0check").and_then(|v| v.as_bool()) {
            o.control.ll0check = b;
        }
        if let Some(m) = c.get("maxiter").and_then(|v| v.as_u64()) {
            o.control.maxiter = m as usize;
            o.control.uniroot_maxiter = m as usize;
        }
        if let Some(t) = c.get("threshold").and_then(|v| v.as_f64()) {
            o.control.threshold = t;
        }
    }
    o.control = control_from_call(call, o.control);
    o
}

/// Compares `got` with `expected`, recursing into arrays; pushes one message per miss.
pub fn compare(
    path: &str,
    expected: &Value,
    got: Option<&Value>,
    tol: Tol,
    misses: &mut Vec<String>,
) {
    let Some(got) = got else {
        misses.push(format!(
            "{path}: expected {expected}, got nothing (key missing)"
        ));
        return;
    };
    match (expected, got) {
        (Value::Null, Value::Null) => {}
        (Value::Number(e), Value::Number(g)) => {
            let (e, g) = (e.as_f64().unwrap(), g.as_f64().unwrap());
            if !((g - e).abs() <= tol.atol + tol.rtol * e.abs()) {
                misses.push(format!(
                    "{path}: expected {e:e}, got {g:e} (diff {:.2e})",
                    (g - e).abs()
                ));
            }
        }
        (Value::Array(e), Value::Array(g)) => {
            if e.len() != g.len() {
                misses.push(format!(
                    "{path}: expected {} entries, got {}",
                    e.len(),
                    g.len()
                ));
                return;
            }
            for (i, (ev, gv)) in e.iter().zip(g).enumerate() {
                compare(&format!("{path}[{i}]"), ev, Some(gv), tol, misses);
            }
        }
        (e, g) if e == g => {}
        (e, g) => misses.push(format!("{path}: expected {e}, got {g}")),
    }
}

/// The scale of pre-computed (GEN) effects, as the corpus says it through the back-transformed
/// keys it expects (the CLI's `--scale`).
pub fn gen_scale(expected: &Value) -> Scale {
    let has = |k: &str| expected.get(k).is_some();
    if has("estimate_exp") {
        Scale::Log
    } else if has("estimate_ilogit") {
        Scale::Logit
    } else if has("estimate_ztor") {
        Scale::FisherZ
    } else {
        Scale::Identity
    }
}

/// Compares a `*_precise` key: the Q-profile CI recomputed with tol = 1e-12 (metafor's
/// `confint(res, control = list(tol = 1e-12))`).
pub fn compare_precise(
    path: &str,
    key: &str,
    ev: &Value,
    fit: &RmaFit,
    level: f64,
    misses: &mut Vec<String>,
) {
    let set = &fit.effects;
    let (tau2, vt) = (fit.tau2, fit.het.vt);
    let ci = q_profile(
        &Intercept { k: set.k() },
        &set.yi,
        &set.vi,
        tau2,
        vt,
        level,
        &QProfileControl {
            tol: 1e-12,
            maxiter: 1000,
        },
    );
    let Some(ci) = ci else {
        misses.push(format!("{path}: no CI computed"));
        return;
    };
    let val = match key.trim_end_matches("_precise") {
        "tau2_ci_lb" => ci.tau2_lb,
        "tau2_ci_ub" => ci.tau2_ub,
        "I2_ci_lb" => ci.i2_lb,
        "I2_ci_ub" => ci.i2_ub,
        "H2_ci_lb" => ci.h2_lb,
        "H2_ci_ub" => ci.h2_ub,
        "tau_ci_lb" => ci.tau_lb,
        "tau_ci_ub" => ci.tau_ub,
        other => panic!("unknown precise key {other}"),
    };
    compare(path, ev, Some(&json!(val)), PRECISE, misses);
}
