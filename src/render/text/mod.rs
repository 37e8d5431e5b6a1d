//! Readable summaries of fitted models, in the spirit of metafor's `print.rma`: one file per
//! family of results, as metafor has one print method per result class. The pieces they share
//! (number formats, the τ² and Q clauses, the Wald-type row, the closing fit statistics) live here.

mod anova;
mod bias;
mod blup;
mod effects;
mod glmm;
mod hc;
mod moderators;
mod multilevel;
mod reported;
mod rma;
mod robust;
mod selmodel;
mod sensitivity;
mod sof;
mod svalue;

pub use anova::anova_summary;
pub use bias::{
    bias_report, fsn_summary, mv_regtest_summary, pet_peese_summary, ranktest_summary,
    regtest_summary, small_k_warning, trimfill_summary,
};
pub use blup::blup_table;
pub use effects::effects_table;
pub use glmm::glmm_summary;
pub use hc::hc_summary;
pub use moderators::{
    metareg_summary, permutation_summary, predictions_summary, reference_line, subgroup_summary,
    wald_tests_summary,
};
pub use multilevel::{mv_confint, mv_summary};
pub use reported::{additive_summary, two_estimates_summary};
pub use rma::{mh_summary, mixed_ratios_note, omitted_warnings, rma_summary};
pub use robust::robust_summary;
pub use selmodel::selmodel_summary;
pub use sensitivity::{
    cumul_table, gosh_summary, influence_table, leave1out_table, sensitivity_report,
};
pub use sof::{difference_words, nnt_words, sof_summary, source_words};
pub use svalue::svalue_summary;

use crate::measure::{Measure, Scale};
use crate::model::heterogeneity::Tau2Ci;
use crate::model::{FitStats, RmaFit, Test};
use crate::render::pvalue::{p_number, p_value, PStyle};
use std::fmt::{Display, Write};

/// How many decimals the text summaries print (metafor's `digits`, 4 by default): from 1 to
/// [`Digits::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digits(usize);

impl Digits {
    /// The most decimals asked for: beyond 12 a double's digits are noise.
    pub const MAX: usize = 12;

    /// `n` decimals, or an error for 0 or more than [`Digits::MAX`].
    pub fn new(n: usize) -> crate::error::Result<Digits> {
        if (1..=Self::MAX).contains(&n) {
            Ok(Digits(n))
        } else {
            Err(crate::error::Error::invalid(format!(
                "the number of decimals (digits) must be a whole number from 1 to {}, found {n}",
                Self::MAX
            )))
        }
    }

    /// The number of decimals.
    pub fn get(self) -> usize {
        self.0
    }

    /// `x` with these decimals; `NA` for NaN, scientific notation for |x| ≥ 10¹².
    pub fn format(self, x: f64) -> String {
        let d = self.0;
        if x.is_nan() {
            "NA".into()
        } else if x.is_finite() && x.abs() >= 1e12 {
            // Statistics of astronomically large counts: 1.6781e202, not 200 digits.
            format!("{x:.d$e}")
        } else {
            format!("{x:.d$}")
        }
    }
}

impl Default for Digits {
    fn default() -> Self {
        Digits(4)
    }
}

impl std::str::FromStr for Digits {
    type Err = crate::error::Error;
    fn from_str(s: &str) -> crate::error::Result<Digits> {
        match s.trim().parse::<usize>() {
            Ok(n) => Digits::new(n),
            Err(_) => Err(crate::error::Error::invalid(format!(
                "the number of decimals (digits) must be a whole number from 1 to {}, got '{s}'",
                Self::MAX
            ))),
        }
    }
}

thread_local! {
    /// The decimals of the summaries rendered on this thread (see [`with_digits`]).
    static DIGITS: std::cell::Cell<Digits> = const { std::cell::Cell::new(Digits(4)) };
}

