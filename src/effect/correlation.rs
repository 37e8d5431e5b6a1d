//! Correlations: raw and Fisher's r-to-z.

use super::finite_pair;
use crate::data::studies::Values;
use crate::measure::Measure;

type Out = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<bool>);

pub(super) fn escalc(measure: Measure, ri: &Values, ni: &Values) -> Out {
    let k = ri.len();
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    for i in 0..k {
        let (Some(r), Some(n)) = (ri[i], ni[i]) else {
            yi.push(None);
            vi.push(None);
            continue;
        };
        // metafor sets the variance to NA for n <= 3.
        if n <= 3.0 {
            yi.push(None);
            vi.push(None);
            continue;
        }
        let (y, v) = match measure {
            Measure::ZCOR => (0.5 * ((1.0 + r) / (1.0 - r)).ln(), 1.0 / (n - 3.0)),
            Measure::COR => (r, (1.0 - r * r).powi(2) / (n - 1.0)),
            _ => unreachable!("correlation::escalc called with {measure}"),
        };
        let (y, v) = finite_pair(y, v);
        yi.push(y);
        vi.push(v);
    }
    (yi, vi, vec![false; k])
}
