//! Mantel–Haenszel pooling for 2×2 tables (OR, RR, RD) and incidence data (IRR, IRD), as
//! metafor's `rma.mh`, and the shared result type of Mantel–Haenszel and Peto fits.

use crate::data::studies::Values;
use crate::data::{Data, Studies};
use crate::effect::{correction_flags, escalc, AddTo, EscalcOptions};
use crate::error::{Error, Result};
use crate::measure::{Measure, Scale};
use crate::model::Level;
use crate::stats::{pchisq_upper, pnorm_two_sided};

/// Options of `rma.mh` / `rma.peto`: element 0 applies to the per-study yi/vi (used for Q),
/// element 1 to the counts entering the pooled estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MhOptions {
    /// Continuity correction added to the cells (metafor's `add`, default `c(1/2, 0)`).
    pub add: [f64; 2],
    /// Which tables get `add` (metafor's `to`, default `c("only0", "none")`).
    pub to: [AddTo; 2],
    /// Drop tables with no events or no non-events in both arms (metafor's `drop00`).
    pub drop00: [bool; 2],
    /// Continuity correction of the CMH / MH test statistic.
    pub correct: bool,
    /// Confidence level of the interval (metafor's `level`).
    pub level: Level,
}

impl MhOptions {
    /// metafor's rule for a single `add`, `to` and `drop00`: they apply to the per-study yi/vi
    /// behind Q, I², H² and `k_yi`; the counts of the pooled estimate keep `add = 0`,
    /// `to = "none"` and `drop00 = FALSE` (`rma.mh` expands a scalar to `c(x, 0)`,
    /// `c(x, "none")`, `c(x, FALSE)`).
    pub fn for_study_effects(add: f64, to: AddTo, drop00: bool) -> MhOptions {
        let d = MhOptions::default();
        MhOptions {
            add: [add, d.add[1]],
            to: [to, d.to[1]],
            drop00: [drop00, d.drop00[1]],
            ..d
        }
    }
}

impl Default for MhOptions {
    fn default() -> Self {
        MhOptions {
            add: [0.5, 0.0],
            to: [AddTo::Only0, AddTo::None],
            drop00: [true, false],
            correct: true,
            level: Level::NINETY_FIVE,
        }
    }
}

