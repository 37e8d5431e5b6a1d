//! Single-group incidence rates: raw, log, square-root and Freeman–Tukey transformed.

use super::{correction_flags, finite_pair, EscalcOptions};
use crate::data::studies::Values;
use crate::measure::Measure;

type Out = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<bool>);

/// Events `xi` over person-time `ti`; a zero count gets `add` (to xi only, as metafor does).
pub(super) fn escalc(measure: Measure, xi: &Values, ti: &Values, o: &EscalcOptions) -> Out {
    let k = xi.len();
    let rows: Vec<Option<(f64, f64)>> = (0..k).map(|i| Some((xi[i]?, ti[i]?))).collect();
    let has_zero: Vec<Option<bool>> = rows.iter().map(|r| r.map(|(x, _)| x == 0.0)).collect();
    let corrected = correction_flags(&has_zero, o.to);
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    for i in 0..k {
        let Some((mut x, t)) = rows[i] else {
            yi.push(None);
            vi.push(None);
            continue;
        };
        if corrected[i] {
            x += o.add;
        }
        let ir = x / t;
        let (y, v) = match measure {
            Measure::IR => (ir, ir / t),
            Measure::IRLN => (ir.ln(), 1.0 / x),
            Measure::IRS => (ir.sqrt(), 1.0 / (4.0 * t)),
            // Freeman & Tukey (1950), for rates.
            Measure::IRFT => (0.5 * (ir.sqrt() + (ir + 1.0 / t).sqrt()), 1.0 / (4.0 * t)),
            _ => unreachable!("rate::escalc called with {measure}"),
        };
        let (y, v) = finite_pair(y, v);
        yi.push(y);
        vi.push(v);
    }
    (yi, vi, corrected)
}
