//! Reported statistics: effects and standard errors from what papers print (estimates with CIs or
//! p-values, test statistics, counts, rates, medians), consistency checks of those numbers, and
//! combination of p-values.
//!
//! Every conversion returns an [`Effect`] on the analysis scale (log for ratios), so that its result
//! can enter inverse-variance pooling through [`to_effects`].

pub mod check;
pub mod ci;
pub mod combine;
pub mod counts;
pub mod effect;
pub mod interaction;
pub mod median;
pub mod pvalue;
pub mod rates;
pub mod rows;
pub mod teststat;

pub use ci::{FromP, Sides};
pub use effect::{scale_of, Effect};
pub use pvalue::PValue;
pub use rows::{to_effects, to_effects_with, PoolRows, ReportedTable, Rule};
