//! `evident bias`: every publication-bias check in one readable report.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_setup;
use anyhow::Result;
use clap::Args;
use evident::bias::BiasReport;
use evident::model::rma;
use evident::render::{json, text};

#[derive(Args, Debug)]
pub struct BiasArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Print one JSON object: the pooled model (as `pool --json`) and each check's object (as
    /// `regtest`, `ranktest`, `trimfill`, `fsn --json` print them).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

pub fn run(args: &BiasArgs) -> Result<()> {
    let (loaded, set, opts) = rma_setup(&args.input, &args.model)?;
    let fit = rma(&set, &opts)?;
    let report = BiasReport::run(&loaded.studies, &set, &opts);
    if args.json {
        println!("{}", json::bias_report_json(&fit, &report));
    } else {
        print!("{}", text::bias_report(&fit, &report));
    }
    Ok(())
}
