//! `evident gosh`: the model fitted to every subset of studies (or a seeded sample).

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_effects;
use anyhow::Result;
use clap::Args;
use evident::render::json;
use evident::render::text;
use evident::sensitivity::gosh::{gosh, DEFAULT_MAX_SUBSETS};

#[derive(Args, Debug)]
pub struct GoshArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Fit every subset when there are at most this many, else a random sample of this size.
    #[arg(long, default_value_t = DEFAULT_MAX_SUBSETS)]
    pub max_subsets: usize,
    /// Seed of the random sample.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object (one array entry per subset).
    #[arg(long)]
    pub json: bool,
    /// Also draw the GOSH plot (estimate against I²): .svg, .png or .pdf.
    #[arg(short = 'o', long = "output")]
    pub output: Option<std::path::PathBuf>,
    /// Draw the subsets containing this study in red (its label, or its 1-based position in the
    /// data), as metafor's `plot(gosh, out = )`.
    #[arg(long, value_name = "STUDY")]
    pub highlight: Option<String>,
    /// Resolution of PNG output in dots per inch.
    #[arg(long, default_value_t = 300.0)]
    pub dpi: f64,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

/// The study `wanted` names: an exact label, else a 1-based position.
fn study_index(labels: &[String], wanted: &str) -> Result<usize> {
    if let Some(j) = labels.iter().position(|l| l == wanted.trim()) {
        return Ok(j);
    }
    match wanted.trim().parse::<usize>() {
        Ok(n) if (1..=labels.len()).contains(&n) => Ok(n - 1),
        _ => anyhow::bail!(
            "--highlight {wanted}: no study has this label, and it is not a position from 1 to {}",
            labels.len()
        ),
    }
}

pub fn run(args: &GoshArgs) -> Result<()> {
    let (set, opts) = rma_effects(&args.input, &args.model)?;
    if args.highlight.is_some() && args.output.is_none() {
        anyhow::bail!("--highlight marks studies on the plot: give the plot's file with -o");
    }
    let g = gosh(&set, &opts, args.max_subsets, args.seed)?;
    if let Some(out) = &args.output {
        let mark = args
            .highlight
            .as_deref()
            .map(|h| study_index(&set.labels, h))
            .transpose()?
            .map(|j| (j, set.labels[j].as_str()));
        let fig = evident::render::plot::scatter::gosh_plot_highlight(
            &g,
            set.measure,
            set.scale,
            None,
            mark,
        )?;
        evident::app::save_figure(&fig, out, args.dpi)?;
    }
    if args.json {
        println!("{}", json::gosh_json(&g, &set.labels));
    } else {
        print!("{}", text::gosh_summary(&g, &set.labels));
    }
    Ok(())
}
