//! The report's GLMM (binomial-normal for single proportions, UM.FS or the chosen model beside
//! sparse 2×2 tables): its sentences, its row in the study tables and its section, written from
//! the fit `app::report` made (Stijnen, Hamza & Özdemir 2010).

use super::analysis::{fit_display, Analysis, GlmmRole};
use super::prose::{level, shown_triple};
use super::{escape_html as esc, table};
use crate::glmm::GlmmFit;
use crate::measure::Measure;
use crate::render::plot::format::num;
use crate::render::pvalue::{p_value, PStyle};

/// "0.71 [0.55, 0.84]" of the GLMM's pooled estimate.
pub fn brackets(fit: &GlmmFit) -> String {
    fit_display(fit).map_or_else(String::new, |(e, l, u)| {
        let [e, l, u] = shown_triple(e, l, u);
        format!("{e} [{l}, {u}]")
    })
}

/// The study tables' row of the GLMM: (label, estimate [CI]).
pub fn table_row(a: &Analysis) -> Option<(String, String)> {
    let (g, f) = a.glmm_fit()?;
    let label = match g.spec.role {
        GlmmRole::Primary => format!("Pooled ({})", g.name()),
        GlmmRole::Sensitivity => format!("Sensitivity: {}", g.name()),
    };
    Some((label, brackets(f)))
}

/// The label of the inverse-variance (or MH) pooled row: a sensitivity line when the GLMM leads.
pub fn pooled_label(a: &Analysis, usual: &str) -> String {
    if a.glmm_leads() {
        let rest = usual.strip_prefix("Pooled").unwrap_or(usual).trim();
        format!("Sensitivity: inverse variance {rest}")
            .trim()
            .to_string()
    } else {
        usual.to_string()
    }
}

/// The page's GLMM section: the model's estimate, τ², and both tests for heterogeneity, or why
/// it was not fitted.
pub fn section(a: &Analysis) -> String {
    let Some(g) = &a.glmm else {
        return String::new();
    };
    let mut s = format!(
        "<h2>Generalized linear mixed model ({})</h2>\n",
        esc(&g.name())
    );
    let f = match &g.fit {
        Ok(f) => f,
        Err(why) => {
            s.push_str(&format!("<p class=\"na\">{}</p>\n", esc(why)));
            return s;
        }
    };
    let what = match f.measure {
        Measure::PLO => "Proportion",
        _ => "OR",
    };
    let p = |x: f64| p_value(x, PStyle::Journal);
    let rows = vec![
        vec![format!("{what} [{} CI]", level(&a.fit)), esc(&brackets(f))],
        vec!["τ²".into(), num(f.tau2, 4)],
        vec!["I²".into(), format!("{}%", num(f.i2, 0))],
        vec![
            format!("Wald test for heterogeneity (df = {})", f.qe_df),
            format!("{}; {}", num(f.qe_wld, 2), p(f.qe_wld_pval)),
        ],
        vec![
            format!("Likelihood-ratio test for heterogeneity (df = {})", f.qe_df),
            format!("{}; {}", num(f.qe_lrt, 2), p(f.qe_lrt_pval)),
        ],
        vec!["Studies".into(), f.k.to_string()],
    ];
    s.push_str(&table(&["".into(), "Value".into()], &rows, &[]));
    s
}
