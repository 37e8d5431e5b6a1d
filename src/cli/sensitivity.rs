//! `evident sensitivity`: leave-one-out and influence diagnostics in one readable report.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_effects;
use anyhow::Result;
use clap::Args;
use evident::pool::rma;
use evident::report::text;
use evident::sensitivity::{influence, leave1out};

#[derive(Args, Debug)]
pub struct SensitivityArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(args: &SensitivityArgs) -> Result<()> {
    let (set, opts) = rma_effects(&args.input, &args.model)?;
    let fit = rma(&set, &opts)?;
    let l1o = leave1out(&set, &opts);
    let inf = influence(&set, &opts);
    print!("{}", text::sensitivity_report(&fit, &l1o, &inf));
    Ok(())
}
