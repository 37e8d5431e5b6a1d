//! Shared setup of the bias and sensitivity subcommands: the effect set and the `rma` options.

use super::args::{InputArgs, Loaded, ModelArgs, Pooling};
use anyhow::{bail, Result};
use evident::effect::EffectSet;
use evident::model::RmaOptions;
use evident::pool::{MhOptions, TablePooling};

/// Why the analyses that refit models do not take RevMan 5's random-effects model.
const REVMAN5_RANDOM: &str = "this analysis refits models and does not refit RevMan 5's \
    random-effects model (τ² from the Mantel–Haenszel Q); use --preset metafor --method DL for \
    the inverse-variance DerSimonian–Laird model, or --method MH";

/// What `leave1out` and `cumul` refit: `rma` models of the effects, or Mantel–Haenszel / Peto
/// poolings of the tables.
pub enum Refits {
    Rma(EffectSet, RmaOptions),
    Tables(Loaded, TablePooling, MhOptions),
}

/// Loads the studies and resolves the pooling: MH and Peto keep the tables, other methods get
/// the effect set (warning about omitted rows).
pub fn refit_setup(input: &InputArgs, model: &ModelArgs) -> Result<Refits> {
    let mut loaded = input.load()?;
    match model.pooling(&mut loaded)? {
        Pooling::Mh(o) => {
            let by = TablePooling::MantelHaenszel(loaded.measure);
            Ok(Refits::Tables(loaded, by, o))
        }
        Pooling::Peto(o) => Ok(Refits::Tables(loaded, TablePooling::Peto, o)),
        Pooling::MhRandom(..) => bail!(REVMAN5_RANDOM),
        Pooling::Rma(o) => {
            let set = effects_warned(&loaded)?;
            Ok(Refits::Rma(set, o))
        }
    }
}

/// The effect set, with a warning for each omitted row.
fn effects_warned(loaded: &Loaded) -> Result<EffectSet> {
    let set = loaded.effects()?;
    super::args::warn_omitted(&set.omitted, &loaded.studies.lines);
    Ok(set)
}

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
        Pooling::MhRandom(..) => bail!(REVMAN5_RANDOM),
        Pooling::Mh(_) | Pooling::Peto(_) => bail!(
            "this analysis refits inverse-variance models: choose --method FE (or a random-effects \
             method) instead of MH/Peto, or --preset metafor"
        ),
    };
    let set = effects_warned(&loaded)?;
    Ok((loaded, set, opts))
}
