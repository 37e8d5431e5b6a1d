//! `evident pool`: pooled estimate, heterogeneity and intervals.

use super::args::{InputArgs, Loaded, ModelArgs, Pooling, ReadInput};
use super::choices::{RobustArg, Tau2CiArg};
use anyhow::{bail, Result};
use clap::Args;
use evident::app::options::PoolOptions;
use evident::app::pool;
use evident::data::Table;
use evident::effect::{Omitted, StudyIntervals};
use evident::model::RmaFit;
use evident::pool::mh::rma_mh;
use evident::pool::peto::rma_peto;
use evident::pool::sof::{self, Sof};
use evident::pool::view::revman5_random;
use evident::render::json;
use evident::render::text;

#[derive(Args, Debug)]
pub struct PoolArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Meta-regression on moderators: the right-hand side of an R formula, e.g. "ablat + year",
    /// "factor(alloc)", "dose*age", "x - 1".
    #[arg(long, value_name = "FORMULA", conflicts_with = "by")]
    pub mods: Option<String>,
    /// With --mods: the reference level of a factor, as COLUMN=LEVEL (or LEVEL alone for every
    /// factor that has it); repeatable. By default the reference is the first level, text
    /// levels in byte order ("Placebo" before "active") as R with LC_COLLATE=C; R in an
    /// English locale sorts case-insensitively. relevel(arm, ref = "Placebo") in the formula
    /// does the same.
    #[arg(long, value_name = "[COLUMN=]LEVEL")]
    pub reference: Vec<String>,
    /// With --mods: Wald test of the coefficients whose names contain this text, jointly
    /// (e.g. --test-coefs alloc for all levels of factor(alloc)); repeatable.
    #[arg(long, value_name = "TEXT")]
    pub test_coefs: Vec<String>,
    /// With --mods: predicted effect (CI and prediction interval) at these values of the
    /// coefficients after the intercept, comma-separated in the order of the coefficient table
    /// (e.g. --predict 30 for "ablat"); repeat for several points.
    #[arg(long, value_name = "VALUES", allow_hyphen_values = true)]
    pub predict: Vec<String>,
    /// Permutation test with this many random permutations (exact when there are no more
    /// distinct permutations than this): with --mods of the coefficients and QM, with --by of
    /// the mixed model's test for subgroup differences, and without either of the pooled
    /// estimate by flipping the effects' signs (exact when 2^k is at most N).
    #[arg(long, value_name = "N")]
    pub permutations: Option<usize>,
    /// Seed of the random permutations (default 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Subgroup analysis by a grouping column: separate fits per level and both tests for
    /// subgroup differences.
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    /// With --by: lead with the subgroup estimates of the model with one tau^2 common to all
    /// subgroups (the separate fits follow).
    #[arg(long)]
    pub common_tau2: bool,
    /// Confidence interval for tau^2 (and tau, I^2, H^2): Q-profile, or profile likelihood
    /// (models fitted by ML or REML; not with --by).
    #[arg(long, value_enum, ignore_case = true, default_value = "qp")]
    pub tau2_ci: Tau2CiArg,
    /// Cluster-robust tests and CIs for the fitted model (metafor's robust()): CR1 (the
    /// sandwich times n/(n - p), t and F with n - p df) or CR2 (clubSandwich: Satterthwaite df,
    /// HTZ Wald test); the clusters come from --cluster.
    #[arg(long, value_enum, ignore_case = true, value_name = "CR1|CR2")]
    pub robust: Option<RobustArg>,
    /// The column whose values group the studies into clusters (e.g. the study or lab several
    /// effect sizes come from): for --robust, and for --rho or --V-block of a multilevel model.
    #[arg(long, value_name = "COLUMN")]
    pub cluster: Option<String>,
    /// Each study's own interval for single proportions (PR, PLO, PAS, PFT, PLN) and rates
    /// (IR, IRLN), on the proportion (rate) scale around x/n: cp (Clopper–Pearson; Garwood's
    /// exact interval for rates), wilson, or wald (yi ± z·√vi back-transformed); the JSON's
    /// "studies" entry.
    #[arg(long, value_enum, ignore_case = true, default_value = "cp")]
    pub study_ci: super::choices::StudyCiArg,
    /// Print one JSON object with the conformance corpus's keys.
    #[arg(long)]
    pub json: bool,
    /// Fit metafor's rma.glmm (--method ML) with this model: OR (UM.FS, CM.AL), IRR (UM.FS,
    /// CM.EL = CM.AL) or PLO (binomial-normal; the model is ignored).
    #[arg(long, value_enum, value_name = "MODEL")]
    pub glmm: Option<super::glmm::GlmmArg>,
    /// Rows carry whatever each paper reported (counts, estimate with CI, SE or p, ...): convert
    /// each by its own rule (as `evident recompute`) and pool the rows that give an SE.
    #[arg(long)]
    pub reported: bool,
    /// With --reported: pool rows that give only "p < b" at the largest SE the bound admits
    /// (conservative); by default they are reported and left out.
    #[arg(long)]
    pub include_p_bounds: bool,
    /// Assumed control risk (0–1) for the summary-of-findings row of an OR, RR or RD: risk with
    /// the intervention and absolute effect per 1,000, and the NNT (Altman 1998). Default: the
    /// median control-arm risk of the 2x2 studies.
    #[arg(long, value_name = "RISK", conflicts_with_all = ["mods", "by", "reported"])]
    pub control_risk: Option<f64>,
    /// The event counted is a good one (response, recovery): fewer events is then harm, and the
    /// NNT's benefit and harm swap.
    #[arg(long)]
    pub events_desirable: bool,
    /// Also print the metafor (R) code that reproduces the analysis; with --json it is the
    /// "r_code" key.
    #[arg(long, conflicts_with = "reported")]
    pub show_r: bool,
    /// With a RevMan review (.rm5, or RevMan Web's CSV export of data rows): the analysis to
    /// pool, as comparison.outcome (e.g. 1.1), with the review's measure, method and model
    /// unless --measure, --method or --level say otherwise.
    #[arg(long, value_name = "ID")]
    pub outcome: Option<String>,
    #[command(flatten)]
    pub text: super::args::TextArgs,
    #[command(flatten)]
    pub multilevel: super::multilevel::MultilevelArgs,
}

