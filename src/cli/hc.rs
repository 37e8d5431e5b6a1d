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
    /// Tolerance of the search for the interval's half-width (metafor's control tol, eps^0.25).
    #[arg(long, default_value_t = f64::EPSILON.powf(0.25))]
    pub tol: f64,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &HcArgs) -> Result<()> {
    if !(args.tol > 0.0 && args.tol.is_finite()) {
        anyhow::bail!("--tol must be a positive number, got {}", args.tol);
    }
    let (set, opts) = rma_effects(&args.input, &args.model)?;
    let h = hc(&rma(&set, &opts)?, args.tol)?;
    if args.json {
        println!("{}", json::hc_json(&h));
    } else {
        print!("{}", text::hc_summary(&h));
    }
    Ok(())
}
