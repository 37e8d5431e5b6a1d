//! `evident aggregate`: one effect per cluster (metafor's `aggregate.escalc`).

use super::args::InputArgs;
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use evident::effect::EffectSet;
use evident::multilevel::aggregate::{aggregate, AggregateOptions, AggregateStruct};
use evident::render::aggregate::{aggregate_csv, aggregate_json};
use std::path::PathBuf;

/// metafor's `struct` of `aggregate.escalc`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[value(rename_all = "UPPER")]
pub enum StructArg {
    /// Compound symmetry: every pair in a cluster correlates by --rho.
    Cs,
    /// Independent effects.
    Id,
}

#[derive(Args, Debug)]
pub struct AggregateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The column whose values group the dependent effects.
    #[arg(long, value_name = "COLUMN")]
    pub cluster: String,
    /// The assumed correlation between effects of one cluster (needed by --struct CS).
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    pub rho: Option<f64>,
    /// The within-cluster correlation structure.
    #[arg(long = "struct", value_enum, ignore_case = true, default_value = "CS")]
    pub structure: StructArg,
    /// Plain means (metafor's weighted = FALSE) instead of inverse-variance weighted ones.
    #[arg(long)]
    pub unweighted: bool,
    /// Write the aggregated CSV here instead of standard output.
    #[arg(short = 'o', long, value_name = "OUT.csv")]
    pub output: Option<PathBuf>,
    /// Print one JSON object instead of CSV.
    #[arg(long, conflicts_with = "output")]
    pub json: bool,
}

pub fn run(args: &AggregateArgs) -> Result<()> {
    let structure = match (args.structure, args.rho) {
        (StructArg::Cs, Some(rho)) => AggregateStruct::Cs { rho },
        (StructArg::Cs, None) => bail!("--struct CS needs --rho (the within-cluster correlation)"),
        (StructArg::Id, None) => AggregateStruct::Id,
        (StructArg::Id, Some(_)) => bail!("--rho applies to --struct CS, not ID"),
    };
    let loaded = args.input.load()?;
    let set = EffectSet::from_studies(&loaded.studies, loaded.measure, &loaded.escalc)?;
    for o in &set.omitted {
        eprintln!("warning: {} left out: {}", o.label, o.reason);
    }
    let opts = AggregateOptions {
        cluster: args.cluster.clone(),
        structure,
        weighted: !args.unweighted,
    };
    let agg = aggregate(&set, &opts)?;
    if args.json {
        println!("{}", aggregate_json(&agg));
        return Ok(());
    }
    let csv = aggregate_csv(&agg);
    match &args.output {
        Some(path) => {
            evident::app::atomic::refuse_same_file(&args.input.file, path)?;
            evident::app::atomic::write_atomic(path, csv.as_bytes())?;
        }
        None => print!("{csv}"),
    }
    Ok(())
}
