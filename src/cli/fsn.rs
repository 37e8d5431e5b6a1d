//! `evident fsn`: fail-safe N (Rosenthal, Orwin, Rosenberg).

use super::args::{InputArgs, ModelArgs};
use super::choices::FsnKind;
use super::rma_input::rma_effects;
use anyhow::Result;
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
    /// Which fail-safe N.
    #[arg(
        long = "type",
        value_enum,
        ignore_case = true,
        default_value = "rosenthal"
    )]
    pub kind: FsnKind,
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
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

pub fn run(args: &FsnArgs) -> Result<()> {
    let (set, _) = rma_effects(&args.input, &args.model)?;
    let kind = match args.kind {
        FsnKind::Rosenthal => FsnType::Rosenthal,
        FsnKind::Orwin => FsnType::Orwin {
            target: args.target,
            weighted: args.weighted,
        },
        FsnKind::Rosenberg => FsnType::Rosenberg,
    };
    let f = fsn(&set, kind, args.alpha)?;
    if args.json {
        println!("{}", json::fsn_json(&f));
    } else {
        print!("{}", text::fsn_summary(&f));
    }
    Ok(())
}
