//! The report's meta-regression (Thompson & Higgins 2002, *Stat Med* 21:1559–73): the coefficient
//! table, the test of moderators, residual heterogeneity, R², the bubble plots, a Results
//! sentence and the index's summary. Every number is the fit's own, printed with the digits
//! `evident pool --mods` prints; nothing is refitted here.

use super::analysis::Analysis;
use super::{escape_html as esc, inline_svg, table};
use crate::measure::Scale;
use crate::moderators::metareg::{Coefficient, MetaregFit};
use crate::render::plot::format::{num, omnibus_stat};
use crate::render::pvalue::{p_number, p_value, PStyle};

/// Decimals of coefficients and test statistics, as `evident pool --mods` (and metafor) print
/// them.
const D4: usize = 4;

/// "95%".
fn level(m: &MetaregFit) -> String {
    let l = m.options.level.percent();
    if l.fract() == 0.0 {
        format!("{l:.0}%")
    } else {
        format!("{l}%")
    }
}

/// The name of the scale the coefficients are on: "log RR", "logit proportion", "MD".
fn scale_name(a: &Analysis, m: &MetaregFit) -> String {
    match m.effects.scale {
        Scale::Log => format!("log {}", a.effect_name),
        Scale::Logit => "logit proportion".into(),
        Scale::FisherZ => "Fisher's z".into(),
        Scale::Arcsine => "arcsine proportion".into(),
        Scale::FreemanTukey(_) => "Freeman–Tukey proportion".into(),
        Scale::SquareRoot => "square-root rate".into(),
        Scale::FreemanTukeyRate(_) => "Freeman–Tukey rate".into(),
        Scale::Identity => a.effect_name.clone(),
    }
}

/// The factor a coefficient is a dummy of, with its reference level: `("alloc", "alternate")`.
fn dummy_of<'a>(m: &'a MetaregFit, name: &str) -> Option<(&'a str, &'a str)> {
    m.matrix.factors.iter().find_map(|f| {
        let ours = f
            .levels
            .iter()
            .any(|l| name == format!("{}{l}", f.label) || name == format!("{}{l}", f.column));
        match (&f.reference, ours && !name.contains(':')) {
            (Some(r), true) => Some((f.column.as_str(), r.as_str())),
            _ => None,
        }
    })
}

/// The coefficients of the moderators (all but the intercept).
fn slopes(m: &MetaregFit) -> &[Coefficient] {
    &m.coefficients[usize::from(m.matrix.intercept)..]
}

/// "t(11) = −3.55" or "z = −3.55".
fn stat_clause(m: &MetaregFit, c: &Coefficient) -> String {
    match m.df {
        Some(df) => format!("t({}) = {}", num(df, 0), num(c.stat, 2)),
        None => format!("z = {}", num(c.stat, 2)),
    }
}

/// One coefficient for the Results sentence: estimate per unit (or against the reference
/// level), CI, test, and for ratios the multiplicative change.
fn coefficient_clause(a: &Analysis, m: &MetaregFit, c: &Coefficient) -> String {
    let (what, per) = match dummy_of(m, &c.name) {
        Some((col, r)) => (format!("{} (against {col} = {r})", c.name), ""),
        None => (c.name.clone(), " per unit"),
    };
    let mut s = format!(
        "{what} {}{per} ({} CI {} to {}; {}, {})",
        num(c.estimate, D4),
        level(m),
        num(c.ci_lb, D4),
        num(c.ci_ub, D4),
        stat_clause(m, c),
        p_value(c.pval, PStyle::Journal)
    );
    if m.effects.scale == Scale::Log {
        s.push_str(&format!(
            ", the {} multiplied by {}{per} ({} to {})",
            a.effect_name,
            num(c.estimate.exp(), 3),
            num(c.ci_lb.exp(), 3),
            num(c.ci_ub.exp(), 3),
        ));
    }
    s
}

