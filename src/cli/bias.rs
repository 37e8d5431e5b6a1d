//! `evident bias`: every publication-bias check in one readable report.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_effects;
use anyhow::Result;
use clap::Args;
use evident::bias::{ranktest, regtest, trimfill, Estimator, Predictor, RegModel};
use evident::pool::rma;
use evident::report::text;

#[derive(Args, Debug)]
pub struct BiasArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(args: &BiasArgs) -> Result<()> {
    let (set, opts) = rma_effects(&args.input, &args.model)?;
    let fit = rma(&set, &opts)?;
    let reg = regtest(&set, &opts, RegModel::Rma, Predictor::Sei, None);
    let rank = ranktest(&set);
    let tf = trimfill(&set, &opts, Estimator::L0, None);
    print!("{}", text::bias_report(&fit, &reg, &rank, &tf));
    Ok(())
}
