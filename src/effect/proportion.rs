//! Single proportions: raw and logit-transformed.

use super::{correction_flags, finite_pair, EscalcOptions, VType};
use crate::data::studies::Values;
use crate::measure::Measure;

type Out = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<bool>);

pub(super) fn escalc(measure: Measure, xi: &Values, ni: &Values, o: &EscalcOptions) -> Out {
    let k = xi.len();
    let rows: Vec<Option<(f64, f64)>> = (0..k)
        .map(|i| {
            let (x, n) = (xi[i]?, ni[i]?);
            (n > 0.0).then_some((x, n - x))
        })
        .collect();
    let has_zero: Vec<Option<bool>> = rows
        .iter()
        .map(|r| r.map(|(x, m)| x == 0.0 || m == 0.0))
        .collect();
    let corrected = correction_flags(&has_zero, o.to);
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    for i in 0..k {
        let Some((mut x, mut m)) = rows[i] else {
            yi.push(None);
            vi.push(None);
            continue;
        };
        if corrected[i] {
            x += o.add;
            m += o.add;
        }
        let n = x + m;
        let p = x / n;
        let (y, v) = match measure {
            Measure::PR => {
                let v = match o.vtype {
                    VType::LS => p * (1.0 - p) / n,
                    VType::UB => p * (1.0 - p) / (n - 1.0),
                };
                (p, v)
            }
            Measure::PLO => ((p / (1.0 - p)).ln(), 1.0 / (n * p * (1.0 - p))),
            _ => unreachable!("proportion::escalc called with {measure}"),
        };
        let (y, v) = finite_pair(y, v);
        yi.push(y);
        vi.push(v);
    }
    (yi, vi, corrected)
}
