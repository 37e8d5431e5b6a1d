//! Peto's one-step odds ratio (Yusuf et al. 1985, *Prog Cardiovasc Dis* 27:335–371), as metafor's
//! `rma.peto`.

use super::mh::{
    mul_div, overflow_note, per_study, sq_over, two_by_two_tables, MhFit, MhOptions, Pooled, QStats,
};
use crate::data::{Data, Studies};
use crate::error::{Error, Result};
use crate::measure::Measure;

/// Pools 2×2 tables by Peto's method; Q = Σ(O−E)²/V − (Σ(O−E))²/ΣV.
///
/// # Examples
///
/// ```
/// use evident::{read_studies, rma, rma_peto, ColumnMap, CsvOptions, EffectSet, EscalcOptions};
/// use evident::{Measure, Method, MhOptions, RmaOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let peto = rma_peto(&studies, &MhOptions::default())?;
/// // Σ(O−E)/ΣV is the inverse-variance fixed-effect mean of the per-study Peto log odds ratios.
/// let set = EffectSet::from_studies(&studies, Measure::PETO, &EscalcOptions::default())?;
/// let fe = rma(&set, &RmaOptions { method: Method::FE, ..Default::default() })?;
/// assert!((peto.estimate - fe.estimate).abs() < 1e-12 && (peto.q - fe.het.q).abs() < 1e-9);
/// assert!(peto.ci_lb < peto.estimate && peto.estimate < peto.ci_ub);
/// # Ok::<(), evident::Error>(())
/// ```
pub fn rma_peto(studies: &Studies, o: &MhOptions) -> Result<MhFit> {
    if !matches!(studies.data, Data::TwoByTwo { .. }) {
        return Err(Error::invalid(format!(
            "Peto's method needs 2x2 tables, got {}",
            studies.data.kind_name()
        )));
    }
    super::check_totals(studies)?;
    let per = per_study(studies, Measure::PETO, o)?;
    let t = two_by_two_tables(studies, o).expect("2x2 data");
    let (mut o_e, mut sum_v, mut q1, mut kpos) = (0.0, 0.0, 0.0, 0usize);
    let mut wts = Vec::with_capacity(t.rows.len());
    let mut all_v = Vec::with_capacity(t.rows.len());
    for &[a, b, c, d] in &t.rows {
        let (e, v) = peto_e_v(a + c, b + d, a + b, c + d);
        all_v.push(v);
        o_e += a - e;
        sum_v += v;
        if v > 0.0 {
            kpos += 1;
            q1 += sq_over(a - e, v);
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
    let q = (q1 - sq_over(o_e, sum_v)).max(0.0);
    let df = per.0.len().saturating_sub(1);
    let qs = if kpos > 1 {
        QStats::from_q(q, df)
    } else {
        QStats {
            q,
            df,
            ..QStats::none()
        }
    };
    let pooled = Pooled {
        k: t.rows.len(),
        note: overflow_note(&t.rows),
        ..Pooled::plain(beta, se, wts)
    };
    let rows = super::pooled_rows(studies, o)?;
    Ok(
        MhFit::assemble(Measure::PETO, true, (o.level, o.correct), pooled, qs, per)
            .with_study_weights(studies.labels.len(), &rows, &all_v),
    )
}

/// The expected count E and hypergeometric variance V of a table's `a`; where `xt yt` overflows
/// (counts near 1e200) V is taken in another order, so it stays finite.
fn peto_e_v(xt: f64, yt: f64, n1: f64, n2: f64) -> (f64, f64) {
    let n = n1 + n2;
    let e = mul_div(xt, n1, n);
    let v = if (xt * yt).is_finite() {
        xt * yt * (n1 / n) * (n2 / n) / (n - 1.0)
    } else {
        (xt / (n - 1.0)) * yt * (n1 / n) * (n2 / n)
    };
    (e, v)
}
