//! Publication bias: funnel-plot asymmetry tests, trim-and-fill, fail-safe N.
//!
//! Each function takes the effect set and the options of the model it accompanies, and reproduces
//! the corresponding metafor function (`regtest`, `ranktest`, `trimfill`, `fsn`).

pub mod fsn;
pub mod hc;
pub mod panel;
pub mod petpeese;
pub mod ranktest;
pub mod regtest;
pub mod regtest_mv;
pub mod selmodel;
pub mod svalue;
pub mod trimfill;

pub use fsn::{fsn, Fsn, FsnType};
pub use panel::{BiasPanel, BiasReport, FewStudies};
pub use petpeese::{pet_peese, PetPeese, PetPeeseChoice};
pub use ranktest::{ranktest, Ranktest};
pub use regtest::{regtest, regtest_metareg, sample_sizes, Limit, Predictor, RegModel, Regtest};
pub use regtest_mv::{regtest_mv, MvRegtest, MvTest};
pub use selmodel::{
    selection_curve, selmodel, three_psm, Alternative, SelModel, SelOptions, SelType,
};
pub use svalue::{corrected, svalue, Corrected, SValues, Sval, SvalModel, SvalOptions};
pub use trimfill::{trimfill, Estimator, Side, TrimFill};