/// A Mantel–Haenszel or Peto fit.
#[derive(Debug, Clone)]
pub struct MhFit {
    /// The effect measure pooled (OR, RR, RD, IRR, IRD; OR for Peto).
    pub measure: Measure,
    /// The scale of `estimate` and the CI: log for OR, RR and IRR, raw for RD and IRD.
    pub scale: Scale,
    /// Fitted by `rma.peto` (Peto's one-step odds ratio) rather than `rma.mh`.
    pub peto: bool,
    /// Tables used (no missing counts).
    pub k: usize,
    /// Studies with a defined yi, used for Q.
    pub k_yi: usize,
    /// Pooled estimate (metafor's `beta`), on `scale` (a log OR/RR/IRR).
    pub estimate: f64,
    /// Standard error of `estimate` (metafor's `se`).
    pub se: f64,
    /// Wald statistic `estimate / se` (metafor's `zval`).
    pub zval: f64,
    /// Two-sided normal p-value of `zval` (metafor's `pval`).
    pub pval: f64,
    /// Lower confidence bound (metafor's `ci.lb`), on `scale`.
    pub ci_lb: f64,
    /// Upper confidence bound (metafor's `ci.ub`), on `scale`.
    pub ci_ub: f64,
    /// Confidence level of the interval.
    pub level: Level,
    /// Cochran's Q test statistic for heterogeneity around `estimate` (metafor's `QE`).
    pub q: f64,
    /// Degrees of freedom of Q, `k_yi - 1` (0 with a single study).
    pub q_df: usize,
    /// Chi-square p-value of Q (metafor's `QEp`).
    pub q_pval: f64,
    /// I², the percentage of total variability due to heterogeneity (metafor's `I2`, in percent).
    pub i2: f64,
    /// H², total over sampling variability (metafor's `H2`, a ratio ≥ 1).
    pub h2: f64,
    /// Cochran–Mantel–Haenszel test (OR): statistic and p-value on 1 df (metafor's `CO`, `COp`,
    /// printed as CMH); `None` without events or non-events.
    pub cmh: Option<(f64, f64)>,
    /// Tarone's test of homogeneity of ORs (OR): statistic and p-value on k − 1 df (metafor's
    /// `TA`, `TAp`).
    pub tarone: Option<(f64, f64)>,
    /// The Breslow–Day test of homogeneity of ORs (OR), uncorrected: statistic and p-value on
    /// k − 1 df (metafor's `BD`, `BDp`).
    pub breslow_day: Option<(f64, f64)>,
    /// Mantel–Haenszel test (IRR): statistic and p-value on 1 df (metafor's `MH`, `MHp`).
    pub mh_irr: Option<(f64, f64)>,
    /// The CMH / MH tests carry the ½ continuity correction (metafor's `correct`).
    pub continuity_corrected: bool,
    /// Where evident departs from metafor for this fit, and why.
    pub note: Option<&'static str>,
    /// Per-study yi, vi (escalc with the first-element options) and labels for the studies with yi.
    pub yi: Vec<f64>,
    /// Per-study sampling variances, parallel to `yi`.
    pub vi: Vec<f64>,
    /// Study labels, parallel to `yi`.
    pub labels: Vec<String>,
    /// Per-study weights in percent (MH or Peto weights), for the rows with yi.
    pub weights: Vec<f64>,
    /// Each input study's weight in percent of the total over the tables pooled (RevMan's
    /// weight column), in the order of the studies read; `None` for studies not pooled
    /// (incomplete counts, or dropped by `drop00[1]`).
    pub study_weights: Vec<Option<f64>>,
}

impl MhFit {
    /// The method as metafor's output names it: "MH" or "Peto".
    pub fn method_name(&self) -> &'static str {
        if self.peto {
            "Peto"
        } else {
            "MH"
        }
    }
}

/// Counts of the tables entering the pooled estimate (after drop00[1] and add/to[1]).
pub(crate) struct Tables {
    pub rows: Vec<[f64; 4]>,
}

/// The 2×2 tables `[ai, bi, ci, di]` entering the pooled estimate; `None` for other data.
pub(crate) fn two_by_two_tables(studies: &Studies, o: &MhOptions) -> Option<Tables> {
    let Data::TwoByTwo { ai, bi, ci, di } = &studies.data else {
        return None;
    };
    let rows = complete_rows(
        [ai, bi, ci, di],
        o,
        |&[a, b, c, d]| (a == 0.0 && c == 0.0) || (b == 0.0 && d == 0.0),
        |r| r.contains(&0.0),
        |r| {
            for x in r.iter_mut() {
                *x += o.add[1];
            }
        },
    );
    Some(Tables { rows })
}

/// Rows `[x1, t1, x2, t2]` of the incidence data entering the pooled estimate (after drop00[1]
/// and add/to[1], which touch the event counts only).
fn incidence_tables(studies: &Studies, o: &MhOptions) -> Option<Vec<[f64; 4]>> {
    let Data::Incidence { x1i, t1i, x2i, t2i } = &studies.data else {
        return None;
    };
    Some(complete_rows(
        [x1i, t1i, x2i, t2i],
        o,
        |r| r[0] == 0.0 && r[2] == 0.0,
        |r| r[0] == 0.0 || r[2] == 0.0,
        |r| {
            r[0] += o.add[1];
            r[2] += o.add[1];
        },
    ))
}

