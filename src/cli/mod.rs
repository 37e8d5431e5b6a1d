//! The command-line interface: argument parsing and printing only; every number comes from the
//! library.

mod args;
mod batch;
mod check;
mod combine;
mod effects;
mod pool;
mod recompute;

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
    /// Many analyses from one long CSV (a column names the analysis), fitted in parallel.
    Batch(batch::BatchArgs),
    /// SE, CI and p from what papers report: estimates with CIs or p-values, counts, medians.
    Recompute(recompute::RecomputeArgs),
    /// Rounding-aware check that each row's estimate, CI and p-value agree.
    Check(check::CheckArgs),
    /// Combine p-values: Fisher, Stouffer, Tippett, Wilkinson, Edgington.
    Combine(combine::CombineArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Effects(a) => effects::run(a),
        Command::Pool(a) => pool::run(a),
        Command::Batch(a) => match batch::run_batch(a) {
            // Exit 2 when some analyses failed (their rows carry the error); the others are written.
            Ok(false) => return ExitCode::from(2),
            Ok(true) => Ok(()),
            Err(e) => Err(e),
        },
        Command::Recompute(a) => recompute::run(a),
        Command::Check(a) => check::run(a),
        Command::Combine(a) => combine::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
