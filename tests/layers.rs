//! The architecture, enforced: the library's modules form layers that depend one way, down.
//!
//! ```text
//! cli (the binary)
//!  → app        workflows: batch, report, manifest, atomic file writing
//!  → render     text, JSON, plots, HTML: pure functions of results
//!  → analyses   pool, moderators, multilevel, robust, bias, sensitivity, reported
//!  → model      the rma kernel: options, design, τ² estimators, heterogeneity, fit
//!  → data, effect, measure
//!  → stats, error
//! ```
//!
//! Every `crate::…` and `super::…` path in `src/` (comments and strings aside) is an edge between
//! modules. An edge may point down the list or sideways between modules of one layer, never up,
//! and no group of sibling modules (at any depth) may import each other in a cycle. Renderers name
//! only types of the analysis, model and data layers (never a function: they neither fit nor
//! recompute; distribution functions of `stats`, which draw scales such as funnel contours, are
//! theirs to use). Inside the
//! library, items are named by their module path (not by the crate root's re-exports), so that
//! every edge is visible here. std only; no allowlist.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules by layer, from the top.
const LAYERS: &[&[&str]] = &[
    &["app"],
    &["render"],
    &[
        "pool",
        "moderators",
        "bias",
        "sensitivity",
        "reported",
        "multilevel",
        "robust",
        "glmm",
    ],
    &["model"],
    &["data", "effect", "measure"],
    &["stats", "error", "xml"],
];

fn rank(top: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&top))
}

/// One source file: its module path (`["model", "fit"]`) and its text without comments.
struct Source {
    file: String,
    module: Vec<String>,
    code: String,
}

/// An edge from a file to the module path it names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    file: String,
    line: usize,
    from: Vec<String>,
    to: Vec<String>,
}