/// Runs `f` with every text summary it renders printing `digits` decimals (as metafor's
/// `print(x, digits = )`), then restores the previous setting, also when `f` panics.
pub fn with_digits<T>(digits: Digits, f: impl FnOnce() -> T) -> T {
    struct Restore(Digits);
    impl Drop for Restore {
        fn drop(&mut self) {
            DIGITS.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(DIGITS.with(|c| c.replace(digits)));
    f()
}

/// The decimals in force on this thread (4 unless inside [`with_digits`]).
pub fn digits() -> Digits {
    DIGITS.with(|c| c.get())
}

fn fmt(x: f64) -> String {
    digits().format(x)
}

/// "tau^2 = 0.3132 (SE = 0.1664), 95% CI [0.1197, 1.1115] (Q-profile)" (or "(profile
/// likelihood)") and a line break.
fn tau2_line(
    s: &mut String,
    name: &str,
    tau2: f64,
    se: Option<f64>,
    ci: Option<&Tau2Ci>,
    level: f64,
) {
    let _ = write!(s, "{name} = {}", fmt(tau2));
    if let Some(se) = se {
        let _ = write!(s, " (SE = {})", fmt(se));
    }
    if let Some(ci) = ci.filter(|c| c.null) {
        // metafor: both bounds fall below 0, so the CI is the null/empty set.
        let _ = write!(s, ", {level}% CI: empty set ({})", ci.ci_type.label());
    } else if let Some(ci) = ci {
        let _ = write!(
            s,
            ", {level}% CI [{}{}, {}{}] ({})",
            ci.lb_censor.sign(),
            fmt(ci.tau2_lb),
            ci.ub_censor.sign(),
            fmt(ci.tau2_ub),
            ci.ci_type.label()
        );
    }
    let _ = writeln!(s);
}

/// "Q(df) = q, p"; `name` is `QE` for residual heterogeneity.
fn q_clause(name: &str, df: impl Display, q: f64, p: f64) -> String {
    if q.is_nan() {
        // Never "Q = 0, p = 1": the fit's notes say why (e.g. a sampling variance of 0).
        return format!("{name}({df}) = NA (cannot be computed)");
    }
    format!("{name}({df}) = {}, {}", fmt(q), p_value(p, PStyle::Metafor))
}

/// "OR (log odds ratio)".
fn measure_label(m: Measure) -> String {
    format!("{} ({})", m.name(), m.description())
}

fn test_label(test: Test, df: Option<f64>) -> String {
    match test {
        Test::Z => "z (Wald)".to_string(),
        Test::Knha => format!("Knapp–Hartung t({})", df.unwrap_or(f64::NAN)),
        Test::Adhoc => format!(
            "Knapp–Hartung (ad hoc, s² ≥ 1) t({})",
            df.unwrap_or(f64::NAN)
        ),
        Test::T => format!("t({}) on the Wald SE", df.unwrap_or(f64::NAN)),
    }
}

/// The heads of a Wald-type row's six columns ("estimate se zval pval ci.lb ci.ub").
fn wald_head(stat_name: &str) -> String {
    format!(
        "{:>8} {:>7} {:>8} {:>7} {:>8} {:>8}",
        "estimate", "se", stat_name, "pval", "ci.lb", "ci.ub"
    )
}

/// The cells of a Wald-type row, under [`wald_head`].
fn wald_cells(estimate: f64, se: f64, stat: f64, pval: f64, ci_lb: f64, ci_ub: f64) -> String {
    format!(
        "{:>8} {:>7} {:>8} {:>7} {:>8} {:>8}",
        fmt(estimate),
        fmt(se),
        fmt(stat),
        p_number(pval, PStyle::Metafor),
        fmt(ci_lb),
        fmt(ci_ub)
    )
}

/// "0.4894 [0.3441, 0.6962], p < .0001".
fn estimate_ci_p(estimate: f64, ci_lb: f64, ci_ub: f64, pval: f64) -> String {
    format!(
        "{} [{}, {}], {}",
        fmt(estimate),
        fmt(ci_lb),
        fmt(ci_ub),
        p_value(pval, PStyle::Metafor)
    )
}

/// An estimate and its interval on the measure's original scale: "0.4894 [0.3441, 0.6962]".
fn back_ci(scale: Scale, estimate: f64, ci_lb: f64, ci_ub: f64) -> String {
    format!(
        "{} [{}, {}]",
        fmt(scale.back(estimate)),
        fmt(scale.back(ci_lb)),
        fmt(scale.back(ci_ub))
    )
}

/// "Back-transformed (exp): 0.4894 [0.3441, 0.6962]", without a line break.
fn back_line(scale: Scale, estimate: f64, ci_lb: f64, ci_ub: f64) -> String {
    format!(
        "Back-transformed ({}): {}",
        scale.key_suffix().unwrap_or(""),
        back_ci(scale, estimate, ci_lb, ci_ub)
    )
}

/// "Prediction interval: [lb, ub]" where there is one, then the estimate, its CI and the
/// prediction interval back-transformed where the scale is transformed.
fn prediction_and_back(
    s: &mut String,
    scale: Scale,
    (estimate, ci_lb, ci_ub): (f64, f64, f64),
    pi: Option<(f64, f64)>,
) {
    if let Some((lb, ub)) = pi {
        let _ = writeln!(s, "Prediction interval: [{}, {}]", fmt(lb), fmt(ub));
    }
    if scale.is_transformed() {
        let _ = write!(s, "\n{}", back_line(scale, estimate, ci_lb, ci_ub));
        if let Some((lb, ub)) = pi {
            let _ = write!(
                s,
                "; prediction interval [{}, {}]",
                fmt(scale.back(lb)),
                fmt(scale.back(ub))
            );
        }
        let _ = writeln!(s);
    }
}

/// A coefficient table: one row per (name, [estimate, se, stat, pval, ci.lb, ci.ub]) under
/// [`wald_head`], the names left-aligned.
fn coefficient_table(s: &mut String, stat_name: &str, rows: &[(&str, [f64; 6])]) {
    let width = label_width(rows.iter().map(|r| r.0), 4);
    let _ = writeln!(s, "{} {}", pad("", width), wald_head(stat_name));
    for (name, [est, se, stat, p, lb, ub]) in rows {
        let _ = writeln!(
            s,
            "{} {}",
            pad(name, width),
            wald_cells(*est, *se, *stat, *p, *lb, *ub)
        );
    }
}

/// The line of fit statistics that closes a model summary, then the model's notes.
fn fit_stats_and_notes(s: &mut String, f: &FitStats, notes: &[String]) {
    let _ = writeln!(
        s,
        "\nlogLik ({}) = {}; deviance = {}; AIC = {}; BIC = {}; AICc = {}",
        f.loglik_type,
        fmt(f.loglik),
        fmt(f.deviance),
        fmt(f.aic),
        fmt(f.bic),
        fmt(f.aicc)
    );
    for n in notes {
        let _ = writeln!(s, "Note: {n}");
    }
}

/// The width of a column of labels: the longest label's, but at least `min`.
fn label_width<'a>(labels: impl IntoIterator<Item = &'a str>, min: usize) -> usize {
    labels
        .into_iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(min)
}

/// `label` left-aligned in `width` characters, as `{:<width$}` does, but for any width:
/// `std::fmt` panics on widths over `u16::MAX`, which a hostile study label can reach.
fn pad(label: &str, width: usize) -> String {
    let n = label.chars().count();
    let mut s = String::with_capacity(label.len() + width.saturating_sub(n));
    s.push_str(label);
    s.extend(std::iter::repeat_n(' ', width.saturating_sub(n)));
    s
}

/// "Pooled estimate: …" after a blank line: the result the bias and sensitivity reports examine.
fn pooled_line(s: &mut String, fit: &RmaFit) {
    let _ = writeln!(
        s,
        "\nPooled estimate: {}",
        estimate_ci_p(fit.estimate, fit.ci_lb, fit.ci_ub, fit.pval)
    );
}

/// A report's section: the rendered result, or why there is none.
fn or_unavailable<T>(r: &crate::error::Result<T>, f: impl Fn(&T) -> String) -> String {
    match r {
        Ok(x) => f(x),
        Err(e) => format!("not available: {e}\n"),
    }
}
