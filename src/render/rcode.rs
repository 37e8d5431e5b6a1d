//! The metafor code that reproduces an analysis (Viechtbauer 2010, *J Stat Softw* 36(3)): a pure
//! function of what was read and the options used, so that a co-author can re-run it in R.

use crate::data::Kind;
use crate::effect::{EscalcOptions, VType};
use crate::measure::{Measure, Scale};
use crate::model::{Control, Method, PiType, RmaOptions, Solver, Test};
use crate::multilevel::{Dfs, MvOptions, RandomFormula, SamplingCov};
use crate::pool::mh::MhOptions;
use crate::robust::RobustType;
use std::fmt::Write;

/// How the data file was read: what `read.csv` needs and the columns of each escalc argument.
#[derive(Debug, Clone)]
pub struct RSource {
    /// The path as given on the command line.
    pub path: String,
    /// The field delimiter used (given or detected).
    pub sep: u8,
    /// Numbers use a decimal comma.
    pub decimal_comma: bool,
    /// (metafor's argument name, column header) of every effect-data field, plus `level` of
    /// reported ratios and `study` for the labels.
    pub columns: Vec<(&'static str, String)>,
    /// (column, value): only the rows whose column holds this value (one analysis of a long
    /// CSV), compared as evident compares them, without surrounding spaces.
    pub subset: Option<(String, String)>,
}

/// The model fitted, with every option that changes its numbers.
#[derive(Debug, Clone)]
pub enum RModel<'a> {
    /// `rma(yi, vi, ...)`: intercept-only, meta-regression (`mods`) or subgroups (`by`).
    Rma {
        /// The model options.
        options: &'a RmaOptions,
        /// The right-hand side of the moderator formula.
        mods: Option<&'a str>,
        /// `--reference` values, `[COLUMN=]LEVEL`.
        references: &'a [String],
        /// Subgroup column.
        by: Option<&'a str>,
        /// The τ² CI is the profile-likelihood one.
        tau2_ci_pl: bool,
        /// Points of `predict(newmods = ...)`.
        predict: &'a [Vec<f64>],
        /// Texts of the joint Wald tests (`anova(btt = ...)`).
        test_coefs: &'a [String],
        /// Random permutations of `permutest`.
        permutations: Option<usize>,
    },
    /// `rma.mv(...)`: a multilevel or multivariate model, V from `vcalc` when not diagonal.
    Mv {
        /// The model options (with the `struct` of each `~ inner | outer` term).
        options: &'a MvOptions,
        /// Profile-likelihood CIs of the variance components (`confint(res)`), with this root
        /// tolerance.
        confint: Option<f64>,
    },
    /// `rma.mh(...)`.
    Mh(&'a MhOptions),
    /// `rma.peto(...)`.
    Peto(&'a MhOptions),
    /// A model metafor has no single call for (the reason, as an R comment).
    Unsupported(&'static str),
}

/// Everything the code depends on.
#[derive(Debug, Clone)]
pub struct RSpec<'a> {
    /// How the file was read.
    pub source: RSource,
    /// The data type.
    pub kind: Kind,
    /// The effect measure.
    pub measure: Measure,
    /// The escalc options after the preset.
    pub escalc: EscalcOptions,
    /// The scale of the effects (for `predict(transf = ...)`).
    pub scale: Scale,
    /// The model fitted.
    pub model: RModel<'a>,
}

/// A string as an R string literal (double-quoted, escaped).
pub fn r_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// R's reserved words, which are not syntactic names.
const RESERVED: &[&str] = &[
    "if",
    "else",
    "repeat",
    "while",
    "function",
    "for",
    "next",
    "break",
    "TRUE",
    "FALSE",
    "NULL",
    "Inf",
    "NaN",
    "NA",
    "NA_integer_",
    "NA_real_",
    "NA_character_",
    "NA_complex_",
    "in",
];

/// A column name as R code: bare when syntactic, else backtick-quoted (R's `make.names` rule).
pub fn r_name(s: &str) -> String {
    let mut chars = s.chars();
    let first_ok = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => true,
        Some('.') => !s[1..].starts_with(|c: char| c.is_ascii_digit()),
        _ => false,
    };
    let rest_ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
    if first_ok && rest_ok && !RESERVED.contains(&s) {
        return s.to_owned();
    }
    let inner = r_string(s);
    let inner = &inner[1..inner.len() - 1];
    format!("`{}`", inner.replace("\\\"", "\"").replace('`', "\\`"))
}

fn num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

fn bool_r(b: bool) -> &'static str {
    if b {
        "TRUE"
    } else {
        "FALSE"
    }
}

