//! `evident selmodel`: selection models for publication bias (metafor's `selmodel`), fitted to
//! the maximum-likelihood random-effects model of the studies.

use super::args::{warn_omitted, InputArgs, TextArgs};
use super::choices::{AlternativeArg, MethodArg, SelTypeArg};
use anyhow::{bail, Result};
use clap::Args;
use evident::app::options::PoolOptions;
use evident::app::presets::Preset;
use evident::bias::{selmodel, SelOptions};
use evident::model::{rma, Level, Method};
use evident::render::{json, text};

#[derive(Args, Debug)]
pub struct SelmodelArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The selection function.
    #[arg(long = "type", value_enum, ignore_case = true)]
    pub sel_type: SelTypeArg,
    /// Cut-points of the one-sided p-values, increasing, in (0, 1): every interval of a step
    /// function (e.g. 0.025,0.05,0.5; 1 is appended); for the other types (not beta) one value
    /// below which w(p) = 1.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "P,...",
        allow_hyphen_values = true
    )]
    pub steps: Vec<f64>,
    /// Which significant effects selection favours.
    #[arg(long, value_enum, ignore_case = true, default_value = "greater")]
    pub alternative: AlternativeArg,
    /// The model the selection model adjusts: ML (the only one it is defined for).
    #[arg(long, value_enum, ignore_case = true)]
    pub method: Option<MethodArg>,
    /// Confidence level in percent, or as a proportion below 1 (0.95 is 95 %, as in metafor).
    #[arg(long, default_value = "95", allow_hyphen_values = true)]
    pub level: Level,
    /// Print one JSON object with the conformance corpus's keys.
    #[arg(long)]
    pub json: bool,
    /// Also draw the estimated selection function (metafor's plot of a selmodel): .svg, .png
    /// or .pdf.
    #[arg(short = 'o', long = "output")]
    pub output: Option<std::path::PathBuf>,
    /// Resolution of PNG output in dots per inch.
    #[arg(long, default_value_t = 300.0)]
    pub dpi: f64,
    #[command(flatten)]
    pub text: TextArgs,
}

pub fn run(args: &SelmodelArgs) -> Result<()> {
    if !matches!(args.method, None | Some(MethodArg::ML)) {
        bail!(
            "selmodel adjusts a maximum-likelihood random-effects model: use --method ML \
             (or leave --method out)"
        );
    }
    let loaded = args.input.load()?;
    let set = loaded.effects()?;
    warn_omitted(&set.omitted, &loaded.studies.lines);
    let po = PoolOptions {
        preset: Preset::Metafor,
        level: args.level,
        ..PoolOptions::default()
    };
    let opts = po.rma_options_for(Some(Method::ML))?;
    let so = SelOptions {
        sel_type: args.sel_type.into(),
        steps: args.steps.clone(),
        alternative: args.alternative.into(),
    };
    let s = selmodel(&rma(&set, &opts)?, &so)?;
    if let Some(out) = &args.output {
        use evident::render::plot::selfun::{selection_plot, CURVE_POINTS};
        let curve = evident::bias::selection_curve(&s, CURVE_POINTS);
        let fig = selection_plot(&s, &curve, None)?;
        evident::app::save_figure(&fig, out, args.dpi)?;
    }
    if args.json {
        for w in &s.warnings {
            eprintln!("warning: {w}");
        }
        println!("{}", json::selmodel_json(&s));
    } else {
        print!("{}", text::selmodel_summary(&s));
    }
    Ok(())
}
