//! `evident pool REVIEW --outcome 1.1`: one analysis of a RevMan review, pooled as the review
//! says (or as --measure, --method, --level say), beside RevMan's stored results.

use super::pool::PoolArgs;
use anyhow::{bail, Result};
use evident::app::presets::PoolMethod;
use evident::app::review::{fit_outcome, Choice};
use evident::data::revman::{read_review, Outcome, Review};
use evident::render::{json, revman, text};

/// The outcome `id`, or the only one; else an error listing the outcomes.
fn pick<'a>(review: &'a Review, id: Option<&str>) -> Result<&'a Outcome> {
    match id {
        Some(id) => Ok(review.outcome(id)?),
        None if review.outcomes.len() == 1 => Ok(&review.outcomes[0]),
        None => bail!(
            "{}: choose the analysis with --outcome ID; the review has {}",
            review.source.display(),
            review.listing()
        ),
    }
}

/// `pool` on a review.
pub fn run_pool(args: &PoolArgs) -> Result<()> {
    let refused = [
        ("--mods", args.mods.is_some()),
        ("--by", args.by.is_some()),
        ("--reported", args.reported),
        ("--permutations", args.permutations.is_some()),
        ("--show-r", args.show_r),
        ("--col", !args.input.read.cols.is_empty()),
    ];
    let refused: Vec<&str> = refused.iter().filter(|r| r.1).map(|r| r.0).collect();
    if !refused.is_empty() {
        bail!(
            "{} cannot apply to a RevMan review: its outcomes are pooled as the review sets \
             them (subgroups are the review's)",
            refused.join(", ")
        );
    }
    let review = read_review(&args.input.file)?;
    let outcome = pick(&review, args.outcome.as_deref())?;
    for w in &outcome.studies.warnings {
        eprintln!("warning: {w}");
    }
    let level = args.model.level;
    let choice = Choice {
        measure: args.input.read.measure()?,
        method: args.model.method.map(PoolMethod::from),
        level: (level.percent() != 95.0).then_some(level),
    };
    let r = fit_outcome(outcome, &choice)?;
    if args.json {
        let mut v = match r.table_fit() {
            Some(t) => json::mh_json(t),
            None => json::rma_json(&r.fit),
        };
        if let Some(obj) = v.as_object_mut() {
            obj.insert("revman".into(), revman::revman_json(outcome, &r.fit));
        }
        println!("{v}");
    } else {
        println!("{}", revman::revman_text(outcome, &r.fit));
        match r.table_fit() {
            Some(t) => print!("{}", text::mh_summary(t)),
            None => print!("{}", text::rma_summary(&r.fit)),
        }
    }
    Ok(())
}
