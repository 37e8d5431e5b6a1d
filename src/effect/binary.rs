//! 2×2 table measures: log odds ratio, log risk ratio, risk difference, Peto's log odds ratio,
//! the arcsine risk difference, phi, Yule's Q and Y, and the odds ratio converted to an SMD.

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
                    VType::UB => p1 * (1.0 - p1) / (n1 - 1.0) + p2 * (1.0 - p2) / (n2 - 1.0),
                    _ => p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2,
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
            Measure::AS => (
                p1.sqrt().asin() - p2.sqrt().asin(),
                1.0 / (4.0 * n1) + 1.0 / (4.0 * n2),
            ),
            Measure::PHI => phi(a, b, cc, d, o.vtype),
            Measure::YUQ | Measure::YUY => {
                let or = (a / b) / (cc / d);
                let (y, f) = if measure == Measure::YUQ {
                    ((or - 1.0) / (or + 1.0), 0.25)
                } else {
                    ((or.sqrt() - 1.0) / (or.sqrt() + 1.0), 1.0 / 16.0)
                };
                let v = f * (1.0 - y * y).powi(2) * (1.0 / a + 1.0 / b + 1.0 / cc + 1.0 / d);
                (y, v)
            }
            Measure::OR2DN | Measure::OR2DL => {
                let y = (p1 / (1.0 - p1)).ln() - (p2 / (1.0 - p2)).ln();
                let v = 1.0 / a + 1.0 / b + 1.0 / cc + 1.0 / d;
                // Cox (1970): divide by 1.65; Hasselblad & Hedges (1995): multiply by √3/π.
                let f = if measure == Measure::OR2DN {
                    1.0 / 1.65
                } else {
                    3f64.sqrt() / std::f64::consts::PI
                };
                (f * y, f * f * v)
            }
            _ => unreachable!("binary::escalc called with {measure}"),
        };
        let (y, v) = finite_pair(y, v);
        yi.push(y);
        vi.push(v);
    }
    (yi, vi, corrected)
}

/// The phi coefficient and its variance under cross-sectional (LS = CS) or stratified (ST)
/// sampling (Yule 1912; the variances as metafor 3.8-1 writes them).
fn phi(a: f64, b: f64, c: f64, d: f64, vtype: VType) -> (f64, f64) {
    let (n1, n2) = (a + b, c + d);
    let n = n1 + n2;
    let y = (a * d - b * c) / (n1 * n2 * (a + c) * (b + d)).sqrt();
    let v = if vtype == VType::ST {
        let (p1, p2) = (a / n1, c / n2);
        let (q1, q2) = (1.0 - p1, 1.0 - p2);
        (n1 + n2).powi(2)
            * (4.0 * n1.powi(3) * p1 * p1 * p2 * q1 * q1 * q2
                + 4.0 * n2.powi(3) * p1 * p2 * p2 * q1 * q2 * q2
                + n1 * n2 * n2 * p2 * q2 * (p2 * q1 + p1 * q2) * (p2 * q1 + p1 * (4.0 * q1 + q2))
                + n1 * n1 * n2 * p1 * q1 * (p2 * q1 + p1 * q2) * (p1 * q2 + p2 * (q1 + 4.0 * q2)))
            / (4.0 * (a + c).powi(3) * (b + d).powi(3))
    } else {
        let (r1, r2) = (n1 / n, n2 / n);
        let (c1, c2) = ((a + c) / n, (b + d) / n);
        1.0 / n
            * (1.0 - y * y
                + y * (1.0 + 0.5 * y * y) * (r1 - r2) * (c1 - c2) / (r1 * r2 * c1 * c2).sqrt()
                - 0.75 * y * y * ((r1 - r2).powi(2) / (r1 * r2) + (c1 - c2).powi(2) / (c1 * c2)))
    };
    (y, v)
}
