//! Risk-of-bias judgements for traffic-light columns in forest plots, as R meta's `rob` layout
//! and robvis draw them.

use super::figure::Color;
use super::style::TEXT;
use crate::data::Value;
use crate::error::{Error, Result};
use crate::model::RmaFit;

/// A risk-of-bias judgement, as Cochrane's RoB 2 tool grades a domain (Sterne et al. 2019, *BMJ*
/// 366:l4898).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobLevel {
    /// Low risk of bias.
    Low,
    /// Some concerns (or unclear risk).
    SomeConcerns,
    /// High risk of bias.
    High,
    /// No information given.
    NoInformation,
}

impl RobLevel {
    /// Reads "low", "some concerns" (or "some", "unclear", "moderate"), "high", "no information"
    /// (or "ni", "?"), in any case; `None` for anything else.
    pub fn parse(s: &str) -> Option<RobLevel> {
        let t = s.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        match t.as_str() {
            "low" | "l" | "+" => Some(RobLevel::Low),
            "some concerns" | "some" | "unclear" | "moderate" | "some concern" => {
                Some(RobLevel::SomeConcerns)
            }
            "high" | "h" | "x" => Some(RobLevel::High),
            "no information" | "ni" | "?" | "no info" => Some(RobLevel::NoInformation),
            _ => None,
        }
    }

    pub(crate) fn symbol(self) -> &'static str {
        match self {
            RobLevel::Low => "+",
            RobLevel::SomeConcerns => "\u{2212}",
            RobLevel::High => "\u{00D7}",
            RobLevel::NoInformation => "?",
        }
    }

    /// Fill and symbol colours (robvis's traffic lights).
    pub(crate) fn colors(self) -> (Color, Color) {
        match self {
            RobLevel::Low => (Color(0x02, 0xC3, 0x3B), Color::WHITE),
            RobLevel::SomeConcerns => (Color(0xE2, 0xDF, 0x07), TEXT),
            RobLevel::High => (Color(0xBF, 0x00, 0x00), Color::WHITE),
            RobLevel::NoInformation => (Color(0x4E, 0xA1, 0xF7), Color::WHITE),
        }
    }
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
    let mut out = Vec::new();
    for m in &fit.effects.moderators {
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
                         (low, some concerns, high, no information)",
                        m.name,
                        fit.effects.labels[i],
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
        assert_eq!(RobLevel::parse("unclear"), Some(RobLevel::SomeConcerns));
        assert_eq!(RobLevel::parse("HIGH"), Some(RobLevel::High));
        assert_eq!(
            RobLevel::parse("No information"),
            Some(RobLevel::NoInformation)
        );
        assert_eq!(RobLevel::parse("maybe"), None);
        assert_eq!(RobLevel::parse(""), None);
    }
}
