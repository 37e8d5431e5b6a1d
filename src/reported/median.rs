//! Mean and SD from the median with the quartiles and/or the range, as metafor's `conv.fivenum`.
//!
//! Means: Luo et al. (Stat Methods Med Res 2018); SDs: Wan et al. (BMC Med Res Methodol 2014) for
//! one pair of summaries and Shi et al. (Res Synth Methods 2020) for both; Hozo et al. (BMC Med Res
//! Methodol 2005) on request; the skewness test of Shi et al. (Stat Methods Med Res 2023).

use crate::error::{Error, Result};
use crate::stats::qnorm;

/// What was reported besides the median.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FiveNum {
    /// The sample median.
    pub median: f64,
    /// First quartile, if reported.
    pub q1: Option<f64>,
    /// Third quartile, if reported.
    pub q3: Option<f64>,
    /// Minimum, if reported.
    pub min: Option<f64>,
    /// Maximum, if reported.
    pub max: Option<f64>,
    /// Sample size.
    pub n: f64,
}

/// Which formulas to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MedianMethod {
    /// Luo 2018 means, Wan 2014 / Shi 2020 SDs (metafor's and R meta's default).
    #[default]
    LuoWanShi,
    /// Hozo 2005 (median and range only).
    Hozo,
}

/// The summaries available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Summaries {
    /// Minimum, median, maximum (Wan's S1).
    Range,
    /// First quartile, median, third quartile (S2).
    Iqr,
    /// All five numbers (S3).
    Both,
}

/// An estimated mean and SD, with the skewness test that says whether normality is doubtful.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MeanSd {
    /// Estimated mean.
    pub mean: f64,
    /// Estimated standard deviation.
    pub sd: f64,
    /// The summaries the estimates were computed from.
    pub summaries: Summaries,
    /// Present when Shi et al.'s (2023) test finds the summaries too skewed for these formulas.
    pub skew_warning: Option<String>,
}

/// Estimates the mean and SD (normal-theory formulas; skewed data get a warning, not a refusal).
pub fn mean_sd(f: &FiveNum, method: MedianMethod) -> Result<MeanSd> {
    let n = f.n;
    if !(n >= 3.0 && n.is_finite()) {
        return Err(Error::invalid(format!(
            "the median conversion needs a sample size n of at least 3, got {n}"
        )));
    }
    let (range, iqr) = ordered_pairs(f)?;
    let m = f.median;
    let (mean, sd, summaries, skewed) = match (range, iqr) {
        (Some(r), None) => from_range(m, r, n, method),
        (None, Some(q)) => {
            if method == MedianMethod::Hozo {
                return Err(Error::invalid(
                    "Hozo's method needs the minimum and maximum",
                ));
            }
            from_iqr(m, q, n)
        }
        (Some(r), Some(q)) => {
            if method == MedianMethod::Hozo {
                return Err(Error::invalid(
                    "Hozo's method uses the median and range only: leave out q1 and q3",
                ));
            }
            from_both(m, r, q, n)
        }
        (None, None) => {
            return Err(Error::invalid(
                "a median needs its quartiles (q1, q3) and/or its range (min, max)",
            ))
        }
    };
    Ok(MeanSd {
        mean,
        sd,
        summaries,
        skew_warning: skewed.map(|(t, c)| {
            format!(
                "the summaries suggest a skewed distribution (Shi et al. 2023 test statistic {t:.3} \
                 >= critical value {c:.3}): the normal-theory mean and SD may mislead"
            )
        }),
    })
}

/// A (low, high) pair of summaries, if reported.
type Pair = Option<(f64, f64)>;

/// The range and the quartiles, each given whole or not at all, in order around the median.
fn ordered_pairs(f: &FiveNum) -> Result<(Pair, Pair)> {
    let m = f.median;
    let range = match (f.min, f.max) {
        (Some(a), Some(b)) => Some((a, b)),
        (None, None) => None,
        _ => return Err(Error::invalid("give both min and max, or neither")),
    };
    let iqr = match (f.q1, f.q3) {
        (Some(a), Some(b)) => Some((a, b)),
        (None, None) => None,
        _ => return Err(Error::invalid("give both q1 and q3, or neither")),
    };
    for (lo, hi, what) in [
        range.map(|(a, b)| (a, b, "min <= median <= max")),
        iqr.map(|(a, b)| (a, b, "q1 <= median <= q3")),
    ]
    .into_iter()
    .flatten()
    {
        if !(lo <= m && m <= hi) {
            return Err(Error::invalid(format!(
                "the summaries are out of order: expected {what}, got {lo}, {m}, {hi}"
            )));
        }
    }
    if let (Some((a, b)), Some((q1, q3))) = (range, iqr) {
        if !(a <= q1 && q3 <= b) {
            return Err(Error::invalid("the quartiles must lie within the range"));
        }
    }
    Ok((range, iqr))
}

/// Mean, SD, the summaries used, and (statistic, critical value) when the skewness test rejects.
type Estimate = (f64, f64, Summaries, Option<(f64, f64)>);

/// ξ(n): the expected range of n standard normals (Wan 2014).
fn xi(n: f64) -> f64 {
    2.0 * qnorm((n - 0.375) / (n + 0.25))
}

/// η(n): the expected interquartile range of n standard normals (Wan 2014).
fn eta(n: f64) -> f64 {
    2.0 * qnorm((0.75 * n - 0.125) / (n + 0.25))
}

fn skew(t: f64, c: f64) -> Option<(f64, f64)> {
    (t >= c).then_some((t, c))
}

