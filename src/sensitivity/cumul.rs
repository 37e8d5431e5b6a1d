//! Cumulative meta-analysis (metafor's `cumul`).

use super::{refit, refit_options, RefitSeries};
use crate::data::studies::{Moderator, Value};
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::RmaOptions;

/// The model fitted to the first 1, 2, ..., k studies taken in `order` (positions in the set).
///
/// Lau et al. 1992, *N Engl J Med* 327:248–254 (cumulative meta-analysis).
///
/// # Examples
///
/// ```
/// use evident::{cumul, read_studies, rma, ColumnMap, CsvOptions, EffectSet, EscalcOptions};
/// use evident::{Measure, RmaOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let set = EffectSet::from_studies(&studies, Measure::RR, &EscalcOptions::default())?;
/// let order: Vec<usize> = (0..set.k()).collect(); // as listed in the file
/// let series = cumul(&set, &RmaOptions::default(), &order)?;
/// // The last step includes every study: it is the full model.
/// let last = series.fits.last().unwrap().as_ref().unwrap();
/// let full = rma(&set, &RmaOptions::default())?;
/// assert_eq!(last.k, full.k);
/// assert!((last.estimate - full.estimate).abs() < 1e-10);
/// # Ok::<(), evident::Error>(())
/// ```
pub fn cumul(set: &EffectSet, opts: &RmaOptions, order: &[usize]) -> Result<RefitSeries> {
    let k = set.k();
    let mut seen = vec![false; k];
    if order.len() != k
        || order
            .iter()
            .any(|&i| i >= k || std::mem::replace(&mut seen[i], true))
    {
        return Err(Error::invalid(format!(
            "the cumulative order must list each of the {k} studies once"
        )));
    }
    let ro = refit_options(opts);
    let fits = (1..=k).map(|i| refit(set, &order[..i], &ro)).collect();
    Ok(RefitSeries {
        labels: order.iter().map(|&i| set.labels[i].clone()).collect(),
        fits,
        method: opts.method,
        test: opts.test,
        scale: set.scale,
        pooling: None,
    })
}

/// The order of the studies by a column of the input (ascending, ties in file order, missing
/// values last), as R's `order()`; numbers sort numerically, text by bytes.
pub fn cumul_order(set: &EffectSet, column: &str, decreasing: bool) -> Result<Vec<usize>> {
    let m = set.find_moderator(column).ok_or_else(|| {
        Error::invalid(format!(
            "no column '{column}' to order by; available: {}",
            set.moderator_names("none")
        ))
    })?;
    Ok(order_by(m, decreasing))
}

/// Positions sorted by a column as R's `order()`: ascending (or `decreasing`), ties in input
/// order, missing values last; numbers numerically, text by bytes.
pub(crate) fn order_by(m: &Moderator, decreasing: bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..m.values.len()).collect();
    idx.sort_by(|&a, &b| {
        use std::cmp::Ordering;
        let (va, vb) = (&m.values[a], &m.values[b]);
        match (va.is_missing(), vb.is_missing()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            _ => {}
        }
        let o = match (va, vb) {
            (Value::Number(x), Value::Number(y)) if m.numeric => x.total_cmp(y),
            _ => va.as_text().cmp(&vb.as_text()),
        };
        if decreasing {
            o.reverse()
        } else {
            o
        }
    });
    idx
}
