//! Do a paper's estimate, confidence interval and p-value add up?
//!
//! Rounding-aware in the manner of statcheck (Nuijten et al., Behav Res Methods 2016), extended to
//! ratio and difference estimates with Wald CIs: each printed number with d decimals stands for an
//! interval of ±0.5·10⁻ᵈ, and a row is consistent when some true values inside those intervals
//! satisfy the Wald relations exactly — the estimate at the centre of the CI on the analysis scale
//! (geometric centre for ratios) and p = 2Φ(−|g(est)|/SE) with SE = (g(ub) − g(lb)) / (2 z₁₋α/₂).
//!
//! With a = g(lb) and b = g(ub), the implied |z| = z₁₋α/₂·|a + b| / (b − a) is a ratio of linear
//! functions, so over the convex set of admissible (a, b) its extremes sit at the vertices (or at 0
//! where a + b changes sign): the admissible ranges below are exact, not sampled.

use super::effect::crit;
use super::pvalue::{decimals_of, PValue};
use crate::error::{Error, Result};
use crate::measure::Scale;
use crate::stats;

/// A number as printed: its value, how many decimals it was printed with, and the interval of
/// true values it stands for, computed from the text in exact decimal arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Printed {
    /// The number's value.
    value: f64,
    /// The decimals it was printed with, which set its rounding interval (for `1.5e-4`, 5).
    decimals: u32,
    /// [x − ½·10⁻ᵈ, x + ½·10⁻ᵈ], each end the double nearest the exact decimal.
    #[serde(skip)]
    bounds: (f64, f64),
}

impl Printed {
    /// A printed number from its text ("1.20" has 2 decimals and stands for [1.195, 1.205]).
    pub fn parse(text: &str) -> Result<Printed> {
        let t = text.trim();
        let value: f64 = t
            .parse()
            .map_err(|_| Error::invalid(format!("expected a number, found '{t}'")))?;
        if !value.is_finite() {
            return Err(Error::invalid(format!("'{t}' is not a finite number")));
        }
        match PrintedDecimal::parse(t) {
            Some(d) => Ok(Printed {
                value,
                decimals: d.scale.max(0) as u32,
                bounds: d.interval(),
            }),
            // Rust reads forms (`inf`, `nan`) that are not finite and were refused above; any
            // other odd form is read as exact.
            None => Ok(Printed {
                value,
                decimals: decimals_of(t),
                bounds: (value, value),
            }),
        }
    }

    /// A value with `decimals` decimals: the decimal is the shortest text that reads back as
    /// `value` (what a program printing it meant).
    pub fn new(value: f64, decimals: u32) -> Printed {
        let bounds = PrintedDecimal::parse(&format!("{value}"))
            .filter(|_| value.is_finite())
            .map_or((value, value), |mut d| {
                let extra = decimals as i32 - d.scale;
                if extra > 0 {
                    d.digits.extend(std::iter::repeat_n(b'0', extra as usize));
                    d.scale = decimals as i32;
                }
                d.interval()
            });
        Printed {
            value,
            decimals,
            bounds,
        }
    }

    /// The interval of true values this printed number stands for.
    pub fn interval(self) -> (f64, f64) {
        self.bounds
    }
}

/// A decimal as typed: sign, digits and scale, the value being ±digits·10⁻ˢᶜᵃˡᵉ. Kept as text so
/// that the rounding interval of `0.462071977239010` is that of its 15 decimals, which no double
/// arithmetic (x ± 5·10⁻¹⁶ on the nearest double) gets right.
#[derive(Debug, Clone)]
struct PrintedDecimal {
    negative: bool,
    /// ASCII digits, at least one.
    digits: Vec<u8>,
    /// Decimals: digits after the point minus the exponent (`1.5e-4` → 5, `12e3` → −3).
    scale: i32,
}

