//! Shared setup of the bias and sensitivity subcommands: the effect set and the `rma` options.

use super::args::{InputArgs, Loaded, ModelArgs, Pooling};
use anyhow::{bail, Result};
use evident::effect::EffectSet;
use evident::model::RmaOptions;

/// Loads the studies, computes effects (warning about omitted rows) and resolves the model
/// options; Mantel–Haenszel and Peto pooling are refused (these analyses refit `rma` models).
pub fn rma_effects(input: &InputArgs, model: &ModelArgs) -> Result<(EffectSet, RmaOptions)> {
    let (_, set, opts) = rma_setup(input, model)?;
    Ok((set, opts))
}

/// As [`rma_effects`], also returning what was read.
pub fn rma_setup(input: &InputArgs, model: &ModelArgs) -> Result<(Loaded, EffectSet, RmaOptions)> {
    let mut loaded = input.load()?;
    let opts = match model.pooling(&mut loaded)? {
        Pooling::Rma(o) => o,
        Pooling::Mh(_) | Pooling::Peto(_) => bail!(
            "this analysis refits inverse-variance models: choose --method FE (or a random-effects \
             method) instead of MH/Peto, or --preset metafor"
        ),
    };
    let set = loaded.effects()?;
    for om in &set.omitted {
        eprintln!(
            "warning: {} (line {}): omitted: {}",
            om.label, loaded.studies.lines[om.row], om.reason
        );
    }
    Ok((loaded, set, opts))
}
