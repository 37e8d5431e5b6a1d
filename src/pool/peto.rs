//! Peto's one-step odds ratio (Yusuf et al. 1985, *Prog Cardiovasc Dis* 27:335–371), as metafor's
//! `rma.peto`.

use super::mh::{per_study, two_by_two_tables, MhFit, MhOptions};
use crate::data::{Data, Studies};
use crate::error::{Error, Result};
use crate::measure::Measure;
use crate::stats::{pchisq_upper, pnorm_two_sided};

/// Pools 2×2 tables by Peto's method; Q = Σ(O−E)²/V − (Σ(O−E))²/ΣV.
pub fn rma_peto(studies: &Studies, o: &MhOptions) -> Result<MhFit> {
    if !matches!(studies.data, Data::TwoByTwo { .. }) {
        return Err(Error::invalid(format!(
            "Peto's method needs 2x2 tables, got {}",
            studies.data.kind_name()
        )));
    }
    let crit = o.level.z();
    let (yi, vi, labels) = per_study(studies, Measure::PETO, o)?;
    let t = two_by_two_tables(studies, o).expect("2x2 data");
    let k = t.rows.len();
    let (mut o_e, mut sum_v, mut q1, mut kpos) = (0.0, 0.0, 0.0, 0usize);
    let mut wts = Vec::with_capacity(k);
    for &[a, b, c, d] in &t.rows {
        let (n1, n2) = (a + b, c + d);
        let n = n1 + n2;
        let (xt, yt) = (a + c, b + d);
        let e = xt * n1 / n;
        let v = xt * yt * (n1 / n) * (n2 / n) / (n - 1.0);
        o_e += a - e;
        sum_v += v;
        if v > 0.0 {
            kpos += 1;
            q1 += (a - e) * (a - e) / v;
            wts.push(v);
        }
    }
    if sum_v == 0.0 {
        return Err(Error::invalid(
            "one of the two outcomes never occurred in any table: Peto's method cannot be used",
        ));
    }
    let beta = o_e / sum_v;
    let se = (1.0 / sum_v).sqrt();
    let zval = beta / se;
    let q = (q1 - o_e * o_e / sum_v).max(0.0);
    let k_yi = yi.len();
    let df = k_yi.saturating_sub(1);
    let (q_pval, i2, h2) = if kpos > 1 {
        (
            pchisq_upper(q, df as f64),
            crate::model::heterogeneity::at_most_100(100.0 * (q - df as f64) / q).max(0.0),
            q / df as f64,
        )
    } else {
        (1.0, 0.0, 1.0)
    };
    let sw: f64 = wts.iter().sum();
    Ok(MhFit {
        measure: Measure::PETO,
        scale: Measure::PETO.scale(),
        peto: true,
        k,
        k_yi,
        estimate: beta,
        se,
        zval,
        pval: pnorm_two_sided(zval),
        ci_lb: beta - crit * se,
        ci_ub: beta + crit * se,
        q,
        q_df: df,
        q_pval,
        i2,
        h2,
        cmh: None,
        tarone: None,
        mh_irr: None,
        weights: if wts.len() == k_yi {
            wts.iter().map(|w| 100.0 * w / sw).collect()
        } else {
            Vec::new()
        },
        yi,
        vi,
        labels,
    })
}
