//! Reported p-values as journals print them: exact values, bounds ("p < 0.001") and "NS".
//!
//! Rounding follows statcheck (Nuijten et al., Behav Res Methods 2016): a value printed with d
//! decimals stands for the interval ±0.5·10⁻ᵈ around it.

use crate::error::{Error, Result};
use std::fmt;

/// A reported p-value: exact (with the decimals it was printed with), or a bound.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PValue {
    /// `p = 0.045`: the printed value and its number of decimals.
    Exact {
        /// The printed value.
        value: f64,
        /// Decimals it was printed with (17 for full precision).
        decimals: u32,
    },
    /// `p < 0.001` (and `p = 0.000`, read as `p < 0.0005`).
    Below {
        /// The upper bound.
        bound: f64,
    },
    /// `p > 0.05` (and `NS`, read as `p > 0.05`).
    Above {
        /// The lower bound.
        bound: f64,
    },
}

impl PValue {
    /// An exact p-value known to full precision (no rounding interval worth speaking of).
    pub fn exact(value: f64) -> PValue {
        PValue::Exact {
            value,
            decimals: 17,
        }
    }

    /// Parses what a paper prints. Accepted: `0.045`, `.045`, `p = 0.045`, `<0.001`, `< .001`,
    /// `p<0.05`, `≤ 0.01`, `>0.05`, `p > .05`, `0.000` (a p-value printed as zero means it rounded to
    /// zero: read as `< 0.0005`), `NS` / `n.s.` (read as `> 0.05`, its conventional meaning).
    pub fn parse(text: &str) -> Result<PValue> {
        let bad = |why: &str| {
            Error::invalid(format!(
                "cannot read the p-value '{}': {why} (expected e.g. 0.045, <0.001, < .001, >0.05, NS)",
                text.trim()
            ))
        };
        let mut t: String = text.trim().to_ascii_lowercase();
        t.retain(|c| !c.is_whitespace());
        if t == "ns" || t == "n.s." || t == "n.s" {
            return Ok(PValue::Above { bound: 0.05 });
        }
        let t = t
            .strip_prefix("p-value")
            .or_else(|| t.strip_prefix("p"))
            .unwrap_or(&t);
        enum Rel {
            Eq,
            Lt,
            Gt,
        }
        let (rel, num) = if let Some(r) = t.strip_prefix("<=").or(t.strip_prefix('≤')) {
            (Rel::Lt, r)
        } else if let Some(r) = t.strip_prefix(">=").or(t.strip_prefix('≥')) {
            (Rel::Gt, r)
        } else if let Some(r) = t.strip_prefix('<') {
            (Rel::Lt, r)
        } else if let Some(r) = t.strip_prefix('>') {
            (Rel::Gt, r)
        } else {
            (Rel::Eq, t.strip_prefix('=').unwrap_or(t))
        };
        if num.is_empty() {
            return Err(bad("no number"));
        }
        let value: f64 = num.parse().map_err(|_| bad("not a number"))?;
        if !(0.0..=1.0).contains(&value) {
            return Err(bad("a p-value lies between 0 and 1"));
        }
        Ok(match rel {
            Rel::Lt => PValue::Below { bound: value },
            Rel::Gt => PValue::Above { bound: value },
            Rel::Eq => {
                let decimals = decimals_of(num);
                if value == 0.0 {
                    PValue::Below {
                        bound: 0.5 * 10f64.powi(-(decimals as i32)),
                    }
                } else {
                    PValue::Exact { value, decimals }
                }
            }
        })
    }

    /// The interval of true p-values this report stands for.
    pub fn interval(self) -> (f64, f64) {
        match self {
            PValue::Exact { value, decimals } => {
                let h = half_unit(decimals);
                ((value - h).max(0.0), (value + h).min(1.0))
            }
            PValue::Below { bound } => (0.0, bound),
            PValue::Above { bound } => (bound, 1.0),
        }
    }

    /// The exact value, if this is one.
    pub fn value(self) -> Option<f64> {
        match self {
            PValue::Exact { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Whether this report says "significant at α" (all of its interval at or below α).
    pub fn significant(self, alpha: f64) -> Option<bool> {
        let (lo, hi) = self.interval();
        if hi <= alpha {
            Some(true)
        } else if lo > alpha {
            Some(false)
        } else if let PValue::Exact { value, .. } = self {
            // A printed "p = 0.05" is read as significant, as statcheck does.
            Some(value <= alpha)
        } else {
            None
        }
    }
}

impl fmt::Display for PValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PValue::Exact { value, .. } => write!(f, "{value}"),
            PValue::Below { bound } => write!(f, "<{bound}"),
            PValue::Above { bound } => write!(f, ">{bound}"),
        }
    }
}

/// Half a unit in the last printed decimal; 0 for values given to full precision.
pub fn half_unit(decimals: u32) -> f64 {
    if decimals >= 15 {
        0.0
    } else {
        0.5 * 10f64.powi(-(decimals as i32))
    }
}

/// Number of decimals a number was printed with ("1.20" → 2, "3" → 0, "1e-4" → 17, i.e. exact).
pub fn decimals_of(text: &str) -> u32 {
    let t = text.trim();
    if t.contains(['e', 'E']) {
        return 17;
    }
    match t.split_once(['.', ',']) {
        Some((_, frac)) => frac.chars().take_while(|c| c.is_ascii_digit()).count() as u32,
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(
            PValue::parse("0.045").unwrap(),
            PValue::Exact {
                value: 0.045,
                decimals: 3
            }
        );
        for s in [
            "<0.001",
            "< .001",
            "<.001",
            "p<0.001",
            "P < .001",
            "p ≤ 0.001",
        ] {
            assert_eq!(
                PValue::parse(s).unwrap(),
                PValue::Below { bound: 0.001 },
                "{s}"
            );
        }
        assert_eq!(
            PValue::parse("0.000").unwrap(),
            PValue::Below { bound: 0.0005 }
        );
        assert_eq!(
            PValue::parse(">0.05").unwrap(),
            PValue::Above { bound: 0.05 }
        );
        assert_eq!(PValue::parse("NS").unwrap(), PValue::Above { bound: 0.05 });
        assert_eq!(
            PValue::parse("p = .2").unwrap(),
            PValue::Exact {
                value: 0.2,
                decimals: 1
            }
        );
    }

    #[test]
    fn refuses_nonsense() {
        for s in ["1.2", "-0.1", "abc", "<", "p=", "0.05*"] {
            let e = PValue::parse(s).unwrap_err().to_string();
            assert!(e.contains("cannot read the p-value"), "{s}: {e}");
        }
    }

    #[test]
    fn intervals_are_rounding_aware() {
        let (lo, hi) = PValue::parse("0.20").unwrap().interval();
        assert!((lo - 0.195).abs() < 1e-15 && (hi - 0.205).abs() < 1e-15);
        assert_eq!(PValue::parse("<.001").unwrap().interval(), (0.0, 0.001));
        assert_eq!(PValue::parse("0.05").unwrap().significant(0.05), Some(true));
        assert_eq!(
            PValue::parse("0.06").unwrap().significant(0.05),
            Some(false)
        );
    }
}