/// The metafor code of an analysis, ending with `print(res)` (and `predict`, `confint` where
/// meaningful). Leaves the fitted model in `res`.
pub fn metafor_code(spec: &RSpec) -> String {
    let mut s = String::from("# Equivalent metafor code (R); evident computed the same model.\n");
    s.push_str("library(metafor)\n");
    let sep = (spec.source.sep as char).to_string();
    let _ = writeln!(
        s,
        "dat <- read.csv({}, sep = {}, dec = {}, check.names = FALSE, fileEncoding = \"UTF-8-BOM\")",
        r_string(&spec.source.path),
        r_string(&sep),
        r_string(if spec.source.decimal_comma { "," } else { "." }),
    );
    if let Some((col, value)) = &spec.source.subset {
        let _ = writeln!(
            s,
            "dat <- dat[trimws(dat[[{}]]) == {}, ]",
            r_string(col),
            r_string(value)
        );
    }
    let sorts = match &spec.model {
        RModel::Rma { mods, by, .. } => mods.is_some() || by.is_some(),
        RModel::Mv { options, .. } => options.mods.is_some(),
        _ => false,
    };
    if sorts {
        s.push_str("invisible(Sys.setlocale(\"LC_COLLATE\", \"C\"))  # factor levels in byte order, as evident\n");
    }
    match &spec.model {
        RModel::Rma { .. } => {
            s.push_str(&effects_code(spec));
            s.push_str(&rma_code(spec));
        }
        RModel::Mv { options, confint } => {
            s.push_str(&effects_code(spec));
            s.push_str(&mv_code(spec, options, *confint));
        }
        RModel::Mh(o) => s.push_str(&tables_code(spec, "rma.mh", o)),
        RModel::Peto(o) => s.push_str(&tables_code(spec, "rma.peto", o)),
        RModel::Unsupported(why) => {
            s.push_str(&effects_code(spec));
            let _ = writeln!(s, "# {why}");
        }
    }
    s
}

/// The columns of the effect-data fields, as `name = column` arguments.
fn field_args(spec: &RSpec) -> Vec<String> {
    spec.source
        .columns
        .iter()
        .filter(|(f, _)| *f != "level")
        .map(|(f, c)| {
            let f = if *f == "study" { "slab" } else { f };
            format!("{f} = {}", r_name(c))
        })
        .collect()
}

fn column(spec: &RSpec, field: &str) -> Option<String> {
    spec.source
        .columns
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, c)| format!("dat[[{}]]", r_string(c)))
}

/// The zero-cell rule and variance type, as escalc names them.
fn escalc_rule(spec: &RSpec) -> Vec<String> {
    let e = &spec.escalc;
    let mut args = Vec::new();
    if matches!(
        spec.kind,
        Kind::TwoByTwo | Kind::Incidence | Kind::Proportion | Kind::Rate
    ) {
        args.push(format!("add = {}", num(e.add)));
        args.push(format!("to = {}", r_string(e.to.name())));
        args.push(format!("drop00 = {}", bool_r(e.drop00)));
    }
    if e.vtype != VType::LS || matches!(spec.measure, Measure::SMD | Measure::RD | Measure::PR) {
        args.push(format!("vtype = {}", r_string(e.vtype.name())));
    }
    args
}

/// `dat <- escalc(...)`: yi and vi of every study.
fn effects_code(spec: &RSpec) -> String {
    if spec.kind == Kind::ReportedRatio {
        return reported_ratio_code(spec);
    }
    let mut args = vec![format!("measure = {}", r_string(spec.measure.name()))];
    args.extend(field_args(spec));
    args.extend(escalc_rule(spec));
    args.push("data = dat".into());
    format!("dat <- escalc({})\n", args.join(", "))
}

/// Log ratios and variances from reported ratios and CIs, as evident computes them.
fn reported_ratio_code(spec: &RSpec) -> String {
    let col = |f: &str| column(spec, f).unwrap_or_else(|| "NA".into());
    let level = column(spec, "level")
        .map(|l| format!("ifelse(is.na({l}), 95, {l})"))
        .unwrap_or_else(|| "95".into());
    let mut s = String::from("# log ratios; SE from the CI width on the log scale\n");
    let _ = writeln!(s, "dat$yi <- log({})", col("estimate"));
    let _ = writeln!(
        s,
        "dat$vi <- ((log({}) - log({})) / (2 * qnorm(1 - (1 - {level} / 100) / 2)))^2",
        col("ci_ub"),
        col("ci_lb")
    );
    s
}

