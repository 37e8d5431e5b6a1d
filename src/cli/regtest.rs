//! `evident regtest`: Egger's regression test for funnel-plot asymmetry.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_effects;
use anyhow::Result;
use clap::Args;
use evident::bias::{regtest, Predictor, RegModel};
use evident::report::{json, text};

#[derive(Args, Debug)]
pub struct RegtestArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// rma (meta-regression on the predictor, metafor's default) or lm (Egger's weighted regression).
    #[arg(long = "model", default_value = "rma")]
    pub reg_model: String,
    /// Predictor: sei (Egger) or vi (PEESE).
    #[arg(long, default_value = "sei")]
    pub predictor: String,
    /// Print one JSON object with the conformance corpus's keys.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &RegtestArgs) -> Result<()> {
    let (set, opts) = rma_effects(&args.input, &args.model)?;
    let model: RegModel = args.reg_model.parse()?;
    let predictor: Predictor = args.predictor.parse()?;
    let r = regtest(&set, &opts, model, predictor, None)?;
    if args.json {
        println!("{}", json::regtest_json(&r));
    } else {
        if let Some(w) = text::small_k_warning(set.k()) {
            eprintln!("{w}");
        }
        print!("{}", text::regtest_summary(&r));
    }
    Ok(())
}
