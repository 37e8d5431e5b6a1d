//! The common result of every conversion: an effect on its analysis scale with SE, z, p and CI.

use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::stats;
use crate::stats::level::Level;

/// An effect on its analysis scale (log for ratios), with its standard error, Wald z, two-sided p
/// and confidence interval (Wald: yi ± z₁₋α/₂ · sei unless the conversion says otherwise).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Effect {
    /// The effect, on the analysis scale (log for ratios).
    pub yi: f64,
    /// Its standard error.
    pub sei: f64,
    /// Wald z statistic, `yi / sei`.
    pub zval: f64,
    /// Two-sided p-value of the z test.
    pub pval: f64,
    /// Lower confidence limit, on the analysis scale.
    pub ci_lb: f64,
    /// Upper confidence limit, on the analysis scale.
    pub ci_ub: f64,
}

impl Effect {
    /// Wald inference from an estimate and its standard error.
    pub fn from_se(yi: f64, sei: f64, level: Level) -> Result<Effect> {
        if !(sei >= 0.0) || !sei.is_finite() {
            return Err(Error::invalid(format!(
                "the standard error must be a non-negative number, got {sei}"
            )));
        }
        let c = level.z();
        let zval = yi / sei;
        Ok(Effect {
            yi,
            sei,
            zval,
            pval: stats::pnorm_two_sided(zval),
            ci_lb: yi - c * sei,
            ci_ub: yi + c * sei,
        })
    }

    /// The sampling variance, sei².
    pub fn vi(&self) -> f64 {
        self.sei * self.sei
    }
}

/// The two-sided normal critical value z₁₋α/₂ for a confidence level in percent, refusing what
/// [`Level`] refuses (a level of 1 or below is almost always a
/// proportion written where a percentage was expected).
pub fn crit(level: f64) -> Result<f64> {
    Ok(Level::new(level)?.z())
}

/// A reported number brought to the analysis scale (log for ratios).
pub fn to_scale(scale: Scale, x: f64, what: &str) -> Result<f64> {
    match scale {
        Scale::Identity => Ok(x),
        Scale::Log if x > 0.0 => Ok(x.ln()),
        Scale::Log => Err(Error::invalid(format!(
            "the {what} {x} is a ratio and must be positive"
        ))),
        _ => Err(Error::invalid(
            "reported statistics are handled on the log (ratio) or identity (difference) scale",
        )),
    }
}

/// Whether a measure name is a ratio (analysed on the log scale) or a difference.
///
/// Ratios: OR, RR, HR, IRR, PETO, ROM and the generic `RATIO`; everything else is a difference.
pub fn scale_of(measure: &str) -> Scale {
    match measure.trim().to_ascii_uppercase().as_str() {
        "OR" | "RR" | "HR" | "IRR" | "PETO" | "ROM" | "RATIO" | "SHR" | "CSHR" => Scale::Log,
        _ => Scale::Identity,
    }
}
