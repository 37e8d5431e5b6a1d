//! The right-hand side of an R model formula (`ablat + year`, `~ factor(alloc)`, `a*b`, `x - 1`,
//! `I(x^2)`, `log(dose)`, `relevel(arm, ref = "Placebo")`) and the model matrix it defines,
//! coded as R's `model.matrix` with treatment contrasts (Chambers & Hastie 1992, *Statistical
//! Models in S*, ch. 2).
//!
//! Factor levels sort as R's `factor()` with `LC_COLLATE=C`: numbers numerically, text in byte
//! order (so `Placebo` before `active`); the first level is the reference unless `relevel()` or
//! a [`Reference`] chooses another, and [`ModelMatrix::factors`] records which for the outputs.

use super::expr::{self, number_label, Expr, Func, Tok};
use crate::data::{Moderator, Value};
use crate::effect::{EffectSet, Omitted};
use crate::error::{Error, Result};
use nalgebra::DMatrix;

/// One variable of a formula: a column used as written (`ablat`), as a factor (`factor(alloc)`,
/// `relevel(factor(arm), ref = "Placebo")`), or a numeric transformation (`log(dose)`,
/// `I(x^2)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// The label R gives the variable in coefficient names (`factor(alloc)`, `I(x^2)`).
    pub label: String,
    pub(crate) kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A column as written: numeric columns as numbers, text columns as factors.
    Column(String),
    /// `factor(column)`, or with `relevel(…, ref = level)` a chosen reference level.
    Factor {
        column: String,
        reference: Option<String>,
    },
    /// Arithmetic on columns: `I(…)`, `log(…)`, `exp(…)`, `sqrt(…)`.
    Numeric(Expr),
}

impl Variable {
    /// The label R gives the variable in coefficient names.
    pub fn label(&self) -> String {
        self.label.clone()
    }

    /// The columns the variable reads.
    fn columns(&self) -> Vec<String> {
        match &self.kind {
            Kind::Column(c) | Kind::Factor { column: c, .. } => vec![c.clone()],
            Kind::Numeric(e) => {
                let mut out = Vec::new();
                e.columns(&mut out);
                out
            }
        }
    }
}

/// A reference level asked for outside the formula (`--reference [COLUMN=]LEVEL`): for the
/// factor of `column`, or with no column for every factor that has the level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The factor's column; `None` for any factor with the level.
    pub column: Option<String>,
    /// The level to make the reference.
    pub level: String,
}

impl Reference {
    /// `COLUMN=LEVEL`, or `LEVEL` alone for every factor with that level.
    pub fn parse(text: &str) -> Reference {
        match text.split_once('=') {
            Some((c, l)) if !c.trim().is_empty() => Reference {
                column: Some(c.trim().to_string()),
                level: l.trim().to_string(),
            },
            _ => Reference {
                column: None,
                level: text.trim().to_string(),
            },
        }
    }
}

/// A parsed formula: variables in order of first appearance and terms, each a set of variable
/// indices (sorted, as R's `terms` keeps them), ordered by degree then appearance.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    pub(crate) variables: Vec<Variable>,
    pub(crate) terms: Vec<Vec<usize>>,
    pub(crate) intercept: bool,
    /// Reference levels chosen outside the formula.
    pub(crate) references: Vec<Reference>,
}

/// How a factor was coded in a model matrix, so that every output can say which level the
/// coefficients are contrasts against.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FactorCoding {
    /// The variable's label (`factor(alloc)`, `alloc`).
    pub label: String,
    /// The column it codes.
    pub column: String,
    /// Its levels in coding order, the reference first.
    pub levels: Vec<String>,
    /// The reference level (absorbed by the intercept); `None` when every level has its own
    /// column (no intercept, or the factor only in interactions whose margins are absent).
    pub reference: Option<String>,
    /// How the reference was chosen.
    pub rule: ReferenceRule,
}

