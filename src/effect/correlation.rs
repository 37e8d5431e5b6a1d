//! Correlations: raw and Fisher's r-to-z.

use crate::data::studies::Values;
use crate::measure::Measure;

type Out = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<bool>);

pub(super) fn escalc(measure: Measure, ri: &Values, ni: &Values) -> Out {
    let k = ri.len();
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
