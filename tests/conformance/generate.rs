//! The two files generated from the corpus (`tests/conformance/cases/*/expected.json`): the list
//! of per-analysis tests (`cases.rs`) and the coverage table (`COVERAGE.md`).

use crate::common::Case;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// The command that rewrites the generated files.
pub const BLESS: &str = "EVIDENT_BLESS=1 cargo test --release --test conformance";

/// The test of analysis `id` of case `case`: `<case>__<id>`, lower case, every character other
/// than an ASCII letter or digit replaced by `_`.
pub fn test_name(case: &str, id: &str) -> String {
    let name: String = format!("{case}__{id}")
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    }
}

/// Every analysis of every case, in case-name then file order.
fn analyses(cases: &[Case]) -> Vec<(&Case, &Value)> {
    cases
        .iter()
        .flat_map(|c| {
            c.expected["analyses"]
                .as_array()
                .unwrap_or_else(|| panic!("{}: expected.json has no analyses array", c.name))
                .iter()
                .map(move |a| (c, a))
        })
        .collect()
}

fn id(a: &Value) -> &str {
    a["id"].as_str().expect("every analysis has a string id")
}

fn kind(a: &Value) -> &str {
    a["kind"]
        .as_str()
        .expect("every analysis has a string kind")
}

/// Kinds the harness lists but does not run yet (none since issue 19 made `selmodel` pass);
/// measures the library does not know wait too: see [`pending`].
pub const PENDING: &[&str] = &[];

/// Analyses whose reference numbers are rounding noise, not run: white2020's CR2 fit of
/// `~ col_component + col_component:exp_obs - 1`, where `col_componentzcombined` is identified
/// by the one cluster p305 alone, so its CR2 variance is exactly 0 and metafor's se (1.3e-16),
/// t, Satterthwaite df and HTZ QM (1.6e31) are floating-point residue of that 0 (evident gives
/// se 0 and leaves its tests undefined: `tests/robust_cli.rs`).
pub const NOISE: &[&str] = &["robust_CR2_colcomp_nested_expobs_REML"];

/// An analysis not run yet: a kind of [`PENDING`]; an `escalc` or `rma` analysis of a measure
/// `evident::Measure` does not parse yet (issue 18); the [`NOISE`] of `robust`.
pub fn pending(a: &Value) -> bool {
    match kind(a) {
        "robust" => NOISE.contains(&a["id"].as_str().unwrap_or("")),
        "escalc" | "rma" | "rma.glmm" => a["options"]["measure"]
            .as_str()
            .is_some_and(|m| m.parse::<evident::Measure>().is_err()),
        k => PENDING.contains(&k),
    }
}

/// `tests/conformance/cases.rs`: one `case!(test, "case", "id");` line per analysis (`pending!`
/// for the analyses [`pending`] says wait). Panics if two analyses would get the same test name.
pub fn case_list(cases: &[Case]) -> String {
    let mut out = format!(
        "// @generated from tests/conformance/cases/*/expected.json by tests/conformance.rs; do not\n\
         // edit. One test per analysis: case!(<case>__<analysis id>, case, analysis id), the name in\n\
         // lower case with other characters as `_`. Regenerate: {BLESS}\n"
    );
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (case, a) in analyses(cases) {
        let name = test_name(&case.name, id(a));
        let full = format!("{}/{}", case.name, id(a));
        if let Some(other) = seen.insert(name.clone(), full.clone()) {
            panic!("{other} and {full} both give the test name {name}: rename one analysis id");
        }
        // Multilevel kinds wait for the rma.mv kernel: listed and ignored, so `cargo test` counts
        // them as ignored instead of passing them.
        let mac = if pending(a) { "pending" } else { "case" };
        writeln!(out, "{mac}!({name}, {:?}, {:?});", case.name, id(a)).unwrap();
    }
    out
}

/// metafor's estimators in the order of its documentation; others follow alphabetically.
const METHODS: &[&str] = &[
    "FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM", "MH", "Peto",
];
const TESTS: &[&str] = &["z", "knha"];
/// Measures by data type: 2x2 tables, incidence, means, correlations, proportions, given yi/vi.
const MEASURES: &[&str] = &[
    "OR", "RR", "RD", "PETO", "IRR", "IRD", "MD", "SMD", "ZCOR", "COR", "PLO", "PR", "GEN",
];
/// Kinds in the corpus README's order; others follow alphabetically.
const KINDS: &[&str] = &[
    "escalc",
    "rma",
    "rma.mh",
    "rma.peto",
    "metareg",
    "subgroup",
    "regtest",
    "ranktest",
    "trimfill",
    "leave1out",
    "cumul",
    "influence",
];

