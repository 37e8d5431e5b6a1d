//! `evident pool --random "~ 1 | a/b"`: multilevel and crossed random-effects models (metafor's
//! `rma.mv`).

use super::args::{Loaded, ModelArgs};
use super::choices::{RobustArg, StructArg, Tau2CiArg};
use super::pool::PoolArgs;
use anyhow::{bail, Context, Result};
use clap::Args;
use evident::app::presets::PoolMethod;
use evident::model::{Method, Test};
use evident::multilevel::{confint_all, rma_mv, Dfs, MvFit, MvOptions, MvProfile, SamplingCov};
use evident::render::rcode::RModel;
use evident::render::{json, text};
use evident::robust::{robust_mv, RobustFit};

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

/// The library's options from the command line: the model's flags, the moderators, the
/// --cluster column and the multilevel flags.
pub fn mv_options(
    model: &ModelArgs,
    mods: Option<&str>,
    cluster: Option<&str>,
    ml: &MultilevelArgs,
    loaded: &Loaded,
) -> Result<MvOptions> {
    let method = match model.method.map(PoolMethod::from) {
        None => Method::REML,
        Some(PoolMethod::Rma(m @ (Method::REML | Method::ML))) => m,
        Some(_) => bail!("--random: a multilevel model is fitted by --method REML or ML"),
    };
    let test = match model.test.map(Test::from) {
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
            cluster: cluster.context("--rho needs --cluster")?.to_string(),
            obs: ml.obs.clone().context("--rho needs --obs")?,
            rho: *rho,
        },
        (None, false) => SamplingCov::Blocks {
            columns: ml.v_block.clone(),
            cluster: cluster.context("--V-block needs --cluster")?.to_string(),
        },
        (None, true) => SamplingCov::Diag,
    };
    Ok(MvOptions {
        measure: loaded.measure,
        escalc: loaded.escalc,
        random: ml.random.clone(),
        mods: mods.map(str::to_string),
        v,
        method,
        test,
        dfs,
        level: model.level,
        sigma2: Vec::new(),
        structs: ml.structure.iter().map(|&s| s.into()).collect(),
    })
}

/// A multilevel fit with its options, under --robust its cluster-robust inference, and under
/// --tau2-ci pl the profile-likelihood CIs of its components.
pub struct MvRun {
    pub options: MvOptions,
    pub fit: MvFit,
    pub robust: Option<RobustFit>,
    pub cis: MvProfile,
}

/// Fits the model the flags describe (warnings to stderr) and its robust inference.
pub fn fit(
    model: &ModelArgs,
    mods: Option<&str>,
    cluster: Option<&str>,
    robust: Option<RobustArg>,
    ml: &MultilevelArgs,
    loaded: &Loaded,
) -> Result<MvRun> {
    let options = mv_options(model, mods, cluster, ml, loaded)?;
    let fit = rma_mv(&loaded.studies, &options)?;
    for w in &fit.warnings {
        eprintln!("warning: {w}");
    }
    let robust = match (robust, cluster) {
        (Some(m), Some(c)) => Some(robust_mv(&fit, &loaded.studies, c, m.into())?),
        _ => None,
    };
    Ok(MvRun {
        options,
        fit,
        robust,
        cis: MvProfile::default(),
    })
}

/// The fit as `pool --json` prints it, with the robust results.
pub fn mv_json(run: &MvRun) -> serde_json::Value {
    let mut v = json::mv_json(&run.fit, &run.cis);
    if let (Some(r), Some(obj)) = (&run.robust, v.as_object_mut()) {
        obj.insert("robust".into(), json::robust_json(r));
    }
    v
}

/// Fits and prints the multilevel model, with its cluster-robust inference under --robust.
pub fn run(args: &PoolArgs, loaded: &Loaded) -> Result<()> {
    let ml = &args.multilevel;
    let (mods, cluster) = (args.mods.as_deref(), args.cluster.as_deref());
    let mut run = fit(&args.model, mods, cluster, args.robust, ml, loaded)?;
    if args.tau2_ci == Tau2CiArg::Pl {
        run.cis = confint_all(&run.fit, pl_tol(&args.model)).context("--tau2-ci pl")?;
    }
    let model = RModel::Mv {
        options: &run.options,
        confint: (args.tau2_ci == Tau2CiArg::Pl).then(|| pl_tol(&args.model)),
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

/// The root tolerance of the profile-likelihood CIs: metafor's confint() default unless --tol.
fn pl_tol(model: &ModelArgs) -> f64 {
    model.tol.unwrap_or(f64::EPSILON.powf(0.25))
}
