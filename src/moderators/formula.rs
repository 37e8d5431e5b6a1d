//! The right-hand side of an R model formula (`ablat + year`, `~ factor(alloc)`, `a*b`, `x - 1`)
//! and the model matrix it defines, coded as R's `model.matrix` with treatment contrasts
//! (Chambers & Hastie 1992, *Statistical Models in S*, ch. 2).

use crate::data::Value;
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use nalgebra::DMatrix;

/// One variable of a formula: a column, used as written (`ablat`) or as a factor (`factor(alloc)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The column name.
    pub column: String,
    /// Written as `factor(column)`.
    pub as_factor: bool,
}

impl Variable {
    /// The label R gives the variable in coefficient names.
    pub fn label(&self) -> String {
        if self.as_factor {
            format!("factor({})", self.column)
        } else {
            self.column.clone()
        }
    }
}

/// A parsed formula: variables in order of first appearance and terms, each a set of variable
/// indices (sorted, as R's `terms` keeps them), ordered by degree then appearance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formula {
    pub(crate) variables: Vec<Variable>,
    pub(crate) terms: Vec<Vec<usize>>,
    pub(crate) intercept: bool,
}

/// A model matrix with its coefficient names and the studies it covers.
#[derive(Debug, Clone)]
pub struct ModelMatrix {
    /// The model matrix X, one row per study in `used`, one column per coefficient.
    pub x: DMatrix<f64>,
    /// Coefficient names as metafor's (`intrcpt`, `ablat`, `factor(alloc)random`, `a:b`).
    pub names: Vec<String>,
    /// Positions (in the effect set) of the studies with every moderator present.
    pub used: Vec<usize>,
    /// Positions of the studies dropped for a missing moderator value.
    pub dropped: Vec<usize>,
    /// Whether the first column is the intercept.
    pub intercept: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Num(String),
    Op(char),
}

