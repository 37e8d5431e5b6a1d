//! `evident leave1out`: the model refitted without each study in turn (an `rma` model, or a
//! Mantel–Haenszel / Peto pooling with `--method MH|Peto`).

use super::args::{InputArgs, ModelArgs};
use super::rma_input::{refit_setup, Refits};
use anyhow::{bail, Result};
use clap::Args;
use evident::render::json;
use evident::render::text;
use evident::sensitivity::{leave1out, leave1out_tables};

#[derive(Args, Debug)]
pub struct Leave1outArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
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

pub fn run(args: &Leave1outArgs) -> Result<()> {
    let s = match refit_setup(&args.input, &args.model)? {
        Refits::Tables(loaded, by, o) => {
            if args.output.is_some() {
                bail!("-o: leave-one-out plots are drawn for inverse-variance models only; omit -o with --method {}", by.name());
            }
            leave1out_tables(&loaded.studies, by, &o)?
        }
        Refits::Rma(set, opts) => {
            let s = leave1out(&set, &opts)?;
            if let Some(out) = &args.output {
                super::plot_refits(
                    &set,
                    &opts,
                    &s,
                    evident::render::plot::refits::RefitKind::LeaveOneOut,
                    out,
                    args.dpi,
                )?;
            }
            s
        }
    };
    if args.json {
        println!("{}", json::leave1out_json(&s));
    } else {
        print!("{}", text::leave1out_table(&s));
    }
    Ok(())
}
