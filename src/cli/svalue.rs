//! `evident svalue`: sensitivity of the pooled estimate to publication bias (S-values, Mathur &
//! VanderWeele 2020).

use super::args::{warn_omitted, InputArgs, TextArgs};
use anyhow::Result;
use clap::{Args, ValueEnum};
use evident::app::options::PoolOptions;
use evident::app::presets::Preset;
use evident::bias::svalue::{corrected, svalue, SvalModel, SvalOptions, ALPHA_SELECT, ETA_MAX};
use evident::model::{Level, Method};
use evident::render::{json, text};
use evident::robust::Clusters;

/// The model the S-values correct.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum SvalModelArg {
    /// Fixed (common) effect.
    Fixed,
    /// Robust random effects (cluster-robust SEs; the package's default recommendation).
    Robust,
}

/// The direction publication favours.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum FavorArg {
    /// Positive estimates.
    Positive,
    /// Negative estimates.
    Negative,
}

#[derive(Args, Debug)]
pub struct SvalueArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Fixed-effect or robust random-effects model.
    #[arg(
        long = "model",
        value_enum,
        ignore_case = true,
        default_value = "robust"
    )]
    pub sval_model: SvalModelArg,
    /// The value the selection would have to shift the estimate to (analysis scale, e.g. log
    /// ratios).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub q: f64,
    /// Also the estimate corrected for this selection ratio (at least 1).
    #[arg(long)]
    pub eta: Option<f64>,
    /// The direction publication favours; by default that of the uncorrected estimate.
    #[arg(long, value_enum, ignore_case = true)]
    pub favor: Option<FavorArg>,
    /// Robust model: the column of clusters (studies sharing a value are dependent); one
    /// cluster per study when absent.
    #[arg(long, value_name = "COLUMN")]
    pub cluster: Option<String>,
    /// Two-sided p-value below which a study counts as affirmative.
    #[arg(long, default_value_t = ALPHA_SELECT)]
    pub alpha_select: f64,
    /// Robust model: the largest selection ratio searched.
    #[arg(long, default_value_t = ETA_MAX)]
    pub eta_max: f64,
    /// Confidence level in percent, or as a proportion below 1.
    #[arg(long, default_value = "95", allow_hyphen_values = true)]
    pub level: Level,
    /// Print one JSON object (the package's keys).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub text: TextArgs,
}

pub fn run(args: &SvalueArgs) -> Result<()> {
    let loaded = args.input.load()?;
    let set = loaded.effects()?;
    warn_omitted(&set.omitted, &loaded.studies.lines);
    let model = match args.sval_model {
        SvalModelArg::Fixed => SvalModel::Fixed,
        SvalModelArg::Robust => SvalModel::Robust,
    };
    if args.cluster.is_some() && matches!(model, SvalModel::Fixed) {
        anyhow::bail!("--cluster needs the robust model (--model robust): the fixed-effect model ignores clusters");
    }
    let po = PoolOptions {
        preset: Preset::Metafor,
        level: args.level,
        ..PoolOptions::default()
    };
    let opts = SvalOptions {
        model,
        q: args.q,
        favor_positive: args.favor.map(|f| matches!(f, FavorArg::Positive)),
        alpha_select: args.alpha_select,
        eta_max: args.eta_max,
        level: args.level,
        // The robust weights' τ² by REML, as the package (metafor's default).
        rma: po.rma_options_for(Some(Method::REML))?,
    };
    let clusters = args
        .cluster
        .as_deref()
        .map(|c| Clusters::from_column(&set, c))
        .transpose()?;
    let s = svalue(&set, clusters.as_ref(), &opts)?;
    let at = args
        .eta
        .map(|eta| corrected(&set, clusters.as_ref(), &opts, eta))
        .transpose()?;
    if args.json {
        println!("{}", json::svalue_json(&s, at.as_ref()));
    } else {
        print!("{}", text::svalue_summary(&s, at.as_ref()));
    }
    Ok(())
}
