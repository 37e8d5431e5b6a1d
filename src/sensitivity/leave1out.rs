//! Leave-one-out analysis (metafor's `leave1out`).

use super::{refit, refit_options, RefitSeries};
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::RmaOptions;

/// The model refitted k times, each time without one study.
///
/// Viechtbauer & Cheung 2010, *Res Synth Methods* 1:112–125 (leave-one-out diagnostics).
pub fn leave1out(set: &EffectSet, opts: &RmaOptions) -> Result<RefitSeries> {
    let k = set.k();
    if k <= 1 {
        return Err(Error::TooFewStudies {
            what: "leave-one-out",
            k,
            needed: 2,
        });
    }
    let ro = refit_options(opts);
    let fits = (0..k)
        .map(|i| {
            let idx: Vec<usize> = (0..k).filter(|&j| j != i).collect();
            refit(set, &idx, &ro)
        })
        .collect();
    Ok(RefitSeries {
        labels: set.labels.clone(),
        fits,
        method: opts.method,
        test: opts.test,
        scale: set.scale,
    })
}
