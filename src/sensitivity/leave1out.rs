//! Leave-one-out analysis (metafor's `leave1out`).

use super::{refit, refit_options, RefitSeries};
use crate::effect::EffectSet;
use crate::error::{Error, Result};
use crate::model::RmaOptions;

/// The model refitted k times, each time without one study.
///
/// Viechtbauer & Cheung 2010, *Res Synth Methods* 1:112–125 (leave-one-out diagnostics).
///
/// # Examples
///
/// ```
/// use evident::{leave1out, read_studies, ColumnMap, CsvOptions, EffectSet, EscalcOptions};
/// use evident::{Measure, RmaOptions};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let set = EffectSet::from_studies(&studies, Measure::RR, &EscalcOptions::default())?;
/// let series = leave1out(&set, &RmaOptions::default())?;
/// assert_eq!(series.fits.len(), set.k()); // one refit per omitted study
/// for fit in &series.fits {
///     let fit = fit.as_ref().expect("every refit converges here");
///     assert_eq!(fit.k, set.k() - 1);
///     assert!(fit.ci_lb < fit.estimate && fit.estimate < fit.ci_ub);
/// }
/// # Ok::<(), evident::Error>(())
/// ```
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
        pooling: None,
    })
}
