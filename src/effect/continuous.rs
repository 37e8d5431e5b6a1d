//! Two-group means: raw mean difference, standardised mean differences (bias-corrected and
//! heteroscedastic), log ratio of means, log variability and coefficient-of-variation ratios.

use super::{finite_pair, EscalcOptions, VType};
use crate::data::studies::Values;
use crate::measure::Measure;
use crate::stats::lgamma;

type Out = (Vec<Option<f64>>, Vec<Option<f64>>, Vec<bool>);

/// Hedges' exact small-sample correction J(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)) (Hedges 1981).
pub(super) fn hedges_j(m: f64) -> f64 {
    if m <= 1.0 {
        return f64::NAN;
    }
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
    if measure == Measure::VR {
        return vr(sd1i, n1i, sd2i, n2i);
    }
    let av = (measure == Measure::ROM).then(|| rom_averages(m1i, sd1i, n1i, m2i, sd2i, n2i));
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
                    VType::UB => 1.0 / n1 + 1.0 / n2 + (1.0 - (m - 2.0) / (m * j * j)) * g * g,
                    _ => 1.0 / n1 + 1.0 / n2 + g * g / (2.0 * (n1 + n2)),
                };
                (g, v)
            }
            Measure::SMDH => smdh(m1 - m2, s1, n1, s2, n2, o.vtype),
            Measure::ROM => {
                let y = (m1 / m2).ln();
                let v = match (o.vtype, av) {
                    (VType::HO, _) => {
                        let s2p = ((n1 - 1.0) * s1 * s1 + (n2 - 1.0) * s2 * s2) / (n1 + n2 - 2.0);
                        s2p / (n1 * m1 * m1) + s2p / (n2 * m2 * m2)
                    }
                    (VType::AV, Some((c1, c2, _))) => c1 * c1 / n1 + c2 * c2 / n2,
                    (VType::AVHO, Some((_, _, c))) => c * c * (1.0 / n1 + 1.0 / n2),
                    _ => s1 * s1 / (n1 * m1 * m1) + s2 * s2 / (n2 * m2 * m2),
                };
                (y, v)
            }
            Measure::CVR => (
                (s1 / m1).ln() + 1.0 / (2.0 * (n1 - 1.0))
                    - (s2 / m2).ln()
                    - 1.0 / (2.0 * (n2 - 1.0)),
                1.0 / (2.0 * (n1 - 1.0))
                    + s1 * s1 / (n1 * m1 * m1)
                    + 1.0 / (2.0 * (n2 - 1.0))
                    + s2 * s2 / (n2 * m2 * m2),
            ),
            _ => unreachable!("continuous::escalc called with {measure}"),
        };
        let (y, v) = finite_pair(y, v);
        yi.push(y);
        vi.push(v);
    }
    (yi, vi, vec![false; k])
}

/// Bonett's (2008) standardised mean difference with the average of the two variances as
/// standardiser, bias-corrected by J(n1 + n2 − 2); `LS2` is metafor's second form, verbatim.
fn smdh(diff: f64, s1: f64, n1: f64, s2: f64, n2: f64, vtype: VType) -> (f64, f64) {
    let m = n1 + n2 - 2.0;
    let j = if m <= 1.0 { f64::NAN } else { hedges_j(m) };
    let (v1, v2) = (s1 * s1, s2 * s2);
    let y = j * diff / ((v1 + v2) / 2.0).sqrt();
    let v = if vtype == VType::LS2 {
        y * y * v1 / (2.0 * n1 * (v1 + v2).powi(2))
            + y * y * v2 / (2.0 * n2 * (v1 + v2).powi(2))
            + 2.0 * v1 / (n1 * (v1 + v2))
            + 2.0 * v2 / (n2 * (v1 + v2))
    } else {
        let v = y * y * (v1 * v1 / (n1 - 1.0) + v2 * v2 / (n2 - 1.0)) / (2.0 * (v1 + v2).powi(2))
            + (v1 / (n1 - 1.0) + v2 / (n2 - 1.0)) / ((v1 + v2) / 2.0);
        j * j * v
    };
    (y, v)
}

/// The n-weighted mean coefficients of variation ROM's `AV` and `AVHO` variances use: group 1,
/// group 2 (each over the rows where it is defined) and both groups together (over the rows
/// where both are).
fn rom_averages(
    m1i: &Values,
    sd1i: &Values,
    n1i: &Values,
    m2i: &Values,
    sd2i: &Values,
    n2i: &Values,
) -> (f64, f64, f64) {
    let cv = |m: &Values, sd: &Values, i: usize| Some(sd[i]? / m[i]?).filter(|c| !c.is_nan());
    let wmean = |m: &Values, sd: &Values, n: &Values| {
        let (mut s, mut w) = (0.0, 0.0);
        for i in 0..m.len() {
            if let (Some(c), Some(n)) = (cv(m, sd, i), n[i]) {
                s += c * n;
                w += n;
            }
        }
        s / w
    };
    let (mut s1, mut s2, mut w) = (0.0, 0.0, 0.0);
    for i in 0..m1i.len() {
        if let (Some(c1), Some(c2), Some(a), Some(b)) =
            (cv(m1i, sd1i, i), cv(m2i, sd2i, i), n1i[i], n2i[i])
        {
            s1 += a * c1;
            s2 += b * c2;
            w += a + b;
        }
    }
    (wmean(m1i, sd1i, n1i), wmean(m2i, sd2i, n2i), (s1 + s2) / w)
}

/// The log variability ratio (Nakagawa et al. 2015): needs only the SDs and sizes.
fn vr(sd1i: &Values, n1i: &Values, sd2i: &Values, n2i: &Values) -> Out {
    let k = sd1i.len();
    let (mut yi, mut vi) = (Vec::with_capacity(k), Vec::with_capacity(k));
    for i in 0..k {
        let (y, v) = match (sd1i[i], n1i[i], sd2i[i], n2i[i]) {
            (Some(s1), Some(n1), Some(s2), Some(n2)) => finite_pair(
                (s1 / s2).ln() + 1.0 / (2.0 * (n1 - 1.0)) - 1.0 / (2.0 * (n2 - 1.0)),
                1.0 / (2.0 * (n1 - 1.0)) + 1.0 / (2.0 * (n2 - 1.0)),
            ),
            _ => (None, None),
        };
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