/// How results are printed: one JSON object or text, with the `--show-r` code (the "r_code"
/// key of the JSON, or after the text).
struct Printer {
    json: bool,
    r_code: Option<String>,
}

impl Printer {
    /// Prints a result's JSON object with the `--show-r` code, if any.
    fn emit_json(&self, mut v: serde_json::Value) {
        if let (Some(code), Some(obj)) = (&self.r_code, v.as_object_mut()) {
            obj.insert("r_code".into(), code.clone().into());
        }
        println!("{v}");
    }

    /// Prints the `--show-r` code after a text summary.
    fn finish(&self) {
        if let (false, Some(code)) = (self.json, &self.r_code) {
            print!("\n{code}");
        }
    }
}

impl PoolArgs {
    /// The library's options of these flags, checked by the library's rules (the one place
    /// they are written; its messages name the keys, turned into these flags here).
    pub fn pool_options(&self) -> Result<PoolOptions> {
        let ml = &self.multilevel;
        let o = PoolOptions {
            mods: self.mods.clone(),
            reference: self.reference.clone(),
            test_coefs: self.test_coefs.clone(),
            predict: self
                .predict
                .iter()
                .map(|p| parse_predict(p))
                .collect::<Result<_>>()?,
            permutations: self.permutations,
            seed: self.seed,
            by: self.by.clone(),
            common_tau2: self.common_tau2,
            tau2_ci: self.tau2_ci.into(),
            robust: self.robust.map(Into::into),
            cluster: self.cluster.clone(),
            control_risk: self.control_risk,
            events_desirable: self.events_desirable,
            reported: self.reported,
            include_p_bounds: self.include_p_bounds,
            multilevel: ml.options()?,
            escalc: self.input.read.escalc()?,
            drop00: self.input.read.drop00,
            scale: self.input.read.scale(),
            study_ci: self.study_ci.into(),
            ..self.model.options()
        };
        o.check().map_err(flags)?;
        Ok(o)
    }
}

