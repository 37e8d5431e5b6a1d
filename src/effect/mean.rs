//! Single-group means: raw and log mean, log coefficient of variation, log SD (Nakagawa et al.
//! 2015).

use super::finite_pair;
use crate::data::studies::Values;
use crate::measure::Measure;

type Out = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<bool>);

/// Mean `mi`, SD `sdi` and size `ni` of each group (SDLN needs no mean).
pub(super) fn escalc(measure: Measure, mi: &Values, sdi: &Values, ni: &Values) -> Out {
    let k = ni.len();
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    for i in 0..k {
        let m = if measure == Measure::SDLN {
            Some(f64::NAN)
        } else {
            mi[i]
        };
        let (y, v) = match (m, sdi[i], ni[i]) {
            (Some(m), Some(s), Some(n)) => {
                let (y, v) = match measure {
                    Measure::MN => (m, s * s / n),
                    Measure::MNLN => (m.ln(), s * s / (n * m * m)),
                    Measure::CVLN => (
                        (s / m).ln() + 1.0 / (2.0 * (n - 1.0)),
                        1.0 / (2.0 * (n - 1.0)) + s * s / (n * m * m),
                    ),
                    Measure::SDLN => (s.ln() + 1.0 / (2.0 * (n - 1.0)), 1.0 / (2.0 * (n - 1.0))),
                    _ => unreachable!("mean::escalc called with {measure}"),
                };
                finite_pair(y, v)
            }
            _ => (None, None),
        };
        yi.push(y);
        vi.push(v);
    }
    (yi, vi, vec![false; k])
}
