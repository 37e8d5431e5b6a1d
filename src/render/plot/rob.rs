//! Risk-of-bias judgements for traffic-light columns in forest plots, as R meta's `rob` layout
//! and robvis draw them.

use super::figure::Color;
use super::style::TEXT;
use crate::data::{Moderator, Value};
use crate::error::{Error, Result};
use crate::model::RmaFit;

/// A risk-of-bias judgement, as Cochrane's RoB 2 tool grades a domain (Sterne et al. 2019, *BMJ*
/// 366:l4898).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobLevel {
    /// Low risk of bias.
    Low,
    /// Some concerns (ROBINS-I: moderate risk).
    SomeConcerns,
    /// High risk of bias (ROBINS-I: serious risk).
    High,
    /// No information given.
    NoInformation,
    /// Unclear risk (the original Cochrane tool, Higgins et al. 2011, *BMJ* 343:d5928).
    Unclear,
    /// Critical risk (ROBINS-I, Sterne et al. 2016, *BMJ* 355:i4919).
    Critical,
}

impl RobLevel {
    /// Reads "low", "some concerns" (or "some", "moderate"), "high" (or "serious"), "critical",
    /// "unclear", "no information" (or "ni"), in any case; `None` for anything else.
    pub fn parse(s: &str) -> Option<RobLevel> {
        let t = s.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        match t.as_str() {
            "low" | "l" | "+" => Some(RobLevel::Low),
            "some concerns" | "some" | "moderate" | "some concern" => Some(RobLevel::SomeConcerns),
            "high" | "h" | "x" | "serious" => Some(RobLevel::High),
            "critical" | "!" => Some(RobLevel::Critical),
            "unclear" | "u" | "?" => Some(RobLevel::Unclear),
            "no information" | "ni" | "no info" => Some(RobLevel::NoInformation),
            _ => None,
        }
    }

    /// Every level, in the order of the summary bars and legends (robvis's).
    pub const ALL: [RobLevel; 6] = [
        RobLevel::Low,
        RobLevel::SomeConcerns,
        RobLevel::Unclear,
        RobLevel::High,
        RobLevel::Critical,
        RobLevel::NoInformation,
    ];

    /// The symbol in the traffic light: robvis's +, −, ?, ×, !, and ? for no information.
    pub fn symbol(self) -> &'static str {
        match self {
            RobLevel::Low => "+",
            RobLevel::SomeConcerns => "\u{2212}",
            RobLevel::High => "\u{00D7}",
            RobLevel::Critical => "!",
            RobLevel::Unclear | RobLevel::NoInformation => "?",
        }
    }

    /// The judgement's name: RoB 2's, or ROBINS-I's where `robins_i` ("Moderate", "Serious").
    pub fn name(self, robins_i: bool) -> &'static str {
        match (self, robins_i) {
            (RobLevel::Low, _) => "Low",
            (RobLevel::SomeConcerns, false) => "Some concerns",
            (RobLevel::SomeConcerns, true) => "Moderate",
            (RobLevel::High, false) => "High",
            (RobLevel::High, true) => "Serious",
            (RobLevel::Critical, _) => "Critical",
            (RobLevel::Unclear, _) => "Unclear",
            (RobLevel::NoInformation, _) => "No information",
        }
    }

    /// Fill and symbol colours (robvis's traffic lights).
    pub(crate) fn colors(self) -> (Color, Color) {
        match self {
            RobLevel::Low => (Color(0x02, 0xC3, 0x3B), Color::WHITE),
            RobLevel::SomeConcerns => (Color(0xE2, 0xDF, 0x07), TEXT),
            RobLevel::High => (Color(0xBF, 0x00, 0x00), Color::WHITE),
            RobLevel::Critical => (Color(0x82, 0x00, 0x00), Color::WHITE),
            // Paler than some concerns' yellow, so that both can stand in one summary bar.
            RobLevel::Unclear => (Color(0xF3, 0xF0, 0x8C), TEXT),
            RobLevel::NoInformation => (Color(0x4E, 0xA1, 0xF7), Color::WHITE),
        }
    }
}

/// The key to the symbols of the levels that occur in `cols`, in the order of [`RobLevel::ALL`]:
/// "Risk of bias: + low; − some concerns; ? unclear".
pub fn rob_legend(cols: &[RobColumn]) -> String {
    let present: Vec<String> = RobLevel::ALL
        .iter()
        .filter(|l| cols.iter().any(|c| c.values.contains(&Some(**l))))
        .map(|l| format!("{} {}", l.symbol(), l.name(false).to_lowercase()))
        .collect();
    format!("Risk of bias: {}", present.join("; "))
}

/// Whether a column name is a risk-of-bias column (`rob_` in any case, then anything).
pub fn is_rob_column(name: &str) -> bool {
    name.get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("rob_"))
}

/// A column of risk-of-bias judgements, one per study of the fit (`None` where not given).
#[derive(Debug, Clone, PartialEq)]
pub struct RobColumn {
    /// Header of the column: the name after `rob_`.
    pub header: String,
    /// The judgements, one per study of the fit.
    pub values: Vec<Option<RobLevel>>,
}

/// The fit's study-level columns named `rob_*` (any case) as risk-of-bias columns, headed by the
/// rest of the name.
pub fn rob_columns(fit: &RmaFit) -> Result<Vec<RobColumn>> {
    rob_columns_of(&fit.effects.moderators, &fit.effects.labels)
}

/// The `rob_*` columns among `columns` (one value per study of `labels`) as risk-of-bias columns.
pub fn rob_columns_of(columns: &[Moderator], labels: &[String]) -> Result<Vec<RobColumn>> {
    let mut out = Vec::new();
    for m in columns {
        let Some(rest) = m
            .name
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("rob_"))
            .map(|_| &m.name[4..])
        else {
            continue;
        };
        let values = m
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Missing => Ok(None),
                v => RobLevel::parse(&v.as_text()).map(Some).ok_or_else(|| {
                    Error::invalid(format!(
                        "column '{}', study '{}': '{}' is not a risk-of-bias judgement \
                         (low, some concerns, high, critical, unclear, no information)",
                        m.name,
                        labels.get(i).map_or("?", String::as_str),
                        v.as_text()
                    ))
                }),
            })
            .collect::<Result<Vec<_>>>()?;
        out.push(RobColumn {
            header: if rest.is_empty() {
                m.name.clone()
            } else {
                rest.to_string()
            },
            values,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judgements_parse_in_the_usual_spellings() {
        assert_eq!(RobLevel::parse(" Low "), Some(RobLevel::Low));
        assert_eq!(
            RobLevel::parse("Some concerns"),
            Some(RobLevel::SomeConcerns)
        );
        assert_eq!(
            RobLevel::parse("some_concerns"),
            Some(RobLevel::SomeConcerns)
        );
        assert_eq!(RobLevel::parse("unclear"), Some(RobLevel::Unclear));
        assert_eq!(RobLevel::Unclear.symbol(), "?");
        assert_eq!(RobLevel::parse("Serious"), Some(RobLevel::High));
        assert_eq!(RobLevel::parse("Moderate"), Some(RobLevel::SomeConcerns));
        assert_eq!(RobLevel::parse("critical"), Some(RobLevel::Critical));
        assert_eq!(RobLevel::parse("HIGH"), Some(RobLevel::High));
        assert_eq!(
            RobLevel::parse("No information"),
            Some(RobLevel::NoInformation)
        );
        assert_eq!(RobLevel::parse("maybe"), None);
        assert_eq!(RobLevel::parse(""), None);
    }
}