/// The rows with all four counts, less those `drop00[1]` drops as `no_events`; then the
/// continuity correction `add` on the rows `to[1]` selects by `has_zero`.
fn complete_rows(
    cols: [&Values; 4],
    o: &MhOptions,
    no_events: impl Fn(&[f64; 4]) -> bool,
    has_zero: impl Fn(&[f64; 4]) -> bool,
    add: impl Fn(&mut [f64; 4]),
) -> Vec<[f64; 4]> {
    let mut rows: Vec<[f64; 4]> = Vec::new();
    let [w, x, y, z] = cols;
    for (((a, b), c), d) in w.iter().zip(x).zip(y).zip(z) {
        let (Some(a), Some(b), Some(c), Some(d)) = (*a, *b, *c, *d) else {
            continue;
        };
        let r = [a, b, c, d];
        if o.drop00[1] && no_events(&r) {
            continue;
        }
        rows.push(r);
    }
    let zero: Vec<Option<bool>> = rows.iter().map(|r| Some(has_zero(r))).collect();
    for (r, c) in rows.iter_mut().zip(correction_flags(&zero, o.to[1])) {
        if c {
            add(r);
        }
    }
    rows
}

/// The per-study effects used for Q (escalc with the first-element options).
pub(crate) fn per_study(
    studies: &Studies,
    measure: Measure,
    o: &MhOptions,
) -> Result<(Vec<f64>, Vec<f64>, Vec<String>)> {
    let eo = EscalcOptions {
        add: o.add[0],
        to: o.to[0],
        drop00: o.drop00[0],
        ..EscalcOptions::default()
    };
    let es = escalc(studies, measure, &eo)?;
    let (mut y, mut v, mut l) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..es.yi.len() {
        if let (Some(a), Some(b)) = (es.yi[i], es.vi[i]) {
            y.push(a);
            v.push(b);
            l.push(studies.labels[i].clone());
        }
    }
    Ok((y, v, l))
}

/// Q, its p-value, I² and H² from per-study effects around a pooled estimate (inverse-variance weights).
pub(crate) fn q_stats(yi: &[f64], vi: &[f64], beta: f64) -> QStats {
    let k = yi.len();
    if k <= 1 {
        return QStats::none();
    }
    let q = yi
        .iter()
        .zip(vi)
        .map(|(y, v)| (y - beta) * (y - beta) / v)
        .sum::<f64>()
        .max(0.0);
    QStats::from_q(q, k - 1)
}

/// Cochran's Q with its degrees of freedom, p-value, I² and H².
pub(crate) struct QStats {
    pub q: f64,
    pub df: usize,
    pub pval: f64,
    pub i2: f64,
    pub h2: f64,
}

impl QStats {
    /// Q with `df` degrees of freedom (df ≥ 1).
    pub fn from_q(q: f64, df: usize) -> Self {
        let (i2, h2) = crate::model::heterogeneity::fe_i2_h2(q, df);
        QStats {
            q,
            df,
            pval: pchisq_upper(q, df as f64),
            i2,
            h2,
        }
    }

    /// Too few studies to speak of heterogeneity: Q = 0 on 0 df.
    pub fn none() -> Self {
        QStats {
            q: 0.0,
            df: 0,
            pval: 1.0,
            i2: 0.0,
            h2: 1.0,
        }
    }
}

/// A pooled estimate on the analysis scale with its per-table weights and the measure's own tests.
pub(crate) struct Pooled {
    pub beta: f64,
    pub se: f64,
    /// Tables pooled.
    pub k: usize,
    pub weights: Vec<f64>,
    pub cmh: Option<(f64, f64)>,
    pub tarone: Option<(f64, f64)>,
    pub breslow_day: Option<(f64, f64)>,
    pub mh_irr: Option<(f64, f64)>,
    pub note: Option<&'static str>,
}

impl Pooled {
    pub fn plain(beta: f64, se: f64, weights: Vec<f64>) -> Self {
        Pooled {
            beta,
            se,
            k: weights.len(),
            weights,
            cmh: None,
            tarone: None,
            breslow_day: None,
            mh_irr: None,
            note: None,
        }
    }
}

