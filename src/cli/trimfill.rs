//! `evident trimfill`: Duval and Tweedie's trim-and-fill.

use super::args::{InputArgs, ModelArgs};
use super::choices::{EstimatorArg, SideArg};
use super::rma_input::rma_effects;
use anyhow::Result;
use clap::Args;
use evident::bias::{trimfill, Estimator, Side};
use evident::render::json;
use evident::render::text;

#[derive(Args, Debug)]
pub struct TrimfillArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Estimator of the number of missing studies.
    #[arg(long, value_enum, ignore_case = true, default_value = "L0")]
    pub estimator: EstimatorArg,
    /// Side where studies are missing (default: chosen as metafor does).
    #[arg(long, value_enum, ignore_case = true)]
    pub side: Option<SideArg>,
    /// Print one JSON object with the conformance corpus's keys.
    #[arg(long)]
    pub json: bool,
    /// Also draw the funnel plot with the imputed studies: .svg, .png or .pdf.
    #[arg(short = 'o', long = "output")]
    pub output: Option<std::path::PathBuf>,
    /// Resolution of PNG output in dots per inch.
    #[arg(long, default_value_t = 300.0)]
    pub dpi: f64,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

pub fn run(args: &TrimfillArgs) -> Result<()> {
    let (set, opts) = rma_effects(&args.input, &args.model)?;
    let estimator = Estimator::from(args.estimator);
    let side = args.side.map(Side::from);
    let t = trimfill(&set, &opts, estimator, side)?;
    if let Some(out) = &args.output {
        let fit = evident::model::rma(&set, &opts)?;
        let mut fo = evident::render::plot::funnel::FunnelOptions::default();
        super::funnel::trimfill_layer(&t, &mut fo);
        evident::app::save_figure(
            &evident::render::plot::funnel::funnel(&fit, &fo)?,
            out,
            args.dpi,
        )?;
    }
    if args.json {
        println!("{}", json::trimfill_json(&t));
    } else {
        if let Some(w) = text::small_k_warning(set.k()) {
            eprintln!("{w}");
        }
        print!("{}", text::trimfill_summary(&t));
    }
    Ok(())
}
