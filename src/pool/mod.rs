//! Pooling of 2×2 and incidence tables without a τ² model: Mantel–Haenszel (Mantel & Haenszel
//! 1959; Robins, Breslow & Greenland 1986) and Peto's one-step odds ratio (Yusuf et al. 1985), as
//! metafor's `rma.mh` and `rma.peto`. The inverse-variance models are the kernel's ([`crate::model`]).

pub mod mh;
pub mod peto;
pub mod sof;
pub mod view;

pub use mh::{rma_mh, MhFit, MhOptions};

pub use peto::rma_peto;

use crate::data::studies::Values;
use crate::data::{Data, Studies};
use crate::error::{Error, Result};
use crate::measure::Measure;

/// Which pooling of the tables: Mantel–Haenszel with its measure, or Peto's odds ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TablePooling {
    /// `rma.mh` with this measure (OR, RR, RD, IRR, IRD).
    MantelHaenszel(Measure),
    /// `rma.peto`.
    Peto,
}

impl TablePooling {
    /// Fits the studies by this pooling.
    pub fn fit(self, studies: &Studies, o: &MhOptions) -> Result<MhFit> {
        match self {
            TablePooling::MantelHaenszel(m) => rma_mh(studies, m, o),
            TablePooling::Peto => rma_peto(studies, o),
        }
    }

    /// The method as metafor's output names it: "MH" or "Peto".
    pub fn name(self) -> &'static str {
        match self {
            TablePooling::MantelHaenszel(_) => "MH",
            TablePooling::Peto => "Peto",
        }
    }
}

/// The four count columns of table data and whether they are incidence data.
fn table_columns(data: &Data) -> Result<([&Values; 4], bool)> {
    match data {
        Data::TwoByTwo { ai, bi, ci, di } => Ok(([ai, bi, ci, di], false)),
        Data::Incidence { x1i, t1i, x2i, t2i } => Ok(([x1i, t1i, x2i, t2i], true)),
        other => Err(Error::invalid(format!(
            "Mantel–Haenszel and Peto pooling need 2x2 tables or incidence data; got {}",
            other.kind_name()
        ))),
    }
}

/// Refuses tables whose total overflows (counts near 1.8e308): nothing can be computed from
/// them. Smaller counts, however large, are pooled (see [`mh::sq_over`]).
pub(crate) fn check_totals(studies: &Studies) -> Result<()> {
    let (cols, _) = table_columns(&studies.data)?;
    for i in 0..studies.labels.len() {
        let total: f64 = cols.iter().filter_map(|c| c[i]).sum();
        if !total.is_finite() {
            return Err(Error::invalid(format!(
                "study '{}' (line {}): its counts sum to {total}, too large to pool (the total \
                 must stay below 1.8e308)",
                studies.labels[i], studies.lines[i]
            )));
        }
    }
    Ok(())
}

/// The rows whose tables enter the pooled estimate (complete counts, not dropped by
/// `drop00[1]`): metafor's `not.na`, the studies `leave1out` and `cumul` report on.
pub fn pooled_rows(studies: &Studies, o: &MhOptions) -> Result<Vec<usize>> {
    let (cols, incidence) = table_columns(&studies.data)?;
    Ok((0..studies.labels.len())
        .filter(|&i| {
            let (Some(a), Some(b), Some(c), Some(d)) =
                (cols[0][i], cols[1][i], cols[2][i], cols[3][i])
            else {
                return false;
            };
            let no_events = if incidence {
                a == 0.0 && c == 0.0
            } else {
                (a == 0.0 && c == 0.0) || (b == 0.0 && d == 0.0)
            };
            !(o.drop00[1] && no_events)
        })
        .collect())
}

/// The studies at positions `idx` (in that order), for refits of table data.
pub(crate) fn subset_tables(studies: &Studies, idx: &[usize]) -> Result<Studies> {
    let (cols, incidence) = table_columns(&studies.data)?;
    let [w, x, y, z] = cols.map(|v| idx.iter().map(|&i| v[i]).collect::<Values>());
    let data = if incidence {
        Data::Incidence {
            x1i: w,
            t1i: x,
            x2i: y,
            t2i: z,
        }
    } else {
        Data::TwoByTwo {
            ai: w,
            bi: x,
            ci: y,
            di: z,
        }
    };
    Ok(Studies {
        source: studies.source.clone(),
        labels: idx.iter().map(|&i| studies.labels[i].clone()).collect(),
        lines: idx.iter().map(|&i| studies.lines[i]).collect(),
        data,
        moderators: studies.moderators.iter().map(|m| m.subset(idx)).collect(),
        warnings: studies.warnings.clone(),
    })
}
