//! Correlations: raw, bias-corrected (Olkin & Pratt 1958) and Fisher's r-to-z.

use super::VType;
use crate::data::studies::Values;
use crate::measure::Measure;

type Out = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<bool>);

pub(super) fn escalc(measure: Measure, ri: &Values, ni: &Values, vtype: VType) -> Out {
    let k = ri.len();
    if measure == Measure::UCOR {
        return ucor(ri, ni, vtype);
    }
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    for i in 0..k {
        // As metafor: the effect needs only ri; the variance needs n > 3 (and ri for COR), so a
        // row may have one without the other (it is then not pooled).
        let n = ni[i].filter(|&n| n > 3.0);
        let (y, v) = match (measure, ri[i]) {
            (Measure::ZCOR, r) => (
                r.map(|r| 0.5 * ((1.0 + r) / (1.0 - r)).ln()),
                n.map(|n| 1.0 / (n - 3.0)),
            ),
            (Measure::COR, r) => (r, r.zip(n).map(|(r, n)| (1.0 - r * r).powi(2) / (n - 1.0))),
            _ => unreachable!("correlation::escalc called with {measure}"),
        };
        yi.push(y.filter(|y| y.is_finite()));
        vi.push(v.filter(|v| v.is_finite()));
    }
    (yi, vi, vec![false; k])
}

/// Olkin & Pratt's (1958) unbiased correlation r·₂F₁(½, ½; (n − 2)/2; 1 − r²) with metafor's
/// variances: LS (1 − yi²)²/(n − 1), UB (Hedges 1989) and AV (the n-weighted mean yi in place of
/// yi); the effect needs n > 4, the variance n > 3.
fn ucor(ri: &Values, ni: &Values, vtype: VType) -> Out {
    let k = ri.len();
    let f = |a: f64, b: f64, g: f64, x: f64| {
        if g > a + b {
            hyp2f1(a, b, g, x)
        } else {
            f64::NAN
        }
    };
    let yi: Vec<Option<f64>> = (0..k)
        .map(|i| {
            let (r, n) = (ri[i]?, ni[i]?);
            Some(r * f(0.5, 0.5, (n - 2.0) / 2.0, 1.0 - r * r)).filter(|y| y.is_finite())
        })
        .collect();
    let (sw, w) = (0..k).fold((0.0, 0.0), |(s, w), i| match (yi[i], ni[i]) {
        (Some(y), Some(n)) => (s + y * n, w + n),
        _ => (s, w),
    });
    let mean_y = sw / w;
    let vi = (0..k)
        .map(|i| {
            let (y, r, n) = (yi[i]?, ri[i]?, ni[i].filter(|&n| n > 3.0)?);
            let v = match vtype {
                VType::UB => {
                    y * y
                        - (1.0
                            - (n - 3.0) / (n - 2.0)
                                * (1.0 - r * r)
                                * f(1.0, 1.0, n / 2.0, 1.0 - r * r))
                }
                VType::AV => (1.0 - mean_y * mean_y).powi(2) / (n - 1.0),
                _ => (1.0 - y * y).powi(2) / (n - 1.0),
            };
            Some(v).filter(|v| v.is_finite() && *v >= 0.0)
        })
        .collect();
    (yi, vi, vec![false; k])
}

/// The Gauss hypergeometric function ₂F₁(a, b; c; x) for 0 ≤ x < 1 by its power series, summed
/// until the terms no longer change the sum (c > a + b, as every caller has, makes it converge
/// at x → 1 too). NaN outside that range or without convergence.
pub(crate) fn hyp2f1(a: f64, b: f64, c: f64, x: f64) -> f64 {
    if x == 1.0 && c > a + b {
        // Gauss's theorem (r = 0).
        use crate::stats::lgamma;
        return (lgamma(c) + lgamma(c - a - b) - lgamma(c - a) - lgamma(c - b)).exp();
    }
    if !(0.0..1.0).contains(&x) {
        return f64::NAN;
    }
    let (mut term, mut sum) = (1.0, 1.0);
    for n in 0..2_000_000u32 {
        let n = f64::from(n);
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * x;
        let next = sum + term;
        if next == sum {
            return sum;
        }
        sum = next;
    }
    f64::NAN
}

/// The partial correlation ti/√(ti² + ni − mi − 1) of a regression coefficient's t statistic
/// (Aloe & Thompson 2013) with metafor's LS and AV variances, or its Fisher z (ZPCOR).
pub(super) fn partial(
    measure: Measure,
    ti: &Values,
    ni: &Values,
    mi: &Values,
    vtype: VType,
) -> Out {
    let k = ti.len();
    let df = |i: usize| Some(ni[i]? - mi[i]? - 1.0);
    let r: Vec<Option<f64>> = (0..k)
        .map(|i| {
            let t = ti[i]?;
            Some(t / (t * t + df(i)?).sqrt())
        })
        .collect();
    let (sw, w) = (0..k).fold((0.0, 0.0), |(s, w), i| match (r[i], ni[i]) {
        (Some(y), Some(n)) if y.is_finite() => (s + y * n, w + n),
        _ => (s, w),
    });
    let mean_r = sw / w;
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    for i in 0..k {
        let (y, v) = match (r[i], df(i)) {
            (Some(r), Some(df)) => {
                let (y, v) = match (measure, vtype) {
                    (Measure::ZPCOR, _) => (r.atanh(), 1.0 / df),
                    (_, VType::AV) => (r, (1.0 - mean_r * mean_r).powi(2) / df),
                    _ => (r, (1.0 - r * r).powi(2) / df),
                };
                super::finite_pair(y, v)
            }
            _ => (None, None),
        };
        yi.push(y);
        vi.push(v);
    }
    (yi, vi, vec![false; k])
}