/// The Results sentence of the meta-regression (plain text).
pub fn results(a: &Analysis, m: &MetaregFit) -> String {
    let mods = slopes(m);
    let clauses: Vec<String> = mods.iter().map(|c| coefficient_clause(a, m, c)).collect();
    let model = if m.options.method.is_fixed() {
        "fixed-effects"
    } else {
        "mixed-effects"
    };
    let mut s = format!(
        "In a {model} meta-regression of {} studies, the coefficient{} on the {} scale {}: {}.",
        m.k,
        if mods.len() == 1 { "" } else { "s" },
        scale_name(a, m),
        if mods.len() == 1 { "was" } else { "were" },
        clauses.join("; ")
    );
    if mods.len() > 1 {
        s.push_str(&format!(
            " Test of moderators: {}, {}.",
            omnibus_stat(&m.qm, 2),
            p_value(m.qm.pval, PStyle::Journal)
        ));
    }
    if let Some(r2) = m.r2 {
        if m.options.method.is_fixed() {
            s.push_str(&format!(" R² of the weighted regression: {}%.", num(r2, 0)));
        } else {
            s.push_str(&format!(
                " The moderator{} accounted for {}% of the between-study heterogeneity (R²).",
                if mods.len() == 1 { "" } else { "s" },
                num(r2, 0)
            ));
        }
    }
    s.push_str(&residual_sentence(m));
    s
}

/// " Residual heterogeneity: I² = …, τ² = …, QE = … (df = …, p …)."
fn residual_sentence(m: &MetaregFit) -> String {
    let h = &m.het;
    if let Some(why) = h.undefined_reason() {
        return format!(" Residual heterogeneity: {why}.");
    }
    let tau2 = if m.options.method.is_fixed() {
        String::new()
    } else {
        format!(", τ² = {}", num(m.tau2, D4))
    };
    format!(
        " Residual heterogeneity: I² = {}%{tau2}, QE = {} (df = {}, {}).",
        num(h.i2, 0),
        num(h.q, 2),
        h.q_df,
        p_value(h.q_pval, PStyle::Journal)
    )
}

/// The coefficient table: metafor's columns, and the back-transformed ratio for log scales.
fn coefficient_table(a: &Analysis, m: &MetaregFit) -> String {
    let ratio = m.effects.scale == Scale::Log;
    let mut head = vec![
        "Coefficient".to_string(),
        "Estimate".into(),
        "SE".into(),
        if m.test.uses_t() { "t" } else { "z" }.into(),
        "p".into(),
        format!("{} CI", level(m)),
    ];
    if ratio {
        head.push(format!(
            "{} ratio, exp(b) [{} CI]",
            esc(&a.effect_name),
            level(m)
        ));
    }
    let rows: Vec<Vec<String>> = m
        .coefficients
        .iter()
        .map(|c| {
            let mut r = vec![
                format!("<code>{}</code>", esc(&c.name)),
                num(c.estimate, D4),
                num(c.se, D4),
                num(c.stat, D4),
                esc(&p_number(c.pval, PStyle::Metafor)),
                format!("[{}, {}]", num(c.ci_lb, D4), num(c.ci_ub, D4)),
            ];
            // exp of the intercept is a prediction at moderators of 0, often far outside the
            // data: the ratio column is the moderators' multiplicative effects only.
            let intercept = m.matrix.intercept && c.name == m.coefficients[0].name;
            if ratio && intercept {
                r.push(String::new());
            } else if ratio {
                r.push(format!(
                    "{} [{}, {}]",
                    num(c.estimate.exp(), 3),
                    num(c.ci_lb.exp(), 3),
                    num(c.ci_ub.exp(), 3)
                ));
            }
            r
        })
        .collect();
    table(&head, &rows, &[])
}

