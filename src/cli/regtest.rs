//! `evident regtest`: Egger's regression test for funnel-plot asymmetry.

use super::args::{InputArgs, ModelArgs};
use super::choices::{PredictorArg, RegModelArg, RobustArg};
use super::rma_input::rma_setup;
use anyhow::{bail, Result};
use clap::Args;
use evident::bias::{regtest, regtest_mv, sample_sizes, Predictor, RegModel};
use evident::render::json;
use evident::render::text;
use evident::robust::RobustType;

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
    /// Cluster-robust tests of a multilevel regression (with --random): CR2 (clubSandwich's
    /// coef_test, Satterthwaite df; Rodgers & Pustejovsky 2021) or CR1; clusters from --cluster.
    #[arg(long, value_enum, ignore_case = true, value_name = "CR1|CR2")]
    pub robust: Option<RobustArg>,
    /// The column whose values group the effects into clusters: for --robust, and for --rho or
    /// --V-block of a multilevel model.
    #[arg(long, value_name = "COLUMN")]
    pub cluster: Option<String>,
    /// Print one JSON object with the conformance corpus's keys.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub text: super::args::TextArgs,
    /// With --random: the regression on sqrt(vi) (Egger, PET) or vi (PEESE) of a multilevel
    /// model (metafor's rma.mv), as `pool --random`.
    #[command(flatten)]
    pub multilevel: super::multilevel::MultilevelArgs,
}

/// Egger's test (or PEESE's regression) of the multilevel model of `--random`, cluster-robust
/// under `--robust`.
fn run_mv(args: &RegtestArgs) -> Result<()> {
    if matches!(args.reg_model, RegModelArg::Lm) {
        bail!("--model lm is the weighted regression of independent studies; a multilevel regression test (--random) is an rma.mv model: leave --model out");
    }
    let robust = match (args.robust, args.cluster.as_deref()) {
        (Some(m), Some(c)) => Some((c, RobustType::from(m))),
        (Some(_), None) => bail!("--robust needs --cluster, the column of clusters"),
        (None, _) => None,
    };
    let loaded = args.input.load()?;
    let opts = super::multilevel::mv_options(
        &args.model,
        args.mods.as_deref(),
        args.cluster.as_deref(),
        &args.multilevel,
        &loaded,
    )?;
    let r = regtest_mv(
        &loaded.studies,
        &opts,
        Predictor::from(args.predictor),
        robust,
    )?;
    for w in &r.fit.warnings {
        eprintln!("warning: {w}");
    }
    if args.json {
        println!("{}", json::mv_regtest_json(&r));
    } else {
        print!("{}", text::mv_regtest_summary(&r));
    }
    Ok(())
}

pub fn run(args: &RegtestArgs) -> Result<()> {
    if !args.multilevel.random.is_empty() {
        return run_mv(args);
    }
    if args.robust.is_some() {
        bail!("--robust tests the regression of a multilevel model: give its --random formula");
    }
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
