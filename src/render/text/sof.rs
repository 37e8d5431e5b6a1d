//! Summary-of-findings rows (GRADE's absolute effects and the NNT), as a Cochrane summary of
//! findings table words them.

use crate::pool::sof::{ControlRiskSource, Sof};
use std::fmt::Write;

/// A count per 1,000, rounded to the nearest whole person as GRADE tables give it.
fn per_1000(x: f64) -> String {
    format!("{:.0}", (1000.0 * x).round())
}

/// A difference per 1,000 in words: "82 fewer", "31 more", "0 fewer".
pub fn difference_words(d: f64) -> String {
    let n = d.round();
    if n > 0.0 {
        format!("{n:.0} more")
    } else {
        format!("{:.0} fewer", n.abs())
    }
}

/// An NNT's magnitude rounded up to the next whole number (Cochrane Handbook 15.4.3), or ∞.
fn whole(x: f64) -> String {
    let a = x.abs();
    if a.is_finite() {
        format!("{:.0}", a.ceil())
    } else {
        "\u{221E}".into()
    }
}

fn kind(x: f64) -> &'static str {
    if x > 0.0 {
        "NNTB"
    } else {
        "NNTH"
    }
}

/// The NNT with its interval, in Altman's (1998) words: "NNTB 13 (95% CI 9 to 32)", or
/// "NNTB 40 (95% CI NNTH 95 to ∞ to NNTB 12)" when the interval of the difference includes 0.
pub fn nnt_words(s: &Sof) -> String {
    let n = &s.nnt;
    let level = format!("{}%", s.level);
    if !n.nnt.is_finite() {
        return format!(
            "NNT \u{221E} ({level} CI NNTH {} to \u{221E} to NNTB {})",
            whole(n.ci_ub),
            whole(n.ci_lb)
        );
    }
    let head = format!("{} {}", kind(n.nnt), whole(n.nnt));
    if n.through_infinity {
        format!(
            "{head} ({level} CI NNTH {} to \u{221E} to NNTB {})",
            whole(n.ci_ub),
            whole(n.ci_lb)
        )
    } else {
        // Both limits on the side of the estimate: the smaller magnitude first.
        let (a, b) = if n.nnt > 0.0 {
            (n.ci_lb, n.ci_ub)
        } else {
            (n.ci_ub, n.ci_lb)
        };
        format!("{head} ({level} CI {} to {})", whole(a), whole(b))
    }
}

/// Where the control risk comes from, in words.
pub fn source_words(s: &Sof) -> &'static str {
    match s.source {
        ControlRiskSource::Given => "as given",
        ControlRiskSource::MedianOfStudies => "the median control-arm risk of the studies",
    }
}

/// The summary-of-findings block printed after the pooled estimate.
pub fn sof_summary(s: &Sof) -> String {
    let mut out = String::new();
    let level = format!("{}% CI", s.level);
    let _ = writeln!(
        out,
        "\nSummary of findings (assumed control risk {:.4}, {}):",
        s.control_risk,
        source_words(s)
    );
    let _ = writeln!(
        out,
        "  Risk with control:      {} per 1,000",
        per_1000(s.control_risk)
    );
    let _ = writeln!(
        out,
        "  Risk with intervention: {} per 1,000 ({level} {} to {})",
        per_1000(s.intervention_risk),
        per_1000(s.intervention_risk_ci_lb),
        per_1000(s.intervention_risk_ci_ub)
    );
    let _ = writeln!(
        out,
        "  Absolute effect:        {} per 1,000 ({level} {} to {})",
        difference_words(s.per_1000),
        difference_words(s.per_1000_ci_lb),
        difference_words(s.per_1000_ci_ub)
    );
    let _ = writeln!(out, "  {}", nnt_words(s));
    let _ = writeln!(
        out,
        "  (NNTB / NNTH: treated for one more beneficial / harmful outcome, the event taken as \
         {})",
        if s.events_desirable {
            "desirable"
        } else {
            "undesirable"
        }
    );
    for n in &s.notes {
        let _ = writeln!(out, "Note: {n}.");
    }
    out
}
