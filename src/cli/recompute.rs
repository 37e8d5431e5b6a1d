//! `evident recompute`: SE, CI and p from whatever each paper reported.

use super::choices::MedianArg;
use anyhow::Result;
use clap::Args;
use evident::render::csv_safe;
use evident::render::json::num;
use evident::reported::median::MedianMethod;
use evident::reported::rows::RowResult;
use evident::reported::{PValue, ReportedTable};
use evident::Scale;
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct RecomputeArgs {
    /// CSV with columns such as study, measure, estimate, ci_lb, ci_ub, level, pval, se; or counts
    /// (ai,bi,ci,di | ai,n1i,ci,n2i | x1i,t1i,x2i,t2i); or median, q1, q3, min, max, n.
    pub file: PathBuf,
    #[command(flatten)]
    pub sheet: super::args::SheetArg,
    /// Measure for rows without a `measure` cell (OR, RR, HR, IRR, MD, RD, SMD, ...).
    #[arg(long)]
    pub measure: Option<String>,
    /// Mean and SD from medians: luo (Luo 2018 / Wan 2014 / Shi 2020, the default) or hozo (Hozo 2005;
    /// median and range only).
    #[arg(long, value_enum, default_value = "luo")]
    pub median_method: MedianArg,
    /// Print a JSON array of row objects.
    #[arg(long)]
    pub json: bool,
}

const COLUMNS: [&str; 14] = [
    "study",
    "rule",
    "yi",
    "sei",
    "vi",
    "zval",
    "pval",
    "ci_lb",
    "ci_ub",
    "estimate_exp",
    "ci_lb_exp",
    "ci_ub_exp",
    "mean",
    "sd",
];

/// The output cells of a row, as numbers (None = empty) except `pval`, which may be a bound.
fn cells(r: &RowResult) -> (Vec<Option<f64>>, Option<String>) {
    let e = r.effect;
    let yi = e.map(|e| e.yi).or(match r.se_bound {
        Some(evident::reported::FromP::SeAtMost { yi, .. })
        | Some(evident::reported::FromP::SeAtLeast { yi, .. }) => Some(yi),
        _ => None,
    });
    let ratio = r.scale == Scale::Log;
    let exp = |x: Option<f64>| if ratio { x.map(f64::exp) } else { None };
    let pval_text = match (e, r.pval) {
        (Some(e), _) => Some(format!("{}", e.pval)),
        (None, Some(PValue::Exact { value, .. })) => Some(format!("{value}")),
        (None, Some(p)) => Some(p.to_string()),
        (None, None) => None,
    };
    (
        vec![
            yi,
            e.map(|e| e.sei),
            e.map(|e| e.vi()),
            e.map(|e| e.zval),
            e.map(|e| e.ci_lb),
            e.map(|e| e.ci_ub),
            exp(yi),
            exp(e.map(|e| e.ci_lb)),
            exp(e.map(|e| e.ci_ub)),
            r.mean_sd.as_ref().map(|m| m.mean),
            r.mean_sd.as_ref().map(|m| m.sd),
        ],
        pval_text,
    )
}

pub fn run(args: &RecomputeArgs) -> Result<()> {
    let table = super::args::read_data_file(&args.file, &args.sheet.csv_options())?;
    let mut rt = ReportedTable::new(&table, args.measure.as_deref());
    rt.median_method = MedianMethod::from(args.median_method);
    let mut results = Vec::with_capacity(rt.len());
    for r in 0..rt.len() {
        results.push(rt.convert(r)?);
    }
    for r in &results {
        for n in &r.notes {
            eprintln!("note: {} (line {}): {n}", r.study, r.line);
        }
    }
    if args.json {
        let arr: Vec<Value> = results
            .iter()
            .map(|r| {
                let (nums, _) = cells(r);
                let mut o = serde_json::Map::new();
                o.insert("study".into(), json!(r.study));
                o.insert("rule".into(), json!(r.rule.name()));
                let keys = [
                    "yi",
                    "sei",
                    "vi",
                    "zval",
                    "ci_lb",
                    "ci_ub",
                    "estimate_exp",
                    "ci_lb_exp",
                    "ci_ub_exp",
                    "mean",
                    "sd",
                ];
                for (k, v) in keys.iter().zip(&nums) {
                    o.insert((*k).into(), v.map_or(Value::Null, num));
                }
                // An exact p is a number; a bound is kept as printed ("<0.001"), never made exact.
                let p = match (r.effect, r.pval) {
                    (Some(e), _) => num(e.pval),
                    (None, Some(PValue::Exact { value, .. })) => num(value),
                    (None, Some(p)) => json!(p.to_string()),
                    (None, None) => Value::Null,
                };
                o.insert("pval".into(), p);
                o.insert("notes".into(), json!(r.notes));
                Value::Object(o)
            })
            .collect();
        println!("{}", Value::Array(arr));
        return Ok(());
    }
    let mut out = csv::Writer::from_writer(std::io::stdout());
    out.write_record(COLUMNS)?;
    for r in &results {
        let (nums, p) = cells(r);
        let f = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v}"));
        let mut rec = vec![csv_safe(&r.study), r.rule.name().to_string()];
        rec.extend(nums[..4].iter().map(|x| f(*x)));
        rec.push(p.unwrap_or_default());
        rec.extend(nums[4..].iter().map(|x| f(*x)));
        out.write_record(&rec)?;
    }
    out.flush()?;
    Ok(())
}
