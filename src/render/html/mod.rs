//! HTML building blocks for the report: escaping, the stylesheet, tables. Every piece of user text
//! (labels, titles, column names, file names, error messages) goes through [`escape_html`].

pub mod analysis;
pub mod extras;
pub mod findings;
pub mod glmm;
pub mod metareg;
pub mod multilevel;
pub mod page;
pub mod prose;

/// Escapes Markdown cell text: the characters that would start markup get a backslash, line
/// breaks become spaces (`summary.md`, `index.md`).
pub fn escape_md(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            o.push('\\');
        }
        o.push(if c == '\n' { ' ' } else { c });
    }
    o
}

/// Escapes text for HTML element content and quoted attribute values: `& < > " '`.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An SVG document ready to inline in HTML: the XML declaration dropped, and a class for sizing.
pub fn inline_svg(svg: &str, class: &str) -> String {
    let s = svg.trim();
    let s = match s.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(rest, |(_, r)| r).trim_start(),
        None => s,
    };
    match s.strip_prefix("<svg") {
        Some(rest) => format!("<svg class=\"{}\" role=\"img\"{rest}", escape_html(class)),
        None => String::new(),
    }
}

/// A table from escaped-by-caller cells: `head` cells and `rows`; columns after the first are
/// right-aligned numbers unless listed in `left`. The table sits in a box of its own that scrolls
/// sideways when it is wider than the page (a phone), so the page itself never does.
pub fn table(head: &[String], rows: &[Vec<String>], left: &[usize]) -> String {
    let mut s = String::from("<div class=\"tbl\">\n<table>\n<thead><tr>");
    let align = |i: usize| {
        if i == 0 || left.contains(&i) {
            ""
        } else {
            " class=\"num\""
        }
    };
    for (i, h) in head.iter().enumerate() {
        s.push_str(&format!("<th{}>{h}</th>", align(i)));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for r in rows {
        s.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            s.push_str(&format!("<td{}>{c}</td>", align(i)));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table>\n</div>\n");
    s
}

/// The page frame: doctype, inline stylesheet, no external resources.
pub fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape_html(title)
    )
}

/// The stylesheet: system fonts with fallbacks, print-friendly, no web fonts.
pub const CSS: &str = r#"
:root { --ink: #1a1a1a; --muted: #5a5a5a; --rule: #d0d4d9; --accent: #1f4e79; --warn-bg: #fff6e0; --warn: #8a5a00; --bad: #a11d1d; --soft: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font-family: "Source Sans Pro", "Segoe UI", "Helvetica Neue", Arial, "DejaVu Sans", sans-serif; font-size: 16px; line-height: 1.5; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 32px 60px; overflow-wrap: break-word; }
h1 { font-size: 1.7rem; line-height: 1.25; margin: 0 0 4px; color: var(--accent); font-weight: 600; }
h2 { font-size: 1.2rem; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--rule); color: var(--accent); font-weight: 600; }
h3 { font-size: 1rem; margin: 20px 0 6px; }
p { margin: 8px 0; }
a { color: var(--accent); }
.sub { color: var(--muted); margin: 0 0 18px; }
.crumb { font-size: 0.9rem; margin-bottom: 10px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; margin: 16px 0; }
.card { background: var(--soft); border: 1px solid var(--rule); border-radius: 6px; padding: 10px 14px; }
.card .k { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
.card .v { font-size: 1.25rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .d { font-size: 0.85rem; color: var(--muted); }
.paste { background: var(--soft); border-left: 4px solid var(--accent); padding: 10px 14px; margin: 10px 0; }
.warn { background: var(--warn-bg); border: 1px solid #f0d38a; border-radius: 6px; padding: 10px 14px 10px 14px; margin: 14px 0; color: #4a3500; }
.warn ul { margin: 4px 0 0 18px; padding: 0; }
.err { color: var(--bad); }
.na { color: var(--muted); font-style: italic; }
figure { margin: 12px 0; }
figure svg { display: block; max-width: 100%; height: auto; }
svg.funnel { max-width: min(100%, 560px); }
figure a.full { display: block; }
svg.bubble { max-width: min(100%, 560px); }
figcaption { font-size: 0.9rem; color: var(--muted); margin-top: 4px; }
.tbl { max-width: 100%; overflow-x: auto; margin: 8px 0 12px; }
table { border-collapse: collapse; font-size: 0.92rem; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--rule); vertical-align: top; text-align: left; }
thead th { border-bottom: 2px solid #9aa3ad; font-weight: 600; background: var(--soft); }
td.num, th.num { text-align: right; white-space: nowrap; }
tbody tr:hover { background: #fafbfc; }
.tag { display: inline-block; font-size: 0.75rem; padding: 1px 7px; margin: 1px 2px; border-radius: 10px; background: #e8edf3; color: #34495e; white-space: nowrap; }
.tag.warn-tag { background: #fbe7b5; color: #6b4a00; }
.tag.bad { background: #f6d2d2; color: var(--bad); }
.files a { margin-right: 14px; }
.refs { font-size: 0.88rem; color: #333; }
.refs li { margin-bottom: 3px; }
pre { background: var(--soft); padding: 10px; overflow-x: auto; font-size: 0.85rem; }
footer { margin-top: 40px; font-size: 0.85rem; color: var(--muted); border-top: 1px solid var(--rule); padding-top: 10px; }
@media (max-width: 600px) { main { padding: 16px 12px 40px; } h1 { font-size: 1.4rem; } th, td { padding: 4px 7px; } }
@media print { .tbl { overflow: visible; } main { max-width: none; padding: 0; } h2 { break-after: avoid; } figure { break-inside: avoid; } }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape_html("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(
            escape_html("a & \"b\" 'c'"),
            "a &amp; &quot;b&quot; &#39;c&#39;"
        );
        assert_eq!(escape_html("τ² ≥ 0"), "τ² ≥ 0");
        assert_eq!(escape_html("&amp;"), "&amp;amp;");
    }

    #[test]
    fn inline_svg_drops_the_declaration() {
        let s = inline_svg("<?xml version=\"1.0\"?>\n<svg width=\"3\"></svg>", "forest");
        assert_eq!(s, "<svg class=\"forest\" role=\"img\" width=\"3\"></svg>");
    }
}
