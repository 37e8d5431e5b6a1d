//! The confidence level of an interval, validated once for every analysis.

use crate::error::{Error, Result};
use std::fmt;

/// A confidence level in percent, strictly between 0 and 100. A level below 1 is a proportion and
/// read as metafor's `.level()` reads it (0.95 is 95 %); exactly 1 is refused as ambiguous (1 % or
/// 100 %?).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize)]
#[serde(transparent)]
pub struct Level(f64);

impl Level {
    /// The conventional 95 %.
    pub const NINETY_FIVE: Level = Level(95.0);

    /// The level `percent` % (or `100 × percent` % for a proportion below 1), or
    /// [`Error::InvalidLevel`].
    pub fn new(percent: f64) -> Result<Level> {
        if percent > 0.0 && percent < 1.0 {
            Ok(Level(percent * 100.0))
        } else if percent > 1.0 && percent < 100.0 {
            Ok(Level(percent))
        } else {
            Err(Error::InvalidLevel { percent })
        }
    }

    /// The level in percent, as given.
    pub fn percent(self) -> f64 {
        self.0
    }

    /// The two-sided error rate α = 1 − level/100.
    pub fn alpha(self) -> f64 {
        1.0 - self.0 / 100.0
    }

    /// The normal critical value z₁₋α/₂, computed as `qnorm((1 − level/100)/2)` to the bit.
    pub fn z(self) -> f64 {
        super::qnorm_upper((1.0 - self.0 / 100.0) / 2.0)
    }
}

impl Default for Level {
    fn default() -> Self {
        Level::NINETY_FIVE
    }
}

/// Printed as the number it is (`95`, `90`, `99.5`), with the caller's width and precision.
impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::str::FromStr for Level {
    type Err = Error;
    fn from_str(s: &str) -> Result<Level> {
        let x: f64 = s.trim().parse().map_err(|_| {
            Error::invalid(format!(
                "a confidence level must be a number (a percentage such as 95 or a proportion such as 0.95), got '{s}'"
            ))
        })?;
        Level::new(x)
    }
}

/// Manifests give the level as a number, validated as [`Level::new`] (a string is refused).
impl<'de> serde::Deserialize<'de> for Level {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Level, D::Error> {
        let x = f64::deserialize(d)?;
        Level::new(x).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportions_and_out_of_range_levels_are_refused_with_one_wording() {
        assert_eq!(Level::new(90.0).unwrap().percent(), 90.0);
        let msg = |x: f64| Level::new(x).unwrap_err().to_string();
        assert_eq!(Level::new(0.95).unwrap().percent(), 95.0);
        assert_eq!(Level::new(0.9).unwrap().z(), Level::new(90.0).unwrap().z());
        assert!(msg(1.0).contains("ambiguous"), "{}", msg(1.0));
        assert!(msg(0.0).contains("a percentage in (1, 100) or a proportion in (0, 1)"));
        assert!(msg(100.0).contains("a percentage in (1, 100) or a proportion in (0, 1)"));
        assert!(msg(-5.0).contains("a percentage in (1, 100) or a proportion in (0, 1)"));
        assert!(msg(f64::NAN).contains("a percentage in (1, 100) or a proportion in (0, 1)"));
        assert_eq!(format!("{}", Level::default()), "95");
    }
}
