//! Renderers of fitted models: JSON objects with metafor's keys (and, later, HTML reports).

pub mod json;
