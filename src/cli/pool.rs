//! `evident pool`: pooled estimate, heterogeneity and intervals.

use super::args::{InputArgs, ModelArgs, Pooling};
use anyhow::Result;
use clap::Args;
use evident::io::{CsvOptions, Table};
use evident::moderators::{metareg, subgroup};
use evident::pool::{mh::rma_mh, peto::rma_peto, rma};
use evident::report::{json, text};
use evident::reported::to_effects_with;

#[derive(Args, Debug)]
pub struct PoolArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Meta-regression on moderators: the right-hand side of an R formula, e.g. "ablat + year",
    /// "factor(alloc)", "dose*age", "x - 1".
    #[arg(long, value_name = "FORMULA", conflicts_with = "by")]
    pub mods: Option<String>,
    /// Subgroup analysis by a grouping column: separate fits per level and both tests for
    /// subgroup differences.
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    /// Print one JSON object with the conformance corpus's keys.
    #[arg(long)]
    pub json: bool,
    /// Rows carry whatever each paper reported (counts, estimate with CI, SE or p, ...): convert
    /// each by its own rule (as `evident recompute`) and pool the rows that give an SE.
    #[arg(long, conflicts_with_all = ["mods", "by"])]
    pub reported: bool,
    /// With --reported: pool rows that give only "p < b" at the largest SE the bound admits
    /// (conservative); by default they are reported and left out.
    #[arg(long, requires = "reported")]
    pub include_p_bounds: bool,
}

pub fn run(args: &PoolArgs) -> Result<()> {
    if args.reported {
        return run_reported(args);
    }
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
            if let Some(f) = &args.mods {
                let fit = metareg(&set, f, &o)?;
                for om in &fit.omitted {
                    eprintln!(
                        "warning: {} (line {}): omitted: {}",
                        om.label, loaded.studies.lines[om.row], om.reason
                    );
                }
                if args.json {
                    println!("{}", json::metareg_json(&fit));
                } else {
                    print!("{}", text::metareg_summary(&fit));
                }
                return Ok(());
            }
            if let Some(col) = &args.by {
                let fit = subgroup(&set, col, &o)?;
                if args.json {
                    println!("{}", json::subgroup_json(&fit));
                } else {
                    print!("{}", text::subgroup_summary(&fit));
                }
                return Ok(());
            }
            let fit = rma(&set, &o)?;
            if args.json {
                println!("{}", json::rma_json(&fit));
            } else {
                print!("{}", text::rma_summary(&fit));
            }
        }
        Pooling::Mh(_) | Pooling::Peto(_) if args.mods.is_some() || args.by.is_some() => {
            anyhow::bail!(
                "--mods and --by need an inverse-variance model: choose --method (e.g. REML or DL), not Mantel–Haenszel or Peto"
            );
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

fn run_reported(args: &PoolArgs) -> Result<()> {
    let options = args.model.rma_options()?;
    let table = Table::from_path(&args.input.file, &CsvOptions::default())?;
    let (set, rows, _) =
        to_effects_with(&table, args.input.measure.as_deref(), args.include_p_bounds)?;
    for r in &rows {
        let bounded = args.include_p_bounds
            && matches!(r.se_bound, Some(evident::reported::FromP::SeAtMost { .. }));
        let used = if bounded {
            "pooled at the SE bound"
        } else if r.effect.is_some() {
            "pooled"
        } else {
            "excluded"
        };
        eprintln!(
            "{} (line {}): {} [{used}]{}",
            r.study,
            r.line,
            r.rule.name(),
            r.notes.iter().map(|n| format!("; {n}")).collect::<String>()
        );
    }
    let fit = rma(&set, &options)?;
    if args.json {
        println!("{}", json::rma_json(&fit));
    } else {
        print!("{}", text::rma_summary(&fit));
    }
    Ok(())
}
