//! Axis limits and readable ticks on the display scale (ratios on a log axis, proportions and
//! correlations back-transformed), positioned on the analysis scale.

use crate::error::{Error, Result};
use crate::measure::Scale;

/// The analysis-scale value of a display value: the inverse of [`Scale::back`].
pub fn forward(scale: Scale, display: f64) -> f64 {
    scale.forward(display)
}

/// Where "no effect" lies on the analysis scale, if the measure has such a value (single
/// proportions and rates do not).
pub fn null_position(measure: crate::measure::Measure, scale: Scale) -> Option<f64> {
    if matches!(
        measure,
        crate::measure::Measure::PR
            | crate::measure::Measure::PLO
            | crate::measure::Measure::PLN
            | crate::measure::Measure::PAS
            | crate::measure::Measure::PFT
            | crate::measure::Measure::IR
            | crate::measure::Measure::IRLN
            | crate::measure::Measure::IRS
            | crate::measure::Measure::IRFT
    ) {
        return None;
    }
    Some(forward(scale, scale.null_value())).filter(|v| v.is_finite())
}

/// A horizontal axis: limits on the analysis scale and ticks (position, label).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Lower limit on the analysis scale (e.g. log odds ratio).
    pub lo: f64,
    /// Upper limit on the analysis scale.
    pub hi: f64,
    /// Ticks as (position on the analysis scale, label on the display scale).
    pub ticks: Vec<(f64, String)>,
}

impl Axis {
    /// The axis the user asked for with limits `a`, `b` on the display scale (ratios for log
    /// scales), kept as given.
    pub fn from_limits(scale: Scale, a: f64, b: f64) -> Result<Axis> {
        let (lo, hi) = (forward(scale, a), forward(scale, b));
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::invalid(format!(
                "x limits {a}, {b} are not an increasing pair of values the scale can show{}",
                if scale == Scale::Log {
                    " (ratios must be positive)"
                } else {
                    ""
                }
            )));
        }
        Ok(Axis::new(scale, lo, hi, true).with_end_ticks(a, b))
    }

    /// The axis with ticks labelled at its two ends (the user's limits `a`, `b` on the display
    /// scale), dropping inner ticks so close to an end that their labels would touch it.
    fn with_end_ticks(mut self, a: f64, b: f64) -> Axis {
        let near = 0.08 * (self.hi - self.lo);
        let (lo, hi) = (self.lo, self.hi);
        self.ticks
            .retain(|&(p, _)| p - lo >= near && hi - p >= near);
        self.ticks.insert(0, (lo, format_tick(a)));
        self.ticks.push((hi, format_tick(b)));
        self
    }

    /// An axis covering `[lo, hi]` (analysis scale) with ticks at round display values. Unless
    /// `fixed`, the limits widen to the outermost ticks.
    pub fn new(scale: Scale, lo: f64, hi: f64, fixed: bool) -> Axis {
        let (mut lo, mut hi) = if lo < hi {
            (lo, hi)
        } else if lo == hi {
            (lo - 0.5, hi + 0.5)
        } else {
            (hi, lo)
        };
        let (dlo, dhi) = (scale.back(lo), scale.back(hi));
        let mut ticks = match scale {
            Scale::Log => log_ticks(dlo, dhi, fixed),
            Scale::Logit => logit_ticks(dlo, dhi, fixed),
            Scale::FisherZ => correlation_ticks(dlo, dhi, fixed),
            Scale::Identity => linear_ticks(dlo, dhi, fixed),
            // Back-transformed proportions live in [0, 1].
            Scale::Arcsine | Scale::FreemanTukey(_) => {
                let mut t = linear_ticks(dlo.max(0.0), dhi.min(1.0), fixed);
                t.retain(|&p| (0.0..=1.0).contains(&p));
                t
            }
            // Back-transformed rates are never negative.
            Scale::SquareRoot | Scale::FreemanTukeyRate(_) => {
                let mut t = linear_ticks(dlo.max(0.0), dhi, fixed);
                t.retain(|&p| p >= 0.0);
                t
            }
        };
        // Back-transformed proportions and correlations cannot reach their bounds.
        ticks.retain(|&t| forward(scale, t).is_finite());
        if !fixed {
            if let (Some(&a), Some(&b)) = (ticks.first(), ticks.last()) {
                lo = lo.min(forward(scale, a));
                hi = hi.max(forward(scale, b));
            }
        }
        let eps = 1e-9 * (hi - lo);
        Axis {
            lo,
            hi,
            ticks: ticks
                .into_iter()
                .map(|t| (forward(scale, t), format_tick(t)))
                .filter(|(p, _)| *p >= lo - eps && *p <= hi + eps)
                .collect(),
        }
    }

    /// Maps an analysis-scale value to `[x0, x1]`.
    pub fn map(&self, v: f64, x0: f64, x1: f64) -> f64 {
        x0 + (v - self.lo) / (self.hi - self.lo) * (x1 - x0)
    }
}

