//! `evident pool`: pooled estimate, heterogeneity and intervals.

use super::args::{InputArgs, Loaded, ModelArgs, Pooling};
use super::choices::{RobustArg, Tau2CiArg};
use anyhow::{bail, Result};
use clap::Args;
use evident::data::{ColumnMap, Table};
use evident::effect::{EffectSet, EscalcOptions, Omitted};
use evident::model::profile::rma_pl_ci;
use evident::model::{rma, RmaFit, RmaOptions};
use evident::moderators::permutation::{permutest, PermutationOptions};
use evident::moderators::profile::metareg_pl_ci;
use evident::moderators::{metareg_formula, subgroup};
use evident::pool::mh::rma_mh;
use evident::pool::peto::rma_peto;
use evident::pool::sof::{self, Sof};
use evident::pool::view::revman5_random;
use evident::render::json;
use evident::render::text;
use evident::reported::{to_effects_with, PoolRows};
use evident::robust::{robust_metareg, robust_rma, RobustFit};

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
    #[arg(long, value_name = "[COLUMN=]LEVEL", requires = "mods")]
    pub reference: Vec<String>,
    /// With --mods: Wald test of the coefficients whose names contain this text, jointly
    /// (e.g. --test-coefs alloc for all levels of factor(alloc)); repeatable.
    #[arg(long, value_name = "TEXT", requires = "mods")]
    pub test_coefs: Vec<String>,
    /// With --mods: predicted effect (CI and prediction interval) at these values of the
    /// coefficients after the intercept, comma-separated in the order of the coefficient table
    /// (e.g. --predict 30 for "ablat"); repeat for several points.
    #[arg(
        long,
        value_name = "VALUES",
        requires = "mods",
        allow_hyphen_values = true
    )]
    pub predict: Vec<String>,
    /// Permutation test with this many random permutations (exact when there are no more
    /// distinct permutations than this): with --mods of the coefficients and QM, with --by of
    /// the mixed model's test for subgroup differences, and without either of the pooled
    /// estimate by flipping the effects' signs (exact when 2^k is at most N).
    #[arg(long, value_name = "N")]
    pub permutations: Option<usize>,
    /// Seed of the random permutations.
    #[arg(long, default_value_t = 1, requires = "permutations")]
    pub seed: u64,
    /// Subgroup analysis by a grouping column: separate fits per level and both tests for
    /// subgroup differences.
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    /// With --by: lead with the subgroup estimates of the model with one tau^2 common to all
    /// subgroups (the separate fits follow).
    #[arg(long, requires = "by")]
    pub common_tau2: bool,
    /// Confidence interval for tau^2 (and tau, I^2, H^2): Q-profile, or profile likelihood
    /// (models fitted by ML or REML; not with --by).
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        default_value = "qp",
        conflicts_with = "by"
    )]
    pub tau2_ci: Tau2CiArg,
    /// Cluster-robust tests and CIs for the fitted model (metafor's robust()): CR1 (the
    /// sandwich times n/(n - p), t and F with n - p df) or CR2 (clubSandwich: Satterthwaite df,
    /// HTZ Wald test); the clusters come from --cluster.
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        value_name = "CR1|CR2",
        requires = "cluster",
        conflicts_with_all = ["by", "reported", "permutations"]
    )]
    pub robust: Option<RobustArg>,
    /// The column whose values group the studies into clusters (e.g. the study or lab several
    /// effect sizes come from): for --robust, and for --rho or --V-block of a multilevel model.
    #[arg(long, value_name = "COLUMN")]
    pub cluster: Option<String>,
    /// Print one JSON object with the conformance corpus's keys.
    #[arg(long)]
    pub json: bool,
    /// Fit metafor's rma.glmm (--method ML) with this model: OR (UM.FS, CM.AL), IRR (UM.FS,
    /// CM.EL = CM.AL) or PLO (binomial-normal; the model is ignored).
    #[arg(long, value_enum, value_name = "MODEL")]
    pub glmm: Option<super::glmm::GlmmArg>,
    /// Rows carry whatever each paper reported (counts, estimate with CI, SE or p, ...): convert
    /// each by its own rule (as `evident recompute`) and pool the rows that give an SE.
    #[arg(long, conflicts_with_all = ["mods", "by"])]
    pub reported: bool,
    /// With --reported: pool rows that give only "p < b" at the largest SE the bound admits
    /// (conservative); by default they are reported and left out.
    #[arg(long, requires = "reported")]
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

