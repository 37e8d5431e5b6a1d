//! The multilevel model's summary, laid out as metafor's `print.rma.mv`: the variance
//! components (estim, sqrt, nlvls, fixed, factor; an `~ inner | outer` term's tau2 and rho as
//! metafor tabulates each structure), the heterogeneity test and the coefficients; and the
//! profile-likelihood CIs as `print(confint(res))`.

use super::{fmt, q_clause, wald_cells, wald_head};
use crate::model::Method;
use crate::multilevel::{GFit, MvFit, MvProfile, ProfileCi, Structure, TermNames};
use crate::render::pvalue::{p_value, PStyle};
use std::fmt::Write;

/// The text summary of an `rma.mv` fit.
pub fn mv_summary(fit: &MvFit) -> String {
    let mut s = String::new();
    let method = if fit.method == Method::ML {
        "ML"
    } else {
        "REML"
    };
    let _ = writeln!(s, "Multilevel model (k = {}; method: {method})\n", fit.k);
    let _ = writeln!(
        s,
        "  logLik = {}, deviance = {}, AIC = {}, BIC = {}, AICc = {}\n",
        fmt(fit.loglik),
        fmt(fit.deviance),
        fmt(fit.aic),
        fmt(fit.bic),
        fmt(fit.aicc)
    );
    let _ = writeln!(s, "Variance components:\n");
    if !fit.components.is_empty() {
        let _ = writeln!(
            s,
            "{:<11} {:>8} {:>8} {:>6} {:>6}  factor",
            "", "estim", "sqrt", "nlvls", "fixed"
        );
    }
    for (j, c) in fit.components.iter().enumerate() {
        let _ = writeln!(
            s,
            "{:<11} {:>8} {:>8} {:>6} {:>6}  {}",
            format!("sigma^2.{}", j + 1),
            fmt(c.sigma2),
            fmt(c.sigma2.sqrt()),
            c.nlevels,
            yes_no(c.fixed),
            c.name
        );
    }
    for (t, g) in fit.terms().into_iter().enumerate() {
        if t > 0 || !fit.components.is_empty() {
            s.push('\n');
        }
        g_components(&mut s, g);
    }
    let _ = writeln!(
        s,
        "\nTest for residual heterogeneity: {}",
        q_clause("QE", format!("df = {}", fit.qe.1), fit.qe.0, fit.qe.2)
    );
    let qm = &fit.qm;
    let qm_label = match qm.ddf {
        Some(ddf) => format!("F(df1 = {}, df2 = {ddf})", qm.df),
        None => format!("QM(df = {})", qm.df),
    };
    let _ = writeln!(
        s,
        "Test of moderators: {qm_label} = {}, {}",
        fmt(qm.stat),
        p_value(qm.pval, PStyle::Metafor)
    );
    let stat_name = if fit.coefficients.iter().any(|c| c.df.is_some()) {
        "tval"
    } else {
        "zval"
    };
    let _ = writeln!(s, "\nModel results:\n");
    let _ = writeln!(s, "{:<24} {} {:>6}", "", wald_head(stat_name), "df");
    for c in &fit.coefficients {
        let _ = writeln!(
            s,
            "{:<24} {} {:>6}",
            c.name,
            wald_cells(c.estimate, c.se, c.stat, c.pval, c.ci_lb, c.ci_ub),
            c.df.map_or(String::new(), |d| d.to_string())
        );
    }
    if let Some((lb, ub)) = fit.pi {
        let _ = writeln!(
            s,
            "\n{}% prediction interval: [{}, {}]",
            fit.level.percent(),
            fmt(lb),
            fmt(ub)
        );
    }
    for w in &fit.warnings {
        let _ = writeln!(s, "Note: {w}");
    }
    s
}

fn yes_no(fixed: bool) -> &'static str {
    if fixed {
        "yes"
    } else {
        "no"
    }
}