/// 1-2-5 ticks per decade (thinned to decades over wide ranges), or linear ticks over narrow ones.
fn log_ticks(lo: f64, hi: f64, fixed: bool) -> Vec<f64> {
    let mut cands = Vec::new();
    for e in -6..=6 {
        for m in [1.0, 2.0, 5.0] {
            cands.push(m * 10f64.powi(e));
        }
    }
    let pick = |c: &[f64]| pick(c, lo, hi, fixed);
    let t = pick(&cands);
    if t.len() > 8 {
        let decades: Vec<f64> = (-6..=6).map(|e| 10f64.powi(e)).collect();
        let d = pick(&decades);
        if d.len() > 8 {
            return d.into_iter().step_by(2).collect();
        }
        return d;
    }
    if t.len() < 3 {
        return linear_ticks(lo, hi, fixed)
            .into_iter()
            .filter(|&x| x > 0.0)
            .collect();
    }
    t
}

/// The candidates inside `[lo, hi]` (positive values), or, unless `fixed`, from the last one at
/// or below `lo` to the first one at or above `hi`.
fn pick(c: &[f64], lo: f64, hi: f64, fixed: bool) -> Vec<f64> {
    if fixed {
        return c
            .iter()
            .copied()
            .filter(|&t| t >= lo * (1.0 - 1e-9) && t <= hi * (1.0 + 1e-9))
            .collect();
    }
    let a = c
        .iter()
        .rev()
        .find(|&&t| t <= lo * (1.0 + 1e-9))
        .copied()
        .unwrap_or(c[0]);
    let b = c
        .iter()
        .find(|&&t| t >= hi * (1.0 - 1e-9))
        .copied()
        .unwrap_or(c[c.len() - 1]);
    c.iter().copied().filter(|&t| t >= a && t <= b).collect()
}

/// Whether `ticks` (display scale) spread over `[lo, hi]` (analysis scale): no stretch between
/// neighbouring ticks, or between an end and its nearest tick, longer than a quarter of the axis. On a
/// back-transformed axis, round display values can crowd the middle and leave the ends bare.
fn spread(scale: Scale, ticks: &[f64], lo: f64, hi: f64) -> bool {
    let mut at: Vec<f64> = ticks.iter().map(|&t| forward(scale, t)).collect();
    at.retain(|p| p.is_finite() && *p >= lo && *p <= hi);
    if at.len() < 3 {
        return false;
    }
    let mut edges = vec![lo];
    edges.extend(at);
    edges.push(hi);
    edges.windows(2).all(|w| w[1] - w[0] <= 0.25 * (hi - lo))
}

