//! One group at two occasions (or matched pairs): raw and standardised mean change and the log
//! ratio of means, with the correlation between the occasions.

use super::{finite_pair, EscalcOptions, VType};
use crate::data::studies::Values;
use crate::measure::Measure;

type Out = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<bool>);

/// The columns of [`crate::data::Data::PrePost`].
pub(super) struct PrePost<'a> {
    pub m1i: &'a Values,
    pub m2i: &'a Values,
    pub sd1i: &'a Values,
    pub sd2i: &'a Values,
    pub ni: &'a Values,
    pub ri: &'a Values,
}

/// MC, SMCC (Gibbons et al. 1993), SMCR (Becker 1988), SMCRH (Bonett 2008), ROMC (Lajeunesse
/// 2011), as metafor 3.8-1 writes them; SMCR does not use sd2i.
pub(super) fn escalc(measure: Measure, d: &PrePost, o: &EscalcOptions) -> Out {
    let k = d.ni.len();
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    for i in 0..k {
        let sd2 = if measure == Measure::SMCR {
            d.sd2i[i].or(Some(f64::NAN))
        } else {
            d.sd2i[i]
        };
        let (y, v) = match (d.m1i[i], d.m2i[i], d.sd1i[i], sd2, d.ni[i], d.ri[i]) {
            (Some(m1), Some(m2), Some(s1), Some(s2), Some(n), Some(r)) => {
                let (y, v) = change(measure, m1, m2, s1, s2, n, r, o.vtype);
                finite_pair(y, v)
            }
            _ => (None, None),
        };
        yi.push(y);
        vi.push(v);
    }
    (yi, vi, vec![false; k])
}

#[allow(clippy::too_many_arguments)]
fn change(
    measure: Measure,
    m1: f64,
    m2: f64,
    s1: f64,
    s2: f64,
    n: f64,
    r: f64,
    vtype: VType,
) -> (f64, f64) {
    let var_d = s1 * s1 + s2 * s2 - 2.0 * r * s1 * s2;
    let j = super::continuous::hedges_j(n - 1.0);
    match measure {
        Measure::MC => (m1 - m2, var_d / n),
        Measure::SMCC | Measure::SMCR => {
            let (d, base) = if measure == Measure::SMCC {
                ((m1 - m2) / var_d.sqrt(), 1.0 / n)
            } else {
                ((m1 - m2) / s1, 2.0 * (1.0 - r) / n)
            };
            let y = j * d;
            let v = if vtype == VType::LS2 {
                j * j * (base + d * d / (2.0 * n))
            } else {
                base + y * y / (2.0 * n)
            };
            (y, v)
        }
        Measure::SMCRH => {
            let y = j * (m1 - m2) / s1;
            let v = var_d / (s1 * s1 * (n - 1.0)) + y * y / (2.0 * (n - 1.0));
            (y, j * j * v)
        }
        Measure::ROMC => (
            (m1 / m2).ln(),
            s1 * s1 / (n * m1 * m1) + s2 * s2 / (n * m2 * m2) - 2.0 * r * s1 * s2 / (m1 * m2 * n),
        ),
        _ => unreachable!("change::escalc called with {measure}"),
    }
}

/// [`escalc`] of [`crate::data::Data::PrePost`] (other data give no rows).
pub(super) fn from_data(measure: Measure, d: &crate::data::Data, o: &EscalcOptions) -> Out {
    match d {
        crate::data::Data::PrePost {
            m1i,
            m2i,
            sd1i,
            sd2i,
            ni,
            ri,
        } => escalc(
            measure,
            &PrePost {
                m1i,
                m2i,
                sd1i,
                sd2i,
                ni,
                ri,
            },
            o,
        ),
        _ => (Vec::new(), Vec::new(), Vec::new()),
    }
}