impl PrintedDecimal {
    fn parse(t: &str) -> Option<PrintedDecimal> {
        let (negative, t) = match t.as_bytes().first()? {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exp) = match t.split_once(['e', 'E']) {
            Some((m, e)) => (m, e.parse::<i32>().ok()?),
            None => (t, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all = || int.bytes().chain(frac.bytes());
        if all().next().is_none() || !all().all(|b| b.is_ascii_digit()) || exp.abs() > 400 {
            return None;
        }
        Some(PrintedDecimal {
            negative,
            digits: all().collect(),
            scale: frac.len() as i32 - exp,
        })
    }

    /// [x − ½·10⁻ˢᶜᵃˡᵉ, x + ½·10⁻ˢᶜᵃˡᵉ]: with x = ±M·10⁻ˢ, the ends are ±(10M ∓ 5)·10⁻⁽ˢ⁺¹⁾, whose
    /// digits are M−1 or M followed by a 5 — exact, then read by the correctly rounded parser.
    fn interval(&self) -> (f64, f64) {
        let plus = {
            let mut d = self.digits.clone();
            d.push(b'5');
            d
        };
        let minus = decrement(&self.digits).map(|mut d| {
            d.push(b'5');
            d
        });
        let read = |digits: &[u8], negative: bool| -> f64 {
            let text = format!(
                "{}{}e{}",
                if negative { "-" } else { "" },
                std::str::from_utf8(digits).unwrap_or("0"),
                -(self.scale + 1)
            );
            text.parse().unwrap_or(f64::NAN)
        };
        // |x| − h: when M = 0 it is −h, i.e. the digit 5 with the opposite sign.
        let towards_zero = match &minus {
            Some(d) => read(d, self.negative),
            None => read(b"5", !self.negative),
        };
        let away = read(&plus, self.negative);
        if self.negative {
            (away, towards_zero)
        } else {
            (towards_zero, away)
        }
    }
}

/// M − 1 for a decimal digit string, `None` when M = 0.
fn decrement(digits: &[u8]) -> Option<Vec<u8>> {
    if digits.iter().all(|&b| b == b'0') {
        return None;
    }
    let mut d = digits.to_vec();
    for b in d.iter_mut().rev() {
        if *b == b'0' {
            *b = b'9';
        } else {
            *b -= 1;
            break;
        }
    }
    Some(d)
}

/// One row to check: estimate, CI bounds and p-value as printed (any may be absent).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckInput {
    /// The point estimate as printed, on the display scale (a ratio itself, not its log).
    pub estimate: Option<Printed>,
    /// The lower CI bound as printed, on the display scale.
    pub ci_lb: Option<Printed>,
    /// The upper CI bound as printed, on the display scale.
    pub ci_ub: Option<Printed>,
    /// Confidence level in percent (not itself rounded).
    pub level: f64,
    /// Two-sided p-value.
    pub pval: Option<PValue>,
    /// Log for ratios, identity for differences.
    pub scale: Scale,
}

/// The verdict on a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Some true values within rounding make the numbers agree.
    Consistent,
    /// No true values within rounding make them agree.
    Inconsistent,
    /// Inconsistent, and the recomputed p-value falls on the other side of α = 0.05.
    DecisionError,
    /// Too little was reported to check (a CI is needed).
    NotCheckable,
}

impl Verdict {
    /// The verdict's snake_case name, as in the JSON and CSV output.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Consistent => "consistent",
            Verdict::Inconsistent => "inconsistent",
            Verdict::DecisionError => "decision_error",
            Verdict::NotCheckable => "not_checkable",
        }
    }
}

/// The outcome of a check, with the ranges the CI admits.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CheckResult {
    /// Whether the row adds up.
    pub verdict: Verdict,
    /// Why the row is not consistent or not checkable, one sentence each; empty when consistent.
    pub reasons: Vec<String>,
    /// Estimates (display scale) at the CI's centre for CI bounds within rounding.
    pub estimate_range: Option<(f64, f64)>,
    /// Two-sided p-values implied by CI bounds (and estimate, when it fits) within rounding.
    pub p_range: Option<(f64, f64)>,
}

const ALPHA: f64 = 0.05;

