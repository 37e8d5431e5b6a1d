//! `evident cumul`: cumulative meta-analysis in file order or by a column (of an `rma` model,
//! or of a Mantel–Haenszel / Peto pooling with `--method MH|Peto`).

use super::args::{InputArgs, ModelArgs};
use super::rma_input::{refit_setup, Refits};
use anyhow::{bail, Result};
use clap::Args;
use evident::render::json;
use evident::render::text;
use evident::sensitivity::{cumul, cumul_order, cumul_tables, cumul_tables_order};

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
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

/// What `--order` and `--decreasing` say, in words.
fn order_text(args: &CumulArgs) -> String {
    match &args.order {
        Some(col) => format!(
            "by column {col}, {} (entry i = model fitted to the first i studies)",
            if args.decreasing {
                "decreasing"
            } else {
                "increasing"
            }
        ),
        None => "data rows, as in the input file (entry i = model fitted to rows 1..i)".to_string(),
    }
}

pub fn run(args: &CumulArgs) -> Result<()> {
    let desc = order_text(args);
    let s = match refit_setup(&args.input, &args.model)? {
        Refits::Tables(loaded, by, o) => {
            if args.output.is_some() {
                bail!("-o: cumulative plots are drawn for inverse-variance models only; omit -o with --method {}", by.name());
            }
            let st = &loaded.studies;
            let order = match &args.order {
                Some(col) => cumul_tables_order(st, col, args.decreasing)?,
                None => (0..st.labels.len()).collect(),
            };
            cumul_tables(st, by, &o, &order)?
        }
        Refits::Rma(set, opts) => {
            let order = match &args.order {
                Some(col) => cumul_order(&set, col, args.decreasing)?,
                None => (0..set.k()).collect(),
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
            s
        }
    };
    if args.json {
        println!("{}", json::cumul_json(&s, &desc));
    } else {
        print!("{}", text::cumul_table(&s, &desc));
    }
    Ok(())
}
