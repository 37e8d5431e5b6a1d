//! What a multilevel model's forest plot shows beyond a plain fit's: the rows grouped under
//! their cluster's heading (no subtotals: the clusters are not pooled separately), the model
//! named with its estimator, its variance components and multilevel I² in the heterogeneity
//! note, and the cluster-robust interval as a row of its own (Pustejovsky & Tipton 2018,
//! *J Bus Econ Stat* 36:672–683, for CR2).

use super::super::format::{num, omnibus_stat, tau2};
use crate::multilevel::{Fitted, MvFit};
use crate::render::pvalue::{p_value, PStyle};
use crate::robust::RobustFit;

/// A heading and the rows under it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// The heading (the cluster's value).
    pub name: String,
    /// Positions of its rows in the drawn fit's effect set.
    pub members: Vec<usize>,
}

/// The cluster-robust interval of the pooled estimate, drawn under the model's diamond.
#[derive(Debug, Clone, PartialEq)]
pub struct RobustRow {
    /// "Robust CI (CR2, 11 clusters)".
    pub label: String,
    /// The estimate (analysis scale).
    pub estimate: f64,
    /// Lower bound (analysis scale).
    pub ci_lb: f64,
    /// Upper bound (analysis scale).
    pub ci_ub: f64,
    /// Its test line under the plot.
    pub test: String,
}

/// The multilevel model's part of a forest plot (see the module documentation).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MultilevelLayout {
    /// The clusters in the order drawn; empty draws the rows ungrouped.
    pub clusters: Vec<Cluster>,
    /// The pooled row's label.
    pub model_label: String,
    /// The heterogeneity note.
    pub heterogeneity: String,
    /// The cluster-robust row, under `--robust` (of the pooled estimate: none for a
    /// meta-regression).
    pub robust: Option<RobustRow>,
    /// A meta-regression's fitted value of each drawn row (metafor's `predict(res)`), drawn as
    /// a grey diamond on the row instead of one pooled diamond; empty for an intercept-only
    /// model.
    pub fitted: Vec<Fitted>,
    /// A meta-regression's test of the moderators (QM), a note under the plot.
    pub moderators_test: Option<String>,
}

/// The layout of `fit`'s plot with `clusters` and, if given, its cluster-robust inference.
pub fn multilevel_layout(
    fit: &MvFit,
    robust: Option<&RobustFit>,
    clusters: Vec<Cluster>,
) -> MultilevelLayout {
    let metareg = fit.has_moderators();
    MultilevelLayout {
        clusters,
        model_label: format!("Multilevel model ({})", fit.method.name()),
        heterogeneity: heterogeneity_note(fit),
        robust: robust
            .filter(|_| !metareg)
            .and_then(|r| robust_row(r, fit.level.percent())),
        fitted: if metareg { fit.fitted() } else { Vec::new() },
        moderators_test: metareg.then(|| moderators_note(fit)),
    }
}

/// "Grey diamonds: fitted values with 95% CIs; test of moderators: QM(1) = 4.83, p = 0.028".
fn moderators_note(fit: &MvFit) -> String {
    format!(
        "Grey diamonds: fitted values with {}% CIs; test of moderators: {}, {}",
        num(fit.level.percent(), 0),
        omnibus_stat(&fit.qm, 2),
        p_value(fit.qm.pval, PStyle::Journal)
    )
}

/// "σ²(district) = 0.065, σ²(district/school) = 0.033; I² = 95%; QE = 578.9, df = 55, p < 0.001".
fn heterogeneity_note(fit: &MvFit) -> String {
    let mut comps: Vec<String> = fit
        .components
        .iter()
        .map(|c| format!("σ²({}) = {}", c.name, tau2(c.sigma2)))
        .collect();
    for g in fit.terms() {
        let (var, cor) = g.term.symbols();
        let c = &g.components;
        let t: Vec<String> = c.tau2.iter().map(|t| tau2(*t)).collect();
        let r: Vec<String> = c.rho.iter().map(|r| num(*r, 2)).collect();
        let r = if r.is_empty() {
            String::new()
        } else {
            format!(", {cor} = {}", r.join("/"))
        };
        comps.push(format!("{var}({}) = {}{r}", g.formula, t.join("/")));
    }
    // The multilevel I² is of the σ² components; a term alone has none.
    let i2 = if fit.components.is_empty() {
        String::new()
    } else {
        format!("; I² = {:.0}%", fit.i2_total)
    };
    let (q, df, p) = fit.qe;
    format!(
        "{}: {}{i2}; QE = {:.1}, df = {df}, {}",
        if fit.has_moderators() {
            "Residual heterogeneity"
        } else {
            "Heterogeneity"
        },
        comps.join(", "),
        q,
        p_value(p, PStyle::Journal)
    )
}

fn robust_row(r: &RobustFit, level: f64) -> Option<RobustRow> {
    let c = r.coefficients.first()?;
    let clusters = format!("{} clusters", r.n_clusters);
    Some(RobustRow {
        label: format!(
            "Robust {}% CI ({}, {clusters})",
            num(level, 0),
            r.method.name()
        ),
        estimate: c.estimate,
        ci_lb: c.ci_lb,
        ci_ub: c.ci_ub,
        test: format!(
            "Cluster-robust test ({}, {clusters}): t({}) = {}, {}",
            r.method.name(),
            num(c.df, 1),
            num(c.tval, 2),
            p_value(c.pval, PStyle::Journal)
        ),
    })
}
