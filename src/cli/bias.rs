//! `evident bias`: every publication-bias check in one readable report.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_setup;
use anyhow::Result;
use clap::Args;
use evident::bias::{fsn, pet_peese, BiasPanel, FsnType};
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
    let panel = BiasPanel::run(&set, &opts);
    let pp = pet_peese(&set, &opts, 0.10);
    let fs = fsn(&set, FsnType::Rosenthal, 0.05);
    let peters = BiasPanel::peters(&loaded.studies, &set, &opts);
    if args.json {
        let v = json::bias_report_json(
            &fit,
            &panel.regtest,
            &panel.ranktest,
            &panel.trimfill,
            &pp,
            &fs,
            peters.as_ref(),
        );
        println!("{v}");
        return Ok(());
    }
    print!(
        "{}",
        text::bias_report(
            &fit,
            &panel.regtest,
            &panel.ranktest,
            &panel.trimfill,
            &pp,
            &fs,
            peters.as_ref()
        )
    );
    Ok(())
}
