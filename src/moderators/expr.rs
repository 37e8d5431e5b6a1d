//! Arithmetic inside a formula: the argument of `I()`, `log()`, `exp()` and `sqrt()`, where R
//! reads `+ - * / ^` as arithmetic rather than as formula operators (Chambers & Hastie 1992,
//! *Statistical Models in S*, §2.3.1), deparsed as R labels the term (`I(x * 2 + 1)`, `I(x^2)`).

/// A token of a formula.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Name(String),
    Num(String),
    Str(String),
    Op(char),
}

/// A number as R's `as.character` writes it in factor levels: up to 15 significant digits, in
/// fixed notation unless scientific is shorter (`2`, `0.5`, `1e+05`, `1e-04`).
pub(crate) fn number_label(x: f64) -> String {
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

/// A function of one numeric argument that a formula may apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    /// `I(x)`: the value itself (protects arithmetic from the formula operators).
    Identity,
    /// Natural logarithm; undefined for values ≤ 0.
    Log,
    /// Exponential.
    Exp,
    /// Square root; undefined for negative values.
    Sqrt,
}

impl Func {
    /// The function a name calls, if a formula may use it.
    pub(crate) fn from_name(name: &str) -> Option<Func> {
        match name {
            "I" => Some(Func::Identity),
            "log" => Some(Func::Log),
            "exp" => Some(Func::Exp),
            "sqrt" => Some(Func::Sqrt),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Func::Identity => "I",
            Func::Log => "log",
            Func::Exp => "exp",
            Func::Sqrt => "sqrt",
        }
    }
}

/// An arithmetic expression of columns and numbers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// A number, with its label as R deparses it.
    Num(f64, String),
    /// A column's value.
    Col(String),
    /// Unary `-` or `+`.
    Unary(char, Box<Expr>),
    /// `+ - * / ^`.
    Bin(char, Box<Expr>, Box<Expr>),
    /// A function call.
    Call(Func, Box<Expr>),
    /// Parentheses as written (R's labels keep them).
    Paren(Box<Expr>),
}

impl Expr {
    /// The expression as R's `deparse` writes it: spaces around `+ - *`, none around `/ ^`.
    pub(crate) fn deparse(&self) -> String {
        match self {
            Expr::Num(_, s) | Expr::Col(s) => s.clone(),
            Expr::Unary(op, a) => format!("{op}{}", a.deparse()),
            Expr::Bin(op @ ('/' | '^'), a, b) => format!("{}{op}{}", a.deparse(), b.deparse()),
            Expr::Bin(op, a, b) => format!("{} {op} {}", a.deparse(), b.deparse()),
            Expr::Call(f, a) => format!("{}({})", f.name(), a.deparse()),
            Expr::Paren(a) => format!("({})", a.deparse()),
        }
    }

    /// The columns the expression reads, in order of first appearance.
    pub(crate) fn columns(&self, out: &mut Vec<String>) {
        match self {
            Expr::Num(..) => {}
            Expr::Col(c) => {
                if !out.contains(c) {
                    out.push(c.clone());
                }
            }
            Expr::Unary(_, a) | Expr::Call(_, a) | Expr::Paren(a) => a.columns(out),
            Expr::Bin(_, a, b) => {
                a.columns(out);
                b.columns(out);
            }
        }
    }

    /// The value for one study, `col` giving each column's value; `Err` says which operation
    /// is undefined (log or square root out of its domain, or a result that is not finite).
    pub(crate) fn eval(&self, col: &dyn Fn(&str) -> f64) -> Result<f64, String> {
        let v = match self {
            Expr::Num(x, _) => *x,
            Expr::Col(c) => col(c),
            Expr::Unary(op, a) => {
                let x = a.eval(col)?;
                if *op == '-' {
                    -x
                } else {
                    x
                }
            }
            Expr::Paren(a) => a.eval(col)?,
            Expr::Call(f, a) => {
                let x = a.eval(col)?;
                match f {
                    Func::Identity => x,
                    Func::Log if x <= 0.0 => {
                        return Err(format!("log of {} (not positive)", number_label(x)))
                    }
                    Func::Log => x.ln(),
                    Func::Sqrt if x < 0.0 => {
                        return Err(format!("square root of {} (negative)", number_label(x)))
                    }
                    Func::Sqrt => x.sqrt(),
                    Func::Exp => x.exp(),
                }
            }
            Expr::Bin(op, a, b) => {
                let (x, y) = (a.eval(col)?, b.eval(col)?);
                match op {
                    '+' => x + y,
                    '-' => x - y,
                    '*' => x * y,
                    '/' => x / y,
                    _ => x.powf(y),
                }
            }
        };
        if v.is_finite() {
            Ok(v)
        } else {
            Err(format!("{} = {v}", self.deparse()))
        }
    }
}

