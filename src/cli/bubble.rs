//! `evident bubble`: a meta-regression bubble plot as SVG, PNG or PDF.

use super::args::{InputArgs, ModelArgs};
use super::forest::PlotOutput;
use super::rma_input::rma_effects;
use anyhow::{bail, Result};
use clap::Args;
use evident::moderators::metareg;
use evident::render::plot::bubble::{bubble, BubbleOptions};

#[derive(Args, Debug)]
pub struct BubbleArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub out: PlotOutput,
    /// The numeric moderator column on the x axis (the model is effect ~ COLUMN).
    #[arg(long, value_name = "COLUMN")]
    pub mods: String,
}

pub fn run(args: &BubbleArgs) -> Result<()> {
    if args.out.xlim.is_some() {
        bail!("--xlim is not used by the bubble plot: the x axis spans the moderator's values");
    }
    let (set, opts) = rma_effects(&args.input, &args.model)?;
    let col = args.mods.trim();
    let fit = metareg(&set, col, &opts)?;
    for om in &fit.omitted {
        eprintln!("warning: {}: omitted: {}", om.label, om.reason);
    }
    let fig = bubble(
        &fit,
        col,
        &BubbleOptions {
            title: args.out.title.clone(),
        },
    )?;
    args.out.save_scaled(fig, "bubble plot")?;
    Ok(())
}
