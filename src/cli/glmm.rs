//! `evident pool --glmm MODEL`: metafor's `rma.glmm` by ML.

use super::args::Loaded;
use super::choices::MethodArg;
use super::pool::PoolArgs;
use anyhow::{bail, Result};
use clap::ValueEnum;
use evident::glmm::{rma_glmm, GlmmModel, GlmmOptions};
use evident::model::Test;
use evident::render::json;

/// `--glmm`: metafor's `model` argument of `rma.glmm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GlmmArg {
    /// Unconditional model, fixed study effects.
    #[value(name = "UM.FS")]
    UmFs,
    /// Unconditional model, random study effects (Laplace).
    #[value(name = "UM.RS")]
    UmRs,
    /// Conditional model, exact likelihood.
    #[value(name = "CM.EL")]
    CmEl,
    /// Conditional model, approximate likelihood.
    #[value(name = "CM.AL")]
    CmAl,
}

impl From<GlmmArg> for GlmmModel {
    fn from(a: GlmmArg) -> GlmmModel {
        match a {
            GlmmArg::UmFs => GlmmModel::UmFs,
            GlmmArg::UmRs => GlmmModel::UmRs,
            GlmmArg::CmEl => GlmmModel::CmEl,
            GlmmArg::CmAl => GlmmModel::CmAl,
        }
    }
}

pub fn run(args: &PoolArgs, model: GlmmArg, loaded: &Loaded) -> Result<()> {
    if !matches!(args.model.method, None | Some(MethodArg::ML)) {
        bail!("--glmm fits by maximum likelihood: use --method ML");
    }
    let test = args.model.test.map_or(Test::Z, Test::from);
    if !matches!(test, Test::Z | Test::T) {
        bail!("--glmm takes --test z or --test t");
    }
    if args.by.is_some() || args.robust.is_some() || args.permutations.is_some() {
        bail!("--glmm takes no --by, --robust or --permutations");
    }
    let o = GlmmOptions {
        model: model.into(),
        test,
        mods: args.mods.clone(),
        level: args.model.level.percent(),
    };
    let fit = rma_glmm(&loaded.studies, loaded.measure, &o)?;
    super::args::warn_omitted(&fit.omitted, &loaded.studies.lines);
    if args.json {
        println!("{}", json::glmm_json(&fit));
    } else {
        print!("{}", evident::render::text::glmm_summary(&fit));
    }
    Ok(())
}