/// Ticks from the first of `levels` (finest first) giving at most eight, after trying
/// `linear` ones: round values of a bounded display scale (proportions, correlations).
fn level_ticks(scale: Scale, (lo, hi): (f64, f64), fixed: bool, levels: &[Vec<f64>]) -> Vec<f64> {
    let lin: Vec<f64> = linear_ticks(lo, hi, fixed)
        .into_iter()
        .filter(|&t| forward(scale, t).is_finite())
        .collect();
    let (alo, ahi) = (forward(scale, lo), forward(scale, hi));
    if lin.len() <= 8 && spread(scale, &lin, alo, ahi) {
        return lin;
    }
    // Round values bunch up where the scale is flat (0.1, 0.2, 0.3 on a wide logit axis): the
    // finest level whose neighbours stay 8% of the axis apart.
    let apart = |t: &[f64]| {
        let at: Vec<f64> = t.iter().map(|&v| forward(scale, v)).collect();
        let span = at.last().copied().unwrap_or(ahi).max(ahi)
            - at.first().copied().unwrap_or(alo).min(alo);
        at.windows(2).all(|w| w[1] - w[0] >= 0.08 * span)
    };
    for c in levels {
        let t = pick(c, lo, hi, fixed);
        if t.len() <= 8 && t.len() >= 2 && apart(&t) {
            return t;
        }
    }
    let coarsest = &levels[levels.len() - 1];
    pick(coarsest, lo, hi, fixed)
}

/// Proportions on a logit axis: round values that stay readable near 0 and 1.
fn logit_ticks(lo: f64, hi: f64, fixed: bool) -> Vec<f64> {
    let tails = |inner: &[f64]| -> Vec<f64> {
        let mut v = vec![1e-6, 1e-5, 1e-4, 0.001, 0.01];
        v.extend_from_slice(inner);
        v.extend([0.99, 0.999, 0.9999, 0.99999, 0.999999]);
        v
    };
    let levels = [
        tails(&[0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]),
        tails(&[0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 0.95]),
        tails(&[0.1, 0.5, 0.9]),
        vec![1e-6, 1e-4, 0.01, 0.5, 0.99, 0.9999, 0.999999],
    ];
    level_ticks(Scale::Logit, (lo, hi), fixed, &levels)
}

/// Correlations on a Fisher-z axis: linear ticks while they spread, else round values that
/// crowd towards ±1 as z does (0.9, 0.99, 0.999, ...).
fn correlation_ticks(lo: f64, hi: f64, fixed: bool) -> Vec<f64> {
    let sym = |half: &[f64]| -> Vec<f64> {
        let mut v: Vec<f64> = half.iter().rev().map(|x| -x).collect();
        v.push(0.0);
        v.extend_from_slice(half);
        v
    };
    let levels = [
        sym(&[0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999]),
        sym(&[0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999]),
        sym(&[0.9, 0.999, 0.99999]),
    ];
    level_ticks(Scale::FisherZ, (lo, hi), fixed, &levels)
}

fn linear_ticks(lo: f64, hi: f64, fixed: bool) -> Vec<f64> {
    let raw = (hi - lo) / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * mag);
    let (a, b) = if fixed {
        ((lo / step - 1e-9).ceil(), (hi / step + 1e-9).floor())
    } else {
        ((lo / step + 1e-9).floor(), (hi / step - 1e-9).ceil())
    };
    let n = (b - a).round() as i64;
    (0..=n.max(0))
        .map(|i| {
            let v = (a + i as f64) * step;
            // Clean binary noise so that 0.30000000000000004 prints as 0.3.
            (v / mag * 1000.0).round() / 1000.0 * mag
        })
        .collect()
}