/// Checks one row. Never fails: impossible input (reversed CI, estimate outside it, a non-positive
/// ratio) is a verdict with its reason, so one bad row never hides the others.
///
/// # Examples
///
/// ```
/// use evident::reported::check::{CheckInput, Printed, Verdict};
/// use evident::{check, Scale};
/// let p = |s| Some(Printed::parse(s).unwrap());
/// // OR 1.50 (95% CI 1.20 to 1.88): the estimate sits at the CI's geometric centre.
/// let row = CheckInput { estimate: p("1.50"), ci_lb: p("1.20"), ci_ub: p("1.88"),
///     level: 95.0, pval: None, scale: Scale::Log };
/// assert_eq!(check(&row).verdict, Verdict::Consistent);
/// let bad = CheckInput { estimate: p("1.80"), ..row };
/// assert_eq!(check(&bad).verdict, Verdict::Inconsistent);
/// ```
pub fn check(input: &CheckInput) -> CheckResult {
    let mut out = CheckResult {
        verdict: Verdict::NotCheckable,
        reasons: Vec::new(),
        estimate_range: None,
        p_range: None,
    };
    let (Some(lb), Some(ub)) = (input.ci_lb, input.ci_ub) else {
        out.reasons
            .push("no CI reported: estimate and p-value alone cannot be checked".into());
        return out;
    };
    let c = match crit(input.level) {
        Ok(c) => c,
        Err(e) => {
            out.reasons.push(e.to_string());
            return out;
        }
    };
    let ratio = input.scale == Scale::Log;
    let fatal = impossibilities(input.estimate, lb, ub, ratio);
    if !fatal.is_empty() {
        out.verdict = Verdict::Inconsistent;
        out.reasons = fatal;
        return out;
    }
    let g = |x: f64| if ratio { x.max(1e-300).ln() } else { x };
    let back = |x: f64| if ratio { x.exp() } else { x };
    let (l0, l1) = lb.interval();
    let (u0, u1) = ub.interval();
    let (a0, a1, b0, b1) = (g(l0), g(l1), g(u0), g(u1));
    // The box of admissible (a, b), with a <= b (a CI's lower bound is not above its upper).
    let boxed = clip(
        vec![(a0, b0), (a1, b0), (a1, b1), (a0, b1)],
        (1.0, -1.0),
        0.0,
    );
    let centre_lo = (a0 + b0.max(a0)) / 2.0;
    let centre_hi = (a1.min(b1) + b1) / 2.0;
    out.estimate_range = Some((back(centre_lo), back(centre_hi)));
    let mut region = boxed.clone();
    let mut consistent = true;
    if let Some(e) = input.estimate {
        let (elo, ehi) = e.interval();
        let (glo, ghi) = (g(elo), g(ehi));
        // The centres a+b/2 the box admits form [centre_lo, centre_hi]: the estimate fits when its
        // interval meets that one. Deciding this on the intervals, not on the clipped polygon,
        // keeps a full-precision estimate (an interval a few doubles wide) from being lost to the
        // clipping's rounding.
        if ghi < centre_lo || glo > centre_hi {
            consistent = false;
            out.reasons.push(format!(
                "estimate {} is not at the {} centre of its CI: CI [{}, {}] puts it in [{}, {}]",
                e.value,
                if ratio { "geometric" } else { "arithmetic" },
                lb.value,
                ub.value,
                sig(back(centre_lo)),
                sig(back(centre_hi)),
            ));
        } else {
            region = estimate_band(&boxed, glo, ghi);
        }
    }
    let p_range = p_range(&region, c);
    out.p_range = Some(p_range);
    let mut decision = false;
    if let Some(p) = input.pval {
        if let Some(d) = p_disagreement(p, p_range, &mut out.reasons) {
            consistent = false;
            decision = d;
        }
    }
    out.verdict = if decision {
        Verdict::DecisionError
    } else if consistent {
        Verdict::Consistent
    } else {
        Verdict::Inconsistent
    };
    out
}