/// The `control = list(...)` entries that differ from metafor's defaults.
fn control_args(c: &Control) -> Vec<String> {
    let d = Control::default();
    let mut v = Vec::new();
    if c.threshold != d.threshold {
        v.push(format!("threshold = {}", num(c.threshold)));
    }
    if c.maxiter != d.maxiter {
        v.push(format!("maxiter = {}", c.maxiter));
    }
    if c.stepadj != d.stepadj {
        v.push(format!("stepadj = {}", num(c.stepadj)));
    }
    if c.tol != d.tol {
        v.push(format!("tol = {}", num(c.tol)));
    }
    v
}

/// The options of `rma(...)` after `yi, vi`: method, test, level, tau2, weighted, control.
fn rma_options_args(o: &RmaOptions) -> Vec<String> {
    let mut a = vec![
        format!("method = {}", r_string(o.method.name())),
        format!("test = {}", r_string(o.test.name())),
        format!("level = {}", num(o.level.percent())),
    ];
    if let Some(t) = o.tau2_fixed {
        a.push(format!("tau2 = {}", num(t)));
    }
    if !o.weighted {
        a.push("weighted = FALSE".into());
    }
    let c = control_args(&o.control);
    if !c.is_empty() {
        a.push(format!("control = list({})", c.join(", ")));
    }
    a
}

/// `, transf = ...` of `predict` that back-transforms the scale (empty on the identity scale);
/// IRFT's inverse at the harmonic mean of the person-times, as evident takes it.
fn transf(spec: &RSpec) -> String {
    let f = match spec.scale {
        Scale::Log => "exp",
        Scale::Logit => "transf.ilogit",
        Scale::FisherZ => "transf.ztor",
        Scale::SquareRoot => "transf.isqrt",
        Scale::Arcsine => "transf.iarcsin",
        Scale::FreemanTukey(_) => {
            let ni = column(spec, "ni").unwrap_or_else(|| "dat$ni".into());
            return format!(", transf = transf.ipft.hm, targs = list(ni = {ni})");
        }
        Scale::FreemanTukeyRate(_) => {
            let ti = column(spec, "ti").unwrap_or_else(|| "dat$ti".into());
            return format!(", transf = transf.iirft, targs = 1/mean(1/{ti}, na.rm = TRUE)");
        }
        _ => return String::new(),
    };
    format!(", transf = {f}")
}

/// `res <- rma(...)` with its follow-up calls.
fn rma_code(spec: &RSpec) -> String {
    let RModel::Rma {
        options: o,
        mods,
        references,
        by,
        tau2_ci_pl,
        predict,
        test_coefs,
        permutations,
    } = &spec.model
    else {
        return String::new();
    };
    let mut s = String::new();
    let opts = rma_options_args(o).join(", ");
    notes(&mut s, o);
    if let Some(col) = by {
        return s + &subgroup_code(col, &opts);
    }
    for r in references.iter() {
        match r.split_once('=') {
            Some((c, l)) => {
                let c = r_string(c.trim());
                let _ = writeln!(
                    s,
                    "dat[[{c}]] <- relevel(factor(dat[[{c}]]), ref = {})",
                    r_string(l.trim())
                );
            }
            None => {
                let _ = writeln!(s, "# --reference {r}: relevel(factor(COLUMN), ref = {}) for each factor with that level", r_string(r));
            }
        }
    }
    let m = mods.map(|f| format!("mods = ~ {f}, ")).unwrap_or_default();
    let _ = writeln!(s, "res <- rma(yi, vi, {m}data = dat, {opts})");
    s.push_str("print(res)\n");
    let tf = transf(spec);
    if mods.is_none() {
        let _ = writeln!(s, "predict(res{tf})");
    }
    for p in predict.iter() {
        let v: Vec<String> = p.iter().map(|x| num(*x)).collect();
        let _ = writeln!(s, "predict(res, newmods = c({}){tf})", v.join(", "));
    }
    for t in test_coefs.iter() {
        let _ = writeln!(s, "anova(res, btt = {})", r_string(t));
    }
    if !o.method.is_fixed() && o.tau2_fixed.is_none() {
        let ci = if *tau2_ci_pl { ", type = \"PL\"" } else { "" };
        let _ = writeln!(s, "if (res$k > 1) confint(res{ci})");
    }
    if let Some(n) = permutations {
        let _ = writeln!(
            s,
            "permutest(res, iter = {n})  # random permutations: p-values vary by chance"
        );
    }
    s
}

