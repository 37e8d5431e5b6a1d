//! The file generated from the corpus (`tests/conformance/cases/*/expected.json`): the list of
//! per-analysis tests (`cases.rs`).

use crate::common::Case;
use serde_json::Value;
use std::collections::BTreeMap;
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

/// `tests/conformance/cases.rs`: one `case!(test, "case", "id");` line per analysis. Panics if
/// two analyses would get the same test name.
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
        writeln!(out, "case!({name}, {:?}, {:?});", case.name, id(a)).unwrap();
    }
    out
}
