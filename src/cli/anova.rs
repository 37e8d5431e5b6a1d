//! `evident anova`: likelihood-ratio test of nested meta-regressions.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_effects;
use anyhow::Result;
use clap::Args;
use evident::model::Method;
use evident::moderators::anova::anova;
use evident::render::json;
use evident::render::text;

#[derive(Args, Debug)]
pub struct AnovaArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Moderators of the full model (the right-hand side of an R formula, e.g. "ablat + year").
    #[arg(long, value_name = "FORMULA")]
    pub mods: String,
    /// Moderators of the reduced model, nested in the full one ("1": intercept only).
    #[arg(long, value_name = "FORMULA", default_value = "1")]
    pub reduced: String,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

/// Both models are fitted by ML unless --method says otherwise (FE; REML and estimators without
/// a likelihood are refused by the library, with the reason).
pub fn run(args: &AnovaArgs) -> Result<()> {
    let (set, mut opts) = rma_effects(&args.input, &args.model)?;
    if args.model.method.is_none() {
        opts.method = Method::ML;
    }
    let t = anova(&set, &args.mods, &args.reduced, &opts)?;
    if args.json {
        println!("{}", json::anova_json(&t));
    } else {
        print!("{}", text::anova_summary(&t));
    }
    Ok(())
}