/// A random-effects formula rebuilt from its parsed names, so that only column names reach R.
fn random_code(text: &str) -> String {
    match RandomFormula::parse(text) {
        Ok(RandomFormula::Nested(names)) => {
            let n: Vec<String> = names.iter().map(|n| r_name(n)).collect();
            format!("~ 1 | {}", n.join("/"))
        }
        Ok(RandomFormula::Structured { inner, outer }) => {
            format!("~ {} | {}", r_name(&inner), r_name(&outer))
        }
        // Never fitted, so never printed as code.
        Err(_) => format!("NULL  # {}", r_string(text)),
    }
}

/// `V <- vcalc(...)` when the sampling errors correlate; the name of V in `rma.mv`.
fn sampling_code(s: &mut String, v: &SamplingCov) -> &'static str {
    match v {
        SamplingCov::Diag => "vi",
        SamplingCov::Vcalc { cluster, obs, rho } => {
            let _ = writeln!(
                s,
                "V <- vcalc(vi, cluster = {}, obs = {}, rho = {}, data = dat)",
                r_name(cluster),
                r_name(obs),
                num(*rho)
            );
            "V"
        }
        SamplingCov::Blocks { columns, cluster } => {
            let c: Vec<String> = columns.iter().map(|c| r_name(c)).collect();
            let _ = writeln!(
                s,
                "V <- vcalc(vi = 1, cluster = {}, rvars = c({}), data = dat)",
                r_name(cluster),
                c.join(", ")
            );
            "V"
        }
    }
}

/// `res <- rma.mv(...)` with `predict` for an intercept-only model and, with `confint` (the
/// root tolerance), the profile CIs.
fn mv_code(spec: &RSpec, o: &MvOptions, confint: Option<f64>) -> String {
    let mut s = String::new();
    let v = sampling_code(&mut s, &o.v);
    let random: Vec<String> = o.random.iter().map(|r| random_code(r)).collect();
    let mut args = vec![format!("yi, {v}")];
    if let Some(m) = &o.mods {
        let m = m.trim();
        let m = m.strip_prefix('~').unwrap_or(m).trim();
        args.push(format!("mods = ~ {m}"));
    }
    args.push(format!("random = list({})", random.join(", ")));
    if !o.structs.is_empty() {
        let st: Vec<String> = o.structs.iter().map(|x| r_string(x.name())).collect();
        args.push(format!("struct = c({})", st.join(", ")));
    }
    if o.sigma2.iter().any(Option::is_some) {
        let fixed: Vec<String> = o
            .sigma2
            .iter()
            .map(|x| x.map(num).unwrap_or_else(|| "NA".into()))
            .collect();
        args.push(format!("sigma2 = c({})", fixed.join(", ")));
    }
    args.push("data = dat".into());
    args.push(format!("method = {}", r_string(o.method.name())));
    args.push(format!("test = {}", r_string(o.test.name())));
    if o.test == Test::T {
        let d = match o.dfs {
            Dfs::Residual => "residual",
            Dfs::Contain => "contain",
        };
        args.push(format!("dfs = {}", r_string(d)));
    }
    args.push(format!("level = {}", num(o.level.percent())));
    let _ = writeln!(s, "res <- rma.mv({})", args.join(", "));
    s.push_str(
        "print(res)
",
    );
    if o.mods.is_none() {
        let tf = transf(spec);
        let _ = writeln!(s, "predict(res{tf})");
    }
    match confint {
        Some(tol) if tol != f64::EPSILON.powf(0.25) => {
            let _ = writeln!(s, "confint(res, control = list(tol = {}))", num(tol));
        }
        Some(_) => s.push_str("confint(res)\n"),
        None => {}
    }
    s
}

/// Comments for options metafor has no argument for.
fn notes(s: &mut String, o: &RmaOptions) {
    if o.control.solver == Solver::Newton {
        s.push_str("# evident used its safeguarded Newton solver; metafor's Fisher scoring reaches the same optimum when it converges\n");
    }
    if o.pi_type == PiType::Riley {
        s.push_str(
            "# the prediction interval is Riley's (t with k - 2 df), not metafor's default\n",
        );
    }
    if o.method == Method::FE {
        s.push_str("# method = \"FE\": fixed (equal) effects\n");
    }
}