impl MhFit {
    /// The fit from a pooled estimate, Q statistics and the per-study effects `(yi, vi, labels)`;
    /// weights are shown in percent only when every study with a yi has one.
    pub(crate) fn assemble(
        measure: Measure,
        peto: bool,
        (level, correct): (Level, bool),
        pooled: Pooled,
        qs: QStats,
        (yi, vi, labels): (Vec<f64>, Vec<f64>, Vec<String>),
    ) -> MhFit {
        let crit = level.z();
        let Pooled { beta, se, k, .. } = pooled;
        let zval = beta / se;
        let sw: f64 = pooled.weights.iter().sum();
        MhFit {
            measure,
            scale: measure.scale(),
            peto,
            k,
            k_yi: yi.len(),
            estimate: beta,
            se,
            zval,
            pval: pnorm_two_sided(zval),
            ci_lb: beta - crit * se,
            ci_ub: beta + crit * se,
            level,
            q: qs.q,
            q_df: qs.df,
            q_pval: qs.pval,
            i2: qs.i2,
            h2: qs.h2,
            cmh: pooled.cmh,
            tarone: pooled.tarone,
            breslow_day: pooled.breslow_day,
            mh_irr: pooled.mh_irr,
            continuity_corrected: correct,
            note: pooled.note,
            weights: if pooled.weights.len() == yi.len() {
                pooled.weights.iter().map(|w| 100.0 * w / sw).collect()
            } else {
                Vec::new()
            },
            study_weights: Vec::new(),
            yi,
            vi,
            labels,
        }
    }

    /// Sets [`MhFit::study_weights`] from the raw weights of the tables pooled, one per row of
    /// [`super::pooled_rows`], among `n` studies.
    pub(crate) fn with_study_weights(mut self, n: usize, rows: &[usize], raw: &[f64]) -> MhFit {
        let total: f64 = raw.iter().sum();
        let mut w = vec![None; n];
        for (&r, &x) in rows.iter().zip(raw) {
            w[r] = Some(100.0 * x / total);
        }
        self.study_weights = w;
        self
    }
}

/// Mantel–Haenszel pooled estimate (Mantel & Haenszel 1959; variance of Robins, Breslow &
/// Greenland 1986 for OR, Greenland & Robins 1985 for RR, Sato, Greenland & Robins 1989 for RD).
///
/// # Examples
///
/// ```
/// use evident::{read_studies, rma_mh, ColumnMap, CsvOptions, Measure, MhOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let mh = rma_mh(&studies, Measure::OR, &MhOptions::default())?;
/// assert_eq!(mh.k, studies.labels.len());
/// assert!(mh.ci_lb < mh.estimate && mh.estimate < mh.ci_ub); // log odds ratio
/// assert!((0.0..=1.0).contains(&mh.pval) && (0.0..=1.0).contains(&mh.q_pval));
/// # Ok::<(), evident::Error>(())
/// ```
pub fn rma_mh(studies: &Studies, measure: Measure, o: &MhOptions) -> Result<MhFit> {
    let per = per_study(studies, measure, o)?;
    if matches!(studies.data, Data::TwoByTwo { .. } | Data::Incidence { .. }) {
        super::check_totals(studies)?;
    }
    let pooled = match (&studies.data, measure) {
        (Data::TwoByTwo { .. }, Measure::OR | Measure::RR | Measure::RD) => {
            let t = two_by_two_tables(studies, o).expect("2x2 data");
            if t.rows.is_empty() {
                return Err(Error::invalid("no tables with complete counts: nothing to pool"));
            }
            let mut p = match measure {
                Measure::OR => mh_or(&t.rows, o.correct)?,
                Measure::RR => mh_rr(&t.rows)?,
                _ => mh_rd(&t.rows),
            };
            p.note = overflow_note(&t.rows);
            p
        }
        (Data::Incidence { .. }, Measure::IRR | Measure::IRD) => {
            let rows = incidence_tables(studies, o).expect("incidence data");
            if rows.is_empty() {
                return Err(Error::invalid("no studies with complete counts: nothing to pool"));
            }
            let mut p = if measure == Measure::IRR {
                mh_irr(&rows, o.correct)?
            } else {
                mh_ird(&rows)
            };
            p.note = overflow_note(&rows);
            p
        }
        _ => {
            return Err(Error::invalid(format!(
                "Mantel–Haenszel pooling needs 2x2 tables (OR, RR, RD) or incidence data (IRR, IRD); got {} with measure {measure}",
                studies.data.kind_name()
            )))
        }
    };
    let qs = q_stats(&per.0, &per.1, pooled.beta);
    let raw = pooled.weights.clone();
    let rows = super::pooled_rows(studies, o)?;
    Ok(
        MhFit::assemble(measure, false, (o.level, o.correct), pooled, qs, per).with_study_weights(
            studies.labels.len(),
            &rows,
            &raw,
        ),
    )
}

