//! Interaction from reported results: the comparison of two estimates and additive interaction,
//! serialised as they are.

use crate::reported::interaction::{Additive, TwoEstimates};
use serde_json::Value;

/// The comparison of two estimates (ratio of ratios or difference of differences).
pub fn two_estimates_json(r: &TwoEstimates) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
}

/// RERI, AP and S with their intervals.
pub fn additive_json(r: &Additive) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
}
