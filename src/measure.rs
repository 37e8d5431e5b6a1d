//! Effect-size measures and the scale each is analysed on.

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// An effect-size measure, named as metafor's `escalc(measure = ...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum Measure {
    /// Log odds ratio (2×2).
    OR,
    /// Log risk ratio (2×2).
    RR,
    /// Risk difference (2×2).
    RD,
    /// Peto's log odds ratio (2×2).
    PETO,
    /// Raw mean difference.
    MD,
    /// Standardised mean difference, bias-corrected (Hedges' g).
    SMD,
    /// Log incidence rate ratio.
    IRR,
    /// Incidence rate difference.
    IRD,
    /// Raw proportion.
    PR,
    /// Logit-transformed proportion.
    PLO,
    /// Fisher's r-to-z transformed correlation.
    ZCOR,
    /// Raw correlation.
    COR,
    /// Generic: yi and vi given directly, analysed on the scale given.
    GEN,
}

impl Measure {
    /// Every measure, in declaration order.
    pub const ALL: [Measure; 13] = [
        Measure::OR,
        Measure::RR,
        Measure::RD,
        Measure::PETO,
        Measure::MD,
        Measure::SMD,
        Measure::IRR,
        Measure::IRD,
        Measure::PR,
        Measure::PLO,
        Measure::ZCOR,
        Measure::COR,
        Measure::GEN,
    ];

    /// The scale the effect is analysed on (GEN: identity unless the caller says otherwise).
    pub fn scale(self) -> Scale {
        match self {
            Measure::OR | Measure::RR | Measure::PETO | Measure::IRR => Scale::Log,
            Measure::PLO => Scale::Logit,
            Measure::ZCOR => Scale::FisherZ,
            _ => Scale::Identity,
        }
    }

    /// metafor's name.
    pub fn name(self) -> &'static str {
        match self {
            Measure::OR => "OR",
            Measure::RR => "RR",
            Measure::RD => "RD",
            Measure::PETO => "PETO",
            Measure::MD => "MD",
            Measure::SMD => "SMD",
            Measure::IRR => "IRR",
            Measure::IRD => "IRD",
            Measure::PR => "PR",
            Measure::PLO => "PLO",
            Measure::ZCOR => "ZCOR",
            Measure::COR => "COR",
            Measure::GEN => "GEN",
        }
    }

    /// A readable description.
    pub fn description(self) -> &'static str {
        match self {
            Measure::OR => "odds ratio",
            Measure::RR => "risk ratio",
            Measure::RD => "risk difference",
            Measure::PETO => "Peto odds ratio",
            Measure::MD => "mean difference",
            Measure::SMD => "standardised mean difference (Hedges' g)",
            Measure::IRR => "incidence rate ratio",
            Measure::IRD => "incidence rate difference",
            Measure::PR => "proportion",
            Measure::PLO => "proportion (logit)",
            Measure::ZCOR => "correlation (Fisher's z)",
            Measure::COR => "correlation",
            Measure::GEN => "generic effect",
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Measure {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let up = s.trim().to_ascii_uppercase();
        Measure::ALL
            .iter()
            .copied()
            .find(|m| m.name() == up)
            .ok_or_else(|| {
                let names: Vec<&str> = Measure::ALL.iter().map(|m| m.name()).collect();
                Error::invalid(format!(
                    "unknown measure '{s}': expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// The scale an effect is analysed on, and how to bring it back for display.
///
/// Keeping this a type means a log odds ratio cannot be printed as if it were an odds ratio: every
/// renderer asks the scale for the display value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Scale {
    /// Differences, raw proportions, raw correlations: shown as analysed.
    Identity,
    /// Log ratios (OR, RR, IRR, HR): shown exponentiated.
    Log,
    /// Logit proportions: shown through the inverse logit.
    Logit,
    /// Fisher's z: shown as a correlation (tanh).
    FisherZ,
}

impl Scale {
    /// Back-transformation to the display scale.
    pub fn back(self, x: f64) -> f64 {
        match self {
            Scale::Identity => x,
            Scale::Log => x.exp(),
            Scale::Logit => 1.0 / (1.0 + (-x).exp()),
            Scale::FisherZ => x.tanh(),
        }
    }

    /// Whether the display scale differs from the analysis scale.
    pub fn is_transformed(self) -> bool {
        self != Scale::Identity
    }

    /// The suffix metafor-style output keys carry for back-transformed values.
    pub fn key_suffix(self) -> Option<&'static str> {
        match self {
            Scale::Identity => None,
            Scale::Log => Some("exp"),
            Scale::Logit => Some("ilogit"),
            Scale::FisherZ => Some("ztor"),
        }
    }

    /// The value meaning "no effect" on the display scale (1 for ratios, 0 for differences).
    pub fn null_value(self) -> f64 {
        match self {
            Scale::Log => 1.0,
            _ => 0.0,
        }
    }
}
