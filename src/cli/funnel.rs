//! `evident funnel`: a funnel plot as SVG, PNG or PDF.

use super::args::{InputArgs, ModelArgs};
use super::forest::{fit_for_plot, parse_xlim, PlotOutput};
use anyhow::Result;
use clap::Args;
use evident::plot::funnel::{funnel, FunnelOptions};

#[derive(Args, Debug)]
pub struct FunnelArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub out: PlotOutput,
    /// Shade where studies would be significant (p < 0.01, 0.05, 0.10) instead of the pseudo CI region.
    #[arg(long)]
    pub contours: bool,
}

pub fn run(args: &FunnelArgs) -> Result<()> {
    let (_, fit) = fit_for_plot(&args.input, &args.model)?;
    let opts = FunnelOptions {
        title: args.out.title.clone(),
        contours: args.contours,
        xlim: args.out.xlim.as_deref().map(parse_xlim).transpose()?,
        filled: Vec::new(),
    };
    let fig = funnel(&fit, &opts)?;
    evident::plot::save(&fig, &args.out.output, args.out.dpi)?;
    Ok(())
}
