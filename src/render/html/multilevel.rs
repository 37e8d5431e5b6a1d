//! The report's multilevel model (metafor's `rma.mv`; Konstantopoulos 2011): the variance
//! components, the coefficients, the tests and the cluster-robust table, with the numbers
//! `evident pool --random` prints (its Methods and Results sentences are `prose`'s). Nothing is
//! refitted.

use super::analysis::MvRun;
use super::{escape_html as esc, table};
use crate::model::Method;
use crate::render::plot::format::num;
use crate::render::pvalue::{p_number, p_value, PStyle};

/// Decimals of estimates and statistics, as `evident pool` (and metafor) print them.
const D4: usize = 4;

/// "REML" or "ML".
fn method_name(m: Method) -> &'static str {
    if m == Method::ML {
        "ML"
    } else {
        "REML"
    }
}

/// The variance components: σ² with √σ² and the number of levels of each random-effects factor,
/// and τ²/ρ (γ²/φ) of each `~ inner | outer` term.
fn components_table(mv: &MvRun) -> String {
    let fit = &mv.fit;
    let mut rows: Vec<Vec<String>> = fit
        .components
        .iter()
        .enumerate()
        .map(|(j, c)| {
            vec![
                format!("σ²<sub>{}</sub>", j + 1),
                format!("<code>{}</code>", esc(&c.name)),
                num(c.sigma2, D4),
                num(c.sigma2.sqrt(), D4),
                c.nlevels.to_string(),
                if c.fixed { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    for g in fit.terms() {
        let (var, cor) = g.term.symbols();
        let c = &g.components;
        for (j, t) in c.tau2.iter().enumerate() {
            let level = c.g_levels.get(j).map_or(String::new(), |l| esc(l));
            rows.push(vec![
                format!("{var}<sub>{}</sub>", j + 1),
                format!(
                    "<code>{}</code> ({}) {level}",
                    esc(&g.formula),
                    g.structure.name()
                ),
                num(*t, D4),
                num(t.sqrt(), D4),
                c.g_nlevels[0].to_string(),
                "no".into(),
            ]);
        }
        for (j, r) in c.rho.iter().enumerate() {
            rows.push(vec![
                format!("{cor}<sub>{}</sub>", j + 1),
                format!("<code>{}</code> ({})", esc(&g.formula), g.structure.name()),
                num(*r, D4),
                String::new(),
                c.g_nlevels[1].to_string(),
                "no".into(),
            ]);
        }
    }
    let head = ["Component", "Factor", "Estimate", "√", "Levels", "Fixed"];
    table(&head.map(String::from), &rows, &[1])
}

/// The coefficient table (metafor's model results).
fn coefficients_table(mv: &MvRun) -> String {
    let fit = &mv.fit;
    let t = fit.coefficients.iter().any(|c| c.df.is_some());
    let rows: Vec<Vec<String>> = fit
        .coefficients
        .iter()
        .map(|c| {
            vec![
                format!("<code>{}</code>", esc(&c.name)),
                num(c.estimate, D4),
                num(c.se, D4),
                num(c.stat, D4),
                c.df.map_or(String::new(), |d| num(d, 0)),
                esc(&p_number(c.pval, PStyle::Metafor)),
                format!("[{}, {}]", num(c.ci_lb, D4), num(c.ci_ub, D4)),
            ]
        })
        .collect();
    let l = num(fit.level.percent(), 0);
    let head = [
        "Coefficient".to_string(),
        "Estimate".into(),
        "SE".into(),
        if t { "t" } else { "z" }.into(),
        "df".into(),
        "p".into(),
        format!("{l}% CI"),
    ];
    table(&head, &rows, &[])
}

/// The multilevel section of the page: model line, variance components, coefficients, tests,
/// multilevel I², and the cluster-robust table.
pub fn section(mv: &MvRun) -> String {
    let fit = &mv.fit;
    let mut s = format!(
        "<h2>Multilevel model</h2>\n<p class=\"sub\">metafor's rma.mv: random effects {}; {}; k = {}; logLik = {}, AIC = {}, BIC = {}.</p>\n",
        esc(&mv.options.random.join(", ")),
        method_name(fit.method),
        fit.k,
        num(fit.loglik, D4),
        num(fit.aic, D4),
        num(fit.bic, D4)
    );
    for w in &fit.warnings {
        s.push_str(&format!("<p class=\"na\">{}</p>\n", esc(w)));
    }
    s.push_str("<h3>Variance components</h3>\n");
    s.push_str(&components_table(mv));
    s.push_str("<h3>Model results</h3>\n");
    s.push_str(&coefficients_table(mv));
    let (qe, df, p) = fit.qe;
    let i2 = match fit.components.is_empty() {
        true => String::new(),
        false => format!(
            " Multilevel I² = {}% (by component: {}).",
            num(fit.i2_total, 2),
            fit.i2_components
                .iter()
                .map(|i| format!("{}%", num(*i, 2)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    s.push_str(&format!(
        "<p>Test for residual heterogeneity: QE({df}) = {}, {}.{i2}</p>\n",
        num(qe, D4),
        esc(&p_value(p, PStyle::Metafor)),
    ));
    if fit.has_moderators() {
        s.push_str(&format!(
            "<p>{}</p>\n",
            esc(&super::prose::moderators_test(mv))
        ));
    }
    if let Some(r) = &mv.robust {
        s.push_str(&super::extras::robust_table(r));
    }
    s
}

/// A multilevel meta-regression for `summary.md`: the test of the moderators and the
/// coefficient table (analysis scale), with `md` escaping user text.
pub fn markdown(mv: &MvRun, md: impl Fn(&str) -> String) -> String {
    let fit = &mv.fit;
    let t = fit.coefficients.iter().any(|c| c.df.is_some());
    let mut s = format!(
        "\n## Multilevel meta-regression\n\n{}\n\n| Coefficient | Estimate | SE | {} | p | {}% CI |\n|---|---:|---:|---:|---:|---:|\n",
        md(&super::prose::moderators_test(mv)),
        if t { "t" } else { "z" },
        num(fit.level.percent(), 0)
    );
    for c in &fit.coefficients {
        let numbers = [c.estimate, c.se, c.stat, c.pval, c.ci_lb, c.ci_ub];
        s.push_str(&super::metareg::markdown_row(&md, &c.name, numbers));
    }
    s
}