use super::hints::option_error as flags;

pub fn run(args: &PoolArgs) -> Result<()> {
    let input = args.input.read_input();
    if input.review {
        return super::review::run_pool(args);
    }
    if let Some(id) = &args.outcome {
        bail!(
            "--outcome {id}: {} is not a RevMan review (.rm5, or RevMan Web's CSV export of data \
             rows)",
            args.input.file.display()
        );
    }
    let po = args.pool_options()?;
    if args.reported {
        let p = Printer {
            json: args.json,
            r_code: None,
        };
        return run_reported(args, &po, input, &p);
    }
    let mut loaded = args.input.load_table(input.table()?)?;
    if !args.multilevel.random.is_empty() {
        return super::multilevel::run(args, &po, &loaded);
    }
    if let Some(m) = args.glmm {
        return super::glmm::run(args, m, &loaded);
    }
    let pooling = args.model.pooling(&mut loaded)?;
    if !matches!(pooling, Pooling::Rma(_)) {
        pool::refuse_for_tables(&po).map_err(flags)?;
    }
    let p = Printer {
        json: args.json,
        r_code: show_r(args, &loaded, || {
            r_code(args, &loaded, &pooling, &po.predict)
        })?,
    };
    run_analysis(args, &po, &mut loaded, pooling, &p)?;
    p.finish();
    Ok(())
}

/// The values of one `--predict`, comma- or space-separated.
fn parse_predict(p: &str) -> Result<Vec<f64>> {
    p.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<f64>()
                .map_err(|_| anyhow::anyhow!("--predict: '{t}' is not a number"))
        })
        .collect()
}

fn run_analysis(
    args: &PoolArgs,
    po: &PoolOptions,
    loaded: &mut Loaded,
    pooling: Pooling,
    p: &Printer,
) -> Result<()> {
    let loaded = &*loaded;
    match pooling {
        Pooling::Rma(o) => {
            let mut set = loaded.effects()?;
            set.study_ci = StudyIntervals::compute(&loaded.studies, &set, po.study_ci, o.level)?;
            warn_omitted(&set.omitted, loaded);
            if let Some(f) = &args.mods {
                let run = pool::run_metareg(&set, f, &o, po).map_err(flags)?;
                warn_omitted(&run.fit.omitted, loaded);
                return print_metareg(&run, p);
            }
            if let Some(col) = &args.by {
                let run = pool::run_subgroup(&set, col, &o, po)?;
                print_subgroup(&run, args.common_tau2, p);
                return Ok(());
            }
            let run = pool::run_rma(&set, &o, po).map_err(flags)?;
            let sof = sof::for_rma(
                &run.fit,
                &loaded.studies,
                args.control_risk,
                args.events_desirable,
            )?;
            print_rma_run(&run, sof.as_ref(), p);
        }
        Pooling::MhRandom(..) if args.mods.is_some() || args.by.is_some() => {
            bail!(
                "RevMan 5's random-effects model (--preset revman5 --method DL on 2×2 or incidence data) takes no --mods or --by; use --preset metafor --method DL for the inverse-variance model"
            );
        }
        Pooling::MhRandom(o, r) => {
            let (_, fit) = revman5_random(&loaded.studies, loaded.measure, &o, &r)?;
            print_rma(&fit, p);
        }
        Pooling::Mh(_) | Pooling::Peto(_) if args.mods.is_some() || args.by.is_some() => {
            bail!(
                "--mods and --by need an inverse-variance model: choose --method (e.g. REML or DL), not Mantel–Haenszel or Peto"
            );
        }
        Pooling::Mh(o) | Pooling::Peto(o) => {
            let fit = if matches!(pooling, Pooling::Mh(_)) {
                rma_mh(&loaded.studies, loaded.measure, &o)?
            } else {
                rma_peto(&loaded.studies, &o)?
            };
            let sof = sof::for_mh(
                &fit,
                &loaded.studies,
                o.level.percent(),
                args.control_risk,
                args.events_desirable,
            )?;
            if args.json {
                let mut v = json::mh_json(&fit);
                if let (Some(s), Some(obj)) = (&sof, v.as_object_mut()) {
                    obj.insert("sof".into(), json::sof_json(s));
                }
                p.emit_json(v);
            } else {
                print!("{}", text::mh_summary(&fit));
                if let Some(s) = &sof {
                    print!("{}", text::sof_summary(s));
                }
            }
        }
    }
    Ok(())
}