/// The model's tests and heterogeneity: QM, QE, residual τ² (with SE and CI), I², H², R².
fn model_table(m: &MetaregFit) -> String {
    let h = &m.het;
    let mut rows = vec![
        vec![
            format!(
                "Test of moderators ({} coefficient{})",
                m.qm.df,
                if m.qm.df == 1 { "" } else { "s" }
            ),
            omnibus_stat(&m.qm, D4),
            esc(&p_number(m.qm.pval, PStyle::Metafor)),
        ],
        vec![
            "Residual heterogeneity".into(),
            match h.undefined_reason() {
                Some(why) => esc(why),
                None => format!("QE({}) = {}", h.q_df, num(h.q, D4)),
            },
            esc(&p_number(h.q_pval, PStyle::Metafor)),
        ],
    ];
    if !m.options.method.is_fixed() {
        let se = m
            .se_tau2
            .map_or(String::new(), |s| format!(" (SE = {})", num(s, D4)));
        let ci = m.tau2_ci.map_or(String::new(), |c| {
            format!(
                "; {} CI [{}{}, {}{}]",
                level(m),
                c.lb_censor.sign(),
                num(c.tau2_lb, D4),
                c.ub_censor.sign(),
                num(c.tau2_ub, D4)
            )
        });
        rows.push(vec![
            "Residual τ²".into(),
            format!("{}{se}{ci}", num(m.tau2, D4)),
            String::new(),
        ]);
    }
    rows.push(vec![
        "Residual I²".into(),
        format!("{}%", num(h.i2, 2)),
        String::new(),
    ]);
    rows.push(vec!["Residual H²".into(), num(h.h2, D4), String::new()]);
    rows.push(vec![
        "R² (heterogeneity accounted for)".into(),
        match m.r2 {
            Some(r2) if m.options.method.is_fixed() => {
                format!("{}% (adjusted R² of the weighted regression)", num(r2, 2))
            }
            Some(r2) => format!("{}%", num(r2, 2)),
            None => "<span class=\"na\">not defined (no intercept in the model)</span>".into(),
        },
        String::new(),
    ]);
    table(
        &["Statistic".into(), "Value".into(), "p".into()],
        &rows,
        &[],
    )
}

/// The bubble plots, or why each is not drawn, and a word on the factors that have none.
fn figures(a: &Analysis, m: &MetaregFit) -> String {
    let mut s = String::new();
    for b in &a.bubbles {
        match &b.svg {
            Ok(svg) => s.push_str(&format!(
                "<figure>{}<figcaption>Bubble plot: each study's effect against {}, bubble area proportional to its weight in the model; line: the fitted meta-regression with its {} confidence band{}. <a href=\"{}\">{}</a></figcaption></figure>\n",
                inline_svg(svg, "bubble"),
                esc(&b.moderator),
                level(m),
                if slopes(m).len() > 1 { ", the other moderators held at their means (as metafor's regplot)" } else { "" },
                esc(&b.file),
                esc(&b.file)
            )),
            Err(why) => s.push_str(&format!(
                "<p class=\"na\">Bubble plot of {} {}</p>\n",
                esc(&b.moderator),
                esc(why)
            )),
        }
    }
    for f in &m.matrix.factors {
        s.push_str(&format!(
            "<p class=\"na\">{} is categorical: its coefficients are {} in the table; no bubble plot.</p>\n",
            esc(&f.column),
            match &f.reference {
                Some(r) => format!("differences from the reference level {}", esc(r)),
                None => "the levels' own means".into(),
            }
        ));
    }
    s
}

