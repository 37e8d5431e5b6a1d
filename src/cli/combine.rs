//! `evident combine`: combined test of p-values when only p-values were reported.

use anyhow::{bail, Context, Result};
use clap::Args;
use evident::data::table::{parse_number, Cell};
use evident::data::Grid;
use evident::render::json::num;
use evident::reported::combine::{combine, one_sided, CombineMethod};
use evident::reported::PValue;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CombineArgs {
    /// CSV with a `pval` column (one-sided p-values unless --two-sided).
    pub file: PathBuf,
    #[command(flatten)]
    pub sheet: super::args::SheetArg,
    /// fisher, stouffer, tippett, wilkinson (or wilkinson:R for the R-th smallest p), edgington.
    #[arg(long)]
    pub method: String,
    /// Column of Stouffer weights (e.g. √n).
    #[arg(long, value_name = "COL")]
    pub weights: Option<String>,
    /// The p-values are two-sided: a `direction` column (+ or −) makes them one-sided.
    #[arg(long)]
    pub two_sided: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn direction(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "+" | "1" | "+1" | "pos" | "positive" | "up" | "increase" => Some(true),
        "-" | "−" | "-1" | "neg" | "negative" | "down" | "decrease" => Some(false),
        _ => None,
    }
}

pub fn run(args: &CombineArgs) -> Result<()> {
    let method: CombineMethod = args.method.parse()?;
    let table = super::args::read_data_file(&args.file, &args.sheet.csv_options())?;
    let find = |names: &[&str]| names.iter().find_map(|n| table.column(n));
    let pcol = find(&["pval", "p", "p_value", "pvalue", "p.value"])
        .context("no p-value column: expected a column named 'pval'")?;
    let dcol = if args.two_sided {
        Some(find(&["direction", "dir", "sign"]).context(
            "--two-sided needs a 'direction' column (+ or -) to turn two-sided p-values one-sided",
        )?)
    } else {
        None
    };
    let wcol = match &args.weights {
        Some(w) => Some(
            table
                .column(w)
                .with_context(|| format!("no weights column '{w}'"))?,
        ),
        None => None,
    };
    let mut p = Vec::new();
    let mut w = Vec::new();
    let mut omitted: Vec<usize> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    for (r, row) in table.rows.iter().enumerate() {
        let loc = |c: usize| table.location(r, c);
        let text = row[pcol].trim();
        if evident::data::table::is_missing(text) {
            // Left out, and said so: a silently smaller k reads as the whole evidence.
            warnings.push(format!(
                "warning: {}: no p-value ('{text}' is missing or NaN): row left out",
                loc(pcol)
            ));
            omitted.push(table.line(r).unwrap_or(0));
            continue;
        }
        let pv = PValue::parse(text).map_err(|e| anyhow::anyhow!("{}: {e}", loc(pcol)))?;
        let value = match pv {
            PValue::Exact { value, .. } => value,
            // The bound of "p < b" is the least favourable value: a conservative combination.
            PValue::Below { bound } => {
                eprintln!(
                    "note: {}: p {pv} combined as p = {bound} (conservative)",
                    loc(pcol)
                );
                bound
            }
            PValue::Above { .. } => bail!(
                "{}: p {pv} gives no value to combine: give the exact p-value",
                loc(pcol)
            ),
        };
        let value = match dcol {
            Some(d) => match direction(&row[d]) {
                Some(up) => one_sided(value, up),
                None => bail!(
                    "{}: expected a direction + or -, found '{}'",
                    loc(d),
                    row[d]
                ),
            },
            None => value,
        };
        p.push(value);
        if let Some(c) = wcol {
            match parse_number(&row[c], table.decimal_comma) {
                Ok(Cell::Number(x)) => w.push(x),
                Ok(Cell::Missing) => bail!("{}: missing weight", loc(c)),
                Err(m) => bail!("{}: {m}", loc(c)),
            }
        }
    }
    for w in &warnings {
        eprintln!("{w}");
    }
    let res = combine(&p, method, wcol.map(|_| w.as_slice()))?;
    if !omitted.is_empty() {
        eprintln!(
            "warning: {} of {} rows combined ({} without a p-value left out)",
            res.k,
            table.rows.len(),
            omitted.len()
        );
    }
    let name = match method {
        CombineMethod::Wilkinson { r } => format!("wilkinson:{r}"),
        m => m.name().to_string(),
    };
    if args.json {
        let mut v = json!({
            "method": name,
            "k": res.k,
            "statistic": num(res.statistic),
            "df": res.df.map_or(serde_json::Value::Null, num),
            "pval": num(res.pval),
        });
        if !omitted.is_empty() {
            v["omitted_lines"] = json!(omitted);
        }
        println!("{v}");
    } else {
        let mut out = csv::Writer::from_writer(std::io::stdout());
        out.write_record(["method", "k", "statistic", "df", "pval"])?;
        out.write_record([
            name,
            res.k.to_string(),
            format!("{}", res.statistic),
            res.df.map_or(String::new(), |d| format!("{d}")),
            format!("{}", res.pval),
        ])?;
        out.flush()?;
    }
    Ok(())
}
