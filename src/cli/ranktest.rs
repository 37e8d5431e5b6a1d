//! `evident ranktest`: Begg and Mazumdar's rank correlation test.

use super::args::{InputArgs, ModelArgs};
use super::rma_input::rma_effects;
use anyhow::Result;
use clap::Args;
use evident::bias::ranktest;
use evident::render::json;
use evident::render::text;

#[derive(Args, Debug)]
pub struct RanktestArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Print one JSON object with the conformance corpus's keys.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

pub fn run(args: &RanktestArgs) -> Result<()> {
    let (set, _) = rma_effects(&args.input, &args.model)?;
    let r = ranktest(&set)?;
    if args.json {
        println!("{}", json::ranktest_json(&r));
    } else {
        if let Some(w) = text::small_k_warning(set.k()) {
            eprintln!("{w}");
        }
        print!("{}", text::ranktest_summary(&r));
    }
    Ok(())
}
