//! Moderators: meta-regression on an R-style formula and subgroup analysis, as metafor's
//! `rma(mods = ...)` (Thompson & Higgins 2002, *Stat Med* 21:1559–1573).

pub mod anova;
pub mod blup;
mod expr;
pub mod formula;
pub mod metareg;
pub mod permutation;
pub mod profile;
pub mod subgroup;

pub use formula::{FactorCoding, Formula, ModelMatrix, Reference, ReferenceRule};
pub use metareg::{metareg, metareg_formula, MetaregFit};
pub use subgroup::{subgroup, SubgroupFit};
