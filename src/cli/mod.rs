//! The command-line interface: argument parsing and printing only; every number comes from the
//! library.

mod args;
mod effects;
mod forest;
mod funnel;
mod pool;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "evident",
    version,
    about = "Meta-analysis that matches metafor: effect sizes, pooling, heterogeneity, plots and reports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Per-study effect sizes and sampling variances (metafor's escalc).
    Effects(effects::EffectsArgs),
    /// Pool studies: fixed/random effects (FE, DL, HE, HS, SJ, ML, REML, EB, PM), Mantel–Haenszel, Peto.
    Pool(pool::PoolArgs),
    /// Forest plot as SVG, PNG or PDF (by the output's extension).
    Forest(forest::ForestArgs),
    /// Funnel plot (optionally contour-enhanced) as SVG, PNG or PDF.
    Funnel(funnel::FunnelArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Effects(a) => effects::run(a),
        Command::Pool(a) => pool::run(a),
        Command::Forest(a) => forest::run(a),
        Command::Funnel(a) => funnel::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
