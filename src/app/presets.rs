//! Presets: named bundles of defaults (Cochrane guidance, metafor, RevMan 5) and the rules by
//! which they combine with explicit choices. The command line, `batch` and the report all resolve
//! their options here, so one preset means the same everywhere.

use crate::effect::EscalcOptions;
use crate::error::{Error, Result};
use crate::measure::Measure;
use crate::model::{Level, Method, PiType, RmaOptions, Test};
use std::str::FromStr;

/// A bundle of defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// REML with Knapp–Hartung, prediction interval and Q-profile CI (current Cochrane Handbook
    /// guidance, ch. 10; the default).
    #[default]
    Cochrane,
    /// metafor's defaults: REML with z tests.
    Metafor,
    /// RevMan 5: DerSimonian–Laird with z tests; Mantel–Haenszel for binary data; double-zero
    /// studies dropped.
    Revman5,
}

/// How studies are pooled: an inverse-variance (`rma`) model, Mantel–Haenszel, or Peto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMethod {
    /// An inverse-variance random- or fixed-effects model fitted by `rma` with this estimator.
    Rma(Method),
    /// Mantel & Haenszel 1959 (Greenland & Robins 1985 for RR and RD).
    MantelHaenszel,
    /// Peto's one-step odds ratio (Yusuf et al. 1985).
    Peto,
}

impl PoolMethod {
    /// The `rma` estimator, or `None` for Mantel–Haenszel and Peto.
    pub fn rma(self) -> Option<Method> {
        match self {
            PoolMethod::Rma(m) => Some(m),
            PoolMethod::MantelHaenszel | PoolMethod::Peto => None,
        }
    }
}

/// `MH`, `Peto` or an `rma` estimator, case-insensitively (EE and CE for FE).
impl FromStr for PoolMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "MH" => Ok(PoolMethod::MantelHaenszel),
            "PETO" => Ok(PoolMethod::Peto),
            _ => s.parse().map(PoolMethod::Rma),
        }
    }
}

impl Preset {
    /// The test unless one is chosen: Knapp–Hartung under Cochrane guidance, z otherwise.
    pub fn test(self) -> Test {
        match self {
            Preset::Cochrane => Test::Knha,
            Preset::Metafor | Preset::Revman5 => Test::Z,
        }
    }

    /// The τ² estimator unless one is chosen.
    pub fn method(self) -> Method {
        match self {
            Preset::Revman5 => Method::DL,
            Preset::Cochrane | Preset::Metafor => Method::REML,
        }
    }

    /// Whether studies without events (or with only events) in both arms are dropped.
    pub fn drop00(self) -> bool {
        self == Preset::Revman5
    }

    /// The effect-size settings given, with the preset's rules applied (RevMan 5 drops
    /// double-zero studies whatever `drop00` says).
    pub fn escalc(self, given: EscalcOptions) -> EscalcOptions {
        EscalcOptions {
            drop00: given.drop00 || self.drop00(),
            ..given
        }
    }

    /// The pooling for data of this kind: the method chosen, else RevMan 5's Mantel–Haenszel for
    /// binary data (2×2 or incidence; Peto's OR keeps Peto's own weights in an `rma` model), else
    /// the preset's estimator.
    pub fn pooling(self, method: Option<PoolMethod>, binary: bool, measure: Measure) -> PoolMethod {
        match method {
            Some(m) => m,
            None if self == Preset::Revman5 && binary && measure != Measure::PETO => {
                PoolMethod::MantelHaenszel
            }
            None => PoolMethod::Rma(self.method()),
        }
    }

    /// `rma` options: the estimator and test chosen or the preset's, at `level`.
    pub fn rma_options(
        self,
        method: Option<Method>,
        test: Option<Test>,
        level: Level,
        pi_type: PiType,
    ) -> RmaOptions {
        RmaOptions {
            method: method.unwrap_or(self.method()),
            test: test.unwrap_or(self.test()),
            level,
            pi_type,
            ..RmaOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_resolve_as_documented() {
        let reml = PoolMethod::Rma(Method::REML);
        assert_eq!(Preset::Cochrane.pooling(None, true, Measure::OR), reml);
        assert_eq!(Preset::Cochrane.test(), Test::Knha);
        assert_eq!(Preset::Metafor.test(), Test::Z);
        assert_eq!(
            Preset::Revman5.pooling(None, true, Measure::OR),
            PoolMethod::MantelHaenszel
        );
        assert_eq!(
            Preset::Revman5.pooling(None, true, Measure::PETO),
            PoolMethod::Rma(Method::DL)
        );
        assert_eq!(
            Preset::Revman5.pooling(None, false, Measure::GEN),
            PoolMethod::Rma(Method::DL)
        );
        assert_eq!(Preset::Revman5.pooling(Some(reml), true, Measure::OR), reml);
        assert!(Preset::Revman5.drop00() && !Preset::Cochrane.drop00());
        let given = EscalcOptions::default();
        assert!(Preset::Revman5.escalc(given).drop00 && !Preset::Cochrane.escalc(given).drop00);
        let asked = EscalcOptions {
            drop00: true,
            ..given
        };
        assert!(Preset::Cochrane.escalc(asked).drop00);
        let o = Preset::Cochrane.rma_options(None, None, Level::default(), PiType::Metafor);
        assert_eq!((o.method, o.test), (Method::REML, Test::Knha));
    }

    #[test]
    fn pool_methods_parse_with_metafor_aliases() {
        assert_eq!(
            "mh".parse::<PoolMethod>().unwrap(),
            PoolMethod::MantelHaenszel
        );
        assert_eq!(" Peto ".parse::<PoolMethod>().unwrap(), PoolMethod::Peto);
        assert_eq!(
            "EE".parse::<PoolMethod>().unwrap(),
            PoolMethod::Rma(Method::FE)
        );
        let e = "XYZ".parse::<PoolMethod>().unwrap_err().to_string();
        assert!(e.contains("MH, Peto"), "{e}");
    }
}
