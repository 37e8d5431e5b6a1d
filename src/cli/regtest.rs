//! `evident regtest`: Egger's regression test for funnel-plot asymmetry.

use super::args::{InputArgs, ModelArgs};
use super::choices::{PredictorArg, RegModelArg};
use super::rma_input::rma_setup;
use anyhow::Result;
use clap::Args;
use evident::bias::{regtest, sample_sizes, Predictor, RegModel};
use evident::render::json;
use evident::render::text;

#[derive(Args, Debug)]
pub struct RegtestArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// The regression model.
    #[arg(long = "model", value_enum, ignore_case = true, default_value = "rma")]
    pub reg_model: RegModelArg,
    /// The predictor.
    #[arg(long, value_enum, ignore_case = true, default_value = "sei")]
    pub predictor: PredictorArg,
    /// Test a meta-regression on these moderators (the right-hand side of an R formula, as for
    /// pool --mods): the predictor is added to them, as metafor's regtest of an rma with mods.
    #[arg(long, value_name = "FORMULA")]
    pub mods: Option<String>,
    /// Print one JSON object with the conformance corpus's keys.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

pub fn run(args: &RegtestArgs) -> Result<()> {
    let (loaded, set, opts) = rma_setup(&args.input, &args.model)?;
    let model = RegModel::from(args.reg_model);
    let predictor = Predictor::from(args.predictor);
    let r = match &args.mods {
        Some(f) => {
            let fit = evident::moderators::metareg(&set, f, &opts)?;
            super::args::warn_omitted(&fit.omitted, &loaded.studies.lines);
            let ni = sample_sizes(&loaded.studies, &fit.effects);
            evident::bias::regtest_metareg(&fit, model, predictor, ni.as_deref())?
        }
        None => {
            let ni = sample_sizes(&loaded.studies, &set);
            regtest(&set, &opts, model, predictor, ni.as_deref())?
        }
    };
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
