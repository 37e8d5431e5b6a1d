//! Two-group means: raw mean difference and bias-corrected standardised mean difference.

use super::{finite_pair, EscalcOptions, VType};
use crate::data::studies::Values;
use crate::measure::Measure;
use crate::stats::lgamma;

type Out = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<bool>);

/// Hedges' exact small-sample correction J(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)) (Hedges 1981).
fn hedges_j(m: f64) -> f64 {
    (lgamma(m / 2.0) - (m / 2.0).sqrt().ln() - lgamma((m - 1.0) / 2.0)).exp()
}

#[allow(clippy::too_many_arguments)]
pub(super) fn escalc(
    measure: Measure,
    m1i: &Values,
    sd1i: &Values,
    n1i: &Values,
    m2i: &Values,
    sd2i: &Values,
    n2i: &Values,
    o: &EscalcOptions,
) -> Out {
    let k = m1i.len();
    let mut yi = Vec::with_capacity(k);
    let mut vi = Vec::with_capacity(k);
    for i in 0..k {
        let vals = (|| Some((m1i[i]?, sd1i[i]?, n1i[i]?, m2i[i]?, sd2i[i]?, n2i[i]?)))();
        let Some((m1, s1, n1, m2, s2, n2)) = vals else {
            yi.push(None);
            vi.push(None);
            continue;
        };
        let (y, v) = match measure {
            Measure::MD => (m1 - m2, s1 * s1 / n1 + s2 * s2 / n2),
            Measure::SMD => {
                let m = n1 + n2 - 2.0;
                let sp = (((n1 - 1.0) * s1 * s1 + (n2 - 1.0) * s2 * s2) / m).sqrt();
                let j = hedges_j(m);
                let g = j * (m1 - m2) / sp;
                let v = match o.vtype {
                    VType::LS => 1.0 / n1 + 1.0 / n2 + g * g / (2.0 * (n1 + n2)),
                    VType::UB => 1.0 / n1 + 1.0 / n2 + (1.0 - (m - 2.0) / (m * j * j)) * g * g,
                };
                (g, v)
            }
            _ => unreachable!("continuous::escalc called with {measure}"),
        };
        let (y, v) = finite_pair(y, v);
        yi.push(y);
        vi.push(v);
    }
    (yi, vi, vec![false; k])
}

/// RevMan 5's standardised mean difference (Deeks & Higgins 2010, *Statistical algorithms in
/// Review Manager 5*): Hedges' g with the approximate correction 1 − 3/(4N − 9) and
/// SE² = N/(n1·n2) + g²/(2(N − 3.94)), where metafor uses the exact correction and g²/(2N).
/// The effects of `studies` (means data) with these yi and vi; the studies dropped are those
/// metafor's SMD drops.
pub fn smd_revman5(studies: &crate::data::Studies) -> crate::error::Result<super::EffectSet> {
    let crate::data::Data::Means {
        m1i,
        sd1i,
        n1i,
        m2i,
        sd2i,
        n2i,
    } = &studies.data
    else {
        return Err(crate::error::Error::invalid(format!(
            "RevMan's SMD needs means, SDs and sizes of two groups; got {}",
            studies.data.kind_name()
        )));
    };
    let mut set = super::EffectSet::from_studies(studies, Measure::SMD, &EscalcOptions::default())?;
    for (j, &r) in set.rows.iter().enumerate() {
        let vals = (|| Some((m1i[r]?, sd1i[r]?, n1i[r]?, m2i[r]?, sd2i[r]?, n2i[r]?)))();
        let Some((m1, s1, n1, m2, s2, n2)) = vals else {
            continue;
        };
        let n = n1 + n2;
        let sp = (((n1 - 1.0) * s1 * s1 + (n2 - 1.0) * s2 * s2) / (n - 2.0)).sqrt();
        let g = (m1 - m2) / sp * (1.0 - 3.0 / (4.0 * n - 9.0));
        set.yi[j] = g;
        set.vi[j] = n / (n1 * n2) + g * g / (2.0 * (n - 3.94));
    }
    Ok(set)
}