/// How a factor's reference level was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceRule {
    /// The first text level in byte order (R with `LC_COLLATE=C`; R in an English locale
    /// sorts case-insensitively, so its reference can differ).
    ByteOrder,
    /// The lowest value of a numeric column.
    Lowest,
    /// Chosen with `relevel()` in the formula or a reference outside it.
    Chosen,
}

impl ReferenceRule {
    /// A short phrase for text output.
    pub fn describe(self) -> &'static str {
        match self {
            ReferenceRule::ByteOrder => "first in byte order",
            ReferenceRule::Lowest => "lowest value",
            ReferenceRule::Chosen => "chosen",
        }
    }
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
    /// The factors' codings, in order of appearance.
    pub factors: Vec<FactorCoding>,
    /// Columns dropped as linear combinations of earlier ones (metafor: "Redundant predictors
    /// dropped from the model"), by name.
    pub redundant: Vec<String>,
}

impl ModelMatrix {
    /// The studies of `effects` dropped for a missing moderator value, as omitted rows.
    pub fn omitted(&self, effects: &EffectSet) -> Vec<Omitted> {
        self.dropped
            .iter()
            .map(|&i| Omitted {
                row: effects.rows[i],
                label: effects.labels[i].clone(),
                reason: "missing moderator value".into(),
            })
            .collect()
    }
}

