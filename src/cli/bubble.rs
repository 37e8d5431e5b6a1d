//! `evident bubble`: a meta-regression bubble plot as SVG, PNG or PDF.

use super::args::{InputArgs, ModelArgs};
use super::forest::PlotOutput;
use super::rma_input::rma_setup;
use anyhow::{bail, Result};
use clap::Args;
use evident::moderators::metareg;
use evident::render::plot::bubble::{bubble, bubble_moderators, BubbleOptions};

#[derive(Args, Debug)]
pub struct BubbleArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub out: PlotOutput,
    /// The model's moderators: a numeric column, or a formula's right-hand side
    /// (`ablat + year`, `ablat + factor(alloc)`), as `evident pool --mods`.
    #[arg(long, value_name = "FORMULA")]
    pub mods: String,
    /// The numeric moderator on the x axis when the model has several (the others are held at
    /// their means, as metafor's regplot); default: the model's only one.
    #[arg(long = "mod", value_name = "COLUMN")]
    pub along: Option<String>,
    /// Label of the x axis (default: the moderator's name).
    #[arg(long)]
    pub xlab: Option<String>,
}

pub fn run(args: &BubbleArgs) -> Result<()> {
    if args.out.xlim.is_some() {
        bail!("--xlim is not used by the bubble plot: the x axis spans the moderator's values");
    }
    let (loaded, set, opts) = rma_setup(&args.input, &args.model)?;
    let fit = metareg(&set, args.mods.trim(), &opts)?;
    super::args::warn_omitted(&fit.omitted, &loaded.studies.lines);
    let col = match &args.along {
        Some(c) => c.trim().to_string(),
        None => {
            let listed = bubble_moderators(&fit);
            match listed.as_slice() {
                [(only, _)] => only.clone(),
                [] => bail!(
                    "the model {} has no numeric moderator to draw along (a factor's \
                     coefficients are contrasts: see `evident pool --mods`)",
                    fit.names().join(", ")
                ),
                many => bail!(
                    "the model has several numeric moderators ({}): choose the x axis with --mod",
                    many.iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    };
    let fig = bubble(
        &fit,
        &col,
        &BubbleOptions {
            title: args.out.title.clone(),
            xlab: args.xlab.clone(),
        },
    )?;
    args.out.save_scaled(fig, "bubble plot")?;
    if args.out.json {
        println!("{}", evident::render::json::metareg_json(&fit));
    }
    Ok(())
}
