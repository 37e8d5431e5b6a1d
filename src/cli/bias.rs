//! `evident bias`: every publication-bias check in one readable report.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_setup;
use anyhow::Result;
use clap::Args;
use evident::bias::{
    fsn, pet_peese, ranktest, regtest, sample_sizes, trimfill, Estimator, FsnType, Predictor,
    RegModel,
};
use evident::model::rma;
use evident::render::text;
use evident::Measure;

#[derive(Args, Debug)]
pub struct BiasArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(args: &BiasArgs) -> Result<()> {
    let (loaded, set, opts) = rma_setup(&args.input, &args.model)?;
    let fit = rma(&set, &opts)?;
    let reg = regtest(&set, &opts, RegModel::Rma, Predictor::Sei, None);
    let rank = ranktest(&set);
    let tf = trimfill(&set, &opts, Estimator::L0, None);
    let pp = pet_peese(&set, &opts, 0.10);
    let fs = fsn(&set, FsnType::Rosenthal, 0.05);
    // Peters et al. 2006 for binary outcomes, when the data give sample sizes.
    let binary = matches!(
        set.measure,
        Measure::OR | Measure::RR | Measure::RD | Measure::PETO
    );
    let peters = match sample_sizes(&loaded.studies, &set) {
        Some(ni) if binary => Some(regtest(
            &set,
            &opts,
            RegModel::Lm,
            Predictor::Ninv,
            Some(&ni),
        )),
        _ => None,
    };
    print!(
        "{}",
        text::bias_report(&fit, &reg, &rank, &tf, &pp, &fs, peters.as_ref())
    );
    Ok(())
}