/// Removes `//` comments (incl. doc comments), `/* */` comments, and the contents of string and
/// char literals, keeping line breaks so that line numbers stay right.
fn strip(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < b.len() && !(b[i] == '*' && b.get(i + 1) == Some(&'/')) {
                if b[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !ident_char(b.get(i.wrapping_sub(1)).copied())
        {
            // raw string r"…" / r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|h| b.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                if b[j] == '\n' {
                    out.push('\n');
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                if b.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && is_char_literal(&b, i) {
            i += 1;
            while i < b.len() && b[i] != '\'' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_char(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// `'x'`, `'\n'`, `'\u{1F600}'` are char literals; `'a` in `<'a>` is a lifetime.
fn is_char_literal(b: &[char], i: usize) -> bool {
    matches!(
        (b.get(i + 1), b.get(i + 2)),
        (Some('\\'), _) | (Some(_), Some('\''))
    )
}

fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// Every `.rs` file below `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    files
}

fn sources(root: &Path) -> Vec<Source> {
    let src = root.join("src");
    rust_files(&src)
        .into_iter()
        .filter_map(|p| {
            let rel = p.strip_prefix(&src).unwrap().to_path_buf();
            // The binary (main.rs, cli/) is the top layer: everything it names is below it.
            if rel.starts_with("cli") || rel == Path::new("main.rs") {
                return None;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            Some(Source {
                file: format!("src/{}", rel.display()),
                module: module_of(&rel),
                code: strip(&text),
            })
        })
        .collect()
}

/// The paths a file names: `crate::a::b::{c, d::e}` gives `[a, b, c]` and `[a, b, d, e]`.
fn paths(code: &str) -> Vec<(usize, Vec<String>, bool)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\n' {
            line += 1;
        }
        let at_word = i == 0 || !ident_char(Some(chars[i - 1])) && chars[i - 1] != ':';
        for (kw, rel) in [("crate::", false), ("super::", true)] {
            if at_word && starts_with(&chars, i, kw) {
                let mut prefix = vec![if rel {
                    "super".to_string()
                } else {
                    String::new()
                }];
                prefix.retain(|s| !s.is_empty());
                let j = parse_tree(&chars, i + kw.len(), prefix, &mut |p| {
                    out.push((line, p, rel))
                });
                i = j.max(i + 1) - 1;
                break;
            }
        }
        i += 1;
    }
    out
}

/// Steps over ` as name` after an imported path.
fn skip_rename(chars: &[char], mut i: usize) -> usize {
    let mut j = i;
    while chars.get(j).is_some_and(|c| c.is_whitespace()) {
        j += 1;
    }
    if starts_with(chars, j, "as") && !ident_char(chars.get(j + 2).copied()) {
        j += 2;
        while chars.get(j).is_some_and(|c| c.is_whitespace()) {
            j += 1;
        }
        while ident_char(chars.get(j).copied()) {
            j += 1;
        }
        i = j;
    }
    i
}

fn starts_with(chars: &[char], i: usize, s: &str) -> bool {
    s.chars()
        .enumerate()
        .all(|(k, c)| chars.get(i + k) == Some(&c))
}

/// Parses `a::b::{c, d::e}` from `i`, calling `emit` with each full path; returns the end.
fn parse_tree(
    chars: &[char],
    mut i: usize,
    mut prefix: Vec<String>,
    emit: &mut dyn FnMut(Vec<String>),
) -> usize {
    loop {
        while chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        if chars.get(i) == Some(&'{') {
            i += 1;
            loop {
                while chars.get(i).is_some_and(|c| c.is_whitespace() || *c == ',') {
                    i += 1;
                }
                if chars.get(i) == Some(&'}') || i >= chars.len() {
                    return i + 1;
                }
                i = parse_tree(chars, i, prefix.clone(), emit);
                i = skip_rename(chars, i);
            }
        }
        let start = i;
        while ident_char(chars.get(i).copied()) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if word.is_empty() {
            emit(prefix);
            return i;
        }
        prefix.push(word);
        if starts_with(chars, i, "::") && chars.get(i + 2) != Some(&'<') {
            i += 2;
        } else {
            emit(prefix);
            return i;
        }
    }
}

/// Resolves `super::` against the file's module: in `model/fit.rs`, `super` is `model`.
fn resolve(module: &[String], path: &[String], relative: bool) -> Vec<String> {
    if !relative {
        return path.to_vec();
    }
    let mut base = module.to_vec();
    let mut rest = path;
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    base
}

fn is_type_like(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_uppercase()) || s == "self"
}

/// The module files of the tree: `["model", "fit"]` and so on.
fn module_set(srcs: &[Source]) -> BTreeSet<Vec<String>> {
    srcs.iter().map(|s| s.module.clone()).collect()
}

fn edges(srcs: &[Source]) -> (Vec<Edge>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for s in srcs {
        for (line, p, rel) in paths(&s.code) {
            let to = resolve(&s.module, &p, rel);
            match to.first() {
                None => continue,
                Some(t) if t == "self" => continue,
                Some(t) if rank(t).is_none() => problems.push(format!(
                    "{}:{line}: `crate::{}` is not a module path: inside the library name items by \
                     their module (e.g. crate::measure::Scale), not by the crate root's re-exports",
                    s.file,
                    to.join("::")
                )),
                Some(_) => out.push(Edge {
                    file: s.file.clone(),
                    line,
                    from: s.module.clone(),
                    to,
                }),
            }
        }
    }
    (out, problems)
}

/// Upward edges, and renderers naming functions of the layers below.
fn direction_problems(edges: &[Edge], modules: &BTreeSet<Vec<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for e in edges {
        let (Some(from_top), Some(to_top)) = (e.from.first(), e.to.first()) else {
            continue;
        };
        let (rf, rt) = (rank(from_top).unwrap(), rank(to_top).unwrap());
        if rt < rf {
            out.push(format!(
                "{}:{}: {} (layer {}) names {} (layer {}), which is above it",
                e.file,
                e.line,
                e.from.join("::"),
                LAYERS[rf].join("/"),
                e.to.join("::"),
                LAYERS[rt].join("/")
            ));
        }
        if from_top == "render" && !matches!(to_top.as_str(), "render" | "stats" | "error" | "xml")
        {
            // A path through a type (`RmaFit::x`) names an associated item, not an estimator.
            let through_type = e.to.iter().any(|s| is_type_like(s));
            let is_module = modules.contains(&e.to);
            if !through_type && !is_module {
                out.push(format!(
                    "{}:{}: the renderer names `{}`, a function of a lower layer: renderers draw \
                     results, they never compute them",
                    e.file,
                    e.line,
                    e.to.join("::")
                ));
            }
        }
    }
    out
}

/// Cycles among the children of each module (top-level modules included).
fn cycle_problems(edges: &[Edge]) -> Vec<String> {
    // parent -> (child -> children it names)
    let mut graphs: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for e in edges {
        let common = e.from.iter().zip(&e.to).take_while(|(a, b)| a == b).count();
        if common < e.from.len() && common < e.to.len() {
            let parent = e.from[..common].to_vec();
            graphs
                .entry(parent)
                .or_default()
                .entry(e.from[common].clone())
                .or_default()
                .insert(e.to[common].clone());
        }
    }
    let mut out = Vec::new();
    for (parent, g) in &graphs {
        if let Some(cycle) = find_cycle(g) {
            let scope = if parent.is_empty() {
                "crate".to_string()
            } else {
                parent.join("::")
            };
            out.push(format!(
                "modules of {scope} import each other in a cycle: {}",
                cycle.join(" → ")
            ));
        }
    }
    out
}

fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = stack.iter().position(|s| s == n) {
            let mut c = stack[pos..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in g.keys() {
        if let Some(c) = visit(n, g, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

fn check(srcs: &[Source]) -> Vec<String> {
    let (edges, mut problems) = edges(srcs);
    let modules = module_set(srcs);
    for s in srcs {
        if let Some(top) = s.module.first() {
            if rank(top).is_none() {
                problems.push(format!(
                    "{}: module `{top}` has no layer: add it to LAYERS in tests/layers.rs",
                    s.file
                ));
            }
        }
    }
    problems.extend(direction_problems(&edges, &modules));
    problems.extend(cycle_problems(&edges));
    problems
}

#[test]
fn layers_point_one_way_down() {
    let srcs = sources(Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(srcs.len() > 50, "found only {} source files", srcs.len());
    let problems = check(&srcs);
    assert!(
        problems.is_empty(),
        "{} layer violations:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn fake(file: &str, code: &str) -> Source {
    Source {
        file: file.to_string(),
        module: module_of(Path::new(file)),
        code: strip(code),
    }
}

#[test]
fn the_checker_finds_what_it_guards_against() {
    let tree = [
        fake("model/fit.rs", "use crate::render::text::print;\n"),
        fake(
            "render/text.rs",
            "use crate::model::{rma, RmaFit};\nfn f() { crate::model::fit::Prediction::x() }",
        ),
        fake("model/design.rs", "use super::tau2::weights;"),
        fake(
            "model/tau2.rs",
            "// use super::design::Intercept;\nuse super::design::Intercept;",
        ),
        fake(
            "bias/mod.rs",
            "use crate::Scale;\nlet s = \"crate::app::x\";",
        ),
        fake("model/mod.rs", ""),
        fake("render/mod.rs", ""),
        fake("bias/regtest.rs", "use crate::model::fit::rma;"),
    ];
    let p = check(&tree);
    let has = |s: &str| p.iter().any(|x| x.contains(s));
    assert!(
        has("model/fit.rs:1: model::fit (layer model) names render::text::print"),
        "{p:#?}"
    );
    assert!(has("names `model::rma`, a function"), "{p:#?}");
    assert!(!has("RmaFit"), "{p:#?}");
    assert!(!has("Prediction"), "{p:#?}");
    assert!(
        has("modules of model import each other in a cycle"),
        "{p:#?}"
    );
    assert!(has("`crate::Scale` is not a module path"), "{p:#?}");
    assert!(!has("app::x"), "strings are not code: {p:#?}");
    assert!(!has("bias/regtest.rs"), "{p:#?}");
    assert!(
        has("modules of crate import each other in a cycle: model → render → model"),
        "{p:#?}"
    );
    assert_eq!(p.len(), 5, "{p:#?}");
}

#[test]
fn super_resolves_against_the_files_module() {
    let m = module_of(Path::new("render/html/page.rs"));
    assert_eq!(m, ["render", "html", "page"]);
    let p = resolve(
        &m,
        &["super".into(), "analysis".into(), "Entry".into()],
        true,
    );
    assert_eq!(p, ["render", "html", "analysis", "Entry"]);
    assert_eq!(
        module_of(Path::new("render/html/mod.rs")),
        ["render", "html"]
    );
}

/// Longest function body allowed, in lines from `fn` to its closing brace.
const MAX_FN_LINES: usize = 120;

/// `(name, first line, lines)` of every function with a body in stripped code.
fn functions(code: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = code.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(name) = fn_name(l) else { continue };
        let mut depth = 0usize;
        let mut opened = false;
        'scan: for (j, body) in lines.iter().enumerate().skip(i) {
            for c in body.chars() {
                match c {
                    ';' if !opened && depth == 0 => break 'scan,
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => {
                        depth = depth.saturating_sub(1);
                        if opened && depth == 0 {
                            out.push((name.clone(), i + 1, j - i + 1));
                            break 'scan;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

/// The name of the function a line declares, if it does.
fn fn_name(line: &str) -> Option<String> {
    let words: Vec<&str> = line
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let at = words.iter().position(|w| *w == "fn")?;
    let before_ok = words[..at].iter().all(|w| {
        matches!(
            *w,
            "pub" | "crate" | "super" | "const" | "async" | "unsafe" | "extern" | "in" | "self"
        )
    });
    before_ok.then(|| words.get(at + 1).map(|s| s.to_string()))?
}

#[test]
fn no_function_over_120_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut long = Vec::new();
    for f in &rust_files(&root.join("src")) {
        let code = strip(&std::fs::read_to_string(f).unwrap());
        for (name, line, n) in functions(&code) {
            if n > MAX_FN_LINES {
                let rel = f.strip_prefix(root).unwrap().display();
                long.push(format!("{rel}:{line}: fn {name} has {n} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines (split them into their phases):\n{}",
        long.join("\n")
    );
}

#[test]
fn function_lengths_are_measured_from_fn_to_its_brace() {
    let code = strip("fn a() {\n    let s = \"}\";\n    if x { y }\n}\nfn decl();\npub(crate) fn b() -> X {\n}\n");
    assert_eq!(
        functions(&code),
        [("a".to_string(), 1, 4), ("b".to_string(), 6, 2)]
    );
}