/// A character matrix as R's `print(m, quote = FALSE, right = TRUE, print.gap = gap)`: row
/// names left-aligned, every column right-aligned to its widest cell or name.
fn r_matrix(s: &mut String, cols: &[String], rows: &[(String, Vec<String>)], gap: usize) {
    let width = |t: &str| t.chars().count();
    let rw = rows.iter().map(|(r, _)| width(r)).max().unwrap_or(0);
    let cw: Vec<usize> = (0..cols.len())
        .map(|j| {
            rows.iter()
                .map(|(_, c)| c.get(j).map_or(0, |t| width(t)))
                .fold(width(&cols[j]), usize::max)
        })
        .collect();
    let line = |s: &mut String, head: &str, cells: &mut dyn Iterator<Item = &String>| {
        let mut l = super::pad(head, rw);
        for (c, w) in cells.zip(&cw) {
            l.push_str(&" ".repeat(gap + w - width(c)));
            l.push_str(c);
        }
        let _ = writeln!(s, "{}", l.trim_end());
    };
    line(s, "", &mut cols.iter());
    for (name, cells) in rows {
        line(s, name, &mut cells.iter());
    }
}

/// R's `abbreviate(x, minlength = 4)` for one name: lower-case vowels then lower-case letters
/// dropped from the right (never the first character) until 4 remain, then cut to 4.
fn abbreviate(name: &str) -> String {
    let mut c: Vec<char> = name.trim().chars().filter(|c| !c.is_whitespace()).collect();
    for drop in [
        (|x: char| "aeiou".contains(x)) as fn(char) -> bool,
        |x: char| x.is_lowercase(),
    ] {
        let mut i = c.len();
        while c.len() > 4 && i > 1 {
            i -= 1;
            if drop(c[i]) {
                c.remove(i);
            }
        }
    }
    c.truncate(4);
    c.into_iter().collect()
}

/// The `~ inner | outer` term as `print.rma.mv` shows it: the factors, then tau2 (one row,
/// or one per inner level with its rows and label) and rho (one row, or UN's matrix of
/// correlations beside the numbers of outer levels holding each pair); the second term the same
/// with gamma2 and phi.
fn g_components(s: &mut String, g: &GFit) {
    let [n_inner, n_outer] = g.components.g_nlevels;
    let w = g.outer.chars().count().max(g.inner.chars().count());
    let _ = writeln!(
        s,
        "outer factor: {} (nlvls = {n_outer})",
        super::pad(&g.outer, w)
    );
    let _ = writeln!(
        s,
        "inner factor: {} (nlvls = {n_inner})\n",
        super::pad(&g.inner, w)
    );
    let st = g.structure;
    let nt = g.components.tau2.len();
    let rho_fixed = g.fixed.get(nt).copied().unwrap_or(true);
    let (var, cor) = match g.term {
        TermNames::G => ("tau", "rho"),
        TermNames::H => ("gamma", "phi"),
    };
    let rho_row = |cells: Vec<String>| (cor.to_string(), cells);
    let strs = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    if !st.heteroscedastic() {
        let t = g.components.tau2[0];
        let mut rows = vec![(
            format!("{:<9}", format!("{var}^2")),
            vec![fmt(t), fmt(t.sqrt()), yes_no(g.fixed[0]).into()],
        )];
        if st != Structure::ID {
            let rho = fmt(g.components.rho[0]);
            rows.push(rho_row(vec![rho, String::new(), yes_no(rho_fixed).into()]));
        }
        return r_matrix(s, &strs(&["estim", "sqrt", "fixed"]), &rows, 2);
    }
    let k_lvl = g.level_counts();
    let mut rows: Vec<(String, Vec<String>)> = (0..nt)
        .map(|j| {
            let t = g.components.tau2[j];
            let name = if nt == 1 {
                format!("{:<8}", format!("{var}^2"))
            } else {
                format!("{var}^2.{}  ", j + 1)
            };
            let cells = vec![
                fmt(t),
                fmt(t.sqrt()),
                k_lvl[j].to_string(),
                yes_no(g.fixed[j]).into(),
                g.components.g_levels[j].clone(),
            ];
            (name, cells)
        })
        .collect();
    let cols = strs(&["estim", "sqrt", "k.lvl", "fixed", "level"]);
    if matches!(st, Structure::HCS | Structure::HAR) {
        let rho = fmt(g.components.rho[0]);
        let cells = vec![rho, String::new(), String::new(), yes_no(rho_fixed).into()];
        rows.push(rho_row(cells.into_iter().chain([String::new()]).collect()));
    }
    r_matrix(s, &cols, &rows, 2);
    if st == Structure::UN {
        s.push('\n');
        un_rho(s, g);
    }
}

