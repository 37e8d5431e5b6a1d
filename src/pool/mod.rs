//! Pooling of 2×2 and incidence tables without a τ² model: Mantel–Haenszel (Mantel & Haenszel
//! 1959; Robins, Breslow & Greenland 1986) and Peto's one-step odds ratio (Yusuf et al. 1985), as
//! metafor's `rma.mh` and `rma.peto`. The inverse-variance models are the kernel's ([`crate::model`]).

pub mod mh;
pub mod peto;

pub use mh::{rma_mh, MhFit, MhOptions};
pub use peto::rma_peto;