fn warn_omitted(omitted: &[Omitted], loaded: &Loaded) {
    super::args::warn_omitted(omitted, &loaded.studies.lines);
}

/// The pooled model with its cluster-robust inference, summary-of-findings row and permutation
/// test, when it has them.
fn print_rma_run(run: &pool::RmaRun, sof: Option<&Sof>, p: &Printer) {
    if p.json {
        let mut v = pool::rma_run_json(run);
        if let (Some(s), Some(obj)) = (sof, v.as_object_mut()) {
            obj.insert("sof".into(), json::sof_json(s));
        }
        p.emit_json(v);
    } else {
        print!("{}", text::rma_summary(&run.fit));
        if let Some(r) = &run.extras.robust {
            print!("{}", text::robust_summary(r));
        }
        if let Some(s) = sof {
            print!("{}", text::sof_summary(s));
        }
        if let Some((model, t)) = &run.extras.permutation {
            print!("{}", text::permutation_summary(model, t));
        }
    }
}

fn print_rma(fit: &RmaFit, p: &Printer) {
    if p.json {
        p.emit_json(json::rma_json(fit));
    } else {
        print!("{}", text::rma_summary(fit));
    }
}

/// `--mods`: the meta-regression, with `--predict`, `--test-coefs`, `--permutations` and
/// `--robust`.
fn print_metareg(run: &pool::MetaregRun, p: &Printer) -> Result<()> {
    let (fit, x) = (&run.fit, &run.extras);
    if p.json {
        p.emit_json(pool::metareg_run_json(fit, x));
        return Ok(());
    }
    print!("{}", text::metareg_summary(fit));
    if let Some(r) = &x.robust {
        print!("{}", text::robust_summary(r));
    }
    if !x.wald.is_empty() {
        print!("{}", text::wald_tests_summary(&x.wald));
    }
    if !x.predictions.is_empty() {
        print!("{}", text::predictions_summary(fit, &x.predictions));
    }
    if let Some(t) = &x.permutation {
        print!("{}", text::permutation_summary(fit, t));
    }
    Ok(())
}

/// `--by`: the subgroup analysis, with `--permutations` of the mixed model.
fn print_subgroup(run: &pool::SubgroupRun, common_tau2: bool, p: &Printer) {
    if p.json {
        p.emit_json(pool::subgroup_run_json(&run.fit, run.permutation.as_ref()));
    } else {
        print!("{}", text::subgroup_summary(&run.fit, common_tau2));
        if let Some(t) = &run.permutation {
            print!("{}", text::permutation_summary(&run.fit.mixed, t));
        }
    }
}

/// Reads a file of reported rows as `--delimiter`, `--decimal` and `--col` say (the escalc
/// options and `--scale`, which cannot apply to them, are refused by [`PoolOptions::check`]).
fn reported_table(input: &InputArgs, mut table: Table) -> Result<Table> {
    let r = &input.read;
    for w in &table.warnings {
        eprintln!("warning: {w}");
    }
    pool::map_reported_columns(&mut table, &r.column_map()?).map_err(flags)?;
    Ok(table)
}

