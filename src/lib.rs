//! # evident
//!
//! Meta-analysis as R's metafor computes it, as a Rust library: effect sizes from raw data
//! ([`effect`]), pooling by fixed- and random-effects models, Mantel–Haenszel and Peto ([`pool`]),
//! heterogeneity with Q-profile intervals ([`heterogeneity`]), and CSV input ([`io`]).
//!
//! Data flows one way: input rows → [`effect::EffectSet`] → a fitted model → renderers.
//!
//! ```
//! use evident::{effect::EffectSet, model::{rma, RmaOptions, Method}, Measure, Scale};
//! let set = EffectSet::from_yi_vi(vec![-0.9, -1.6, -1.4], vec![0.36, 0.21, 0.43], Measure::GEN, Scale::Log);
//! let fit = rma(&set, &RmaOptions { method: Method::DL, ..Default::default() }).unwrap();
//! assert!(fit.ci_lb < fit.estimate && fit.estimate < fit.ci_ub);
//! ```

// `!(x > 0.0)` is deliberate throughout: it also rejects NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]
// Reference values are written with all 17 significant digits R prints.
#![allow(clippy::excessive_precision)]

pub mod app;
pub mod bias;
pub mod data;
pub mod effect;
pub mod error;
pub mod measure;
pub mod model;
pub mod moderators;
pub mod pool;
pub mod render;
pub mod reported;
pub mod sensitivity;
pub mod stats;

pub use error::{Error, Result};
pub use measure::{Measure, Scale};