/// Reads a number: digits with a decimal point and an optional exponent (`1e-3`).
fn number_end(cs: &[char], mut i: usize) -> usize {
    while i < cs.len() && (cs[i].is_ascii_digit() || cs[i] == '.') {
        i += 1;
    }
    if i < cs.len() && (cs[i] == 'e' || cs[i] == 'E') {
        let mut j = i + 1;
        if j < cs.len() && (cs[j] == '+' || cs[j] == '-') {
            j += 1;
        }
        if j < cs.len() && cs[j].is_ascii_digit() {
            i = j;
            while i < cs.len() && cs[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

fn tokenize(s: &str) -> Result<Vec<Tok>> {
    let mut out = Vec::new();
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if "~+-*:()/^,=".contains(c) {
            out.push(Tok::Op(c));
            i += 1;
        } else if c == '`' || c == '"' || c == '\'' {
            let what = if c == '`' { "backtick" } else { "quote" };
            let end = cs[i + 1..].iter().position(|&d| d == c).ok_or_else(|| {
                Error::invalid(format!("formula '{}': unclosed {what}", shown(s)))
            })?;
            let text: String = cs[i + 1..i + 1 + end].iter().collect();
            out.push(if c == '`' {
                Tok::Name(text)
            } else {
                Tok::Str(text)
            });
            i += end + 2;
        } else if c.is_ascii_digit()
            || (c == '.' && cs.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let end = number_end(&cs, i);
            out.push(Tok::Num(cs[i..end].iter().collect()));
            i = end;
        } else if c.is_alphanumeric() || c == '.' || c == '_' {
            let start = i;
            while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '.' || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Name(cs[start..i].iter().collect()));
        } else {
            return Err(Error::invalid(format!(
                "formula '{}': unexpected character '{c}' at character {} (expected column names, factor(x), I(x^2), log(x), +, -, *, :, parentheses)",
                shown(s),
                i + 1
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

/// Most terms a formula may expand to: `a*b*c*…` doubles the count with each factor, and
/// 2¹⁰ terms is beyond any model k studies can fit.
const MAX_TERMS: usize = 1024;

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Tok>,
    pos: usize,
    vars: Vec<Variable>,
}

/// A formula as quoted in an error: long ones (thousands of characters) cut at 200 with "…".
fn shown(src: &str) -> String {
    let cut: String = src.chars().take(200).collect();
    if cut.len() < src.len() {
        cut + "…"
    } else {
        cut
    }
}

impl Parser<'_> {
    fn err(&self, what: &str) -> Error {
        Error::invalid(format!(
            "formula '{}': {what} (write it as R does, e.g. 'ablat + year', 'factor(alloc)', 'a*b', 'x - 1', 'I(x^2)', 'log(dose)')",
            shown(self.src)
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
    fn expect(&mut self, c: char, after: &str) -> Result<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(&format!("missing '{c}' {after}")))
        }
    }
    fn var(&mut self, v: Variable) -> Terms {
        let i = if let Some(i) = self.vars.iter().position(|x| x.label == v.label) {
            i
        } else {
            self.vars.push(v);
            self.vars.len() - 1
        };
        Terms {
            terms: vec![vec![i]],
            intercept: None,
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
            if acc.terms.len() > MAX_TERMS {
                return Err(self.err(&format!("more than {MAX_TERMS} terms")));
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
            let cross = self.cross(&acc.terms, &rhs.terms)?;
            let mut terms = acc.terms.clone();
            for t in rhs.terms.iter().chain(&cross) {
                if !terms.contains(t) {
                    terms.push(t.clone());
                }
            }
            if terms.len() > MAX_TERMS {
                return Err(self.err(&format!("more than {MAX_TERMS} terms")));
            }
            acc = Terms {
                terms,
                intercept: acc.intercept.or(rhs.intercept),
            };
        }
        Ok(acc)
    }

    fn interaction(&mut self) -> Result<Terms> {
        let mut acc = self.power()?;
        while self.eat(':') {
            let rhs = self.power()?;
            acc = Terms {
                terms: self.cross(&acc.terms, &rhs.terms)?,
                intercept: None,
            };
        }
        Ok(acc)
    }

    /// Products of terms, bounded so that a long chain of `*` cannot exhaust memory.
    fn cross(&self, a: &[Vec<usize>], b: &[Vec<usize>]) -> Result<Vec<Vec<usize>>> {
        if a.len().saturating_mul(b.len()) > MAX_TERMS {
            return Err(self.err(&format!("more than {MAX_TERMS} terms")));
        }
        Ok(cross(a, b))
    }

    /// `^` outside `I()` is R's crossing operator (`x^2` is `x`, `(a + b)^2` is `a*b`), which
    /// users writing a square do not mean: refused, pointing at `I(x^2)`.
    fn power(&mut self) -> Result<Terms> {
        let start = self.pos;
        let t = self.atom()?;
        if self.peek() == Some(&Tok::Op('^')) {
            let base: String = match &self.toks[start..self.pos] {
                [Tok::Name(n)] => n.clone(),
                _ => "x".into(),
            };
            return Err(self.err(&format!(
                "'^' outside I() is R's formula crossing ({base}^2 means {base}, not its square): write I({base}^2) for the square, or a*b for crossing"
            )));
        }
        Ok(t)
    }

    fn atom(&mut self) -> Result<Terms> {
        match self.peek().cloned() {
            Some(Tok::Op('(')) => {
                self.pos += 1;
                let t = self.sum()?;
                self.expect(')', "to close '('")?;
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
                    _ => Err(self.err(&format!(
                        "a number ({n}) can only be 0 or 1 here (arithmetic goes inside I(), e.g. I(2*x))"
                    ))),
                }
            }
            Some(Tok::Name(name)) => {
                self.pos += 1;
                if !self.eat('(') {
                    return Ok(self.var(Variable {
                        label: name.clone(),
                        kind: Kind::Column(name),
                    }));
                }
                let v = self.call(&name)?;
                Ok(self.var(v))
            }
            Some(Tok::Str(s)) => Err(self.err(&format!("unexpected text \"{s}\""))),
            Some(Tok::Op(c)) => Err(self.err(&format!("unexpected '{c}'"))),
            None => Err(self.err("unexpected end")),
        }
    }

    /// A function call, after its opening parenthesis.
    fn call(&mut self, name: &str) -> Result<Variable> {
        match name {
            "factor" | "as.factor" => {
                let column = self.column_name(name)?;
                self.expect(')', &format!("after {name}({column}"))?;
                Ok(Variable {
                    label: format!("{name}({column})"),
                    kind: Kind::Factor {
                        column,
                        reference: None,
                    },
                })
            }
            "relevel" => self.relevel(),
            _ => {
                let Some(f) = Func::from_name(name) else {
                    return Err(self.err(&format!(
                        "function '{name}' is not supported (only factor, relevel, I, log, exp, sqrt)"
                    )));
                };
                let arg = expr::parse(&self.toks, &mut self.pos).map_err(|e| self.err(&e))?;
                self.expect(')', &format!("to close {name}("))?;
                let e = Expr::Call(f, Box::new(arg));
                Ok(Variable {
                    label: e.deparse(),
                    kind: Kind::Numeric(e),
                })
            }
        }
    }

    fn column_name(&mut self, func: &str) -> Result<String> {
        match self.peek().cloned() {
            Some(Tok::Name(col)) => {
                self.pos += 1;
                Ok(col)
            }
            _ => Err(self.err(&format!("{func}( must be followed by a column name"))),
        }
    }

    /// `relevel(x, ref = "level")`, `x` a column or `factor(column)`; the level may be
    /// quoted, a bare name or a number, and `ref =` may be left out.
    fn relevel(&mut self) -> Result<Variable> {
        let first = self.column_name("relevel")?;
        let (column, inner) = if (first == "factor" || first == "as.factor") && self.eat('(') {
            let c = self.column_name(&first)?;
            self.expect(')', &format!("after {first}({c}"))?;
            (c.clone(), format!("{first}({c})"))
        } else {
            (first.clone(), first)
        };
        self.expect(
            ',',
            "before the reference level in relevel(column, ref = \"level\")",
        )?;
        if matches!(self.peek(), Some(Tok::Name(n)) if n == "ref")
            && self.toks.get(self.pos + 1) == Some(&Tok::Op('='))
        {
            self.pos += 2;
        }
        let level = match self.peek().cloned() {
            Some(Tok::Str(s) | Tok::Name(s) | Tok::Num(s)) => {
                self.pos += 1;
                s
            }
            _ => return Err(self.err("relevel( needs a reference level, e.g. ref = \"Placebo\"")),
        };
        self.expect(')', "to close relevel(")?;
        Ok(Variable {
            label: format!("relevel({inner}, ref = \"{level}\")"),
            kind: Kind::Factor {
                column,
                reference: Some(level),
            },
        })
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
            references: Vec::new(),
        })
    }

    /// The one-factor formula `factor(column)` (with or without intercept), for subgroups.
    pub fn factor(column: &str, intercept: bool) -> Formula {
        Formula {
            variables: vec![Variable {
                label: format!("factor({column})"),
                kind: Kind::Factor {
                    column: column.to_owned(),
                    reference: None,
                },
            }],
            terms: vec![vec![0]],
            intercept,
            references: Vec::new(),
        }
    }

    /// The formula with reference levels chosen outside it (`relevel()` in the formula
    /// takes precedence for its variable).
    pub fn with_references(mut self, references: Vec<Reference>) -> Formula {
        self.references = references;
        self
    }

    /// Builds the model matrix for the studies of an effect set; studies with a missing
    /// moderator value are dropped (as metafor's "Studies with NAs omitted"), and columns that
    /// are linear combinations of earlier ones are dropped and listed (as metafor's
    /// "Redundant predictors dropped from the model").
    pub fn model_matrix(&self, effects: &EffectSet) -> Result<ModelMatrix> {
        let mut needed: Vec<String> = Vec::new();
        for c in self.variables.iter().flat_map(Variable::columns) {
            if !needed.contains(&c) {
                needed.push(c);
            }
        }
        let cols: Vec<&Moderator> = needed
            .iter()
            .map(|c| {
                effects
                    .find_moderator(c)
                    .ok_or_else(|| Error::UnknownColumn {
                        what: "moderator",
                        column: c.clone(),
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
                needed.join(", ")
            )));
        }
        let coded: Vec<Coded> = self
            .variables
            .iter()
            .map(|v| self.code(v, effects, &used))
            .collect::<Result<_>>()?;
        self.check_references(&coded)?;
        let n = used.len();
        let mut columns: Vec<(String, Vec<f64>)> = Vec::new();
        if self.intercept {
            columns.push(("intrcpt".into(), vec![1.0; n]));
        }
        let mut contrasts = vec![false; coded.len()];
        for term in &self.terms {
            columns.extend(self.term_columns(term, &coded, n, &mut contrasts));
        }
        if columns.is_empty() {
            return Err(Error::invalid(
                "the formula leaves no coefficient to estimate (no intercept and no moderators)",
            ));
        }
        let x = DMatrix::from_fn(n, columns.len(), |i, j| columns[j].1[i]);
        let redundant = redundant_columns(&x);
        let keep: Vec<usize> = (0..columns.len())
            .filter(|j| !redundant.contains(j))
            .collect();
        let x = x.select_columns(&keep);
        let redundant: Vec<String> = redundant.iter().map(|&j| columns[j].0.clone()).collect();
        let names: Vec<String> = keep.iter().map(|&j| columns[j].0.clone()).collect();
        let factors = self.codings(&coded, &contrasts);
        Ok(ModelMatrix {
            x,
            names,
            used,
            dropped,
            intercept: self.intercept,
            factors,
            redundant,
        })
    }

    /// The factors' codings for the outputs; the reference is the first level when some term
    /// codes the factor by contrasts.
    fn codings(&self, coded: &[Coded], contrasts: &[bool]) -> Vec<FactorCoding> {
        coded
            .iter()
            .zip(&self.variables)
            .zip(contrasts)
            .filter_map(|((c, v), &contr)| match c {
                Coded::Numeric(_) => None,
                Coded::Factor {
                    levels,
                    column,
                    rule,
                    ..
                } => Some(FactorCoding {
                    label: v.label.clone(),
                    column: column.clone(),
                    levels: levels.clone(),
                    reference: contr.then(|| levels[0].clone()),
                    rule: *rule,
                }),
            })
            .collect()
    }

    /// Codes one variable over the used rows: a number per row, or a factor's levels.
    fn code(&self, v: &Variable, effects: &EffectSet, used: &[usize]) -> Result<Coded> {
        let find = |c: &str| effects.find_moderator(c);
        match &v.kind {
            Kind::Column(c) => {
                let Some(m) = find(c) else {
                    return Err(Error::invalid(format!("no moderator column '{c}'")));
                };
                if m.numeric {
                    numeric_values(m, used).map(Coded::Numeric)
                } else {
                    self.code_factor(v, m, None, used)
                }
            }
            Kind::Factor { column, reference } => {
                let Some(m) = find(column) else {
                    return Err(Error::invalid(format!("no moderator column '{column}'")));
                };
                self.code_factor(v, m, reference.as_deref(), used)
            }
            Kind::Numeric(e) => eval_numeric(&v.label, e, effects, used).map(Coded::Numeric),
        }
    }

    /// A factor's levels over the used rows (R's `factor()`), the reference first: `relevel`'s
    /// level, else a reference chosen outside the formula, else the first level. One level is
    /// refused, as R's contrasts refuse it.
    fn code_factor(
        &self,
        v: &Variable,
        m: &Moderator,
        relevel: Option<&str>,
        used: &[usize],
    ) -> Result<Coded> {
        let (mut levels, mut index) = factor_levels(&m.values, used);
        if levels.len() < 2 {
            return Err(Error::invalid(format!(
                "moderator {}: column '{}' has a single level ('{}') among the {} studies used; a factor needs at least 2 levels (metafor refuses it too: contrasts can be applied only to factors with 2 or more levels)",
                v.label,
                m.name,
                levels.first().map_or("", String::as_str),
                used.len()
            )));
        }
        let numeric = used
            .iter()
            .all(|&i| matches!(m.values[i], Value::Number(_)));
        let mut rule = if numeric {
            ReferenceRule::Lowest
        } else {
            ReferenceRule::ByteOrder
        };
        let outside = self
            .references
            .iter()
            .find(|r| r.column.as_deref() == Some(m.name.as_str()))
            .or_else(|| {
                self.references
                    .iter()
                    .find(|r| r.column.is_none() && levels.contains(&r.level))
            })
            .map(|r| r.level.as_str());
        if let Some(want) = relevel.or(outside) {
            let Some(at) = levels.iter().position(|l| l == want) else {
                return Err(Error::invalid(format!(
                    "reference level of {}: '{want}' is not a level of column '{}' among the studies used (levels: {})",
                    v.label,
                    m.name,
                    levels.join(", ")
                )));
            };
            let l = levels.remove(at);
            levels.insert(0, l);
            for i in index.iter_mut() {
                *i = match (*i).cmp(&at) {
                    std::cmp::Ordering::Equal => 0,
                    std::cmp::Ordering::Less => *i + 1,
                    std::cmp::Ordering::Greater => *i,
                };
            }
            rule = ReferenceRule::Chosen;
        }
        Ok(Coded::Factor {
            levels,
            index,
            column: m.name.clone(),
            rule,
        })
    }

    /// Every reference chosen outside the formula must name a factor of it.
    fn check_references(&self, coded: &[Coded]) -> Result<()> {
        let factors: Vec<(&str, &[String])> = coded
            .iter()
            .filter_map(|c| match c {
                Coded::Factor { column, levels, .. } => Some((column.as_str(), levels.as_slice())),
                Coded::Numeric(_) => None,
            })
            .collect();
        let listing = || {
            if factors.is_empty() {
                "the formula has no factor".to_string()
            } else {
                format!(
                    "factors: {}",
                    factors
                        .iter()
                        .map(|(c, l)| format!("{c} ({})", l.join(", ")))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }
        };
        for r in &self.references {
            let found = match &r.column {
                Some(c) => factors.iter().any(|f| f.0 == c),
                None => factors.iter().any(|f| f.1.contains(&r.level)),
            };
            if !found {
                let what = match &r.column {
                    Some(c) => {
                        format!("reference level for '{c}': '{c}' is not a factor of the formula")
                    }
                    None => format!(
                        "reference level '{}' is not a level of any factor of the formula",
                        r.level
                    ),
                };
                return Err(Error::invalid(format!("{what} ({})", listing())));
            }
        }
        Ok(())
    }

    /// The columns of one term: the products of its variables' codings, the first varying
    /// fastest as in R's `model.matrix`; a factor gets contrasts unless the term without it is
    /// absent (R's rule), then all its levels. Marks the factors coded by contrasts.
    fn term_columns(
        &self,
        term: &[usize],
        coded: &[Coded],
        n: usize,
        contrasts: &mut [bool],
    ) -> Vec<(String, Vec<f64>)> {
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
                    contrasts[vi] |= present;
                    !present
                }
            };
            parts.push(c.columns(&self.variables[vi].label, full));
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

/// A numeric column's values over the used rows.
fn numeric_values(m: &Moderator, used: &[usize]) -> Result<Vec<f64>> {
    used.iter()
        .map(|&i| match &m.values[i] {
            Value::Number(x) => Ok(*x),
            other => Err(Error::invalid(format!(
                "moderator '{}': '{}' is not a number",
                m.name,
                other.as_text()
            ))),
        })
        .collect()
}

/// Evaluates `I()`, `log()`, … for each used study; a value out of the function's domain is
/// an error naming the study and its row, where R would give NaN (and metafor then refuse).
fn eval_numeric(label: &str, e: &Expr, effects: &EffectSet, used: &[usize]) -> Result<Vec<f64>> {
    let mut names = Vec::new();
    e.columns(&mut names);
    let mut cols: Vec<(&str, &Moderator)> = Vec::new();
    for c in &names {
        let Some(m) = effects.find_moderator(c) else {
            return Err(Error::invalid(format!("no moderator column '{c}'")));
        };
        if let Some(&i) = used
            .iter()
            .find(|&&i| !matches!(m.values[i], Value::Number(_)))
        {
            return Err(Error::invalid(format!(
                "moderator {label}: column '{c}' is not numeric ('{}' for study '{}')",
                m.values[i].as_text(),
                effects.labels[i]
            )));
        }
        cols.push((c.as_str(), m));
    }
    used.iter()
        .map(|&i| {
            let value = |c: &str| match cols.iter().find(|x| x.0 == c).map(|x| &x.1.values[i]) {
                Some(Value::Number(x)) => *x,
                _ => f64::NAN,
            };
            e.eval(&value).map_err(|detail| {
                Error::invalid(format!(
                    "moderator {label} is undefined for study '{}' (data row {}): {detail}",
                    effects.labels[i],
                    effects.rows[i] + 1
                ))
            })
        })
        .collect()
}

enum Coded {
    Numeric(Vec<f64>),
    Factor {
        /// Levels in coding order, the reference first.
        levels: Vec<String>,
        /// Level index per used row.
        index: Vec<usize>,
        column: String,
        rule: ReferenceRule,
    },
}

impl Coded {
    fn columns(&self, label: &str, full: bool) -> Vec<(String, Vec<f64>)> {
        match self {
            Coded::Numeric(v) => vec![(label.to_owned(), v.clone())],
            Coded::Factor { levels, index, .. } => levels
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

/// The levels of a column over some rows, as R's `factor()`: numbers sorted numerically, text
/// in byte (C locale) order. Returns the level labels and each row's level index.
pub fn factor_levels(values: &[Value], rows: &[usize]) -> (Vec<String>, Vec<usize>) {
    let numeric = rows
        .iter()
        .all(|&i| matches!(values[i], Value::Number(_) | Value::Missing));
    let label = |v: &Value| match v {
        Value::Number(x) => number_label(*x),
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

/// Columns that are linear combinations of earlier ones, as `lm`'s pivoting QR finds them
/// (Gram–Schmidt on the unweighted columns with lm's relative tolerance 1e-7; metafor drops
/// the columns whose `lm` coefficient is NA).
pub(crate) fn redundant_columns(x: &DMatrix<f64>) -> Vec<usize> {
    let mut basis: Vec<nalgebra::DVector<f64>> = Vec::new();
    let mut out = Vec::new();
    for j in 0..x.ncols() {
        let col = x.column(j).into_owned();
        let norm0 = col.norm();
        let mut r = col.clone();
        for q in &basis {
            let d = q.dot(&r);
            r -= q * d;
        }
        let norm = r.norm();
        if !(norm0 > 0.0) || !(norm > 1e-7 * norm0) {
            out.push(j);
        } else {
            basis.push(r / norm);
        }
    }
    out
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
        assert_eq!(labels("log(x) + I(x^2)"), ["1", "log(x)", "I(x^2)"]);
        assert!(Formula::parse("x^2")
            .unwrap_err()
            .to_string()
            .contains("write I(x^2)"));
        assert!(Formula::parse("foo(x)").is_err());
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
            .map(|&x| number_label(x))
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
    fn redundant_columns_are_dropped_and_named() {
        let s = set();
        let mm = Formula::parse("g + factor(g)")
            .unwrap()
            .model_matrix(&s)
            .unwrap();
        assert_eq!(mm.names, ["intrcpt", "gy", "gz"]);
        assert_eq!(mm.redundant, ["factor(g)y", "factor(g)z"]);
        let mm = Formula::parse("a + factor(a)")
            .unwrap()
            .model_matrix(&s)
            .unwrap();
        assert_eq!(mm.redundant, ["factor(a)6"]);
        let e = Formula::parse("zz").unwrap().model_matrix(&s).unwrap_err();
        assert!(e.to_string().contains("available: a, g, n"), "{e}");
    }
}
