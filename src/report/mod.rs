//! Renderers of fitted models: JSON objects with metafor's keys, readable text summaries.

pub mod batch;
pub mod decimal;
pub mod html;
pub mod json;
pub mod manifest;
pub mod page;
pub mod text;

/// Neutralises spreadsheet formula injection in a CSV cell of user text: a cell starting with
/// `=`, `+`, `-`, `@`, tab or CR is prefixed with an apostrophe (OWASP's recommendation).
pub fn csv_safe(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}