/// The options that make a row of a kind's table, in column order; the rest go to "settings".
fn columns(kind: &str) -> &'static [&'static str] {
    match kind {
        "escalc" => &["measure"],
        "rma.mh" | "rma.peto" => &["method", "measure"],
        "metareg" => &["method", "test", "measure", "mods"],
        "subgroup" => &["method", "test", "measure", "subgroup"],
        "regtest" => &["regtest_model", "predictor", "method", "test", "measure"],
        "trimfill" => &["estimator", "method", "test", "measure"],
        _ => &["method", "test", "measure"],
    }
}

/// A column's header.
fn label(column: &str) -> &str {
    match column {
        "regtest_model" => "model",
        other => other,
    }
}

/// Where `value` sorts in `order` (unknown values after the known ones).
fn rank(order: &[&str], value: &str) -> usize {
    order
        .iter()
        .position(|o| *o == value)
        .unwrap_or(order.len())
}

fn sort_key(column: &str, value: &str) -> (usize, String) {
    let order = match column {
        "method" => METHODS,
        "test" => TESTS,
        "measure" => MEASURES,
        _ => &[],
    };
    (rank(order, value), value.to_owned())
}

/// An option value as the table shows it: strings bare, anything else as JSON.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The settings of an analysis that differ from metafor's defaults (escalc's `add`, `to`,
/// `drop00`, `vtype`; `level`; MH's `correct`; ...), and the `control=list(...)` of its call.
/// `options.control` is not read: it mixes the method's defaults with descriptions, while the
/// call holds exactly what was set.
fn settings(kind: &str, a: &Value) -> String {
    let opts = a["options"].as_object().expect("options is an object");
    let listed = columns(kind);
    let mut out = Vec::new();
    for (key, v) in opts {
        if listed.contains(&key.as_str()) || key == "control" {
            continue;
        }
        let default = match key.as_str() {
            "add" => v == 0.5 || *v == serde_json::json!([0.5, 0]),
            "to" => v == "only0" || *v == serde_json::json!(["only0", "none"]),
            "drop00" => *v == Value::Bool(false) || *v == serde_json::json!([true, false]),
            "vtype" => v == "LS",
            "level" => v == 95,
            "correct" | "exact" => *v == Value::Bool(true),
            // Descriptions of the only behaviour there is (trimfill's side, cumul's order).
            "side" => v.as_str().is_some_and(|s| s.starts_with("auto")),
            "order" => v.as_str().is_some_and(|s| s.starts_with("data rows")),
            _ => false,
        };
        if !default {
            out.push(format!("{key}={}", show(v)));
        }
    }
    let call = a["call"].as_str().unwrap_or("");
    if let Some(start) = call.find("control=list(") {
        let rest = &call[start..];
        let end = rest.find(')').map_or(rest.len(), |e| e + 1);
        out.push(rest[..end].to_owned());
    }
    out.join(", ")
}

/// A table cell: `|` escaped.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// `case/id`, marked when metafor refused the analysis.
fn proof(case: &Case, a: &Value) -> String {
    let refused = a["expected"].get("error").is_some();
    format!(
        "`{}/{}`{}",
        case.name,
        id(a),
        if refused { " (refused)" } else { "" }
    )
}

/// Kinds present, in `KINDS` order then alphabetically.
fn kinds_in<'a>(all: &[(&'a Case, &'a Value)]) -> Vec<&'a str> {
    let mut kinds: Vec<&str> = all
        .iter()
        .map(|(_, a)| kind(a))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    kinds.sort_by_key(|k| (rank(KINDS, k), k.to_string()));
    kinds
}