/// The meta-regression section of the analysis page.
pub fn section(a: &Analysis) -> String {
    let Some(mr) = &a.metareg else {
        return String::new();
    };
    let mut s = format!(
        "<h2>Meta-regression on {}</h2>\n",
        esc(&a.spec.cfg.mods.join(", "))
    );
    let m = match mr {
        Err(why) => return s + &format!("<p class=\"na\">{}</p>\n", esc(why)),
        Ok(m) => m,
    };
    s.push_str(&format!("<p class=\"paste\">{}</p>\n", esc(&results(a, m))));
    s.push_str(&format!(
        "<p class=\"sub\">{}; k = {}, p = {} coefficients; {}.</p>\n",
        esc(&model_line(m)),
        m.k,
        m.p,
        esc(&inference(m))
    ));
    for line in notes(m) {
        s.push_str(&format!("<p class=\"na\">{}</p>\n", esc(&line)));
    }
    s.push_str(&coefficient_table(a, m));
    s.push_str(&model_table(m));
    s.push_str(&super::extras::metareg_extras(m, &a.metareg_extras));
    s.push_str(&figures(a, m));
    s.push_str("<p class=\"files\"><a href=\"metareg.json\">metareg.json</a>");
    for b in a.bubbles.iter().filter(|b| b.svg.is_ok()) {
        s.push_str(&format!("<a href=\"{0}\">{0}</a>", esc(&b.file)));
    }
    s.push_str("</p>\n");
    s
}

/// "Mixed-effects meta-regression, τ² by REML".
fn model_line(m: &MetaregFit) -> String {
    if m.options.method.is_fixed() {
        "Fixed-effects meta-regression".into()
    } else {
        format!(
            "Mixed-effects meta-regression, τ² by {}",
            m.options.method.name()
        )
    }
}

/// "Knapp–Hartung t(11)" or "z (Wald)".
fn inference(m: &MetaregFit) -> String {
    let df = m.df.map_or(String::new(), |d| format!("({})", num(d, 0)));
    match m.test {
        crate::model::Test::Z => "inference: z (Wald)".into(),
        crate::model::Test::Knha => format!("inference: Knapp–Hartung t{df}"),
        crate::model::Test::Adhoc => format!("inference: Knapp–Hartung (ad hoc) t{df}"),
        crate::model::Test::T => format!("inference: t{df} on the Wald SE"),
    }
}

