//! `evident cumul`: cumulative meta-analysis in file order or by a column.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_effects;
use anyhow::Result;
use clap::Args;
use evident::render::json;
use evident::render::text;
use evident::sensitivity::{cumul, cumul_order};

#[derive(Args, Debug)]
pub struct CumulArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Add studies in the order of this column (e.g. year); default: file order.
    #[arg(long, value_name = "COLUMN")]
    pub order: Option<String>,
    /// With --order: largest values first.
    #[arg(long)]
    pub decreasing: bool,
    /// Print one JSON object with the conformance corpus's keys.
    #[arg(long)]
    pub json: bool,
    /// Also draw the series as a forest-style plot: .svg, .png or .pdf.
    #[arg(short = 'o', long = "output")]
    pub output: Option<std::path::PathBuf>,
    /// Resolution of PNG output in dots per inch.
    #[arg(long, default_value_t = 300.0)]
    pub dpi: f64,
}

pub fn run(args: &CumulArgs) -> Result<()> {
    let (set, opts) = rma_effects(&args.input, &args.model)?;
    let (order, desc) = match &args.order {
        Some(col) => (
            cumul_order(&set, col, args.decreasing)?,
            format!(
                "by column {col}, {} (entry i = model fitted to the first i studies)",
                if args.decreasing {
                    "decreasing"
                } else {
                    "increasing"
                }
            ),
        ),
        None => (
            (0..set.k()).collect(),
            "data rows, as in the input file (entry i = model fitted to rows 1..i)".to_string(),
        ),
    };
    let s = cumul(&set, &opts, &order)?;
    if let Some(out) = &args.output {
        super::plot_refits(
            &set,
            &opts,
            &s,
            evident::render::plot::refits::RefitKind::Cumulative,
            out,
            args.dpi,
        )?;
    }
    if args.json {
        println!("{}", json::cumul_json(&s, &desc));
    } else {
        print!("{}", text::cumul_table(&s, &desc));
    }
    Ok(())
}
