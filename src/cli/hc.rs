//! `evident hc`: the Henmi–Copas interval.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_effects;
use anyhow::Result;
use clap::Args;
use evident::bias::hc::hc;
use evident::model::rma;
use evident::render::json;
use evident::render::text;

#[derive(Args, Debug)]
pub struct HcArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

pub fn run(args: &HcArgs) -> Result<()> {
    let (set, opts) = rma_effects(&args.input, &args.model)?;
    // `--tol` (validated with the model options) also bounds the search for the half-width,
    // as metafor's control tol does in hc (default eps^0.25).
    let tol = args.model.tol.unwrap_or(f64::EPSILON.powf(0.25));
    let h = hc(&rma(&set, &opts)?, tol)?;
    if args.json {
        println!("{}", json::hc_json(&h));
    } else {
        print!("{}", text::hc_summary(&h));
    }
    Ok(())
}