/// Most operations (operators, signs, calls, parentheses) one arithmetic expression may have:
/// the tree is walked recursively (labels, evaluation, drop), so its depth must stay small
/// enough for a worker thread's stack, and no real moderator needs more.
const MAX_NODES: usize = 200;

/// Parses arithmetic from `toks[*pos]` on: `+ -` bind loosest, then `* /`, unary signs, and
/// `^` tightest and to the right (`-x^2` is −(x²), `2^3^2` is 2⁹), as in R. Signs and powers
/// are read in loops, and the expression is limited to [`MAX_NODES`] operations, so neither
/// the parser nor the walks over the tree can overflow the stack.
pub(crate) fn parse(toks: &[Tok], pos: &mut usize) -> Result<Expr, String> {
    let mut p = Arith {
        toks,
        pos: *pos,
        nodes: 0,
    };
    let e = p.sum();
    *pos = p.pos;
    e
}

struct Arith<'a> {
    toks: &'a [Tok],
    pos: usize,
    nodes: usize,
}

impl Arith<'_> {
    fn node(&mut self, e: Expr) -> Result<Expr, String> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(format!(
                "arithmetic with more than {MAX_NODES} operations in one term"
            ));
        }
        Ok(e)
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut acc = self.product()?;
        while let Some(Tok::Op(op @ ('+' | '-'))) = self.peek().cloned() {
            self.pos += 1;
            let rhs = self.product()?;
            acc = self.node(Expr::Bin(op, Box::new(acc), Box::new(rhs)))?;
        }
        Ok(acc)
    }

    fn product(&mut self) -> Result<Expr, String> {
        let mut acc = self.power()?;
        while let Some(Tok::Op(op @ ('*' | '/'))) = self.peek().cloned() {
            self.pos += 1;
            let rhs = self.power()?;
            acc = self.node(Expr::Bin(op, Box::new(acc), Box::new(rhs)))?;
        }
        Ok(acc)
    }

    /// `signs primary (^ signs primary)*`, folded from the right.
    fn power(&mut self) -> Result<Expr, String> {
        let mut parts: Vec<(Vec<char>, Expr)> = Vec::new();
        loop {
            let mut signs = Vec::new();
            while let Some(Tok::Op(s @ ('-' | '+'))) = self.peek().cloned() {
                signs.push(s);
                self.pos += 1;
                self.node(Expr::Num(0.0, String::new()))?;
            }
            let base = self.primary()?;
            parts.push((signs, base));
            if self.peek() == Some(&Tok::Op('^')) {
                self.pos += 1;
                self.node(Expr::Num(0.0, String::new()))?;
            } else {
                break;
            }
        }
        let mut acc: Option<Expr> = None;
        for (signs, base) in parts.into_iter().rev() {
            let mut e = match acc {
                Some(exp) => Expr::Bin('^', Box::new(base), Box::new(exp)),
                None => base,
            };
            for s in signs.into_iter().rev() {
                e = Expr::Unary(s, Box::new(e));
            }
            acc = Some(e);
        }
        acc.ok_or_else(|| "empty expression".to_string())
    }

    fn close(&mut self) -> Result<(), String> {
        if self.peek() == Some(&Tok::Op(')')) {
            self.pos += 1;
            Ok(())
        } else {
            Err("missing ')'".to_string())
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.peek().cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                let x: f64 = n.parse().map_err(|_| format!("'{n}' is not a number"))?;
                Ok(Expr::Num(x, number_label(x)))
            }
            Some(Tok::Name(name)) => {
                self.pos += 1;
                if self.peek() != Some(&Tok::Op('(')) {
                    return Ok(Expr::Col(name));
                }
                let f = Func::from_name(&name).ok_or_else(|| {
                    format!(
                        "function '{name}' is not supported in arithmetic (only I, log, exp, sqrt)"
                    )
                })?;
                self.pos += 1;
                let arg = self.sum()?;
                self.close()?;
                self.node(Expr::Call(f, Box::new(arg)))
            }
            Some(Tok::Op('(')) => {
                self.pos += 1;
                let inner = self.sum()?;
                self.close()?;
                self.node(Expr::Paren(Box::new(inner)))
            }
            Some(Tok::Op(c)) => Err(format!("unexpected '{c}' in arithmetic")),
            Some(Tok::Str(s)) => Err(format!("unexpected text \"{s}\" in arithmetic")),
            None => Err("unexpected end of arithmetic".to_string()),
        }
    }
}