/// Median and range (S1): Luo/Wan, or Hozo's piecewise formulas.
fn from_range(m: f64, (a, b): (f64, f64), n: f64, method: MedianMethod) -> Estimate {
    let t = ((a + b - 2.0 * m) / (b - a)).abs();
    let c = 1.0 / (n + 9.0).ln() + 2.5 / (n + 1.0);
    let (mean, sd) = match method {
        MedianMethod::LuoWanShi => {
            let w = 4.0 / (4.0 + n.powf(0.75));
            (w * (a + b) / 2.0 + (1.0 - w) * m, (b - a) / xi(n))
        }
        MedianMethod::Hozo => {
            let mean = if n <= 25.0 {
                (a + 2.0 * m + b) / 4.0
            } else {
                m
            };
            let sd = if n <= 15.0 {
                ((a - 2.0 * m + b).powi(2) / 4.0 + (b - a).powi(2)).sqrt() / 12f64.sqrt()
            } else if n <= 70.0 {
                (b - a) / 4.0
            } else {
                (b - a) / 6.0
            };
            (mean, sd)
        }
    };
    (mean, sd, Summaries::Range, skew(t, c))
}

/// Median and quartiles (S2): Luo's mean, Wan's SD.
fn from_iqr(m: f64, (q1, q3): (f64, f64), n: f64) -> Estimate {
    let t = ((q1 + q3 - 2.0 * m) / (q3 - q1)).abs();
    let c = 2.65 / n.sqrt() - 6.0 / (n * n);
    let w = 0.7 + 0.39 / n;
    let mean = w * (q1 + q3) / 2.0 + (1.0 - w) * m;
    (mean, (q3 - q1) / eta(n), Summaries::Iqr, skew(t, c))
}

/// All five numbers (S3): Luo's mean, Shi's SD.
fn from_both(m: f64, (a, b): (f64, f64), (q1, q3): (f64, f64), n: f64) -> Estimate {
    let t = (2.65 * (0.6 * n).ln() / n.sqrt() * ((a + b - 2.0 * m) / (b - a)).abs())
        .max(((q1 + q3 - 2.0 * m) / (q3 - q1)).abs());
    let c = 3.0 / n.sqrt() - 40.0 / n.powi(3);
    let w1 = 2.2 / (2.2 + n.powf(0.75));
    let w2 = 0.7 - 0.72 / n.powf(0.55);
    let mean = w1 * (a + b) / 2.0 + w2 * (q1 + q3) / 2.0 + (1.0 - w1 - w2) * m;
    let w = 1.0 / (1.0 + 0.07 * n.powf(0.6));
    let sd = w * (b - a) / xi(n) + (1.0 - w) * (q3 - q1) / eta(n);
    (mean, sd, Summaries::Both, skew(t, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs()
    }

    // Reference: conv.fivenum() of metafor's development source (R/conv.fivenum.r at the mirrored
    // HEAD), sourced into metafor 3.8-1's namespace:
    // dat <- data.frame(min=c(1,NA,1), q1=c(NA,3,3), median=4.5, q3=c(NA,6,6), max=c(12,NA,12),
    //                   n=c(10,31,31))
    // conv.fivenum(min=min, q1=q1, median=median, q3=q3, max=max, n=n, data=dat, test=FALSE)
    // and the same with method="hozo2005".
    #[test]
    fn matches_conv_fivenum() {
        let base = FiveNum {
            median: 4.5,
            ..Default::default()
        };
        let s1 = FiveNum {
            min: Some(1.0),
            max: Some(12.0),
            n: 10.0,
            ..base
        };
        let r = mean_sd(&s1, MedianMethod::LuoWanShi).unwrap();
        assert!(close(r.mean, 5.3313058777162681, 1e-13));
        assert!(close(r.sd, 3.5561066669740375, 1e-13));
        assert!(r.skew_warning.is_none());
        let r = mean_sd(&s1, MedianMethod::Hozo).unwrap();
        assert!(close(r.mean, 5.5, 1e-15));
        assert!(close(r.sd, 3.2274861218395148, 1e-13));
        let s2 = FiveNum {
            q1: Some(3.0),
            q3: Some(6.0),
            n: 31.0,
            ..base
        };
        let r = mean_sd(&s2, MedianMethod::LuoWanShi).unwrap();
        assert!(close(r.mean, 4.5, 1e-15));
        assert!(close(r.sd, 2.3315624661745891, 1e-13));
        let s3 = FiveNum {
            min: Some(1.0),
            max: Some(12.0),
            ..s2
        };
        let r = mean_sd(&s3, MedianMethod::LuoWanShi).unwrap();
        assert!(close(r.mean, 4.7868737328510802, 1e-13));
        assert!(close(r.sd, 2.5551712718041948, 1e-13));
        assert!(mean_sd(&s2, MedianMethod::Hozo).is_err());
    }

    #[test]
    fn skew_is_flagged_and_bad_order_refused() {
        // conv.fivenum(min=1, median=2, max=30, n=20) gives NA under its default test = TRUE:
        // |1 + 30 - 4| / 29 = 0.931 >= 1/log(29) + 2.5/21 = 0.416.
        let f = FiveNum {
            median: 2.0,
            min: Some(1.0),
            max: Some(30.0),
            n: 20.0,
            ..Default::default()
        };
        assert!(mean_sd(&f, MedianMethod::LuoWanShi)
            .unwrap()
            .skew_warning
            .is_some());
        let bad = FiveNum { median: 40.0, ..f };
        assert!(mean_sd(&bad, MedianMethod::LuoWanShi).is_err());
        let no_n = FiveNum { n: 1.0, ..f };
        assert!(mean_sd(&no_n, MedianMethod::LuoWanShi).is_err());
    }
}
