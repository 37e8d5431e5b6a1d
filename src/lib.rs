//! # evident
//!
//! Meta-analysis as R's metafor computes it, as a Rust library. The names a user needs are
//! re-exported here, flat; the modules hold the rest. A guided tour, in the order data flows:
//!
//! 1. **Reading** ([`data`]): [`read_studies()`] reads a CSV of studies into [`Studies`],
//!    recognising the data type (2×2 tables, means, incidence, proportions, correlations,
//!    pre-computed effects, reported ratios) from metafor's column names; errors name the file,
//!    line and column.
//! 2. **Effect sizes** ([`effect`]): [`escalc()`] and [`EffectSet`] compute yi and vi for a
//!    [`Measure`] (metafor's `escalc`), with zero-cell corrections set by [`EscalcOptions`].
//! 3. **The model** ([`model`], the kernel every analysis shares): [`rma()`] fits the fixed- or
//!    random-effects model of `rma.uni` with τ² by [`Method`], inference by [`Test`],
//!    heterogeneity, Q-profile CIs and prediction intervals, into an [`RmaFit`].
//! 4. **Analyses** on top of the kernel: [`rma_mh()`] and [`rma_peto()`] ([`pool`]); [`metareg()`] and
//!    [`subgroup()`] ([`moderators`]); [`regtest()`], [`ranktest()`], [`trimfill()`], [`fsn()`]
//!    ([`bias`]); [`leave1out()`], [`cumul()`], [`influence()`], [`gosh()`] ([`sensitivity`]); and
//!    effects recomputed from what papers report, their consistency [`check()`], and
//!    [`combine()`]-d p-values ([`reported`]);
//!    multilevel and crossed random-effects models [`rma_mv()`] ([`multilevel`], metafor's
//!    `rma.mv` with `~ 1 | a/b` terms); cluster-robust CR1 and CR2 inference for a fitted
//!    model with [`robust_rma()`], [`robust_metareg()`] and [`robust_mv()`] ([`robust`]).
//! 5. **Rendering** ([`render`]): text, JSON with metafor's keys, forest and funnel plots
//!    (SVG, PNG, PDF with bundled fonts) and HTML pages, as pure functions of the results.
//! 6. **Workflows** ([`app`]): the streaming [`app::batch`] of thousands of analyses and the
//!    batch report ([`app::report`]), with atomic file writing.
//!
//! Layers depend one way, down this list (`tests/layers.rs` keeps it so); numbers come from
//! [`stats`], failures are one [`Error`] type.
//!
//! ```
//! use evident::{rma, EffectSet, Measure, Method, RmaOptions, Scale};
//! let set = EffectSet::from_yi_vi(vec![-0.9, -1.6, -1.4], vec![0.36, 0.21, 0.43], Measure::GEN, Scale::Log);
//! let fit = rma(&set, &RmaOptions { method: Method::DL, ..Default::default() }).unwrap();
//! assert!(fit.ci_lb < fit.estimate && fit.estimate < fit.ci_ub);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]
// `!(x > 0.0)` is deliberate throughout: it also rejects NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]
// Reference values are written with all 17 significant digits R prints.
#![allow(clippy::excessive_precision)]

pub mod app;
pub mod bias;
pub mod data;
pub mod effect;
pub mod error;
pub mod glmm;
pub mod measure;
pub mod model;
pub mod moderators;
pub mod multilevel;
pub mod pool;
pub mod render;
pub mod reported;
pub mod robust;
pub mod sensitivity;
pub mod stats;
pub mod xml;

pub use bias::{fsn, ranktest, regtest, trimfill, Fsn, FsnType, Ranktest, Regtest, TrimFill};
pub use data::{read_studies, ColumnMap, CsvOptions, Studies, Table};
pub use effect::{escalc, EffectSet, EscalcOptions};
pub use error::{Error, Result};
pub use measure::{Measure, Scale};
pub use model::{rma, Method, PiType, RmaFit, RmaOptions, Test};
pub use moderators::{metareg, subgroup, MetaregFit, SubgroupFit};
pub use multilevel::{rma_mv, Dfs, MvFit, MvOptions, SamplingCov};
pub use pool::{rma_mh, rma_peto, MhFit, MhOptions};
pub use reported::check::check;
pub use reported::combine::combine;
pub use robust::{
    robust, robust_metareg, robust_mv, robust_rma, Clusters, RobustFit, RobustModel, RobustType,
};
pub use sensitivity::{cumul, gosh, influence, leave1out, Gosh, Influence, RefitSeries};
