//! `evident blup`: best linear unbiased predictions of the study effects.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_setup;
use anyhow::Result;
use clap::Args;
use evident::model::blup::blup;
use evident::model::rma;
use evident::moderators::blup::metareg_blup;
use evident::moderators::metareg;
use evident::render::json;
use evident::render::text;

#[derive(Args, Debug)]
pub struct BlupArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Moderators (the right-hand side of an R formula): each study shrinks towards its fitted
    /// value instead of the pooled estimate.
    #[arg(long, value_name = "FORMULA")]
    pub mods: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

pub fn run(args: &BlupArgs) -> Result<()> {
    let (loaded, set, opts) = rma_setup(&args.input, &args.model)?;
    let b = match &args.mods {
        Some(f) => {
            let fit = metareg(&set, f, &opts)?;
            super::args::warn_omitted(&fit.omitted, &loaded.studies.lines);
            metareg_blup(&fit)
        }
        None => blup(&rma(&set, &opts)?),
    };
    if args.json {
        println!("{}", json::blup_json(&b));
    } else {
        print!("{}", text::blup_table(&b));
    }
    Ok(())
}
