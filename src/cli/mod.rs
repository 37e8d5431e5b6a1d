//! The command-line interface: argument parsing and printing only; every number comes from the
//! library.

mod args;
mod effects;
mod interaction;
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
#[allow(clippy::large_enum_variant)] // parsed once; boxing would only obscure the clap derive
enum Command {
    /// Per-study effect sizes and sampling variances (metafor's escalc).
    Effects(effects::EffectsArgs),
    /// Pool studies: fixed/random effects (FE, DL, HE, HS, SJ, ML, REML, EB, PM), Mantel–Haenszel, Peto.
    Pool(pool::PoolArgs),
    /// Tests of interaction from reported results: ratio of ratios, RERI/AP/S.
    Interaction(interaction::InteractionArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Effects(a) => effects::run(a),
        Command::Pool(a) => pool::run(a),
        Command::Interaction(a) => interaction::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
