//! `evident influence`: case-deletion diagnostics of each study.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_setup;
use anyhow::Result;
use clap::Args;
use evident::render::json;
use evident::render::text;
use evident::sensitivity::influence;

#[derive(Args, Debug)]
pub struct InfluenceArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Diagnostics of a meta-regression on these moderators (the right-hand side of an R
    /// formula, as for pool --mods) instead of the intercept-only model.
    #[arg(long, value_name = "FORMULA")]
    pub mods: Option<String>,
    /// Print one JSON object with the conformance corpus's keys.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

pub fn run(args: &InfluenceArgs) -> Result<()> {
    let (loaded, set, opts) = rma_setup(&args.input, &args.model)?;
    let inf = match &args.mods {
        Some(f) => {
            let fit = evident::moderators::metareg(&set, f, &opts)?;
            super::args::warn_omitted(&fit.omitted, &loaded.studies.lines);
            evident::sensitivity::influence_metareg(&fit)?
        }
        None => influence(&set, &opts)?,
    };
    if args.json {
        println!("{}", json::influence_json(&inf));
    } else {
        print!("{}", text::influence_table(&inf));
    }
    Ok(())
}
