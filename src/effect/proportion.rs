//! Single proportions: raw, logit, log, arcsine and Freeman–Tukey double arcsine transformed.

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
    let corrected_rows: Vec<Option<(f64, f64)>> = (0..k)
        .map(|i| {
            rows[i].map(|(x, m)| {
                if corrected[i] {
                    (x + o.add, m + o.add)
                } else {
                    (x, m)
                }
            })
        })
        .collect();
    // PLN's AV variance: the n-weighted mean proportion over the rows where it is defined.
    let (sw, w) = corrected_rows
        .iter()
        .flatten()
        .fold((0.0, 0.0), |(s, w), &(x, m)| {
            let p = x / (x + m);
            if p.is_nan() {
                (s, w)
            } else {
                (s + p * (x + m), w + x + m)
            }
        });
    let mean_p = sw / w;
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
                    VType::UB => p * (1.0 - p) / (n - 1.0),
                    _ => p * (1.0 - p) / n,
                };
                (p, v)
            }
            Measure::PLO => ((p / (1.0 - p)).ln(), 1.0 / (n * p * (1.0 - p))),
            Measure::PLN => {
                let v = match o.vtype {
                    VType::AV => 1.0 / (mean_p * n) - 1.0 / n,
                    _ => 1.0 / x - 1.0 / n,
                };
                (p.ln(), v)
            }
            Measure::PAS => (p.sqrt().asin(), 1.0 / (4.0 * n)),
            // Freeman & Tukey (1950).
            Measure::PFT => (
                0.5 * ((x / (n + 1.0)).sqrt().asin() + ((x + 1.0) / (n + 1.0)).sqrt().asin()),
                1.0 / (4.0 * n + 2.0),
            ),
            _ => unreachable!("proportion::escalc called with {measure}"),
        };
        let (y, v) = finite_pair(y, v);
        yi.push(y);
        vi.push(v);
    }
    (yi, vi, corrected)
}
