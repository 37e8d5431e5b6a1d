//! Leave-one-out and cumulative analyses of Mantel–Haenszel and Peto fits (metafor's
//! `leave1out.rma.mh`, `leave1out.rma.peto`, `cumul.rma.mh`, `cumul.rma.peto`).
//!
//! Each refit is the pooling of the chosen tables from their counts: the per-study effects
//! behind Q are recomputed for that subset (so `--to if0all` looks at the subset only), as
//! metafor's `subset` argument does.

use super::cumul::order_by;
use super::{Refit, RefitSeries};
use crate::data::Studies;
use crate::error::{Error, Result};
use crate::model::{Method, Test};
use crate::pool::{pooled_rows, subset_tables, MhFit, MhOptions, TablePooling};

impl Refit {
    fn from_tables(f: &MhFit) -> Refit {
        Refit {
            k: f.k,
            estimate: f.estimate,
            se: f.se,
            stat: f.zval,
            pval: f.pval,
            ci_lb: f.ci_lb,
            ci_ub: f.ci_ub,
            q: f.q,
            q_pval: f.q_pval,
            tau2: 0.0,
            i2: f.i2,
            h2: f.h2,
        }
    }
}

/// One refit on the rows `idx`; `None` where it fails (metafor's `NA` row).
fn refit_tables(
    studies: &Studies,
    idx: &[usize],
    by: TablePooling,
    o: &MhOptions,
) -> Option<Refit> {
    let sub = subset_tables(studies, idx).ok()?;
    by.fit(&sub, o).ok().map(|f| Refit::from_tables(&f))
}

/// The series of refits over `steps`, labelled by `labels`.
fn series(
    studies: &Studies,
    by: TablePooling,
    o: &MhOptions,
    labels: Vec<String>,
    steps: impl Iterator<Item = Vec<usize>>,
) -> Result<RefitSeries> {
    // The full fit first: data that cannot be pooled at all is an error, not k empty rows.
    let full = by.fit(studies, o)?;
    Ok(RefitSeries {
        labels,
        fits: steps
            .map(|idx| refit_tables(studies, &idx, by, o))
            .collect(),
        method: Method::FE,
        test: Test::Z,
        scale: full.scale,
        pooling: Some(by),
    })
}

/// The Mantel–Haenszel or Peto fit refitted without each pooled table in turn.
///
/// Viechtbauer & Cheung 2010, *Res Synth Methods* 1:112–125 (leave-one-out diagnostics).
pub fn leave1out_tables(studies: &Studies, by: TablePooling, o: &MhOptions) -> Result<RefitSeries> {
    let rows = pooled_rows(studies, o)?;
    if rows.len() <= 1 {
        return Err(Error::TooFewStudies {
            what: "leave-one-out",
            k: rows.len(),
            needed: 2,
        });
    }
    let labels = rows.iter().map(|&i| studies.labels[i].clone()).collect();
    let steps = (0..rows.len()).map(|i| {
        rows.iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, &r)| r)
            .collect()
    });
    series(studies, by, o, labels, steps)
}

/// The Mantel–Haenszel or Peto fit to the first 1, 2, ... pooled tables taken in `order`
/// (row positions in `studies`; rows whose tables are not pooled are skipped, as metafor).
///
/// Lau et al. 1992, *N Engl J Med* 327:248–254 (cumulative meta-analysis).
pub fn cumul_tables(
    studies: &Studies,
    by: TablePooling,
    o: &MhOptions,
    order: &[usize],
) -> Result<RefitSeries> {
    let k = studies.labels.len();
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
    let pooled = pooled_rows(studies, o)?;
    let mut used = vec![false; k];
    for &i in &pooled {
        used[i] = true;
    }
    let rows: Vec<usize> = order.iter().copied().filter(|&i| used[i]).collect();
    let labels = rows.iter().map(|&i| studies.labels[i].clone()).collect();
    let steps = (1..=rows.len()).map(|i| rows[..i].to_vec());
    series(studies, by, o, labels, steps)
}

/// The order of the rows by a column of the input, as R's `order()` (see
/// [`super::cumul_order`]).
pub fn cumul_tables_order(studies: &Studies, column: &str, decreasing: bool) -> Result<Vec<usize>> {
    let m = studies
        .moderators
        .iter()
        .find(|m| m.name == column)
        .ok_or_else(|| {
            let names: Vec<&str> = studies.moderators.iter().map(|m| m.name.as_str()).collect();
            Error::invalid(format!(
                "no column '{column}' to order by; available: {}",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ))
        })?;
    Ok(order_by(m, decreasing))
}
