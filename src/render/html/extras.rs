//! The report's tables of what the pooling options add to a model, with the numbers
//! `evident pool` prints (metafor's digits): cluster-robust inference (metafor's `robust()`;
//! CR2 as clubSandwich, Pustejovsky & Tipton 2018), the permutation test (Higgins & Thompson
//! 2004), and a meta-regression's predictions and Wald tests. Nothing is computed here.

use super::analysis::{Analysis, MetaregExtras};
use super::prose::{brackets, level};
use super::{escape_html as esc, table};
use crate::moderators::metareg::{MetaregFit, OmnibusTest, Predicted};
use crate::moderators::permutation::PermutationTest;
use crate::moderators::subgroup::SubgroupFit;
use crate::render::plot::format::num;
use crate::render::pvalue::{p_number, PStyle};
use crate::robust::RobustFit;

/// Decimals of estimates and statistics, as `evident pool` (and metafor) print them.
const D4: usize = 4;

/// "F(2, 8.53) = 4.9612" (fractional denominator df of CR2's HTZ test kept) or "QM(2) = 9.9".
fn test_stat(t: &OmnibusTest) -> String {
    match t.ddf {
        Some(ddf) => format!("F({}, {}) = {}", t.df, num(ddf, 2), num(t.stat, D4)),
        None => format!("QM({}) = {}", t.df, num(t.stat, D4)),
    }
}

/// The cluster-robust table: each coefficient's robust SE, t, df, p and CI, and the omnibus test.
pub fn robust_table(r: &RobustFit) -> String {
    let mut s = format!(
        "<h3>Cluster-robust inference ({}, {})</h3>\n<p class=\"sub\">{} clusters of <code>{}</code>; estimates on the analysis scale; {}% confidence intervals.</p>\n",
        r.method.name(),
        r.method.df_name(),
        r.n_clusters,
        esc(&r.cluster),
        num(r.level.percent(), 0)
    );
    let rows: Vec<Vec<String>> = r
        .coefficients
        .iter()
        .map(|c| {
            vec![
                format!("<code>{}</code>", esc(&c.name)),
                num(c.estimate, D4),
                num(c.se, D4),
                num(c.tval, D4),
                num(c.df, 2),
                esc(&p_number(c.pval, PStyle::Metafor)),
                format!("[{}, {}]", num(c.ci_lb, D4), num(c.ci_ub, D4)),
            ]
        })
        .collect();
    let head = ["Coefficient", "Estimate", "Robust SE", "t", "df", "p", "CI"];
    s.push_str(&table(&head.map(String::from), &rows, &[]));
    let names: Vec<&str> = r
        .tested
        .iter()
        .map(|&j| r.coefficients[j].name.as_str())
        .collect();
    s.push_str(&format!(
        "<p>Robust test of {}: {}, p = {}.</p>\n",
        esc(&names.join(", ")),
        test_stat(&r.qm),
        esc(&p_number(r.qm.pval, PStyle::Metafor))
    ));
    s
}

/// The permutation test's p-values: QM's (with moderators) and each coefficient's.
pub fn permutation_table(fit: &MetaregFit, t: &PermutationTest) -> String {
    // An intercept-only model flips the effects' signs; its one test is the intercept's.
    let int_only = fit.p == 1 && fit.matrix.intercept;
    let mut s = format!(
        "<h3>Permutation test</h3>\n<p class=\"sub\">{} {} {}{}.</p>\n",
        t.iterations,
        if t.exact {
            "(exact: all distinct)"
        } else {
            "random"
        },
        if int_only {
            "sign flips"
        } else {
            "permutations"
        },
        if t.failed > 0 {
            format!("; {} could not be fitted and were left out", t.failed)
        } else {
            String::new()
        }
    );
    let mut rows = Vec::new();
    if !int_only {
        rows.push(vec![
            "Test of moderators (QM)".to_string(),
            esc(&p_number(fit.qm.pval, PStyle::Metafor)),
            esc(&p_number(t.qm_pval, PStyle::Metafor)),
        ]);
    }
    for (c, p) in fit.coefficients.iter().zip(&t.pval) {
        rows.push(vec![
            format!("<code>{}</code>", esc(&c.name)),
            esc(&p_number(c.pval, PStyle::Metafor)),
            esc(&p_number(*p, PStyle::Metafor)),
        ]);
    }
    let head = ["Test", "p (model)", "p (permutation)"];
    s.push_str(&table(&head.map(String::from), &rows, &[]));
    s
}

