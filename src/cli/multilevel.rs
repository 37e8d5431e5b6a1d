//! `evident pool --random "~ 1 | a/b"`: multilevel and crossed random-effects models (metafor's
//! `rma.mv`).

use super::args::{Loaded, ModelArgs};
use super::choices::{RobustArg, StructArg};
use super::pool::PoolArgs;
use anyhow::{Context, Result};
use clap::Args;
use evident::app::options::{MultilevelOptions, PoolOptions};
use evident::app::pool::mv_pl_tol;
pub use evident::app::pool::MvRun;
use evident::model::heterogeneity::Tau2CiType;
use evident::multilevel::Dfs;
use evident::render::rcode::RModel;
use evident::render::text;

// The multilevel model's options of `evident pool`.
#[derive(Args, Debug, Clone, Default)]
pub struct MultilevelArgs {
    /// Multilevel model (metafor's rma.mv): a random-effects formula such as "~ 1 | study" or
    /// "~ 1 | district/school" (nested); repeat for crossed terms.
    #[arg(long, value_name = "FORMULA", allow_hyphen_values = true)]
    pub random: Vec<String>,
    /// Covariance structure of a "~ inner | outer" term (metafor's struct); one per such term,
    /// in their order; CS when absent.
    #[arg(long = "struct", value_name = "S", value_enum, ignore_case = true)]
    pub structure: Vec<StructArg>,
    /// Degrees of freedom of t tests in a multilevel model: residual (k - p) or contain.
    #[arg(long, value_name = "RULE")]
    pub dfs: Option<String>,
    /// Sampling correlation between different --obs of one --cluster (metafor's vcalc).
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    pub rho: Option<f64>,
    /// The observation column of --rho: rows of a cluster with equal values correlate fully.
    #[arg(long, value_name = "COLUMN")]
    pub obs: Option<String>,
    /// Known sampling covariance blocks: comma-separated columns; in row i, column j holds the
    /// covariance with the j-th row of i's --cluster.
    #[arg(long = "V-block", value_name = "COLS", value_delimiter = ',')]
    pub v_block: Vec<String>,
}

impl MultilevelArgs {
    /// The library's multilevel options from the flags.
    pub fn options(&self) -> Result<MultilevelOptions> {
        Ok(MultilevelOptions {
            random: self.random.clone(),
            structure: self.structure.iter().map(|&s| s.into()).collect(),
            rho: self.rho,
            obs: self.obs.clone(),
            v_block: self.v_block.clone(),
            dfs: self
                .dfs
                .as_deref()
                .map(str::parse::<Dfs>)
                .transpose()
                .context("--dfs")?,
        })
    }
}

/// The library's options of the multilevel flags, with the model's flags, the moderators, the
/// --cluster column and --robust (not checked: `forest` also groups its rows by --cluster).
fn pool_options(
    model: &ModelArgs,
    mods: Option<&str>,
    cluster: Option<&str>,
    robust: Option<RobustArg>,
    ml: &MultilevelArgs,
) -> Result<PoolOptions> {
    Ok(PoolOptions {
        mods: mods.map(str::to_string),
        cluster: cluster.map(str::to_string),
        robust: robust.map(Into::into),
        multilevel: ml.options()?,
        ..model.options()
    })
}

/// The `rma.mv` options the flags describe (for `anova`, which fits two models itself).
pub fn mv_options(
    model: &ModelArgs,
    mods: Option<&str>,
    cluster: Option<&str>,
    ml: &MultilevelArgs,
    loaded: &Loaded,
) -> Result<evident::multilevel::MvOptions> {
    let o = pool_options(model, mods, cluster, None, ml)?;
    o.check().map_err(super::hints::option_error)?;
    evident::app::pool::mv_options(&o, loaded.measure, loaded.escalc)
        .map_err(super::hints::option_error)
}

/// Fits the model the flags describe (warnings to stderr) and its robust inference, by the
/// workflow the report runs too.
pub fn fit(
    model: &ModelArgs,
    mods: Option<&str>,
    cluster: Option<&str>,
    robust: Option<RobustArg>,
    ml: &MultilevelArgs,
    loaded: &Loaded,
) -> Result<MvRun> {
    let o = pool_options(model, mods, cluster, robust, ml)?;
    run_mv(&o, loaded)
}

/// [`fit`] with the options already built (and checked) by `pool`.
fn run_mv(o: &PoolOptions, loaded: &Loaded) -> Result<MvRun> {
    let run = evident::app::pool::run_mv(&loaded.studies, loaded.measure, loaded.escalc, o)
        .map_err(super::hints::option_error)?;
    for w in &run.fit.warnings {
        eprintln!("warning: {w}");
    }
    Ok(run)
}

/// The fit as `pool --json` prints it, with the robust results.
pub fn mv_json(run: &MvRun) -> serde_json::Value {
    evident::app::pool::mv_run_json(run)
}

/// Fits and prints the multilevel model, with its cluster-robust inference under --robust.
pub fn run(args: &PoolArgs, po: &PoolOptions, loaded: &Loaded) -> Result<()> {
    let run = run_mv(po, loaded)?;
    let model = RModel::Mv {
        options: &run.options,
        confint: (po.tau2_ci == Tau2CiType::ProfileLikelihood).then(|| mv_pl_tol(po)),
    };
    let r_code = super::pool::show_r(args, loaded, || {
        super::pool::model_r_code(args, loaded, model)
    })?;
    if args.json {
        let mut v = mv_json(&run);
        if let (Some(code), Some(obj)) = (r_code, v.as_object_mut()) {
            obj.insert("r_code".into(), code.into());
        }
        println!("{v}");
    } else {
        print!("{}", text::mv_summary(&run.fit));
        if !run.cis.is_empty() {
            print!("{}", text::mv_confint(&run.fit, &run.cis));
        }
        if let Some(r) = &run.robust {
            print!("{}", text::robust_summary(r));
        }
        if let Some(code) = r_code {
            print!("\n{code}");
        }
    }
    Ok(())
}