fn tokenize(s: &str) -> Result<Vec<Tok>> {
    let mut out = Vec::new();
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if "~+-*:()".contains(c) {
            out.push(Tok::Op(c));
            i += 1;
        } else if c == '`' {
            let end = cs[i + 1..]
                .iter()
                .position(|&d| d == '`')
                .ok_or_else(|| Error::invalid(format!("formula '{s}': unclosed backtick")))?;
            out.push(Tok::Name(cs[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < cs.len() && (cs[i].is_ascii_digit() || cs[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(cs[start..i].iter().collect()));
        } else if c.is_alphanumeric() || c == '.' || c == '_' {
            let start = i;
            while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '.' || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Name(cs[start..i].iter().collect()));
        } else {
            return Err(Error::invalid(format!(
                "formula '{s}': unexpected character '{c}' (expected column names, factor(x), +, -, *, :, parentheses)"
            )));
        }
    }
    Ok(out)
}

/// The result of parsing a sub-expression: a list of terms, plus intercept changes.
#[derive(Debug, Clone, Default)]
struct Terms {
    terms: Vec<Vec<usize>>,
    /// `Some(false)` after `- 1` / `+ 0`, `Some(true)` after `+ 1`.
    intercept: Option<bool>,
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Tok>,
    pos: usize,
    vars: Vec<Variable>,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> Error {
        Error::invalid(format!(
            "formula '{}': {what} (write it as R does, e.g. 'ablat + year', 'factor(alloc)', 'a*b', 'x - 1')",
            self.src
        ))
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Op(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn var(&mut self, v: Variable) -> usize {
        if let Some(i) = self.vars.iter().position(|x| *x == v) {
            i
        } else {
            self.vars.push(v);
            self.vars.len() - 1
        }
    }

    fn sum(&mut self) -> Result<Terms> {
        let mut acc = Terms::default();
        let mut sign = true;
        if self.eat('-') {
            sign = false;
        }
        loop {
            let t = self.product()?;
            if sign {
                for term in t.terms {
                    if !acc.terms.contains(&term) {
                        acc.terms.push(term);
                    }
                }
                if t.intercept.is_some() {
                    acc.intercept = t.intercept;
                }
            } else {
                acc.terms.retain(|x| !t.terms.contains(x));
                if let Some(i) = t.intercept {
                    acc.intercept = Some(!i);
                }
            }
            if self.eat('+') {
                sign = true;
            } else if self.eat('-') {
                sign = false;
            } else {
                return Ok(acc);
            }
        }
    }

    fn product(&mut self) -> Result<Terms> {
        let mut acc = self.interaction()?;
        while self.eat('*') {
            let rhs = self.interaction()?;
            let cross = cross(&acc.terms, &rhs.terms);
            let mut terms = acc.terms.clone();
            for t in rhs.terms.iter().chain(&cross) {
                if !terms.contains(t) {
                    terms.push(t.clone());
                }
            }
            acc = Terms {
                terms,
                intercept: acc.intercept.or(rhs.intercept),
            };
        }
        Ok(acc)
    }

    fn interaction(&mut self) -> Result<Terms> {
        let mut acc = self.atom()?;
        while self.eat(':') {
            let rhs = self.atom()?;
            acc = Terms {
                terms: cross(&acc.terms, &rhs.terms),
                intercept: None,
            };
        }
        Ok(acc)
    }

    fn atom(&mut self) -> Result<Terms> {
        match self.peek().cloned() {
            Some(Tok::Op('(')) => {
                self.pos += 1;
                let t = self.sum()?;
                if !self.eat(')') {
                    return Err(self.err("missing ')'"));
                }
                Ok(t)
            }
            Some(Tok::Num(n)) => {
                self.pos += 1;
                match n.as_str() {
                    "0" => Ok(Terms {
                        terms: vec![],
                        intercept: Some(false),
                    }),
                    "1" => Ok(Terms {
                        terms: vec![],
                        intercept: Some(true),
                    }),
                    _ => Err(self.err(&format!("a number ({n}) can only be 0 or 1"))),
                }
            }
            Some(Tok::Name(name)) => {
                self.pos += 1;
                if self.eat('(') {
                    if name != "factor" && name != "as.factor" {
                        return Err(self.err(&format!(
                            "function '{name}' is not supported (only factor(column))"
                        )));
                    }
                    let Some(Tok::Name(col)) = self.peek().cloned() else {
                        return Err(self.err("factor( must be followed by a column name"));
                    };
                    self.pos += 1;
                    if !self.eat(')') {
                        return Err(self.err("missing ')' after factor(column"));
                    }
                    let i = self.var(Variable {
                        column: col,
                        as_factor: true,
                    });
                    return Ok(Terms {
                        terms: vec![vec![i]],
                        intercept: None,
                    });
                }
                let i = self.var(Variable {
                    column: name,
                    as_factor: false,
                });
                Ok(Terms {
                    terms: vec![vec![i]],
                    intercept: None,
                })
            }
            Some(Tok::Op(c)) => Err(self.err(&format!("unexpected '{c}'"))),
            None => Err(self.err("unexpected end")),
        }
    }
}

/// Deepest parenthesis nesting a formula may have: far above any real model, yet the
/// recursive descent at this depth (four frames a level) fits easily in a 2 MiB rayon
/// worker stack, where thousands of levels would overflow it.
const MAX_DEPTH: usize = 100;

/// Rejects nesting beyond [`MAX_DEPTH`] before the recursive parser sees it; the message
/// leaves the formula out, as it is then at least 200 characters of brackets.
fn check_depth(toks: &[Tok]) -> Result<()> {
    let mut depth = 0usize;
    for t in toks {
        match t {
            Tok::Op('(') => depth += 1,
            Tok::Op(')') => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_DEPTH {
            return Err(Error::invalid(format!(
                "formula nests parentheses more than {MAX_DEPTH} deep"
            )));
        }
    }
    Ok(())
}

fn cross(a: &[Vec<usize>], b: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    for x in a {
        for y in b {
            let mut t = x.clone();
            for v in y {
                if !t.contains(v) {
                    t.push(*v);
                }
            }
            t.sort_unstable();
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

impl Formula {
    /// Parses the right-hand side of an R formula; a leading `~` is optional.
    pub fn parse(text: &str) -> Result<Formula> {
        let toks = tokenize(text)?;
        let mut p = Parser {
            src: text,
            toks,
            pos: 0,
            vars: Vec::new(),
        };
        p.eat('~');
        if p.peek().is_none() {
            return Err(p.err("no moderators given"));
        }
        check_depth(&p.toks)?;
        let t = p.sum()?;
        if p.pos != p.toks.len() {
            return Err(p.err("unexpected text after the formula"));
        }
        let mut terms = t.terms;
        // R orders terms by degree, keeping the order of appearance within a degree.
        terms.sort_by_key(|t| t.len());
        Ok(Formula {
            variables: p.vars,
            terms,
            intercept: t.intercept.unwrap_or(true),
        })
    }

    /// The one-factor formula `factor(column)` (with or without intercept), for subgroups.
    pub fn factor(column: &str, intercept: bool) -> Formula {
        Formula {
            variables: vec![Variable {
                column: column.to_owned(),
                as_factor: true,
            }],
            terms: vec![vec![0]],
            intercept,
        }
    }

    /// Builds the model matrix for the studies of an effect set; studies with a missing
    /// moderator value are dropped (as metafor's "Studies with NAs omitted").
    pub fn model_matrix(&self, effects: &EffectSet) -> Result<ModelMatrix> {
        let cols: Vec<&crate::data::Moderator> = self
            .variables
            .iter()
            .map(|v| {
                effects
                    .find_moderator(&v.column)
                    .ok_or_else(|| Error::UnknownColumn {
                        what: "moderator",
                        column: v.column.clone(),
                        available: effects.moderators.iter().map(|m| m.name.clone()).collect(),
                    })
            })
            .collect::<Result<_>>()?;
        let k = effects.k();
        let (used, dropped): (Vec<usize>, Vec<usize>) =
            (0..k).partition(|&i| cols.iter().all(|c| !c.values[i].is_missing()));
        if used.is_empty() {
            return Err(Error::invalid(format!(
                "no study has a value for every moderator ({})",
                self.variables
                    .iter()
                    .map(|v| v.column.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        // Each variable coded as columns: numeric → one column; factor → indicator per level.
        let coded: Vec<Coded> = self
            .variables
            .iter()
            .zip(&cols)
            .map(|(v, c)| code(v, c, &used))
            .collect::<Result<_>>()?;
        let n = used.len();
        let mut columns: Vec<(String, Vec<f64>)> = Vec::new();
        if self.intercept {
            columns.push(("intrcpt".into(), vec![1.0; n]));
        }
        for term in &self.terms {
            columns.extend(self.term_columns(term, &coded, n));
        }
        if columns.is_empty() {
            return Err(Error::invalid(
                "the formula leaves no coefficient to estimate (no intercept and no moderators)",
            ));
        }
        let x = DMatrix::from_fn(n, columns.len(), |i, j| columns[j].1[i]);
        let names: Vec<String> = columns.into_iter().map(|c| c.0).collect();
        check_rank(&x, &names)?;
        Ok(ModelMatrix {
            x,
            names,
            used,
            dropped,
            intercept: self.intercept,
        })
    }

    /// The columns of one term: the products of its variables' codings, the first varying
    /// fastest as in R's `model.matrix`; a factor gets contrasts unless the term without it is
    /// absent (R's rule), then all its levels.
    fn term_columns(&self, term: &[usize], coded: &[Coded], n: usize) -> Vec<(String, Vec<f64>)> {
        let mut parts: Vec<Vec<(String, Vec<f64>)>> = Vec::new();
        for &vi in term {
            let c = &coded[vi];
            let full = match c {
                Coded::Numeric(..) => false,
                Coded::Factor { .. } => {
                    let margin: Vec<usize> = term.iter().copied().filter(|&x| x != vi).collect();
                    let present = if margin.is_empty() {
                        self.intercept
                    } else {
                        self.terms.contains(&margin)
                    };
                    !present
                }
            };
            parts.push(c.columns(&self.variables[vi].label(), full));
        }
        let mut acc: Vec<(String, Vec<f64>)> = vec![(String::new(), vec![1.0; n])];
        for part in parts {
            let mut next = Vec::new();
            for (pn, pv) in &part {
                for (an, av) in &acc {
                    let name = if an.is_empty() {
                        pn.clone()
                    } else {
                        format!("{an}:{pn}")
                    };
                    next.push((name, av.iter().zip(pv).map(|(a, b)| a * b).collect()));
                }
            }
            acc = next;
        }
        acc
    }
}

enum Coded {
    Numeric(Vec<f64>),
    Factor {
        levels: Vec<String>,
        /// Level index per used row.
        index: Vec<usize>,
    },
}

impl Coded {
    fn columns(&self, label: &str, full: bool) -> Vec<(String, Vec<f64>)> {
        match self {
            Coded::Numeric(v) => vec![(label.to_owned(), v.clone())],
            Coded::Factor { levels, index } => levels
                .iter()
                .enumerate()
                .skip(if full { 0 } else { 1 })
                .map(|(l, name)| {
                    (
                        format!("{label}{name}"),
                        index
                            .iter()
                            .map(|&i| if i == l { 1.0 } else { 0.0 })
                            .collect(),
                    )
                })
                .collect(),
        }
    }
}

/// A number as R's `as.character` writes it in factor levels: up to 15 significant digits, in
/// fixed notation unless scientific is shorter (`2`, `0.5`, `1e+05`, `1e-04`).
fn level_label(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".into();
    }
    // Digits and exponent with 15 significant digits, trailing zeros dropped.
    let sci = format!("{:.14e}", x.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.replace('.', "").trim_end_matches('0').to_owned();
    let digits = if digits.is_empty() {
        "0".to_owned()
    } else {
        digits
    };
    let sign = if x < 0.0 { "-" } else { "" };
    let sci_str = {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.clone()
        };
        format!(
            "{sign}{m}e{}{:02}",
            if exp < 0 { "-" } else { "+" },
            exp.abs()
        )
    };
    let fixed = if exp >= 0 {
        let e = exp as usize;
        if digits.len() > e + 1 {
            format!("{sign}{}.{}", &digits[..e + 1], &digits[e + 1..])
        } else {
            format!("{sign}{digits}{}", "0".repeat(e + 1 - digits.len()))
        }
    } else {
        format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
    };
    if fixed.len() <= sci_str.len() {
        fixed
    } else {
        sci_str
    }
}

/// The levels of a column over some rows, as R's `factor()`: numbers sorted numerically, text
/// in byte (C locale) order. Returns the level labels and each row's level index.
pub fn factor_levels(values: &[Value], rows: &[usize]) -> (Vec<String>, Vec<usize>) {
    let numeric = rows
        .iter()
        .all(|&i| matches!(values[i], Value::Number(_) | Value::Missing));
    let label = |v: &Value| match v {
        Value::Number(x) => level_label(*x),
        other => other.as_text(),
    };
    let mut levels: Vec<(f64, String)> = Vec::new();
    for &i in rows {
        if values[i].is_missing() {
            continue;
        }
        let l = label(&values[i]);
        if !levels.iter().any(|x| x.1 == l) {
            let key = match values[i] {
                Value::Number(x) => x,
                _ => 0.0,
            };
            levels.push((key, l));
        }
    }
    if numeric {
        levels.sort_by(|a, b| a.0.total_cmp(&b.0));
    } else {
        levels.sort_by(|a, b| a.1.as_bytes().cmp(b.1.as_bytes()));
    }
    let names: Vec<String> = levels.into_iter().map(|x| x.1).collect();
    let index = rows
        .iter()
        .map(|&i| {
            let l = label(&values[i]);
            names.iter().position(|n| *n == l).unwrap_or(usize::MAX)
        })
        .collect();
    (names, index)
}

fn code(v: &Variable, m: &crate::data::Moderator, used: &[usize]) -> Result<Coded> {
    if v.as_factor || !m.numeric {
        let (levels, index) = factor_levels(&m.values, used);
        return Ok(Coded::Factor { levels, index });
    }
    used.iter()
        .map(|&i| match &m.values[i] {
            Value::Number(x) => Ok(*x),
            other => Err(Error::invalid(format!(
                "moderator '{}': '{}' is not a number",
                m.name,
                other.as_text()
            ))),
        })
        .collect::<Result<Vec<f64>>>()
        .map(Coded::Numeric)
}

/// Errors when a column is a linear combination of earlier ones (Gram–Schmidt with lm's
/// relative tolerance 1e-7), naming the collinear columns.
fn check_rank(x: &DMatrix<f64>, names: &[String]) -> Result<()> {
    let mut basis: Vec<(usize, nalgebra::DVector<f64>)> = Vec::new();
    for j in 0..x.ncols() {
        let col = x.column(j).into_owned();
        let norm0 = col.norm();
        let mut r = col.clone();
        for (_, q) in &basis {
            let d = q.dot(&r);
            r -= q * d;
        }
        let norm = r.norm();
        if norm0 == 0.0 || norm <= 1e-7 * norm0 {
            let on: Vec<&str> = basis.iter().map(|(i, _)| names[*i].as_str()).collect();
            let msg = if norm0 == 0.0 {
                format!(
                    "the model matrix is rank-deficient: column '{}' is all zero for the studies used",
                    names[j]
                )
            } else {
                format!(
                    "the model matrix is rank-deficient: column '{}' is a linear combination of {}",
                    names[j],
                    on.iter()
                        .map(|s| format!("'{s}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(Error::invalid(msg));
        }
        basis.push((j, r / norm));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Moderator;
    use crate::measure::{Measure, Scale};

    fn labels(f: &str) -> Vec<String> {
        let f = Formula::parse(f).unwrap();
        let mut out: Vec<String> = if f.intercept {
            vec!["1".into()]
        } else {
            vec![]
        };
        for t in &f.terms {
            out.push(
                t.iter()
                    .map(|&i| f.variables[i].label())
                    .collect::<Vec<_>>()
                    .join(":"),
            );
        }
        out
    }

    #[test]
    fn nesting_is_bounded() {
        let nest = |d: usize| format!("{}x{}", "(".repeat(d), ")".repeat(d));
        assert_eq!(labels(&nest(MAX_DEPTH)), ["1", "x"]);
        let e = Formula::parse(&nest(10_000)).unwrap_err().to_string();
        assert!(e.contains("nests parentheses more than 100 deep"), "{e}");
        // The bound holds in a small worker stack too, not only on the main thread.
        let t = std::thread::Builder::new().stack_size(256 * 1024);
        let ok = t.spawn(move || Formula::parse(&nest(MAX_DEPTH)).is_ok());
        assert!(ok.unwrap().join().unwrap());
    }

    #[test]
    fn parses_r_formulas() {
        assert_eq!(labels("~ablat"), ["1", "ablat"]);
        assert_eq!(labels("ablat + year"), ["1", "ablat", "year"]);
        assert_eq!(labels("a*b"), ["1", "a", "b", "a:b"]);
        assert_eq!(labels("b:a + a"), ["1", "a", "b:a"]);
        assert_eq!(labels("factor(alloc) - 1"), ["factor(alloc)"]);
        assert_eq!(labels("x + 0"), ["x"]);
        assert_eq!(labels("(a + b)*c"), ["1", "a", "b", "c", "a:c", "b:c"]);
        assert_eq!(labels("a*b - a:b"), ["1", "a", "b"]);
        assert!(Formula::parse("log(x)").is_err());
        assert!(Formula::parse("a +").is_err());
        assert!(Formula::parse("").is_err());
    }

    fn set() -> EffectSet {
        let mut s = EffectSet::from_yi_vi(
            vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
            vec![0.1; 6],
            Measure::GEN,
            Scale::Identity,
        );
        let num = |v: &[f64]| v.iter().map(|&x| Value::Number(x)).collect::<Vec<_>>();
        let txt = |v: &[&str]| v.iter().map(|&x| Value::Text(x.into())).collect::<Vec<_>>();
        s.moderators = vec![
            Moderator {
                name: "a".into(),
                values: num(&[1., 2., 3., 4., 5., 6.]),
                numeric: true,
            },
            Moderator {
                name: "g".into(),
                values: txt(&["x", "y", "z", "x", "y", "z"]),
                numeric: false,
            },
            Moderator {
                name: "n".into(),
                values: vec![
                    Value::Number(10.0),
                    Value::Number(2.0),
                    Value::Missing,
                    Value::Number(10.0),
                    Value::Number(2.0),
                    Value::Number(2.5),
                ],
                numeric: true,
            },
        ];
        s
    }

    // Column names checked against R: colnames(model.matrix(~ a*g, d)) etc.
    #[test]
    fn model_matrix_names_as_r() {
        let s = set();
        let names = |f: &str| Formula::parse(f).unwrap().model_matrix(&s).unwrap().names;
        assert_eq!(names("a*g"), ["intrcpt", "a", "gy", "gz", "a:gy", "a:gz"]);
        assert_eq!(names("g*a"), ["intrcpt", "gy", "gz", "a", "gy:a", "gz:a"]);
        assert_eq!(names("a:g - 1"), ["a:gx", "a:gy", "a:gz"]);
        assert_eq!(names("g - 1"), ["gx", "gy", "gz"]);
        assert_eq!(names("a + g - 1"), ["a", "gx", "gy", "gz"]);
        assert_eq!(names("factor(g)"), ["intrcpt", "factor(g)y", "factor(g)z"]);
        // Numeric factor levels sort numerically; the row with a missing value is dropped.
        let mm = Formula::parse("factor(n)")
            .unwrap()
            .model_matrix(&s)
            .unwrap();
        assert_eq!(mm.names, ["intrcpt", "factor(n)2.5", "factor(n)10"]);
        assert_eq!(mm.used, [0, 1, 3, 4, 5]);
        assert_eq!(mm.dropped, [2]);
    }

    // as.character(c(2, 0.5, 1e5, 123456, 1e-4, 0.001, -2.5, 1/3, 1e15))
    #[test]
    fn levels_print_as_r() {
        let got: Vec<String> = [2.0, 0.5, 1e5, 123456.0, 1e-4, 0.001, -2.5, 1.0 / 3.0, 1e15]
            .iter()
            .map(|&x| level_label(x))
            .collect();
        assert_eq!(
            got,
            [
                "2",
                "0.5",
                "1e+05",
                "123456",
                "1e-04",
                "0.001",
                "-2.5",
                "0.333333333333333",
                "1e+15"
            ]
        );
    }

    #[test]
    fn rank_deficiency_names_the_columns() {
        let s = set();
        let e = Formula::parse("g + factor(g)")
            .unwrap()
            .model_matrix(&s)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("'factor(g)y' is a linear combination of 'intrcpt', 'gy', 'gz'"),
            "{e}"
        );
        let e = Formula::parse("a + factor(a)")
            .unwrap()
            .model_matrix(&s)
            .unwrap_err();
        assert!(e.to_string().contains("'factor(a)6'"), "{e}");
        let e = Formula::parse("zz").unwrap().model_matrix(&s).unwrap_err();
        assert!(e.to_string().contains("available: a, g, n"), "{e}");
    }
}
