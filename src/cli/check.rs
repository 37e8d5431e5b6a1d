//! `evident check`: do each row's estimate, CI and p-value add up, given rounding?

use anyhow::Result;
use clap::Args;
use evident::render::csv_safe;
use evident::render::json::num;
use evident::reported::check::{check, CheckResult, Verdict};
use evident::reported::ReportedTable;
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// CSV with columns study, measure, estimate, ci_lb, ci_ub, level, pval (as printed).
    pub file: PathBuf,
    #[command(flatten)]
    pub sheet: super::args::SheetArg,
    /// Measure for rows without a `measure` cell (OR, RR, HR, MD, ...).
    #[arg(long)]
    pub measure: Option<String>,
    /// Print a JSON array of row objects.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &CheckArgs) -> Result<()> {
    let table = super::args::read_data_file(&args.file, &args.sheet.csv_options())?;
    let rt = ReportedTable::new(&table, args.measure.as_deref());
    // A row that cannot be read is reported as such; it does not stop the others.
    let results: Vec<(String, CheckResult)> = (0..rt.len())
        .map(|r| {
            let res = match rt.check_input(r) {
                Ok(input) => check(&input),
                Err(e) => CheckResult {
                    verdict: Verdict::NotCheckable,
                    reasons: vec![super::hints::cli_wording(&e)],
                    estimate_range: None,
                    p_range: None,
                },
            };
            (rt.study(r), res)
        })
        .collect();
    let pair = |x: Option<(f64, f64)>| x.map_or((None, None), |(a, b)| (Some(a), Some(b)));
    if args.json {
        let arr: Vec<Value> = results
            .iter()
            .map(|(s, r)| {
                let range =
                    |x: Option<(f64, f64)>| x.map_or(Value::Null, |(a, b)| json!([num(a), num(b)]));
                json!({
                    "study": s,
                    "verdict": r.verdict.name(),
                    "reasons": r.reasons,
                    "estimate_range": range(r.estimate_range),
                    "p_range": range(r.p_range),
                })
            })
            .collect();
        println!("{}", Value::Array(arr));
        return Ok(());
    }
    let mut out = csv::Writer::from_writer(std::io::stdout());
    out.write_record([
        "study",
        "verdict",
        "reasons",
        "estimate_min",
        "estimate_max",
        "p_min",
        "p_max",
    ])?;
    let f = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v}"));
    for (s, r) in &results {
        let (e0, e1) = pair(r.estimate_range);
        let (p0, p1) = pair(r.p_range);
        out.write_record([
            csv_safe(s),
            r.verdict.name().to_string(),
            csv_safe(&r.reasons.join("; ")),
            f(e0),
            f(e1),
            f(p0),
            f(p1),
        ])?;
    }
    out.flush()?;
    Ok(())
}