/// Metafor's products of counts overflow for tables whose total squared does (about 1.3e154);
/// evident rescales them (see [`sq_over`]), so such fits say where they part from metafor.
pub(crate) fn overflow_note(rows: &[[f64; 4]]) -> Option<&'static str> {
    rows.iter()
        .any(|r| {
            let n: f64 = r.iter().sum();
            !(n * n).is_finite()
        })
        .then_some(
            "counts this large overflow metafor's products of counts (it gives NaN, se = 0 or \
             Inf there); evident forms them in an order that stays finite",
        )
}

/// `x² / v`, squaring after the division where the square overflows (counts near 1e200);
/// ordinary inputs keep the direct formula, bit for bit.
pub(crate) fn sq_over(x: f64, v: f64) -> f64 {
    let x2 = x * x;
    if x2.is_finite() {
        x2 / v
    } else {
        (x / v.sqrt()).powi(2)
    }
}

/// `x / (y z)`, dividing twice where the product overflows.
fn over_product(x: f64, y: f64, z: f64) -> f64 {
    let p = y * z;
    if p.is_finite() {
        x / p
    } else {
        x / y / z
    }
}

/// `x y / z`, dividing first where the product overflows.
pub(crate) fn mul_div(x: f64, y: f64, z: f64) -> f64 {
    let p = x * y;
    if p.is_finite() {
        p / z
    } else {
        x * (y / z)
    }
}

/// The continuity correction of the CMH and MH rate-ratio statistics.
fn continuity(correct: bool) -> f64 {
    if correct {
        0.5
    } else {
        0.0
    }
}

/// MH odds ratio with the Robins–Breslow–Greenland variance, the CMH test and Tarone's test.
fn mh_or(rows: &[[f64; 4]], correct: bool) -> Result<Pooled> {
    let mut w = Vec::with_capacity(rows.len());
    let (mut r, mut s, mut pr, mut psqr, mut qs) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &[a, b, c, d] in rows {
        let n = a + b + c + d;
        let (pi, qi, ri, si) = (a / n + d / n, b / n + c / n, (a / n) * d, (b / n) * c);
        r += ri;
        s += si;
        pr += pi * ri;
        psqr += pi * si + qi * ri;
        qs += qi * si;
        w.push(si);
    }
    if r == 0.0 || s == 0.0 {
        return Err(Error::invalid("the Mantel–Haenszel odds ratio is undefined (no events, or no non-events, in one arm of every table)"));
    }
    let beta = (r / s).ln();
    let se =
        (0.5 * (over_product(pr, r, r) + over_product(psqr, r, s) + over_product(qs, s, s))).sqrt();
    let mut pooled = Pooled::plain(beta, se, w);
    pooled.cmh = cmh_test(rows, correct);
    let (bd, ta) = breslow_day_tarone(rows, r / s);
    pooled.breslow_day = Some(bd);
    pooled.tarone = Some(ta);
    Ok(pooled)
}