/// A fit per subgroup, then the mixed-effects model whose QM tests the subgroup differences.
fn subgroup_code(col: &str, opts: &str) -> String {
    let c = r_string(col);
    let name = r_name(col);
    let mut s = String::new();
    let _ = writeln!(s, "for (g in sort(unique(dat[[{c}]]))) {{");
    let _ = writeln!(s, "  cat(\"\\n\", {c}, \"=\", g, \"\\n\")");
    let _ = writeln!(
        s,
        "  print(rma(yi, vi, data = dat, subset = dat[[{c}]] == g, {opts}))"
    );
    s.push_str("}\n");
    s.push_str("# test for subgroup differences: one tau^2 common to all subgroups\n");
    let _ = writeln!(
        s,
        "res <- rma(yi, vi, mods = ~ factor({name}), data = dat, {opts})"
    );
    s.push_str("print(res)\n");
    s
}

/// `res <- rma.mh(...)` or `rma.peto(...)` on the tables.
fn tables_code(spec: &RSpec, call: &str, o: &MhOptions) -> String {
    let mut args = Vec::new();
    if call == "rma.mh" {
        args.push(format!("measure = {}", r_string(spec.measure.name())));
    }
    args.extend(field_args(spec));
    args.push("data = dat".into());
    args.push(format!("add = {}", num(o.add[0])));
    args.push(format!("to = {}", r_string(o.to[0].name())));
    args.push(format!("drop00 = {}", bool_r(o.drop00[0])));
    if call == "rma.mh" && matches!(spec.measure, Measure::OR | Measure::IRR) {
        args.push(format!("correct = {}", bool_r(o.correct)));
    }
    args.push(format!("level = {}", num(o.level.percent())));
    let mut s = format!("res <- {call}({})\nprint(res)\n", args.join(", "));
    if spec.measure.scale() == Scale::Log {
        s.push_str("predict(res, transf = exp)\n");
    }
    s
}

/// metafor's `robust()` of the fitted `res` on `cluster` (CR1: `adjust = TRUE`, the small-sample
/// factor; CR2: clubSandwich's), as the line the printed code ends with.
pub fn robust_call(method: RobustType, cluster: &str) -> String {
    let how = match method {
        RobustType::CR1 => "adjust = TRUE",
        RobustType::CR2 => "clubSandwich = TRUE",
    };
    format!(
        "robust(res, cluster = dat[[{}]], {how})\n",
        r_string(cluster)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec<'a>(
        kind: Kind,
        measure: Measure,
        model: RModel<'a>,
        cols: &[(&'static str, &str)],
    ) -> RSpec<'a> {
        RSpec {
            source: RSource {
                path: "d\\x \"y\".csv".into(),
                sep: b';',
                decimal_comma: true,
                columns: cols.iter().map(|(f, c)| (*f, c.to_string())).collect(),
                subset: None,
            },
            kind,
            measure,
            escalc: EscalcOptions::default(),
            scale: measure.scale(),
            model,
        }
    }

    #[test]
    fn subgroups_loop_and_test_differences() {
        let o = RmaOptions::default();
        let m = RModel::Rma {
            options: &o,
            mods: None,
            references: &[],
            by: Some("alloc type"),
            tau2_ci_pl: false,
            predict: &[],
            test_coefs: &[],
            permutations: None,
        };
        let code = metafor_code(&spec(
            Kind::Precomputed,
            Measure::GEN,
            m,
            &[("yi", "yi"), ("vi", "v i")],
        ));
        assert!(
            code.contains(r#"read.csv("d\\x \"y\".csv", sep = ";", dec = ",""#),
            "{code}"
        );
        assert!(code.contains("yi = yi, vi = `v i`"), "{code}");
        assert!(
            code.contains(r#"subset = dat[["alloc type"]] == g"#),
            "{code}"
        );
        assert!(code.contains("mods = ~ factor(`alloc type`)"), "{code}");
    }

    #[test]
    fn peto_and_zero_cells() {
        let o = MhOptions::for_study_effects(0.25, crate::effect::AddTo::All, true);
        let cols = [("ai", "a"), ("n1i", "n1"), ("ci", "c"), ("n2i", "n2")];
        let code = metafor_code(&spec(
            Kind::TwoByTwo,
            Measure::PETO,
            RModel::Peto(&o),
            &cols,
        ));
        assert!(code.contains("rma.peto(ai = a, n1i = n1, ci = c, n2i = n2, data = dat, add = 0.25, to = \"all\", drop00 = TRUE, level = 95)"), "{code}");
    }
}