/// "ablat = 30, year = 1960".
fn point(fit: &MetaregFit, x: &[f64]) -> String {
    let names = &fit.names()[usize::from(fit.matrix.intercept)..];
    names
        .iter()
        .zip(x)
        .map(|(n, v)| format!("{} = {v}", esc(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The predicted effects at the `predict` points, with CI and prediction interval on the
/// analysis scale (as `pool --predict` prints them).
pub fn predictions_table(fit: &MetaregFit, preds: &[(Vec<f64>, Predicted)]) -> String {
    let l = num(fit.options.level.percent(), 0);
    let mut s = "<h3>Predicted effects</h3>\n".to_string();
    let rows: Vec<Vec<String>> = preds
        .iter()
        .map(|(x, p)| {
            let pi = match (p.pi_lb, p.pi_ub) {
                (Some(lb), Some(ub)) => format!("[{}, {}]", num(lb, D4), num(ub, D4)),
                _ => String::new(),
            };
            vec![
                point(fit, x),
                num(p.pred, D4),
                num(p.se, D4),
                format!("[{}, {}]", num(p.ci_lb, D4), num(p.ci_ub, D4)),
                pi,
            ]
        })
        .collect();
    let head = [
        "At".to_string(),
        "Predicted".into(),
        "SE".into(),
        format!("{l}% CI"),
        format!("{l}% PI"),
    ];
    s.push_str(&table(&head, &rows, &[0]));
    s
}

/// The Wald tests of `test_coefs`, one row per set of coefficients.
pub fn wald_table(tests: &[(Vec<String>, OmnibusTest)]) -> String {
    let rows: Vec<Vec<String>> = tests
        .iter()
        .map(|(names, t)| {
            vec![
                esc(&names.join(", ")),
                test_stat(t),
                esc(&p_number(t.pval, PStyle::Metafor)),
            ]
        })
        .collect();
    let head = ["Coefficients tested", "Statistic", "p"];
    format!(
        "<h3>Wald tests of coefficients</h3>\n{}",
        table(&head.map(String::from), &rows, &[0])
    )
}

/// The meta-regression's extras, in `pool --mods`'s order: robust, Wald tests, predictions,
/// permutation test.
pub fn metareg_extras(m: &MetaregFit, x: &MetaregExtras) -> String {
    let mut s = String::new();
    if let Some(r) = &x.robust {
        s.push_str(&robust_table(r));
    }
    if !x.wald.is_empty() {
        s.push_str(&wald_table(&x.wald));
    }
    if !x.predictions.is_empty() {
        s.push_str(&predictions_table(m, &x.predictions));
    }
    if let Some(t) = &x.permutation {
        s.push_str(&permutation_table(m, t));
    }
    s
}

/// The pooled model's cluster-robust inference and permutation test, under a heading of their
/// own; empty when neither was asked for.
pub fn pooled_section(a: &Analysis) -> String {
    let x = &a.extras;
    if x.robust.is_none() && x.permutation.is_none() {
        return String::new();
    }
    let mut s = "<h2>Pooled estimate: further inference</h2>\n".to_string();
    if let Some(r) = &x.robust {
        s.push_str(&robust_table(r));
    }
    if let Some((m, t)) = &x.permutation {
        s.push_str(&permutation_table(m, t));
    }
    s
}

/// The subgroup estimates of the model with one τ² common to all subgroups (`~ factor(by) - 1`),
/// on the display scale, with that τ².
pub fn common_tau2_table(a: &Analysis, sg: &SubgroupFit) -> String {
    let m = &sg.common;
    let mut s = format!(
        "<h3>Subgroup estimates with a common τ² (<code>~ factor({}) - 1</code>)</h3>\n",
        esc(&sg.column)
    );
    let rows: Vec<Vec<String>> = m
        .coefficients
        .iter()
        .map(|c| {
            vec![
                format!("<code>{}</code>", esc(&c.name)),
                brackets(&a.fit, c.estimate, c.ci_lb, c.ci_ub),
                esc(&p_number(c.pval, PStyle::Metafor)),
            ]
        })
        .collect();
    let head = [
        "Subgroup".to_string(),
        format!("{} [{} CI]", esc(&a.effect_name), level(&a.fit)),
        "p".into(),
    ];
    s.push_str(&table(&head, &rows, &[]));
    if !m.options.method.is_fixed() {
        s.push_str(&format!(
            "<p>Common τ² = {} ({}).</p>\n",
            num(m.tau2, D4),
            m.options.method.name()
        ));
    }
    s
}
