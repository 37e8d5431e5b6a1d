//! The report's summary-of-findings table (GRADE; Cochrane Handbook ch. 14) and risk-of-bias
//! figures, for the analysis page and `summary.md`.

use super::analysis::Analysis;
use super::escape_md as md;
use super::{escape_html as esc, inline_svg, table};
use crate::pool::sof::Sof;
use crate::render::plot::format::num;
use crate::render::text::{difference_words, nnt_words, source_words};

/// The cells of the row: outcome, relative effect, risk with control, risk with the
/// intervention, absolute effect, NNT (plain text, unescaped).
fn cells(a: &Analysis, s: &Sof) -> [String; 6] {
    let fit = &a.fit;
    let b = |x: f64| num(fit.effects.scale.back(x), 2);
    let per = |r: f64| format!("{:.0}", (1000.0 * r).round());
    [
        a.spec.name.clone(),
        format!(
            "{} {} ({} to {})",
            a.effect_name,
            b(fit.estimate),
            b(fit.ci_lb),
            b(fit.ci_ub)
        ),
        format!("{} per 1,000", per(s.control_risk)),
        format!(
            "{} per 1,000 ({} to {})",
            per(s.intervention_risk),
            per(s.intervention_risk_ci_lb),
            per(s.intervention_risk_ci_ub)
        ),
        format!(
            "{} per 1,000 (from {} to {})",
            difference_words(s.per_1000),
            difference_words(s.per_1000_ci_lb),
            difference_words(s.per_1000_ci_ub)
        ),
        nnt_words(s),
    ]
}

const HEAD: [&str; 6] = [
    "Outcome",
    "Relative effect",
    "Risk with control",
    "Risk with intervention",
    "Absolute effect",
    "NNT",
];

/// What the table rests on: the control risk, the model, and how the NNT is read.
fn footnote(a: &Analysis, s: &Sof) -> String {
    let mut n = format!(
        "Assumed control risk {} ({}); {}% CIs from the pooled {}. NNTB / NNTH: number treated \
         for one more beneficial / harmful outcome (Altman 1998), the event taken as {}; rounded \
         up.",
        num(s.control_risk, 4),
        source_words(s),
        s.level,
        a.effect_name,
        if s.events_desirable {
            "desirable"
        } else {
            "undesirable"
        }
    );
    for note in &s.notes {
        n.push_str(&format!(" Note: {note}."));
    }
    n
}

/// The "Summary of findings" section of the page (empty when the measure has none).
pub fn sof_section(a: &Analysis) -> String {
    match &a.sof {
        None => String::new(),
        Some(Err(e)) => format!(
            "<h2>Summary of findings</h2>\n<p class=\"na\">{}</p>\n",
            esc(e)
        ),
        Some(Ok(s)) => {
            let head: Vec<String> = HEAD.iter().map(|h| esc(h)).collect();
            let row: Vec<String> = cells(a, s).iter().map(|c| esc(c)).collect();
            format!(
                "<h2>Summary of findings</h2>\n{}<p class=\"sub\">{}</p>\n",
                table(&head, &[row], &[1, 2, 3, 4, 5]),
                esc(&footnote(a, s))
            )
        }
    }
}

/// The "Summary of findings" section of `summary.md` (empty when the measure has none).
pub fn sof_md(a: &Analysis) -> String {
    match &a.sof {
        None => String::new(),
        Some(Err(e)) => format!("## Summary of findings\n\n{}\n\n", md(e)),
        Some(Ok(s)) => {
            let row: Vec<String> = cells(a, s).iter().map(|c| md(c)).collect();
            format!(
                "## Summary of findings\n\n| {} |\n|---|---|---|---|---|---|\n| {} |\n\n{}\n\n",
                HEAD.join(" | "),
                row.join(" | "),
                md(&footnote(a, s))
            )
        }
    }
}

/// The "Risk of bias" section of the page: the traffic lights and the weighted summary.
pub fn rob_section(a: &Analysis) -> String {
    match &a.rob_svgs {
        None => String::new(),
        Some(Err(e)) => format!("<h2>Risk of bias</h2>\n<p class=\"na\">{}</p>\n", esc(e)),
        Some(Ok([traffic, summary])) => format!(
            "<h2>Risk of bias</h2>\n<figure>{}<figcaption>Risk-of-bias judgements by study and \
             domain (traffic-light plot).</figcaption></figure>\n<figure>{}<figcaption>Share of \
             the judgements per domain, weighted by the studies' weights in the model.\
             </figcaption></figure>\n",
            inline_svg(traffic, "rob"),
            inline_svg(summary, "rob")
        ),
    }
}