/// UN's correlations: rho in the lower triangle and 1 on the diagonal (phi of the second term
/// also above it, as print.rma.mv shows H in full), then the numbers of outer levels holding
/// both levels above the diagonal and whether rho is fixed below it.
fn un_rho(s: &mut String, g: &GFit) {
    let l = g.components.g_levels.len();
    let nt = g.components.tau2.len();
    let counts = g.pair_counts();
    let index = |r: usize, c: usize| c * l - c * (c + 1) / 2 + (r - c - 1);
    let abbr: Vec<String> = g
        .components
        .g_levels
        .iter()
        .map(|x| abbreviate(x))
        .collect();
    let second = g.term == TermNames::H;
    let cor = if second { "phi" } else { "rho" };
    let mut cols: Vec<String> = abbr.iter().map(|a| format!("{cor}.{a}")).collect();
    cols.push(String::new());
    cols.extend(abbr.iter().cloned());
    let rows = (0..l)
        .map(|r| {
            let mut cells: Vec<String> = (0..l)
                .map(|c| match r.cmp(&c) {
                    std::cmp::Ordering::Equal => "1".into(),
                    std::cmp::Ordering::Greater => fmt(g.components.rho[index(r, c)]),
                    std::cmp::Ordering::Less if second => fmt(g.components.rho[index(c, r)]),
                    std::cmp::Ordering::Less => String::new(),
                })
                .collect();
            cells.push(String::new());
            cells.extend((0..l).map(|c| match r.cmp(&c) {
                std::cmp::Ordering::Equal => "-".into(),
                std::cmp::Ordering::Greater => yes_no(g.fixed[nt + index(r, c)]).into(),
                std::cmp::Ordering::Less => counts[index(c, r)].to_string(),
            }));
            (g.components.g_levels[r].clone(), cells)
        })
        .collect::<Vec<_>>();
    r_matrix(s, &cols, &rows, 2);
}

/// The profile-likelihood CIs as `print(confint(res))` lays them out: one block per component,
/// a variance with its square root, a bound at the end of its search interval marked `<`/`>`.
pub fn mv_confint(fit: &MvFit, cis: &MvProfile) -> String {
    let mut s = format!(
        "\nProfile-likelihood {}% CIs of the variance components:\n",
        fit.level.percent()
    );
    let cols = ["estimate", "ci.lb", "ci.ub"].map(String::from);
    let one = |s: &mut String, names: [String; 2], est: f64, ci: &ProfileCi, variance: bool| {
        let lb = format!("{}{}", ci.lb_sign, fmt(ci.lb));
        let ub = format!("{}{}", ci.ub_sign, fmt(ci.ub));
        let mut rows = vec![(names[0].clone(), vec![fmt(est), lb, ub])];
        if variance {
            let sq = |x: f64| fmt(x.max(0.0).sqrt());
            let lb = format!("{}{}", ci.lb_sign, sq(ci.lb));
            let ub = format!("{}{}", ci.ub_sign, sq(ci.ub));
            rows.push((names[1].clone(), vec![sq(est), lb, ub]));
        }
        s.push('\n');
        r_matrix(s, &cols, &rows, 1);
    };
    let label = |base: &str, root: &str, j: usize, n: usize| {
        if n == 1 {
            [base.to_string(), root.to_string()]
        } else {
            [format!("{base}.{}", j + 1), format!("{root}.{}", j + 1)]
        }
    };
    let sigma2: Vec<f64> = fit.components.iter().map(|c| c.sigma2).collect();
    fn parts(g: &Option<GFit>) -> (&[f64], &[f64]) {
        g.as_ref().map_or((&[][..], &[][..]), |g| {
            (&g.components.tau2[..], &g.components.rho[..])
        })
    }
    let ((tau2, rho), (gamma2, phi)) = (parts(&fit.g), parts(&fit.h));
    let groups = [
        ("sigma^2", "sigma", &sigma2[..], &cis.sigma2, true),
        ("tau^2", "tau", tau2, &cis.tau2, true),
        ("rho", "", rho, &cis.rho, false),
        ("gamma^2", "gamma", gamma2, &cis.gamma2, true),
        ("phi", "", phi, &cis.phi, false),
    ];
    for (base, root, estimates, list, variance) in groups {
        for (j, ci) in list.iter().enumerate() {
            if let Some(ci) = ci {
                let names = label(base, root, j, list.len());
                one(&mut s, names, estimates[j], ci, variance);
            }
        }
    }
    s
}
