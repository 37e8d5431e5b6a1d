//! `evident effects`: per-study effect sizes, as metafor's `escalc`.

use super::args::InputArgs;
use anyhow::Result;
use clap::Args;
use evident::effect::escalc;
use evident::render::json::num;
use serde_json::{json, Value};

#[derive(Args, Debug)]
pub struct EffectsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Print {"yi": [...], "vi": [...]} (null for rows with no value).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV (study, yi, vi, sei, corrected) with every digit, for other programs.
    #[arg(long)]
    pub csv: bool,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

pub fn run(args: &EffectsArgs) -> Result<()> {
    let loaded = args.input.load()?;
    let es = escalc(&loaded.studies, loaded.measure, &loaded.escalc)?;
    if args.json {
        let arr = |v: &[Option<f64>]| {
            Value::Array(v.iter().map(|x| x.map_or(Value::Null, num)).collect())
        };
        println!(
            "{}",
            json!({"measure": loaded.measure.name(), "yi": arr(&es.yi), "vi": arr(&es.vi)})
        );
        return Ok(());
    }
    if !args.csv {
        print!(
            "{}",
            evident::render::text::effects_table(
                &loaded.studies.labels,
                &es,
                evident::model::Level::NINETY_FIVE
            )
        );
        return Ok(());
    }
    let mut out = csv::Writer::from_writer(std::io::stdout());
    out.write_record(["study", "yi", "vi", "sei", "corrected"])?;
    for i in 0..es.yi.len() {
        let f = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v}"));
        out.write_record([
            evident::render::csv_safe(&loaded.studies.labels[i]),
            f(es.yi[i]),
            f(es.vi[i]),
            f(es.vi[i].map(f64::sqrt)),
            if es.corrected[i] {
                "yes".into()
            } else {
                String::new()
            },
        ])?;
    }
    out.flush()?;
    Ok(())
}
