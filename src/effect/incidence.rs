//! Events over person-time: log incidence rate ratio and incidence rate difference.

use super::{correction_flags, finite_pair, EscalcOptions};
use crate::data::studies::Values;
use crate::measure::Measure;

type Out = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<bool>);

pub(super) fn escalc(
    measure: Measure,
    x1i: &Values,
    t1i: &Values,
    x2i: &Values,
    t2i: &Values,
    o: &EscalcOptions,
) -> Out {
    let k = x1i.len();
    let rows: Vec<Option<[f64; 4]>> = (0..k)
        .map(|i| {
            let r = [x1i[i]?, t1i[i]?, x2i[i]?, t2i[i]?];
            if (o.drop00 && r[0] == 0.0 && r[2] == 0.0) || r[1] <= 0.0 || r[3] <= 0.0 {
                None
            } else {
                Some(r)
            }
        })
        .collect();
    let has_zero: Vec<Option<bool>> = rows
        .iter()
        .map(|r| r.map(|r| r[0] == 0.0 || r[2] == 0.0))
        .collect();
    let corrected = correction_flags(&has_zero, o.to);
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    for i in 0..k {
        let Some([mut x1, t1, mut x2, t2]) = rows[i] else {
            yi.push(None);
            vi.push(None);
            continue;
        };
        if corrected[i] {
            x1 += o.add;
            x2 += o.add;
        }
        let (r1, r2) = (x1 / t1, x2 / t2);
        let (y, v) = match measure {
            Measure::IRR => (r1.ln() - r2.ln(), 1.0 / x1 + 1.0 / x2),
            Measure::IRD => (r1 - r2, r1 / t1 + r2 / t2),
            _ => unreachable!("incidence::escalc called with {measure}"),
        };
        let (y, v) = finite_pair(y, v);
        yi.push(y);
        vi.push(v);
    }
    (yi, vi, corrected)
}
