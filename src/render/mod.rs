//! Renderers: pure functions of results. Readable text ([`text`]), JSON with metafor's keys
//! ([`json`]), figures ([`plot`]: SVG, PNG, PDF) and HTML pages ([`html`]). A renderer never fits
//! a model, never recomputes a number and never writes a file.

pub mod aggregate;
pub mod decimal;
pub mod docx;
pub mod html;
pub mod json;
pub mod plot;
pub mod pooling;
pub mod pvalue;
pub mod rcode;
pub mod revman;
pub mod text;

/// Neutralises spreadsheet formula injection in a CSV cell of user text: a cell starting with
/// `=`, `+`, `-`, `@`, tab or CR is prefixed with an apostrophe (OWASP's recommendation).
pub fn csv_safe(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}

/// A slug of user text for names that also appear in links (report directories): stricter than
/// `app::atomic::sanitize_name`, which keeps the text readable, because a URL wants no escaping. Only
/// `[A-Za-z0-9_-]` (anything else becomes `_`, runs collapse), never empty, never `.` or `..`,
/// at most 80 characters.
pub fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            c
        } else {
            '_'
        };
        if !(c == '_' && s.ends_with('_')) {
            s.push(c);
        }
    }
    let s: String = s.trim_matches('_').chars().take(80).collect();
    if s.is_empty() {
        "analysis".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_stay_one_component() {
        assert_eq!(slug("../../etc/x"), "etc_x");
        assert_eq!(slug(".."), "analysis");
        assert_eq!(slug(""), "analysis");
        assert_eq!(slug("BCG (OR) — 1994"), "BCG_OR_1994");
        assert_eq!(slug("a/b\\c"), "a_b_c");
    }
}
