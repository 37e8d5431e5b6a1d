//! Renderers: pure functions of results. Readable text ([`text`]), JSON with metafor's keys
//! ([`json`]), figures ([`plot`]: SVG, PNG, PDF) and HTML pages ([`html`]). A renderer never fits
//! a model, never recomputes a number and never writes a file.

pub mod decimal;
pub mod html;
pub mod json;
pub mod plot;
pub mod text;

/// Neutralises spreadsheet formula injection in a CSV cell of user text: a cell starting with
/// `=`, `+`, `-`, `@`, tab or CR is prefixed with an apostrophe (OWASP's recommendation).
pub fn csv_safe(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}