/// A tick label with as few decimals as the value needs.
pub fn format_tick(v: f64) -> String {
    let minus = |s: String| {
        if s.trim_start_matches('-')
            .trim_start_matches(['0', '.'])
            .is_empty()
        {
            "0".to_string()
        } else {
            s.replacen('-', "\u{2212}", 1)
        }
    };
    for d in 0..=6 {
        let s = format!("{v:.d$}");
        if (s.parse::<f64>().unwrap_or(f64::NAN) - v).abs() <= 1e-9 * v.abs().max(1e-12) {
            return minus(s);
        }
    }
    // A value a user typed with many digits: three significant ones.
    let d = (2.0 - v.abs().log10().floor()).clamp(0.0, 8.0) as usize;
    minus(format!("{v:.d$}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(a: &Axis) -> Vec<&str> {
        a.ticks.iter().map(|(_, s)| s.as_str()).collect()
    }

    #[test]
    fn log_axis_uses_one_two_five() {
        let a = Axis::new(Scale::Log, 0.15f64.ln(), 1.6f64.ln(), false);
        assert_eq!(labels(&a), ["0.1", "0.2", "0.5", "1", "2"]);
        assert!((a.lo - 0.1f64.ln()).abs() < 1e-12 && (a.hi - 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn wide_log_axis_thins_to_decades() {
        let a = Axis::new(Scale::Log, 0.003f64.ln(), 300f64.ln(), false);
        assert_eq!(
            labels(&a),
            ["0.001", "0.01", "0.1", "1", "10", "100", "1000"]
        );
    }

    #[test]
    fn fixed_limits_keep_ticks_inside() {
        let a = Axis::new(Scale::Log, 0.25f64.ln(), 4f64.ln(), true);
        assert_eq!(labels(&a), ["0.5", "1", "2"]);
        assert_eq!(a.lo, 0.25f64.ln());
    }

    #[test]
    fn linear_and_proportion_axes() {
        let a = Axis::new(Scale::Identity, -0.73, 0.41, false);
        assert_eq!(
            labels(&a),
            ["−0.8", "−0.6", "−0.4", "−0.2", "0", "0.2", "0.4", "0.6"]
        );
        let p = Axis::new(
            Scale::Logit,
            forward(Scale::Logit, 0.03),
            forward(Scale::Logit, 0.97),
            false,
        );
        assert!(p.ticks.iter().all(|(x, _)| x.is_finite()));
        assert_eq!(labels(&p), ["0.01", "0.1", "0.5", "0.9", "0.99"]);
        assert!(p.lo.is_finite() && p.hi.is_finite());
    }

    // k = 160 correlations reaching z = 3.4 (r = 0.998): ticks follow the data out to the end
    // instead of stopping at ±0.5 (z = ±0.55).
    #[test]
    fn correlation_axis_ticks_to_the_data() {
        let a = Axis::new(Scale::FisherZ, -0.7, 3.4, false);
        assert_eq!(
            labels(&a),
            ["−0.9", "−0.5", "0", "0.5", "0.9", "0.99", "0.999"]
        );
        assert!(a.hi >= 3.4 && a.lo <= -0.7);
        let narrow = Axis::new(Scale::FisherZ, 0.1, 0.5, false);
        assert_eq!(labels(&narrow), ["0", "0.2", "0.4", "0.6"]);
    }

    #[test]
    fn proportion_axis_reaches_extreme_proportions() {
        let lo = forward(Scale::Logit, 0.00004);
        let p = Axis::new(Scale::Logit, lo, forward(Scale::Logit, 0.4), false);
        assert_eq!(labels(&p).first(), Some(&"0.00001"));
        assert!(p.lo <= lo);
    }

    // User limits are labelled at both ends, and inner ticks crowding an end give way.
    #[test]
    fn user_limits_get_end_ticks() {
        let a = Axis::from_limits(Scale::Log, 0.3, 4.0).unwrap();
        assert_eq!(labels(&a), ["0.3", "0.5", "1", "2", "4"]);
        assert_eq!(a.ticks[0].0, a.lo);
        assert_eq!(a.ticks[4].0, a.hi);
        let b = Axis::from_limits(Scale::Log, 0.21, 4.8).unwrap();
        assert_eq!(labels(&b), ["0.21", "0.5", "1", "2", "4.8"]);
        let c = Axis::from_limits(Scale::Identity, -1.0, 1.0).unwrap();
        assert_eq!(labels(&c).first(), Some(&"−1"));
        assert_eq!(labels(&c).last(), Some(&"1"));
    }

    #[test]
    fn tick_format() {
        assert_eq!(format_tick(0.00001), "0.00001");
        assert_eq!(format_tick(1.0 / 3.0), "0.333");
        assert_eq!(format_tick(-0.0000000001), "0");
        assert_eq!(format_tick(0.5), "0.5");
        assert_eq!(format_tick(10.0), "10");
        assert_eq!(format_tick(0.05), "0.05");
        assert_eq!(format_tick(-0.0), "0");
    }
}
