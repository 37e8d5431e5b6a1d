//! `evident pool --random "~ 1 | a/b"`: multilevel and crossed random-effects models (metafor's
//! `rma.mv`).

use super::args::Loaded;
use super::choices::StructArg;
use super::pool::PoolArgs;
use anyhow::{bail, Context, Result};
use clap::Args;
use evident::app::presets::PoolMethod;
use evident::model::{Method, Test};
use evident::multilevel::{rma_mv, Dfs, MvOptions, SamplingCov};
use evident::render::{json, text};
use evident::robust::robust_mv;

/// The multilevel model's options of `evident pool`.
#[derive(Args, Debug, Clone, Default)]
pub struct MultilevelArgs {
    /// Multilevel model (metafor's rma.mv): a random-effects formula such as "~ 1 | study" or
    /// "~ 1 | district/school" (nested); repeat for crossed terms.
    #[arg(long, value_name = "FORMULA", allow_hyphen_values = true)]
    pub random: Vec<String>,
    /// Covariance structure of a "~ inner | outer" term (metafor's struct); one per such term,
    /// in their order; CS when absent.
    #[arg(
        long = "struct",
        value_name = "S",
        requires = "random",
        value_enum,
        ignore_case = true
    )]
    pub structure: Vec<StructArg>,
    /// Degrees of freedom of t tests in a multilevel model: residual (k - p) or contain.
    #[arg(long, value_name = "RULE", requires = "random")]
    pub dfs: Option<String>,
    /// Sampling correlation between different --obs of one --cluster (metafor's vcalc).
    #[arg(long, value_name = "R", requires_all = ["random", "cluster", "obs"])]
    pub rho: Option<f64>,
    /// The observation column of --rho: rows of a cluster with equal values correlate fully.
    #[arg(long, value_name = "COLUMN", requires = "rho")]
    pub obs: Option<String>,
    /// Known sampling covariance blocks: comma-separated columns; in row i, column j holds the
    /// covariance with the j-th row of i's --cluster.
    #[arg(
        long = "V-block",
        value_name = "COLS",
        value_delimiter = ',',
        requires = "cluster",
        conflicts_with = "rho"
    )]
    pub v_block: Vec<String>,
}

/// The library's options from the command line.
fn options(args: &PoolArgs, ml: &MultilevelArgs, loaded: &Loaded) -> Result<MvOptions> {
    let method = match args.model.method.map(PoolMethod::from) {
        None => Method::REML,
        Some(PoolMethod::Rma(m @ (Method::REML | Method::ML))) => m,
        Some(_) => bail!("--random: a multilevel model is fitted by --method REML or ML"),
    };
    let test = match args.model.test.map(Test::from) {
        None => Test::Z,
        Some(t @ (Test::Z | Test::T)) => t,
        Some(_) => bail!("--random: a multilevel model is tested with --test z or t"),
    };
    let dfs = match &ml.dfs {
        None => Dfs::Residual,
        Some(d) => d.parse::<Dfs>().context("--dfs")?,
    };
    let v = match (&ml.rho, ml.v_block.is_empty()) {
        (Some(rho), _) => SamplingCov::Vcalc {
            cluster: args.cluster.clone().context("--rho needs --cluster")?,
            obs: ml.obs.clone().context("--rho needs --obs")?,
            rho: *rho,
        },
        (None, false) => SamplingCov::Blocks {
            columns: ml.v_block.clone(),
            cluster: args.cluster.clone().context("--V-block needs --cluster")?,
        },
        (None, true) => SamplingCov::Diag,
    };
    Ok(MvOptions {
        measure: loaded.measure,
        escalc: loaded.escalc,
        random: ml.random.clone(),
        mods: args.mods.clone(),
        v,
        method,
        test,
        dfs,
        level: args.model.level,
        sigma2: Vec::new(),
        structs: ml.structure.iter().map(|&s| s.into()).collect(),
    })
}

/// Fits and prints the multilevel model, with its cluster-robust inference under --robust.
pub fn run(args: &PoolArgs, loaded: &Loaded) -> Result<()> {
    let ml = &args.multilevel;
    let opts = options(args, ml, loaded)?;
    let fit = rma_mv(&loaded.studies, &opts)?;
    for w in &fit.warnings {
        eprintln!("warning: {w}");
    }
    let rob = match (args.robust, &args.cluster) {
        (Some(m), Some(c)) => Some(robust_mv(&fit, &loaded.studies, c, m.into())?),
        _ => None,
    };
    if args.json {
        let mut v = json::mv_json(&fit, &[]);
        if let (Some(r), Some(obj)) = (&rob, v.as_object_mut()) {
            obj.insert("robust".into(), json::robust_json(r));
        }
        println!("{v}");
    } else {
        print!("{}", text::mv_summary(&fit));
        if let Some(r) = &rob {
            print!("{}", text::robust_summary(r));
        }
    }
    Ok(())
}
