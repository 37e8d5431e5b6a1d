//! `evident fsn`: fail-safe N (Rosenthal, Orwin, Rosenberg).

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_effects;
use anyhow::{bail, Result};
use clap::Args;
use evident::bias::{fsn, FsnType};
use evident::render::json;
use evident::render::text;

#[derive(Args, Debug)]
pub struct FsnArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// rosenthal (Stouffer), orwin or rosenberg.
    #[arg(long = "type", default_value = "rosenthal")]
    pub kind: String,
    /// Significance level (Rosenthal: one-sided; Rosenberg: two-sided).
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Orwin: the effect to reduce the mean to (default: half the mean).
    #[arg(long, allow_hyphen_values = true)]
    pub target: Option<f64>,
    /// Orwin: use the inverse-variance weighted mean.
    #[arg(long)]
    pub weighted: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &FsnArgs) -> Result<()> {
    let (set, _) = rma_effects(&args.input, &args.model)?;
    let kind = match args.kind.trim().to_ascii_lowercase().as_str() {
        "rosenthal" => FsnType::Rosenthal,
        "orwin" => FsnType::Orwin {
            target: args.target,
            weighted: args.weighted,
        },
        "rosenberg" => FsnType::Rosenberg,
        other => {
            bail!("unknown fail-safe N type '{other}': expected rosenthal, orwin or rosenberg")
        }
    };
    let f = fsn(&set, kind, args.alpha)?;
    if args.json {
        println!("{}", json::fsn_json(&f));
    } else {
        print!("{}", text::fsn_summary(&f));
    }
    Ok(())
}