/// The part of the admissible box where the estimate sits at the CI's centre, 2·glo <= a + b <=
/// 2·ghi. The exact region is not empty (the caller checked), but a full-precision estimate makes
/// the band one or two doubles wide, and clipping a polygon to so thin a band in floating point
/// leaves a point or nothing. A band narrower than 128 ulps of the coordinates is therefore
/// widened by 64 ulps on each side (and more if that still clips to nothing): the p-range it
/// bounds is conservative by ~1e-14 relative, far below any printed digit.
fn estimate_band(boxed: &[(f64, f64)], glo: f64, ghi: f64) -> Vec<(f64, f64)> {
    let scale = boxed.iter().fold(glo.abs().max(ghi.abs()), |m, &(a, b)| {
        m.max(a.abs()).max(b.abs())
    });
    let thin = 64.0 * f64::EPSILON * scale;
    let mut slack = if ghi - glo < 2.0 * thin { thin } else { 0.0 };
    for _ in 0..8 {
        let band = clip(boxed.to_vec(), (-1.0, -1.0), -2.0 * glo + slack);
        let band = clip(band, (1.0, 1.0), 2.0 * ghi + slack);
        if !band.is_empty() {
            return band;
        }
        slack = if slack == 0.0 { thin } else { slack * 4.0 };
    }
    boxed.to_vec()
}

/// What no rounding can explain: a reversed CI, a non-positive ratio, an estimate outside its CI.
fn impossibilities(
    estimate: Option<Printed>,
    lb: Printed,
    ub: Printed,
    ratio: bool,
) -> Vec<String> {
    let mut fatal = Vec::new();
    if lb.value > ub.value {
        fatal.push(format!(
            "CI bounds reversed: lower {} > upper {}",
            lb.value, ub.value
        ));
    }
    // A bound printed as 0.00 may stand for a small positive value; only a non-positive interval
    // is impossible for a ratio.
    if ratio && (lb.interval().1 <= 0.0 || ub.interval().1 <= 0.0) {
        fatal.push(format!(
            "a ratio's CI must be positive, got [{}, {}]",
            lb.value, ub.value
        ));
    }
    if let Some(e) = estimate {
        let (elo, ehi) = e.interval();
        if ehi < lb.interval().0 || elo > ub.interval().1 {
            fatal.push(format!(
                "estimate {} outside its CI [{}, {}]",
                e.value, lb.value, ub.value
            ));
        }
        if ratio && ehi <= 0.0 {
            fatal.push(format!("a ratio must be positive, got {}", e.value));
        }
    }
    fatal
}

/// `None` when the reported p fits the range the CI implies; otherwise the reasons are added and
/// the answer is whether it is a decision error (the two sides of α = 0.05 disagree).
fn p_disagreement(p: PValue, p_range: (f64, f64), reasons: &mut Vec<String>) -> Option<bool> {
    let (plo, phi) = p.interval();
    if !(phi < p_range.0 || plo > p_range.1) {
        return None;
    }
    reasons.push(format!(
        "reported p {} but the CI implies p in [{}, {}]",
        p,
        sig(p_range.0),
        sig(p_range.1)
    ));
    let admissible_sig = if p_range.1 <= ALPHA {
        Some(true)
    } else if p_range.0 > ALPHA {
        Some(false)
    } else {
        None
    };
    let (Some(r), Some(a)) = (p.significant(ALPHA), admissible_sig) else {
        return Some(false);
    };
    if r == a {
        return Some(false);
    }
    reasons.push(format!(
        "decision error: reported {} at α = 0.05, recomputed {}",
        if r { "significant" } else { "not significant" },
        if a { "significant" } else { "not significant" }
    ));
    Some(true)
}

/// Four significant digits, for messages.
fn sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}")
}

