//! `evident pool`: pooled estimate, heterogeneity and intervals.

use super::args::{InputArgs, ModelArgs, Pooling};
use anyhow::Result;
use clap::Args;
use evident::pool::{mh::rma_mh, peto::rma_peto, rma};
use evident::report::{json, text};

#[derive(Args, Debug)]
pub struct PoolArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Print one JSON object with the conformance corpus's keys.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &PoolArgs) -> Result<()> {
    let mut loaded = args.input.load()?;
    let pooling = args.model.pooling(&mut loaded)?;
    match pooling {
        Pooling::Rma(o) => {
            let set = loaded.effects()?;
            for om in &set.omitted {
                eprintln!(
                    "warning: {} (line {}): omitted: {}",
                    om.label, loaded.studies.lines[om.row], om.reason
                );
            }
            let fit = rma(&set, &o)?;
            if args.json {
                println!("{}", json::rma_json(&fit));
            } else {
                print!("{}", text::rma_summary(&fit));
            }
        }
        Pooling::Mh(o) | Pooling::Peto(o) => {
            let fit = if matches!(pooling, Pooling::Mh(_)) {
                rma_mh(&loaded.studies, loaded.measure, &o)?
            } else {
                rma_peto(&loaded.studies, &o)?
            };
            if args.json {
                println!("{}", json::mh_json(&fit));
            } else {
                print!("{}", text::mh_summary(&fit));
            }
        }
    }
    Ok(())
}
