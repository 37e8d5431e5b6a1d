//! `evident interaction`: tests of interaction from reported estimates and CIs.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use evident::render::json;
use evident::render::text;
use evident::reported::interaction::{additive, compare_two, Contrast, Reported};

#[derive(Args, Debug)]
pub struct InteractionArgs {
    #[command(subcommand)]
    pub kind: Kind,
}

#[derive(Subcommand, Debug)]
pub enum Kind {
    /// Compare two independent estimates: ratio of two ratios (ROR, RRR) or difference of two
    /// differences, with CI and z test (Altman & Bland 2003).
    Two(TwoArgs),
    /// Additive interaction from the ratios of A alone, B alone and A+B, each against neither:
    /// RERI, AP and S (MOVER CIs, or delta method with --cov).
    Additive(AdditiveArgs),
}

#[derive(Args, Debug)]
pub struct TwoArgs {
    /// First estimate with its CI: "EST,LB,UB" or "EST (LB, UB)".
    #[arg(long, allow_hyphen_values = true)]
    pub first: String,
    /// Second estimate with its CI.
    #[arg(long, allow_hyphen_values = true)]
    pub second: String,
    /// The estimates are differences (MD, RD, ...), not ratios.
    #[arg(long)]
    pub difference: bool,
    /// Both estimates are against the same reference group (they are then not independent).
    #[arg(long)]
    pub shared_reference: bool,
    /// Level (%) of the given CIs.
    #[arg(long, default_value = "95")]
    pub input_level: evident::model::Level,
    /// Level (%) of the CI to report.
    #[arg(long, default_value = "95")]
    pub level: evident::model::Level,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

#[derive(Args, Debug)]
pub struct AdditiveArgs {
    /// Ratio (OR or RR) of A alone against neither, with CI: "EST,LB,UB".
    #[arg(long)]
    pub a: String,
    /// Ratio of B alone against neither.
    #[arg(long)]
    pub b: String,
    /// Ratio of A and B together against neither.
    #[arg(long)]
    pub ab: String,
    /// Covariance of (ln A, ln B, ln AB) as 9 numbers, row by row (gives delta-method CIs).
    #[arg(long, allow_hyphen_values = true)]
    pub cov: Option<String>,
    /// Level (%) of the given CIs.
    #[arg(long, default_value = "95")]
    pub input_level: evident::model::Level,
    /// Level (%) of the delta-method CIs.
    #[arg(long, default_value = "95")]
    pub level: evident::model::Level,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

/// Reads numbers separated by commas, spaces, parentheses, semicolons or "to".
fn numbers(what: &str, s: &str) -> Result<Vec<f64>> {
    s.replace(" to ", " ")
        .split(|c: char| c == ',' || c == ';' || c == '(' || c == ')' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<f64>()
                .with_context(|| format!("{what}: '{t}' is not a number"))
        })
        .collect()
}

fn reported(what: &str, s: &str) -> Result<Reported> {
    let v = numbers(what, s)?;
    if v.len() != 3 {
        bail!("{what}: expected an estimate and its CI, e.g. \"2.15,1.15,4.02\", got '{s}'");
    }
    Ok(Reported::new(v[0], v[1], v[2]))
}

pub fn run(args: &InteractionArgs) -> Result<()> {
    match &args.kind {
        Kind::Two(a) => {
            let r = compare_two(
                reported("--first", &a.first)?,
                reported("--second", &a.second)?,
                if a.difference {
                    Contrast::Difference
                } else {
                    Contrast::Ratio
                },
                a.input_level,
                a.level,
                a.shared_reference,
            )?;
            if a.json {
                println!("{}", json::two_estimates_json(&r));
            } else {
                print!("{}", text::two_estimates_summary(&r));
            }
        }
        Kind::Additive(a) => {
            let cov = match &a.cov {
                Some(c) => {
                    let v = numbers("--cov", c)?;
                    if v.len() != 9 {
                        bail!(
                            "--cov: expected 9 numbers (a 3 × 3 matrix, row by row), got {}",
                            v.len()
                        );
                    }
                    Some([[v[0], v[1], v[2]], [v[3], v[4], v[5]], [v[6], v[7], v[8]]])
                }
                None => None,
            };
            let r = additive(
                reported("--a", &a.a)?,
                reported("--b", &a.b)?,
                reported("--ab", &a.ab)?,
                cov,
                a.input_level,
                a.level,
            )?;
            if a.json {
                println!("{}", json::additive_json(&r));
            } else {
                print!("{}", text::additive_summary(&r));
            }
        }
    }
    Ok(())
}