fn run_reported(args: &PoolArgs, po: &PoolOptions, input: ReadInput, p: &Printer) -> Result<()> {
    let options = args.model.rma_options()?;
    let table = reported_table(&args.input, input.table()?)?;
    let (set, rows) = pool::reported_effects(&table, args.input.read.measure.as_deref(), po)?;
    super::args::warn_mixed_ratios(&set);
    for r in &rows {
        let bounded = args.include_p_bounds
            && matches!(r.se_bound, Some(evident::reported::FromP::SeAtMost { .. }));
        let used = if bounded {
            "pooled at the SE bound"
        } else if r.effect.is_some() {
            "pooled"
        } else {
            "excluded"
        };
        eprintln!(
            "{} (line {}): {} [{used}]{}",
            r.study,
            r.line,
            r.rule.name(),
            r.notes.iter().map(|n| format!("; {n}")).collect::<String>()
        );
    }
    let run = pool::run_rma(&set, &options, po).map_err(flags)?;
    print_rma(&run.fit, p);
    Ok(())
}

/// The metafor code of this analysis (`--show-r`).
fn r_code(
    args: &PoolArgs,
    loaded: &Loaded,
    pooling: &Pooling,
    predict: &[Vec<f64>],
) -> Result<String> {
    use evident::render::rcode::RModel;
    let model = match pooling {
        Pooling::Rma(o) => RModel::Rma {
            options: o,
            mods: args.mods.as_deref(),
            references: &args.reference,
            by: args.by.as_deref(),
            tau2_ci_pl: args.tau2_ci == Tau2CiArg::Pl,
            predict,
            test_coefs: &args.test_coefs,
            permutations: args.permutations,
        },
        Pooling::Mh(o) => RModel::Mh(o),
        Pooling::Peto(o) => RModel::Peto(o),
        Pooling::MhRandom(..) => RModel::Unsupported(
            "RevMan 5's random-effects model (tau^2 from the Mantel-Haenszel Q) has no metafor call",
        ),
    };
    model_r_code(args, loaded, model)
}

/// The metafor code of a fitted model, with `robust(...)` under --robust.
pub(super) fn model_r_code(
    args: &PoolArgs,
    loaded: &Loaded,
    model: evident::render::rcode::RModel,
) -> Result<String> {
    use evident::render::rcode::{metafor_code, RSource, RSpec};
    let r = &args.input.read;
    let format = &loaded.format;
    let layout = evident::data::Layout::detect_for(
        &format.headers,
        &loaded.studies.source,
        &r.column_map()?,
        Some(loaded.measure),
    )?;
    let spec = RSpec {
        source: RSource {
            path: args.input.file.display().to_string(),
            sep: format.delimiter,
            decimal_comma: format.decimal_comma,
            columns: layout.field_columns(&format.headers),
            subset: None,
        },
        kind: loaded.studies.data.kind(),
        measure: loaded.measure,
        escalc: loaded.escalc,
        scale: loaded
            .studies
            .data
            .kind()
            .scale(loaded.measure, loaded.scale),
        model,
    };
    let mut code = metafor_code(&spec);
    if let (Some(m), Some(c)) = (args.robust, &args.cluster) {
        code.push_str(&evident::render::rcode::robust_call(m.into(), c));
    }
    Ok(code)
}

/// The `--show-r` code, unless the data came from a workbook R cannot read as CSV.
pub(super) fn show_r(
    args: &PoolArgs,
    loaded: &Loaded,
    code: impl FnOnce() -> Result<String>,
) -> Result<Option<String>> {
    match args.show_r {
        true if loaded.format.workbook => {
            eprintln!("warning: --show-r writes R code that reads a CSV file: save the sheet as CSV to re-run the analysis in R");
            Ok(None)
        }
        true => code().map(Some),
        false => Ok(None),
    }
}