/// The reference levels, the studies left out for a missing moderator, and the fit's notes.
fn notes(m: &MetaregFit) -> Vec<String> {
    let mut out: Vec<String> = crate::render::text::reference_line(&m.matrix.factors)
        .into_iter()
        .collect();
    if !m.omitted.is_empty() {
        out.push(format!(
            "Omitted from the meta-regression: {} {} with a missing moderator value ({}).",
            m.omitted.len(),
            if m.omitted.len() == 1 {
                "study"
            } else {
                "studies"
            },
            m.omitted
                .iter()
                .map(|o| o.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !m.matrix.redundant.is_empty() {
        out.push(format!(
            "Redundant predictors dropped from the model: {}.",
            m.matrix.redundant.join(", ")
        ));
    }
    out.extend(m.notes.iter().cloned());
    out
}

/// The index's cells for an analysis with moderators (plain text, for the caller to escape):
/// k of the model, the model's own summary and the residual I².
pub struct IndexCells {
    /// Studies in the model ("12 of 13" when some lack a moderator value).
    pub k: String,
    /// "Meta-regression: ablat −0.0291 [−0.0472, −0.0111] per unit (log RR), p = 0.005; R² = 76%".
    pub estimate: String,
    /// "68% residual".
    pub i2: String,
}

/// The index's summary of an analysis's meta-regression; `None` without moderators or when the
/// model could not be fitted (the index then shows the pooled estimate and a flag).
pub fn index_cells(a: &Analysis) -> Option<IndexCells> {
    if let Some(mv) = a.mv_metareg() {
        return Some(mv_index_cells(a, mv));
    }
    let Some(Ok(m)) = &a.metareg else {
        return None;
    };
    let mods = slopes(m);
    let head = match mods {
        [c] => format!(
            "Meta-regression: {} {} [{}, {}]{} ({}), {}",
            c.name,
            num(c.estimate, D4),
            num(c.ci_lb, D4),
            num(c.ci_ub, D4),
            if dummy_of(m, &c.name).is_some() {
                ""
            } else {
                " per unit"
            },
            scale_name(a, m),
            p_value(c.pval, PStyle::Journal)
        ),
        _ => format!(
            "Meta-regression on {}: {}, {}",
            a.spec.cfg.mods.join(" + "),
            omnibus_stat(&m.qm, 2),
            p_value(m.qm.pval, PStyle::Journal)
        ),
    };
    let r2 =
        m.r2.map_or(String::new(), |r| format!("; R² = {}%", num(r, 0)));
    Some(IndexCells {
        k: if m.k == a.fit.k {
            m.k.to_string()
        } else {
            format!("{} of {}", m.k, a.fit.k)
        },
        estimate: format!("{head}{r2}"),
        i2: if m.het.undefined_reason().is_some() {
            "—".into()
        } else {
            format!("{}% residual", num(m.het.i2, 0))
        },
    })
}

/// A multilevel meta-regression's index cells: its test of the moderators (no pooled estimate)
/// and the multilevel I² of the residual heterogeneity.
fn mv_index_cells(a: &Analysis, mv: &super::analysis::MvRun) -> IndexCells {
    let fit = &mv.fit;
    IndexCells {
        k: fit.k.to_string(),
        estimate: format!(
            "Multilevel meta-regression on {}: {}, {}",
            a.spec.cfg.mods.join(" + "),
            omnibus_stat(&fit.qm, 2),
            p_value(fit.qm.pval, PStyle::Journal)
        ),
        i2: match fit.components.is_empty() {
            true => "—".into(),
            false => format!("{}% residual", num(fit.i2_total, 0)),
        },
    }
}

/// A coefficient's row of a Markdown table: name, estimate, SE, statistic, p, CI.
pub(crate) fn markdown_row(md: &impl Fn(&str) -> String, name: &str, x: [f64; 6]) -> String {
    let [estimate, se, stat, pval, lb, ub] = x;
    format!(
        "| {} | {} | {} | {} | {} | [{}, {}] |\n",
        md(name),
        num(estimate, D4),
        num(se, D4),
        num(stat, D4),
        md(&p_number(pval, PStyle::Metafor)),
        num(lb, D4),
        num(ub, D4)
    )
}

/// The meta-regression for `summary.md`: the Results sentence and the coefficient table, with
/// `md` escaping user text; empty without moderators.
pub fn markdown(a: &Analysis, md: impl Fn(&str) -> String) -> String {
    let Some(mr) = &a.metareg else {
        return String::new();
    };
    let mut s = format!(
        "\n## Meta-regression on {}\n\n",
        md(&a.spec.cfg.mods.join(", "))
    );
    let m = match mr {
        Err(why) => return s + &md(why) + "\n",
        Ok(m) => m,
    };
    s.push_str(&format!("{}\n\n", md(&results(a, m))));
    s.push_str(&format!(
        "| Coefficient | Estimate | SE | {} | p | {} CI |\n|---|---:|---:|---:|---:|---:|\n",
        if m.test.uses_t() { "t" } else { "z" },
        level(m)
    ));
    for c in &m.coefficients {
        let numbers = [c.estimate, c.se, c.stat, c.pval, c.ci_lb, c.ci_ub];
        s.push_str(&markdown_row(&md, &c.name, numbers));
    }
    s.push_str(&format!(
        "\nTest of moderators: {}, {}. Residual heterogeneity: {}. R²: {}.\n",
        omnibus_stat(&m.qm, D4),
        md(&p_value(m.qm.pval, PStyle::Metafor)),
        match m.het.undefined_reason() {
            Some(why) => why.to_string(),
            None => format!(
                "QE({}) = {}, {}",
                m.het.q_df,
                num(m.het.q, D4),
                md(&p_value(m.het.q_pval, PStyle::Metafor))
            ),
        },
        m.r2.map_or("not defined".into(), |r| format!("{}%", num(r, 2)))
    ));
    s
}

/// A step's reason, for the index flag of a meta-regression that was not fitted.
pub fn failed(a: &Analysis) -> Option<&str> {
    match &a.metareg {
        Some(Err(why)) => Some(why),
        _ => None,
    }
}
