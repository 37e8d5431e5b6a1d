//! `evident rob`: risk-of-bias figures as robvis draws them, from the `rob_*` columns.

use super::args::{InputArgs, ModelArgs, Pooling};
use super::choices::{RobPlotArg, RobToolArg};
use anyhow::{bail, Context, Result};
use clap::Args;
use evident::data::studies::ALIASES;
use evident::data::table::is_missing;
use evident::data::{Moderator, Table, Value};
use evident::model::rma;
use evident::render::plot::rob::{is_rob_column, rob_columns_of};
use evident::render::plot::robfig::{summary_bars, traffic_light, RobTable};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct RobArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output file: .svg, .png or .pdf.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// traffic: studies × domains with the overall judgement; summary: a bar per domain of the
    /// shares of the judgements.
    #[arg(
        long = "type",
        value_enum,
        ignore_case = true,
        default_value = "traffic"
    )]
    pub plot: RobPlotArg,
    /// The summary's weights: "model" (the fitted model's study weights; the default when the
    /// file has effect data), "none" (each study counts once; the default otherwise), or a
    /// column of the file holding weights.
    #[arg(long, value_name = "model|none|COLUMN")]
    pub weights: Option<String>,
    /// The tool that names the domains; by default RoB 2 for 5 domains, ROBINS-I for 7.
    #[arg(long, value_enum, ignore_case = true, default_value = "auto")]
    pub tool: RobToolArg,
    /// Title above the plot.
    #[arg(long)]
    pub title: Option<String>,
    /// Resolution of PNG output in dots per inch.
    #[arg(long, default_value_t = 300.0)]
    pub dpi: f64,
}

/// The labels column of a risk-of-bias file: the study column under any of its names, else the
/// first column that is not a `rob_*` one.
fn label_column(t: &Table) -> Option<usize> {
    let names = ALIASES.iter().find(|(n, _)| *n == "study").map(|(_, a)| *a);
    names
        .into_iter()
        .flatten()
        .find_map(|n| t.column(n))
        .or_else(|| t.headers.iter().position(|h| !is_rob_column(h)))
}

/// The table's columns as study-level columns (text as written, empty or NA cells missing).
fn as_columns(t: &Table) -> Vec<Moderator> {
    (0..t.headers.len())
        .map(|j| Moderator {
            name: t.headers[j].clone(),
            values: t
                .rows
                .iter()
                .map(|r| {
                    if is_missing(&r[j]) {
                        Value::Missing
                    } else {
                        Value::Text(r[j].clone())
                    }
                })
                .collect(),
            numeric: false,
        })
        .collect()
}

/// The model's study weights (percent) by row of the file; studies the model left out weigh 0.
fn model_weights(args: &RobArgs, t: &Table) -> Result<(Vec<f64>, String)> {
    let mut loaded = args.input.load()?;
    let Pooling::Rma(o) = args.model.pooling(&mut loaded)? else {
        bail!("--weights model: the weights are an inverse-variance model's; choose --method REML, DL, FE, ...");
    };
    let fit = rma(&loaded.effects()?, &o)?;
    let mut w = vec![0.0; t.rows.len()];
    for (k, &row) in fit.effects.rows.iter().enumerate() {
        let line = loaded.studies.lines[row];
        if let Some(i) = t.lines.iter().position(|&l| l == line) {
            w[i] = fit.weights[k];
        }
    }
    let model = if o.method.is_fixed() {
        "fixed-effect".to_string()
    } else {
        format!("random-effects ({})", o.method.name())
    };
    Ok((w, format!("the {model} model's study weights")))
}

/// A column of weights: non-negative numbers, one per study.
fn column_weights(t: &Table, name: &str) -> Result<(Vec<f64>, String)> {
    let j = t.column(name).with_context(|| {
        format!(
            "--weights: the file has no column '{name}' (nor is it 'model' or 'none'); columns: {}",
            t.headers.join(", ")
        )
    })?;
    let w = t
        .rows
        .iter()
        .zip(&t.lines)
        .map(|(r, line)| {
            let cell = r[j].trim();
            match cell.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
                _ => bail!(
                    "{}: line {line}, column '{name}': '{cell}' is not a weight (a number ≥ 0)",
                    t.source.display()
                ),
            }
        })
        .collect::<Result<Vec<f64>>>()?;
    Ok((w, format!("the column {name}")))
}

/// The weights `--weights` asks for (or the default).
fn weights(args: &RobArgs, t: &Table) -> Result<Option<(Vec<f64>, String)>> {
    match args.weights.as_deref().map(str::trim) {
        Some("none") => Ok(None),
        Some("model") => model_weights(args, t).map(Some),
        Some(col) => column_weights(t, col).map(Some),
        // The file may hold judgements only: then each study counts once, as said on stderr.
        None => match model_weights(args, t) {
            Ok(w) => Ok(Some(w)),
            Err(e) => {
                if args.plot == RobPlotArg::Summary {
                    eprintln!("note: the summary is unweighted (no model weights: {e})");
                }
                Ok(None)
            }
        },
    }
}

pub fn run(args: &RobArgs) -> Result<()> {
    let t = super::args::read_data_file(&args.input.file, &args.input.read.csv_options()?)?;
    for w in &t.warnings {
        eprintln!("warning: {w}");
    }
    let labels: Vec<String> = match label_column(&t) {
        Some(j) => t.rows.iter().map(|r| r[j].clone()).collect(),
        None => (1..=t.rows.len()).map(|i| format!("Study {i}")).collect(),
    };
    let cols = rob_columns_of(&as_columns(&t), &labels)
        .with_context(|| format!("{}", t.source.display()))?;
    if cols.is_empty() {
        bail!(
            "{}: no risk-of-bias columns: name them rob_D1, rob_D2, ..., rob_overall (columns: {})",
            t.source.display(),
            t.headers.join(", ")
        );
    }
    let w = if args.plot == RobPlotArg::Summary {
        weights(args, &t)?
    } else {
        None
    };
    let table = RobTable::new(labels, cols, w, args.tool.into())?;
    let fig = match args.plot {
        RobPlotArg::Traffic => traffic_light(&table, args.title.as_deref())?,
        RobPlotArg::Summary => summary_bars(&table, args.title.as_deref())?,
    };
    evident::app::save_figure(&fig, &args.output, args.dpi)?;
    Ok(())
}