/// The range of two-sided p = 2Φ(−c|a+b|/(b−a)) over a convex polygon.
fn p_range(poly: &[(f64, f64)], c: f64) -> (f64, f64) {
    if poly.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let zs: Vec<f64> = poly
        .iter()
        .map(|&(a, b)| {
            let w = b - a;
            if w <= 0.0 {
                if a + b == 0.0 {
                    0.0
                } else {
                    f64::INFINITY
                }
            } else {
                c * (a + b).abs() / w
            }
        })
        .collect();
    let crosses =
        poly.iter().any(|&(a, b)| a + b <= 0.0) && poly.iter().any(|&(a, b)| a + b >= 0.0);
    let zmax = zs.iter().cloned().fold(0.0, f64::max);
    let zmin = if crosses {
        0.0
    } else {
        zs.iter().cloned().fold(f64::INFINITY, f64::min)
    };
    (stats::pnorm_two_sided(zmax), stats::pnorm_two_sided(zmin))
}

/// Sutherland–Hodgman: the part of a convex polygon where n·(a, b) <= k.
fn clip(poly: Vec<(f64, f64)>, n: (f64, f64), k: f64) -> Vec<(f64, f64)> {
    let side = |p: (f64, f64)| n.0 * p.0 + n.1 * p.1 - k;
    let mut out = Vec::with_capacity(poly.len() + 2);
    for i in 0..poly.len() {
        let p = poly[i];
        let q = poly[(i + 1) % poly.len()];
        let (sp, sq) = (side(p), side(q));
        if sp <= 0.0 {
            out.push(p);
        }
        if (sp < 0.0 && sq > 0.0) || (sp > 0.0 && sq < 0.0) {
            let t = sp / (sp - sq);
            out.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(e: &str, l: &str, u: &str, p: Option<&str>, scale: Scale) -> CheckInput {
        CheckInput {
            estimate: Some(Printed::parse(e).unwrap()),
            ci_lb: Some(Printed::parse(l).unwrap()),
            ci_ub: Some(Printed::parse(u).unwrap()),
            level: 95.0,
            pval: p.map(|p| PValue::parse(p).unwrap()),
            scale,
        }
    }

    #[test]
    fn lupus_ors_are_consistent() {
        // Sun et al. (seed 004): adjusted ORs with 95% CIs, as printed.
        for (e, l, u) in [
            ("2.82", "1.89", "4.22"),
            ("5.65", "2.35", "13.55"),
            ("3.6", "2.02", "6.41"),
            ("2.15", "1.15", "4.02"),
            ("2.43", "1.2", "4.92"),
            ("3.14", "1.49", "6.64"),
            ("3.54", "1.66", "7.58"),
        ] {
            let r = check(&row(e, l, u, None, Scale::Log));
            assert_eq!(
                r.verdict,
                Verdict::Consistent,
                "{e} ({l}-{u}): {:?}",
                r.reasons
            );
        }
        // With the p-value its CI implies (R: 2*pnorm(-log(2.82)/((log(4.22)-log(1.89))/(2*qnorm(.975))))
        // = 4.2e-07), "p < .001" is consistent and "p = 0.02" is not.
        let r = check(&row("2.82", "1.89", "4.22", Some("< .001"), Scale::Log));
        assert_eq!(r.verdict, Verdict::Consistent);
        let r = check(&row("2.82", "1.89", "4.22", Some("0.02"), Scale::Log));
        assert_eq!(r.verdict, Verdict::Inconsistent, "{:?}", r.reasons);
    }

    #[test]
    fn deliberate_inconsistency_is_caught() {
        // OR 1.90 (1.10-2.60), p = 0.20: the CI's geometric centre is 1.69 and it implies p ≈ 0.017.
        let r = check(&row("1.90", "1.10", "2.60", Some("0.20"), Scale::Log));
        assert_eq!(r.verdict, Verdict::DecisionError, "{:?}", r.reasons);
        let (lo, hi) = r.estimate_range.unwrap();
        assert!(lo > 1.68 && hi < 1.70, "{lo} {hi}");
        let (plo, phi) = r.p_range.unwrap();
        assert!(plo > 0.01 && phi < 0.03, "{plo} {phi}");
        assert!(r.reasons.iter().any(|s| s.contains("geometric centre")));
    }

    #[test]
    fn correctly_rounded_rows_pass() {
        // yi = log(1.5), se = 0.2 (R: exp(log(1.5) + c(-1, 1) * qnorm(.975) * 0.2) = 1.0136 2.2199;
        // 2 * pnorm(-log(1.5) / 0.2) = 0.04263): printed as 1.50 (1.01-2.22), p = 0.043.
        let r = check(&row("1.50", "1.01", "2.22", Some("0.043"), Scale::Log));
        assert_eq!(r.verdict, Verdict::Consistent, "{:?}", r.reasons);
        // Mean difference 1.4 (0.3 to 2.5): R: 2 * pnorm(-1.4 / (2.2 / (2 * qnorm(.975)))) = 0.01261
        let r = check(&row("1.4", "0.3", "2.5", Some("0.013"), Scale::Identity));
        assert_eq!(r.verdict, Verdict::Consistent, "{:?}", r.reasons);
        let r = check(&row("1.4", "0.3", "2.5", Some("0.13"), Scale::Identity));
        assert_eq!(r.verdict, Verdict::DecisionError, "{:?}", r.reasons);
        // A CI crossing the null admits p up to 1.
        let r = check(&row("0.98", "0.70", "1.37", Some("0.9"), Scale::Log));
        assert_eq!(r.verdict, Verdict::Consistent, "{:?}", r.reasons);
    }

    #[test]
    fn impossible_rows_are_verdicts_not_errors() {
        let r = check(&row("2.0", "3.0", "1.0", None, Scale::Log));
        assert_eq!(r.verdict, Verdict::Inconsistent);
        assert!(r.reasons[0].contains("reversed"));
        let r = check(&row("5.0", "1.0", "3.0", None, Scale::Log));
        assert_eq!(r.verdict, Verdict::Inconsistent);
        assert!(r.reasons[0].contains("outside its CI"));
        let r = check(&row("2.0", "-1.0", "3.0", None, Scale::Log));
        assert!(r.reasons[0].contains("must be positive"), "{:?}", r.reasons);
        // A lower bound printed as 0.00 can be a small positive ratio: checkable.
        let r = check(&row("0.05", "0.00", "0.90", None, Scale::Log));
        assert_ne!(r.verdict, Verdict::NotCheckable);
        let mut no_ci = row("2.0", "1.0", "3.0", Some("0.01"), Scale::Log);
        no_ci.ci_lb = None;
        assert_eq!(check(&no_ci).verdict, Verdict::NotCheckable);
    }

    #[test]
    fn rounding_intervals_are_decimal() {
        let iv = |t: &str| Printed::parse(t).unwrap().interval();
        let f = |t: &str| t.parse::<f64>().unwrap();
        // Issue 14: 15 decimals stand for ±5e-16, not for the double alone.
        assert_eq!(
            iv("0.462071977239010"),
            (f("0.4620719772390095"), f("0.4620719772390105"))
        );
        assert_eq!(iv("1.20"), (f("1.195"), f("1.205")));
        assert_eq!(iv("-0.5"), (f("-0.55"), f("-0.45")));
        assert_eq!(iv("0.00"), (f("-0.005"), f("0.005")));
        assert_eq!(iv("-0.00"), (f("-0.005"), f("0.005")));
        assert_eq!(iv("1.5e-4"), (f("1.45e-4"), f("1.55e-4")));
        assert_eq!(iv("12e3"), (f("11500"), f("12500")));
        assert_eq!(iv("100"), (f("99.5"), f("100.5")));
        assert_eq!(iv(".5"), (f("0.45"), f("0.55")));
        assert_eq!(Printed::new(0.1, 2).interval(), (f("0.095"), f("0.105")));
        // The issue's row itself.
        let r = check(&row(
            "0.462071977239010",
            "0.33",
            "0.59",
            None,
            Scale::Identity,
        ));
        assert_eq!(r.verdict, Verdict::Consistent, "{:?}", r.reasons);
    }
}