pub fn run(args: &PoolArgs) -> Result<()> {
    if super::review::is_review(&args.input.file) {
        return super::review::run_pool(args);
    }
    if let Some(id) = &args.outcome {
        bail!(
            "--outcome {id}: {} is not a RevMan review (.rm5, or RevMan Web's CSV export of data \
             rows)",
            args.input.file.display()
        );
    }
    if args.reported {
        let p = Printer {
            json: args.json,
            r_code: None,
        };
        return run_reported(args, &p);
    }
    if args.cluster.is_some() && args.robust.is_none() && args.multilevel.random.is_empty() {
        bail!("--cluster COLUMN is used with --robust CR1|CR2, or with --rho or --V-block of a multilevel model (--random)");
    }
    let mut loaded = args.input.load()?;
    if !args.multilevel.random.is_empty() {
        return super::multilevel::run(args, &loaded);
    }
    if let Some(m) = args.glmm {
        return super::glmm::run(args, m, &loaded);
    }
    let pooling = args.model.pooling(&mut loaded)?;
    if args.robust.is_some() && !matches!(pooling, Pooling::Rma(_)) {
        bail!(
            "--robust needs an inverse-variance model: choose --method (e.g. REML or DL), not Mantel–Haenszel or Peto"
        );
    }
    let predict = args
        .predict
        .iter()
        .map(|p| parse_predict(p))
        .collect::<Result<Vec<_>>>()?;
    let p = Printer {
        json: args.json,
        r_code: show_r(args, &loaded, || r_code(args, &loaded, &pooling, &predict))?,
    };
    run_analysis(args, &mut loaded, pooling, &predict, &p)?;
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
    loaded: &mut Loaded,
    pooling: Pooling,
    predict: &[Vec<f64>],
    p: &Printer,
) -> Result<()> {
    let loaded = &*loaded;
    match pooling {
        Pooling::Rma(o) => {
            let set = loaded.effects()?;
            warn_omitted(&set.omitted, loaded);
            if let Some(f) = &args.mods {
                return run_metareg(args, loaded, &set, f, &o, predict, p);
            }
            if let Some(col) = &args.by {
                return run_subgroup(args, &set, col, &o, p);
            }
            if args.permutations.is_some() {
                return run_intercept_permutations(args, loaded, &set, &o, p);
            }
            let fit = with_tau2_ci(args, rma(&set, &o)?)?;
            let rob = robust_of(args, |c, m| robust_rma(&fit, c, m))?;
            let sof = sof::for_rma(
                &fit,
                &loaded.studies,
                args.control_risk,
                args.events_desirable,
            )?;
            print_rma_sof(&fit, sof.as_ref(), rob.as_ref(), p);
        }
        Pooling::MhRandom(..)
            if args.mods.is_some()
                || args.by.is_some()
                || args.tau2_ci == Tau2CiArg::Pl
                || args.permutations.is_some() =>
        {
            bail!(
                "RevMan 5's random-effects model (--preset revman5 --method DL on 2×2 or incidence data) takes no --mods, --by, --permutations or --tau2-ci pl; use --preset metafor --method DL for the inverse-variance model"
            );
        }
        Pooling::MhRandom(o, r) => {
            let (_, fit) = revman5_random(&loaded.studies, loaded.measure, &o, &r)?;
            print_rma(&fit, p);
        }
        Pooling::Mh(_) | Pooling::Peto(_) if args.tau2_ci == Tau2CiArg::Pl => {
            bail!("--tau2-ci pl needs a model fitted by ML or REML (--method ML or REML), not Mantel–Haenszel or Peto");
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

/// `--tau2-ci pl`: the fit with its Q-profile CI replaced by the profile-likelihood one.
fn with_tau2_ci(args: &PoolArgs, mut fit: RmaFit) -> Result<RmaFit> {
    if args.tau2_ci == Tau2CiArg::Pl {
        if fit.options.method.is_fixed() {
            bail!("--tau2-ci pl: the fixed-effect model has no tau^2 to estimate");
        }
        fit.tau2_ci = Some(rma_pl_ci(&fit)?);
    }
    Ok(fit)
}

/// `--robust`: cluster-robust inference by `run` with the `--cluster` column, if asked for.
fn robust_of(
    args: &PoolArgs,
    run: impl FnOnce(&str, evident::robust::RobustType) -> evident::Result<RobustFit>,
) -> Result<Option<RobustFit>> {
    match (args.robust, &args.cluster) {
        (Some(m), Some(c)) => Ok(Some(run(c, m.into())?)),
        _ => Ok(None),
    }
}

/// The fit with its cluster-robust inference and summary-of-findings row, when it has them.
fn print_rma_sof(fit: &RmaFit, sof: Option<&Sof>, rob: Option<&RobustFit>, p: &Printer) {
    if p.json {
        let mut v = json::rma_json(fit);
        if let Some(obj) = v.as_object_mut() {
            if let Some(r) = rob {
                obj.insert("robust".into(), json::robust_json(r));
            }
            if let Some(s) = sof {
                obj.insert("sof".into(), json::sof_json(s));
            }
        }
        p.emit_json(v);
    } else {
        print!("{}", text::rma_summary(fit));
        if let Some(r) = rob {
            print!("{}", text::robust_summary(r));
        }
        if let Some(s) = sof {
            print!("{}", text::sof_summary(s));
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

/// The permutation test of `--permutations`, if asked for.
fn permutations(
    args: &PoolArgs,
    fit: &evident::moderators::metareg::MetaregFit,
) -> Result<Option<evident::moderators::permutation::PermutationTest>> {
    Ok(match args.permutations {
        Some(iter) => Some(permutest(
            fit,
            &PermutationOptions {
                iter,
                seed: args.seed,
                ..Default::default()
            },
        )?),
        None => None,
    })
}

/// `--mods`: meta-regression, with `--predict`, `--test-coefs` and `--permutations`.
fn run_metareg(
    args: &PoolArgs,
    loaded: &Loaded,
    set: &EffectSet,
    formula: &str,
    o: &RmaOptions,
    predict: &[Vec<f64>],
    p: &Printer,
) -> Result<()> {
    let references = args
        .reference
        .iter()
        .map(|r| evident::moderators::Reference::parse(r))
        .collect();
    let formula = evident::moderators::Formula::parse(formula)?.with_references(references);
    let mut fit = metareg_formula(set, &formula, o)?;
    warn_omitted(&fit.omitted, loaded);
    if args.tau2_ci == Tau2CiArg::Pl {
        if fit.options.method.is_fixed() {
            bail!("--tau2-ci pl: the fixed-effects model has no residual tau^2 to estimate");
        }
        fit.tau2_ci = Some(metareg_pl_ci(&fit)?);
    }
    let mut preds = Vec::new();
    for values in predict {
        preds.push((values.clone(), fit.predict_at(values)?));
    }
    let wald = args
        .test_coefs
        .iter()
        .map(|t| fit.wald_test(t))
        .collect::<evident::Result<Vec<_>>>()?;
    let perm = permutations(args, &fit)?;
    let rob = robust_of(args, |c, m| robust_metareg(&fit, c, m))?;
    if p.json {
        let mut v = json::metareg_json(&fit);
        if let Some(obj) = v.as_object_mut() {
            if let Some(r) = &rob {
                obj.insert("robust".into(), json::robust_json(r));
            }
            if let Some(t) = &perm {
                obj.insert("permutation".into(), json::permutation_json(&fit, t));
            }
            if !preds.is_empty() {
                obj.insert("predictions".into(), json::predictions_json(&fit, &preds));
            }
            if !wald.is_empty() {
                obj.insert("wald_tests".into(), json::wald_tests_json(&wald));
            }
        }
        p.emit_json(v);
    } else {
        print!("{}", text::metareg_summary(&fit));
        if let Some(r) = &rob {
            print!("{}", text::robust_summary(r));
        }
        if !wald.is_empty() {
            print!("{}", text::wald_tests_summary(&wald));
        }
        if !preds.is_empty() {
            print!("{}", text::predictions_summary(&fit, &preds));
        }
        if let Some(t) = &perm {
            print!("{}", text::permutation_summary(&fit, t));
        }
    }
    Ok(())
}

/// `--permutations` without moderators: the pooled estimate with the sign-flip test of the
/// intercept-only model (metafor's `permutest` of an `rma` without `mods`).
fn run_intercept_permutations(
    args: &PoolArgs,
    loaded: &Loaded,
    set: &EffectSet,
    o: &RmaOptions,
    p: &Printer,
) -> Result<()> {
    let fit = rma(set, o)?;
    let model = metareg_formula(set, &evident::moderators::Formula::parse("1")?, o)?;
    let perm = permutations(args, &model)?;
    let sof = sof::for_rma(
        &fit,
        &loaded.studies,
        args.control_risk,
        args.events_desirable,
    )?;
    if p.json {
        let mut v = json::rma_json(&fit);
        if let (Some(t), Some(obj)) = (&perm, v.as_object_mut()) {
            obj.insert("permutation".into(), json::permutation_json(&model, t));
        }
        if let (Some(s), Some(obj)) = (&sof, v.as_object_mut()) {
            obj.insert("sof".into(), json::sof_json(s));
        }
        p.emit_json(v);
    } else {
        print!("{}", text::rma_summary(&fit));
        if let Some(s) = &sof {
            print!("{}", text::sof_summary(s));
        }
        if let Some(t) = &perm {
            print!("{}", text::permutation_summary(&model, t));
        }
    }
    Ok(())
}

/// `--by`: subgroup analysis, with `--permutations` of the mixed model.
fn run_subgroup(
    args: &PoolArgs,
    set: &EffectSet,
    col: &str,
    o: &RmaOptions,
    p: &Printer,
) -> Result<()> {
    let fit = subgroup(set, col, o)?;
    let perm = permutations(args, &fit.mixed)?;
    if p.json {
        let mut v = json::subgroup_json(&fit);
        if let (Some(t), Some(obj)) = (&perm, v.as_object_mut()) {
            obj.insert(
                "mixed_permutation".into(),
                json::permutation_json(&fit.mixed, t),
            );
        }
        p.emit_json(v);
    } else {
        print!("{}", text::subgroup_summary(&fit, args.common_tau2));
        if let Some(t) = &perm {
            print!("{}", text::permutation_summary(&fit.mixed, t));
        }
    }
    Ok(())
}

/// Reads a file of reported rows as `--delimiter`, `--decimal` and `--col` say. The escalc
/// options (`--add`, `--to`, `--drop00`, `--vtype`) and `--scale` cannot apply: every row is
/// converted by its own rule on its measure's scale, so they are refused rather than ignored.
fn reported_table(input: &InputArgs) -> Result<Table> {
    let r = &input.read;
    let given = [
        ("--add", r.add.is_some()),
        ("--to", r.escalc()?.to != EscalcOptions::default().to),
        ("--drop00", r.drop00.is_some()),
        (
            "--vtype",
            r.escalc()?.vtype != EscalcOptions::default().vtype,
        ),
        ("--scale", r.scale.is_some()),
    ];
    let refused: Vec<&str> = given.iter().filter(|g| g.1).map(|g| g.0).collect();
    if !refused.is_empty() {
        bail!(
            "{} cannot apply to --reported rows: each row is converted by its own rule, on its \
             measure's scale",
            refused.join(", ")
        );
    }
    let mut table = super::args::read_data_file(&input.file, &r.csv_options()?)?;
    for w in &table.warnings {
        eprintln!("warning: {w}");
    }
    map_reported_columns(&mut table, &r.column_map()?)?;
    Ok(table)
}

/// `--col FIELD=COLUMN` for reported rows: the column is renamed to the field (a column already
/// bearing that name gives way, so that the mapping wins).
fn map_reported_columns(table: &mut Table, map: &ColumnMap) -> Result<()> {
    let fields = evident::reported::rows::FIELDS;
    for (field, column) in map {
        let Some(&canonical) = fields.iter().find(|f| f.eq_ignore_ascii_case(field)) else {
            bail!(
                "--col {field}=...: '{field}' is not a field of reported rows (known: {})",
                fields.join(", ")
            );
        };
        let Some(ix) = table.column(column) else {
            bail!(
                "{}: --col {field}={column}: the file has no column '{column}'",
                table.source.display()
            );
        };
        for (j, h) in table.headers.iter_mut().enumerate() {
            if j != ix && h.eq_ignore_ascii_case(canonical) {
                *h = format!("{h} (replaced by --col {field}={column})");
            }
        }
        table.headers[ix] = canonical.to_string();
    }
    Ok(())
}

fn run_reported(args: &PoolArgs, p: &Printer) -> Result<()> {
    let options = args.model.rma_options()?;
    let table = reported_table(&args.input)?;
    let (set, rows, _) = to_effects_with(
        &table,
        args.input.read.measure.as_deref(),
        PoolRows {
            include_se_bounds: args.include_p_bounds,
            allow_mixed_ratios: args.input.read.allow_mixed_ratios,
        },
    )?;
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
    print_rma(&with_tau2_ci(args, rma(&set, &options)?)?, p);
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
        let how = match evident::robust::RobustType::from(m) {
            evident::robust::RobustType::CR1 => "adjust = TRUE",
            evident::robust::RobustType::CR2 => "clubSandwich = TRUE",
        };
        let col = evident::render::rcode::r_string(c);
        code.push_str(&format!("robust(res, cluster = dat[[{col}]], {how})\n"));
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