/// The Cochran–Mantel–Haenszel test; `None` without events or without non-events.
fn cmh_test(rows: &[[f64; 4]], correct: bool) -> Option<(f64, f64)> {
    let (mut num, mut den) = (0.0, 0.0);
    let (mut sx, mut sy) = (0.0, 0.0);
    for &[a, b, c, d] in rows {
        let n = a + b + c + d;
        let (n1, n2, xt, yt) = (a + b, c + d, a + c, b + d);
        num += a - (n1 / n) * xt;
        den += (n1 / n) * (n2 / n) * (xt * (yt / (n - 1.0)));
        sx += xt;
        sy += yt;
    }
    (sx > 0.0 && sy > 0.0).then(|| {
        let stat = sq_over(num.abs() - continuity(correct), den);
        (stat, pchisq_upper(stat, 1.0))
    })
}

/// MH risk ratio with the Greenland–Robins variance.
fn mh_rr(rows: &[[f64; 4]]) -> Result<Pooled> {
    let mut w = Vec::with_capacity(rows.len());
    let (mut r, mut s, mut v, mut sa, mut sc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &[a, b, c, d] in rows {
        let (n1, n2) = (a + b, c + d);
        let n = n1 + n2;
        r += a * (n2 / n);
        s += c * (n1 / n);
        v += (n1 / n) * (n2 / n) * (a + c) - (a / n) * c;
        sa += a;
        sc += c;
        w.push(c * (n1 / n));
    }
    if sa == 0.0 || sc == 0.0 {
        return Err(Error::invalid(
            "the Mantel–Haenszel risk ratio is undefined (no events in one arm of every table)",
        ));
    }
    Ok(Pooled::plain((r / s).ln(), over_product(v, r, s).sqrt(), w))
}

/// MH risk difference with the Sato–Greenland–Robins variance.
fn mh_rd(rows: &[[f64; 4]]) -> Pooled {
    let mut w = Vec::with_capacity(rows.len());
    let (mut num, mut den, mut a1, mut a2) = (0.0, 0.0, 0.0, 0.0);
    for &[a, b, c, d] in rows {
        let (n1, n2) = (a + b, c + d);
        let n = n1 + n2;
        num += a * (n2 / n) - c * (n1 / n);
        den += n1 * (n2 / n);
        a1 += c * (n1 / n).powi(2) - a * (n2 / n).powi(2) + (n1 / n) * (n2 / n) * (n2 - n1) / 2.0;
        a2 += mul_div(a, n2 - c, n) + mul_div(c, n1 - a, n);
        w.push(n1 * (n2 / n));
    }
    let beta = num / den;
    Pooled::plain(beta, over_product(beta * a1 + a2 / 2.0, den, den).sqrt(), w)
}

/// MH incidence rate ratio with its MH test.
fn mh_irr(rows: &[[f64; 4]], correct: bool) -> Result<Pooled> {
    let mut w = Vec::with_capacity(rows.len());
    let (mut r, mut s, mut v, mut s1, mut s2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut num, mut den) = (0.0, 0.0);
    for &[x1, t1, x2, t2] in rows {
        let tt = t1 + t2;
        r += x1 * (t2 / tt);
        s += x2 * (t1 / tt);
        v += (t1 / tt) * (t2 / tt) * (x1 + x2);
        s1 += x1;
        s2 += x2;
        let xt = x1 + x2;
        num += x1 - xt * (t1 / tt);
        den += xt * (t1 / tt) * (t2 / tt);
        w.push(x2 * (t1 / tt));
    }
    if s1 == 0.0 || s2 == 0.0 {
        return Err(Error::invalid(
            "the Mantel–Haenszel rate ratio is undefined (no events in one group of every study)",
        ));
    }
    let mut pooled = Pooled::plain((r / s).ln(), over_product(v, r, s).sqrt(), w);
    if s1 + s2 > 0.0 {
        let stat = sq_over(num.abs() - continuity(correct), den);
        pooled.mh_irr = Some((stat, pchisq_upper(stat, 1.0)));
    }
    Ok(pooled)
}

/// MH incidence rate difference.
fn mh_ird(rows: &[[f64; 4]]) -> Pooled {
    let mut w = Vec::with_capacity(rows.len());
    let (mut num, mut den, mut var) = (0.0, 0.0, 0.0);
    for &[x1, t1, x2, t2] in rows {
        let tt = t1 + t2;
        let (p1, p2) = (x1 * t2, x2 * t1);
        num += if p1.is_finite() && p2.is_finite() {
            (p1 - p2) / tt
        } else {
            x1 * (t2 / tt) - x2 * (t1 / tt)
        };
        let wi = (t1 / tt) * t2;
        den += wi;
        let (w2, s1, s2) = (wi * wi, t1 * t1, t2 * t2);
        var += if w2.is_finite() && s1.is_finite() && s2.is_finite() {
            w2 * (x1 / s1 + x2 / s2)
        } else {
            (wi / t1).powi(2) * x1 + (wi / t2).powi(2) * x2
        };
        w.push(wi);
    }
    Pooled::plain(num / den, var.sqrt() / den, w)
}

/// The count `a` of a table with margins `n1`, `n2`, `xt` whose odds ratio is `or` (≠ 1): the
/// smaller root of the quadratic, solved in proportions of `n` where its terms overflow.
fn fitted_a(n1: f64, n2: f64, xt: f64, or: f64) -> f64 {
    let aa = or * (n1 + xt) + (n2 - xt);
    let disc = aa * aa - 4.0 * n1 * xt * or * (or - 1.0);
    if disc.is_finite() {
        return (aa - disc.sqrt()) / (2.0 * (or - 1.0));
    }
    let n = n1 + n2;
    let (p1, p2, px) = (n1 / n, n2 / n, xt / n);
    let aa = or * (p1 + px) + (p2 - px);
    let bb = (aa * aa - 4.0 * p1 * px * or * (or - 1.0)).sqrt();
    n * ((aa - bb) / (2.0 * (or - 1.0)))
}

/// The Breslow–Day (1980) test of homogeneity of odds ratios and Tarone's (1985, *Biometrika*
/// 72:91–95) correction of it, each `(statistic, p-value)` on k − 1 df over the tables with a
/// positive expected count; p is NaN (metafor's `NA`) with fewer than two such tables.
fn breslow_day_tarone(rows: &[[f64; 4]], or: f64) -> ((f64, f64), (f64, f64)) {
    let (mut bd, mut sum_diff, mut sum_var, mut kpos) = (0.0, 0.0, 0.0, 0usize);
    for &[a, b, c, d] in rows {
        let (n1, n2, xt, yt) = (a + b, c + d, a + c, b + d);
        let n = n1 + n2;
        let n11 = if or == 1.0 {
            (n1 / n) * xt
        } else {
            fitted_a(n1, n2, xt, or)
        };
        if !(n11 > 0.0 && xt > 0.0 && yt > 0.0) {
            continue;
        }
        kpos += 1;
        let (n12, n21) = (n1 - n11, xt - n11);
        let n22 = n11 - n1 - xt + n;
        let var = 1.0 / (1.0 / n11 + 1.0 / n12 + 1.0 / n21 + 1.0 / n22);
        bd += sq_over(a - n11, var);
        sum_diff += a - n11;
        sum_var += var;
    }
    let bd = bd.max(0.0);
    let ta = (bd - sq_over(sum_diff, sum_var)).max(0.0);
    let p = |x: f64| {
        if kpos > 1 {
            pchisq_upper(x, (kpos - 1) as f64)
        } else {
            f64::NAN
        }
    };
    ((bd, p(bd)), (ta, p(ta)))
}
