//! `evident sensitivity`: leave-one-out and influence diagnostics in one readable report.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_effects;
use anyhow::Result;
use clap::Args;
use evident::model::rma;
use evident::render::{json, text};
use evident::sensitivity::{baujat, influence, leave1out};

#[derive(Args, Debug)]
pub struct SensitivityArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Draw the Baujat plot to the file given with -o.
    #[arg(long, requires = "output")]
    pub baujat: bool,
    /// Output file of the plot: .svg, .png or .pdf.
    #[arg(short = 'o', long = "output", requires = "baujat")]
    pub output: Option<std::path::PathBuf>,
    /// Resolution of PNG output in dots per inch.
    #[arg(long, default_value_t = 300.0)]
    pub dpi: f64,
    /// Print one JSON object: the pooled model (as `pool --json`) and the `leave1out`,
    /// `influence` and `baujat` objects.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

pub fn run(args: &SensitivityArgs) -> Result<()> {
    let (set, opts) = rma_effects(&args.input, &args.model)?;
    let fit = rma(&set, &opts)?;
    let l1o = leave1out(&set, &opts);
    let inf = influence(&set, &opts);
    let bj = baujat(&set, &opts);
    if let (Some(out), Ok(b)) = (&args.output, &bj) {
        let fig = evident::render::plot::scatter::baujat_plot(b, None)?;
        evident::app::save_figure(&fig, out, args.dpi)?;
    }
    if args.json {
        println!("{}", json::sensitivity_report_json(&fit, &l1o, &inf, &bj));
    } else {
        print!("{}", text::sensitivity_report(&fit, &l1o, &inf, &bj));
    }
    Ok(())
}
