//! The names of a fit's pooling method, as every output gives them: inverse-variance models by
//! their τ² estimator, Mantel–Haenszel and Peto poolings (and RevMan 5's random-effects model for
//! binary data) by their own names, as RevMan and the Cochrane Handbook (ch. 10.4) write them.

use crate::model::fit::Weighting;
use crate::model::RmaFit;

/// The summary row's label: "Common-effect model", "Random-effects model (REML)",
/// "Mantel–Haenszel, fixed effect", "Mantel–Haenszel, random effects (DL)", "Peto, fixed effect".
pub fn model_label(fit: &RmaFit) -> String {
    let m = fit.options.method;
    match (fit.weighting, m.is_fixed()) {
        (Weighting::InverseVariance, true) => "Common-effect model".into(),
        (Weighting::InverseVariance, false) => format!("Random-effects model ({})", m.name()),
        (Weighting::MantelHaenszel, true) => "Mantel–Haenszel, fixed effect".into(),
        (Weighting::MantelHaenszel, false) => "Mantel–Haenszel, random effects (DL)".into(),
        (Weighting::Peto, _) => "Peto, fixed effect".into(),
    }
}

/// RevMan 5's name of the method for a column header: "M-H, Fixed", "M-H, Random", "Peto,
/// Fixed", "IV, Fixed", "IV, Random".
pub fn revman_method(fit: &RmaFit) -> &'static str {
    match (fit.weighting, fit.options.method.is_fixed()) {
        (Weighting::MantelHaenszel, true) => "M-H, Fixed",
        (Weighting::MantelHaenszel, false) => "M-H, Random",
        (Weighting::Peto, _) => "Peto, Fixed",
        (Weighting::InverseVariance, true) => "IV, Fixed",
        (Weighting::InverseVariance, false) => "IV, Random",
    }
}

/// The short name of the method for tables and cards: the τ² estimator ("REML", "FE"), "MH",
/// "Peto" or "MH + DL" (RevMan 5's random effects).
pub fn short_name(fit: &RmaFit) -> &'static str {
    match (fit.weighting, fit.options.method.is_fixed()) {
        (Weighting::InverseVariance, _) => fit.options.method.name(),
        (Weighting::MantelHaenszel, true) => "MH",
        (Weighting::MantelHaenszel, false) => "MH + DL",
        (Weighting::Peto, _) => "Peto",
    }
}

/// The model's adjective in a Results sentence ("the pooled … OR"): "random-effects",
/// "fixed-effect", "Mantel–Haenszel fixed-effect", "Peto fixed-effect", "random-effects".
pub fn model_adjective(fit: &RmaFit) -> &'static str {
    match (fit.weighting, fit.options.method.is_fixed()) {
        (Weighting::MantelHaenszel, true) => "Mantel–Haenszel fixed-effect",
        (Weighting::Peto, _) => "Peto fixed-effect",
        (_, true) => "fixed-effect",
        (_, false) => "random-effects",
    }
}

/// The Methods sentence on how a Mantel–Haenszel or Peto pooling was done (with its
/// references); `None` for inverse-variance models.
pub fn table_methods(fit: &RmaFit) -> Option<String> {
    let what = match fit.effects.measure {
        crate::measure::Measure::OR => "; variance of Robins, Breslow & Greenland 1986",
        crate::measure::Measure::RR => "; variance of Greenland & Robins 1985",
        crate::measure::Measure::RD => "; variance of Sato, Greenland & Robins 1989",
        _ => "",
    };
    Some(match (fit.weighting, fit.options.method.is_fixed()) {
        (Weighting::InverseVariance, _) => return None,
        (Weighting::MantelHaenszel, true) => format!(
            "They were pooled with the Mantel–Haenszel fixed-effect method (Mantel & Haenszel 1959{what}); the weights are the Mantel–Haenszel weights, as RevMan gives them. "
        ),
        (Weighting::MantelHaenszel, false) => "They were pooled with a DerSimonian–Laird random-effects model as RevMan 5 fits it for binary data: τ² was estimated from Cochran's Q computed around the Mantel–Haenszel estimate (DerSimonian & Laird 1986; Deeks & Higgins 2010), and the studies were weighted by 1/(vᵢ + τ²). ".into(),
        (Weighting::Peto, _) => "They were pooled with Peto's one-step odds ratio method (Yusuf et al. 1985), each study weighted by the hypergeometric variance of its observed minus expected events. ".into(),
    })
}
