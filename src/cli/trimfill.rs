//! `evident trimfill`: Duval and Tweedie's trim-and-fill.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_effects;
use anyhow::Result;
use clap::Args;
use evident::bias::{trimfill, Estimator, Side};
use evident::report::{json, text};

#[derive(Args, Debug)]
pub struct TrimfillArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Estimator of the number of missing studies: L0, R0 or Q0.
    #[arg(long, default_value = "L0")]
    pub estimator: String,
    /// Side where studies are missing: left or right (default: chosen as metafor does).
    #[arg(long)]
    pub side: Option<String>,
    /// Print one JSON object with the conformance corpus's keys.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &TrimfillArgs) -> Result<()> {
    let (set, opts) = rma_effects(&args.input, &args.model)?;
    let estimator: Estimator = args.estimator.parse()?;
    let side = args.side.as_deref().map(str::parse::<Side>).transpose()?;
    let t = trimfill(&set, &opts, estimator, side)?;
    if args.json {
        println!("{}", json::trimfill_json(&t));
    } else {
        if let Some(w) = text::small_k_warning(set.k()) {
            eprintln!("{w}");
        }
        print!("{}", text::trimfill_summary(&t));
    }
    Ok(())
}
