//! 2×2 table measures: log odds ratio, log risk ratio, risk difference, Peto's log odds ratio.

use super::{correction_flags, finite_pair, EscalcOptions, VType};
use crate::data::studies::Values;
use crate::measure::Measure;

type Out = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<bool>);

pub(super) fn escalc(
    measure: Measure,
    ai: &Values,
    bi: &Values,
    ci: &Values,
    di: &Values,
    o: &EscalcOptions,
) -> Out {
    let k = ai.len();
    // Rows with a missing cell, and double-zero rows under drop00, give no value.
    let cells: Vec<Option<[f64; 4]>> = (0..k)
        .map(|i| {
            let c = [ai[i]?, bi[i]?, ci[i]?, di[i]?];
            let double_zero = (c[0] == 0.0 && c[2] == 0.0) || (c[1] == 0.0 && c[3] == 0.0);
            if o.drop00 && double_zero {
                None
            } else {
                Some(c)
            }
        })
        .collect();
    let has_zero: Vec<Option<bool>> = cells.iter().map(|c| c.map(|c| c.contains(&0.0))).collect();
    let corrected = correction_flags(&has_zero, o.to);
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    for i in 0..k {
        let Some(mut c) = cells[i] else {
            yi.push(None);
            vi.push(None);
            continue;
        };
        if corrected[i] {
            for x in &mut c {
                *x += o.add;
            }
        }
        let [a, b, cc, d] = c;
        let (n1, n2) = (a + b, cc + d);
        let (p1, p2) = (a / n1, cc / n2);
        let (y, v) = match measure {
            Measure::OR => (
                (p1 / (1.0 - p1)).ln() - (p2 / (1.0 - p2)).ln(),
                1.0 / a + 1.0 / b + 1.0 / cc + 1.0 / d,
            ),
            Measure::RR => (p1.ln() - p2.ln(), 1.0 / a - 1.0 / n1 + 1.0 / cc - 1.0 / n2),
            Measure::RD => {
                let v = match o.vtype {
                    VType::LS => p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2,
                    VType::UB => p1 * (1.0 - p1) / (n1 - 1.0) + p2 * (1.0 - p2) / (n2 - 1.0),
                };
                (p1 - p2, v)
            }
            Measure::PETO => {
                let n = n1 + n2;
                let xt = a + cc;
                let yt = b + d;
                let e = xt * n1 / n;
                let var = xt * yt * (n1 / n) * (n2 / n) / (n - 1.0);
                // Counts near 1e200: xt·yt and xt·n1 overflow; the same terms in another order
                // do not (ordinary counts keep the direct formula, bit for bit).
                let (e, var) = if e.is_finite() && var.is_finite() {
                    (e, var)
                } else {
                    (xt * (n1 / n), (xt / (n - 1.0)) * yt * (n1 / n) * (n2 / n))
                };
                ((a - e) / var, 1.0 / var)
            }
            _ => unreachable!("binary::escalc called with {measure}"),
        };
        let (y, v) = finite_pair(y, v);
        yi.push(y);
        vi.push(v);
    }
    (yi, vi, corrected)
}
