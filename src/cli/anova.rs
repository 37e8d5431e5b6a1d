//! `evident anova`: likelihood-ratio test of nested meta-regressions, or of nested multilevel
//! models (`--random`).

use super::args::{InputArgs, ModelArgs};
use super::choices::StructArg;
use super::multilevel::{mv_options, MultilevelArgs};
use super::rma_input::rma_effects;
use anyhow::Result;
use clap::Args;
use evident::model::Method;
use evident::moderators::anova::{anova, Lrt};
use evident::multilevel::anova::mv_anova;
use evident::render::json;
use evident::render::text;

#[derive(Args, Debug)]
pub struct AnovaArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Moderators of the full model (the right-hand side of an R formula, e.g. "ablat + year");
    /// with --random, intercept only when absent.
    #[arg(long, value_name = "FORMULA", required_unless_present = "random")]
    pub mods: Option<String>,
    /// Moderators of the reduced model, nested in the full one ("1": intercept only).
    #[arg(long, value_name = "FORMULA", default_value = "1")]
    pub reduced: String,
    #[command(flatten)]
    pub multilevel: MultilevelArgs,
    /// The reduced multilevel model's random-effects formulas (repeat for crossed terms); the
    /// full model's when absent.
    #[arg(
        long,
        value_name = "FORMULA",
        allow_hyphen_values = true,
        requires = "random"
    )]
    pub reduced_random: Vec<String>,
    /// The covariance structure of the reduced model's "~ inner | outer" term; the full model's
    /// when neither this nor --reduced-random is given, else CS.
    #[arg(
        long,
        value_name = "S",
        value_enum,
        ignore_case = true,
        requires = "random"
    )]
    pub reduced_struct: Vec<StructArg>,
    /// The cluster column of --rho or --V-block (the sampling covariances of both models).
    #[arg(long, value_name = "COLUMN", requires = "random")]
    pub cluster: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub text: super::args::TextArgs,
}

/// Both models are fitted by ML unless --method says otherwise (FE; REML and estimators without
/// a likelihood are refused by the library, with the reason; multilevel models may be REML fits
/// with the same moderators).
pub fn run(args: &AnovaArgs) -> Result<()> {
    let t = if args.multilevel.random.is_empty() {
        let (set, mut opts) = rma_effects(&args.input, &args.model)?;
        if args.model.method.is_none() {
            opts.method = Method::ML;
        }
        let mods = args.mods.as_deref().unwrap_or("1");
        anova(&set, mods, &args.reduced, &opts)?
    } else {
        multilevel(args)?
    };
    if args.json {
        println!("{}", json::anova_json(&t));
    } else {
        print!("{}", text::anova_summary(&t));
    }
    Ok(())
}

/// The test of two `rma.mv` fits: the full model of --mods and --random, the reduced one of
/// --reduced, --reduced-random and --reduced-struct.
fn multilevel(args: &AnovaArgs) -> Result<Lrt> {
    let loaded = args.input.load()?;
    let cluster = args.cluster.as_deref();
    let ml = &args.multilevel;
    let mut full = mv_options(
        &args.model,
        mods(args.mods.as_deref()),
        cluster,
        ml,
        &loaded,
    )?;
    if args.model.method.is_none() {
        full.method = Method::ML;
    }
    let mut reduced = full.clone();
    reduced.mods = mods(Some(&args.reduced)).map(str::to_string);
    if !args.reduced_random.is_empty() {
        reduced.random = args.reduced_random.clone();
        reduced.structs = Vec::new();
    }
    if !args.reduced_struct.is_empty() {
        reduced.structs = args.reduced_struct.iter().map(|&s| s.into()).collect();
    }
    Ok(mv_anova(&loaded.studies, &full, &reduced)?)
}

/// A moderators' formula for the library: "1" is the intercept-only model, `None`.
fn mods(m: Option<&str>) -> Option<&str> {
    m.filter(|m| !matches!(m.trim(), "1" | "~ 1" | "~1"))
}
