//! `evident forest`: a forest plot as SVG, PNG or PDF.

use super::args::{InputArgs, Loaded, ModelArgs, Pooling};
use anyhow::{bail, Context, Result};
use clap::Args;
use evident::effect::EffectSet;
use evident::model::rma;
use evident::model::RmaFit;
use evident::model::RmaOptions;
use evident::moderators::subgroup;
use evident::moderators::subgroup::subgroups_from;
use evident::render::plot::forest::{
    data_columns, forest, is_rob_column, rob_columns, subgroup_test_text, ForestOptions, SortOrder,
    TextColumn,
};
use std::path::PathBuf;

/// Output options shared by the plot subcommands.
#[derive(Args, Debug, Clone)]
pub struct PlotOutput {
    /// Output file: .svg, .png or .pdf.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Resolution of PNG output in dots per inch.
    #[arg(long, default_value_t = 300.0)]
    pub dpi: f64,
    /// Title above the plot.
    #[arg(long)]
    pub title: Option<String>,
    /// Axis limits on the display scale, e.g. --xlim 0.1,10.
    #[arg(long, value_name = "LO,HI")]
    pub xlim: Option<String>,
}

#[derive(Args, Debug)]
pub struct ForestArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub out: PlotOutput,
    /// Column of the CSV that splits the studies into subgroups.
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    /// Study order: as-given, estimate, weight, or the name of a column (e.g. year).
    #[arg(long, default_value = "as-given")]
    pub sort: String,
    /// Labels under the axis, left and right of no effect: --labels "Favours vaccine,Favours control".
    #[arg(long, value_name = "LEFT,RIGHT")]
    pub labels: Option<String>,
    /// Extra CSV columns to show beside the study labels: --cols dose,year.
    #[arg(
        long = "cols",
        id = "show_cols",
        value_name = "COLUMNS",
        value_delimiter = ','
    )]
    pub show_cols: Vec<String>,
    /// Leave out the raw-data columns (events/total, mean (SD), n).
    #[arg(long)]
    pub no_data: bool,
    /// Leave out the prediction interval.
    #[arg(long)]
    pub no_prediction: bool,
    /// Decimals of the estimates and intervals.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=6))]
    pub digits: u8,
}

/// Parses "A,B" into two numbers.
pub fn parse_xlim(s: &str) -> Result<(f64, f64)> {
    let (a, b) = s
        .split_once(',')
        .with_context(|| format!("--xlim expects LO,HI, got '{s}'"))?;
    let p = |t: &str| {
        t.trim()
            .parse::<f64>()
            .with_context(|| format!("--xlim: '{t}' is not a number"))
    };
    Ok((p(a)?, p(b)?))
}

/// Loads, checks the pooling is an `rma` model, and fits it.
pub fn fit_for_plot(input: &InputArgs, model: &ModelArgs) -> Result<(Loaded, RmaFit)> {
    let mut loaded = input.load()?;
    let o: RmaOptions = match model.pooling(&mut loaded)? {
        Pooling::Rma(o) => o,
        Pooling::Mh(_) | Pooling::Peto(_) => bail!(
            "plots are drawn from inverse-variance models; Mantel–Haenszel and Peto pooling \
             cannot be plotted yet: choose --method FE, DL, REML (or another τ² estimator)"
        ),
    };
    let set = loaded.effects()?;
    for om in &set.omitted {
        eprintln!(
            "warning: {} (line {}): omitted: {}",
            om.label, loaded.studies.lines[om.row], om.reason
        );
    }
    let fit = rma(&set, &o)?;
    Ok((loaded, fit))
}

/// Study-level columns named with --cols.
pub fn extra_columns(set: &EffectSet, names: &[String]) -> Result<Vec<TextColumn>> {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            let n = n.trim();
            let m = set
                .moderators
                .iter()
                .find(|m| m.name == n)
                .with_context(|| {
                    let have: Vec<&str> = set.moderators.iter().map(|m| m.name.as_str()).collect();
                    format!(
                        "--cols: no column '{n}' in the data (extra columns: {})",
                        if have.is_empty() {
                            "none".to_string()
                        } else {
                            have.join(", ")
                        }
                    )
                })?;
            Ok(TextColumn {
                header: vec![n.to_string()],
                values: m.values.iter().map(|v| v.as_text()).collect(),
            })
        })
        .collect()
}

/// Drops a leading empty header line so single-line columns sit on the header's last line.
fn tidy(mut cols: Vec<TextColumn>) -> Vec<TextColumn> {
    for c in &mut cols {
        c.header.retain(|h| !h.is_empty());
    }
    cols
}

pub fn run(args: &ForestArgs) -> Result<()> {
    let (loaded, fit) = fit_for_plot(&args.input, &args.model)?;
    let mut columns = if args.no_data {
        Vec::new()
    } else {
        data_columns(&loaded.studies.data, &fit.effects)
    };
    // rob_* columns are drawn as traffic lights already: not again as text.
    let shown: Vec<String> = args
        .show_cols
        .iter()
        .filter(|n| !is_rob_column(n.trim()))
        .cloned()
        .collect();
    columns.extend(extra_columns(&fit.effects, &shown)?);
    let favours = match &args.labels {
        None => None,
        Some(s) => {
            let (a, b) = s
                .split_once(',')
                .with_context(|| format!("--labels expects \"LEFT,RIGHT\", got '{s}'"))?;
            Some((a.trim().to_string(), b.trim().to_string()))
        }
    };
    // The diamonds and the test come from one subgroup analysis, as `evident pool --by` reports it.
    let sg = args
        .by
        .as_deref()
        .map(|c| subgroup(&fit.effects, c, &fit.options))
        .transpose()?;
    let opts = ForestOptions {
        title: args.out.title.clone(),
        sort: match args.sort.trim() {
            "as-given" => SortOrder::AsGiven,
            "estimate" => SortOrder::Estimate,
            "weight" => SortOrder::Weight,
            col => SortOrder::Column(col.to_string()),
        },
        rob: rob_columns(&fit)?,
        xlim: args.out.xlim.as_deref().map(parse_xlim).transpose()?,
        favours,
        columns: tidy(columns),
        subgroups: match &sg {
            Some(sg) => subgroups_from(&fit, sg)?,
            None => Vec::new(),
        },
        show_prediction: !args.no_prediction,
        decimals: args.digits as usize,
        subgroup_test: sg.as_ref().map(subgroup_test_text),
    };
    let fig = forest(&fit, &opts)?;
    evident::app::save_figure(&fig, &args.out.output, args.out.dpi)?;
    Ok(())
}