/// `tests/conformance/COVERAGE.md`.
pub fn coverage(cases: &[Case]) -> String {
    let all = analyses(cases);
    let kinds = kinds_in(&all);
    let mut md = String::new();
    let w = &mut md;
    writeln!(w, "# Conformance coverage\n").unwrap();
    writeln!(
        w,
        "Generated from `tests/conformance/cases/*/expected.json` by `tests/conformance.rs`; do not\n\
         edit. After a change to the corpus, regenerate this file and the list of tests\n\
         (`tests/conformance/cases.rs`) with\n\
         \n\
         ```sh\n\
         {BLESS}\n\
         ```\n\
         \n\
         and commit both; the test `generated_files_are_current` fails while either is stale.\n\
         Every analysis below is one test, named `<case>__<analysis id>` in lower case with other\n\
         characters as `_`: `cargo test --release --test conformance bcg_or__rma_reml_knha` runs\n\
         one, `cargo test --release --test conformance reml_knha` every REML fit with Knapp-Hartung.\n\
         Each test compares every expected key at the tolerances of `tests/conformance/README.md`;\n\
         *(refused)* marks an analysis metafor refused, whose test checks that evident refuses it\n\
         too. *settings* are the options that differ from metafor's defaults.\n"
    )
    .unwrap();
    writeln!(
        w,
        "{} analyses in {} cases (`tests/conformance/cases/`).\n",
        all.len(),
        cases.len()
    )
    .unwrap();
    writeln!(w, "| kind | analyses | refused | measures |").unwrap();
    writeln!(w, "|---|---|---|---|").unwrap();
    for k in &kinds {
        let of: Vec<&Value> = all
            .iter()
            .filter(|(_, a)| kind(a) == *k)
            .map(|(_, a)| *a)
            .collect();
        let refused = of
            .iter()
            .filter(|a| a["expected"].get("error").is_some())
            .count();
        let mut measures: Vec<String> = of
            .iter()
            .map(|a| show(&a["options"]["measure"]))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        measures.sort_by_key(|m| sort_key("measure", m));
        writeln!(
            w,
            "| [{k}](#{}) | {} | {refused} | {} |",
            k.replace('.', ""),
            of.len(),
            measures.join(", ")
        )
        .unwrap();
    }
    if kinds.contains(&"rma") {
        rma_matrix(w, &all);
    }
    for k in &kinds {
        kind_table(w, k, &all);
    }
    md
}

/// Intercept-only fits: analyses per estimator and test (rows) and measure (columns), so that a
/// combination nobody checks shows as `·`.
fn rma_matrix(w: &mut String, all: &[(&Case, &Value)]) {
    let rma: Vec<&Value> = all
        .iter()
        .filter(|(_, a)| kind(a) == "rma")
        .map(|(_, a)| *a)
        .collect();
    let values = |key: &str| {
        let mut v: Vec<String> = rma
            .iter()
            .map(|a| show(&a["options"][key]))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        v.sort_by_key(|x| sort_key(key, x));
        v
    };
    let (methods, tests, measures) = (values("method"), values("test"), values("measure"));
    writeln!(
        w,
        "\n## rma: estimator × test × measure\n\n\
         Intercept-only `rma` analyses per combination (`·`: none); the analyses are listed under\n\
         [rma](#rma).\n"
    )
    .unwrap();
    writeln!(w, "| method | test | {} |", measures.join(" | ")).unwrap();
    writeln!(w, "|---|---|{}", "---|".repeat(measures.len())).unwrap();
    for m in &methods {
        for t in &tests {
            let counts: Vec<String> = measures
                .iter()
                .map(|me| {
                    let n = rma
                        .iter()
                        .filter(|a| {
                            let o = &a["options"];
                            show(&o["method"]) == *m
                                && show(&o["test"]) == *t
                                && show(&o["measure"]) == *me
                        })
                        .count();
                    if n == 0 {
                        "·".to_owned()
                    } else {
                        n.to_string()
                    }
                })
                .collect();
            writeln!(w, "| {m} | {t} | {} |", counts.join(" | ")).unwrap();
        }
    }
}

/// One kind: a row per combination of its columns and settings, with the analyses that prove it.
fn kind_table(w: &mut String, k: &str, all: &[(&Case, &Value)]) {
    let cols = columns(k);
    // Columns no analysis of this kind sets are left out.
    let cols: Vec<&str> = cols
        .iter()
        .copied()
        .filter(|c| {
            all.iter()
                .any(|(_, a)| kind(a) == k && a["options"].get(*c).is_some())
        })
        .collect();
    let mut rows: BTreeMap<Vec<(usize, String)>, Vec<String>> = BTreeMap::new();
    for (case, a) in all.iter().filter(|(_, a)| kind(a) == k) {
        let mut key: Vec<(usize, String)> = cols
            .iter()
            .map(|c| {
                let v = a["options"].get(*c).map_or("—".to_owned(), show);
                sort_key(c, &v)
            })
            .collect();
        key.push((0, settings(k, a)));
        rows.entry(key).or_default().push(proof(case, a));
    }
    writeln!(w, "\n## {k}\n").unwrap();
    let header: Vec<&str> = cols.iter().map(|c| label(c)).collect();
    writeln!(w, "| {} | settings | analyses |", header.join(" | ")).unwrap();
    writeln!(w, "|{}---|---|", "---|".repeat(cols.len())).unwrap();
    for (key, proofs) in rows {
        let (values, settings) = key.split_at(cols.len());
        let mut line = String::from("|");
        for (_, v) in values {
            write!(line, " {} |", cell(v)).unwrap();
        }
        let s = &settings[0].1;
        if s.is_empty() {
            line.push_str(" |");
        } else {
            write!(line, " `{}` |", cell(s)).unwrap();
        }
        write!(line, " {} |", proofs.join(", ")).unwrap();
        writeln!(w, "{line}").unwrap();
    }
}
