//! Multilevel and multivariate models (metafor's `rma.mv`, Viechtbauer 2010).

pub mod structure;
