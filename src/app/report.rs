//! The batch report: find the analyses in the inputs, run each in parallel, write one directory
//! per analysis and an index. One failing analysis never stops the others.

use super::manifest::{AnalysisConfig, Manifest, MANIFEST_NAME};
use super::options::parse_key;
use super::options::preset_of as preset;
use super::options::PoolOptions;
pub use super::options::{escalc_options, options};
use super::pool;
use super::tables::Tables;
use crate::app::forest::{forest_options, multilevel_forest, ForestChoices};
use crate::app::outdir::{create_dir_new, write_new, ReportDir};
use crate::app::presets::{report_glmm, GlmmChoice, PoolMethod};
use crate::bias::panel::{BiasPanel, FewStudies, ADVICE_SOURCE, ADVISED_K, MIN_K};
use crate::bias::{PetPeese, Ranktest, Regtest, SelModel, TrimFill};
use crate::data::{ColumnMap, CsvOptions, Data, Studies, Table};
use crate::effect::{EffectSet, StudyIntervals};
use crate::error::{Error, Result};
use crate::glmm::{rma_glmm, GlmmOptions};
use crate::measure::{Measure, Scale};
use crate::model::heterogeneity::Tau2CiType;
use crate::model::{Method, RmaFit, RmaOptions, Test};
use crate::moderators::metareg::MetaregFit;
use crate::moderators::subgroup::SubgroupFit;
use crate::pool::sof::Sof;
use crate::pool::view::{fit_with_view, revman5_random};
use crate::pool::{MhFit, MhOptions, TablePooling};
pub use crate::render::html::analysis::{Analysis, Bubble, Entry, ReportOptions, Spec, Step};
use crate::render::html::analysis::{GlmmRole, GlmmStep, MetaregExtras, PooledExtras};
use crate::render::html::page;
use crate::render::plot::forest::{forest, ForestOptions, MultilevelLayout, PlotSize, RobustRow};
use crate::render::plot::funnel::{funnel, FunnelOptions};
use crate::render::plot::render::svg_to_png;
use crate::render::plot::rob::rob_columns;
use crate::render::plot::robfig::{summary_bars, traffic_light, RobTable};
use crate::render::rcode::RModel;
use crate::render::slug;
use crate::robust::RobustType;
use crate::sensitivity::tables::leave1out_tables;
use crate::sensitivity::{leave1out, RefitSeries};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Name of the column that splits a long CSV into analyses.
pub const ANALYSIS_COLUMN: &str = "analysis";
/// Resolution of the PNG forest plots.
pub const PNG_DPI: f64 = 150.0;
/// Resolution of the forest plot in a Word document (print).
pub const DOCX_DPI: f64 = 300.0;

/// What the planner found: analyses to run, and entries that are listed without running.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The report's title, from the first manifest that sets one.
    pub title: Option<String>,
    /// The analyses to run.
    pub specs: Vec<Spec>,
    /// (name, file, reason): excluded by the manifest, or not poolable.
    pub skipped: Vec<(String, PathBuf, String)>,
    /// (name, error): inputs that could not even be read.
    pub failed: Vec<(String, String)>,
    /// The errors of the manifests that could not be read (also in `failed`): a run should stop
    /// on them rather than report the directory with default settings.
    pub invalid_manifests: Vec<String>,
}

fn dedupe(name: &str, used: &mut HashSet<String>) -> String {
    let base = slug(name);
    // "index" would collide with nothing (pages live in directories), but keep names distinct
    // case-insensitively for case-insensitive file systems.
    let mut cand = base.clone();
    let mut i = 2;
    while !used.insert(cand.to_ascii_lowercase()) {
        cand = format!("{base}-{i}");
        i += 1;
    }
    cand
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "analysis".into())
}

fn is_csv(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("tsv"))
}

/// The `analysis` values of a long CSV in order of first appearance, or `None` for a plain CSV.
fn long_csv_names(file: &Path, csv: &CsvOptions) -> Result<Option<Vec<String>>> {
    let t = Table::from_path(file, csv)?;
    let Some(c) = t.column(ANALYSIS_COLUMN) else {
        return Ok(None);
    };
    let mut seen = HashSet::new();
    let mut names = Vec::new();
    for r in &t.rows {
        let v = r[c].trim().to_string();
        if seen.insert(v.clone()) {
            names.push(v);
        }
    }
    Ok(Some(names))
}

/// Finds the analyses in `inputs`: directories (with or without an `evident.toml`), manifests,
/// CSV files (long CSVs with an `analysis` column give one analysis per value).
pub fn plan(inputs: &[PathBuf]) -> Plan {
    let mut p = Planner::default();
    for input in inputs {
        if input.is_dir() {
            p.add_dir(input);
        } else if input.file_name().is_some_and(|n| n == MANIFEST_NAME)
            || input.extension().is_some_and(|e| e == "toml")
        {
            p.add_manifest(input);
        } else if input.is_file() && crate::data::revman::is_review_file(input) {
            p.add_review(input);
        } else if input.is_file() {
            p.base = input.parent().map(Path::to_path_buf).unwrap_or_default();
            p.add_file(input, AnalysisConfig::default());
        } else {
            p.plan.failed.push((
                input.display().to_string(),
                "no such file or directory".into(),
            ));
        }
    }
    p.plan
}

/// The plan being built, with the directory names taken and the files a manifest named.
#[derive(Default)]
struct Planner {
    plan: Plan,
    used: HashSet<String>,
    named: HashSet<PathBuf>,
    /// The directory of the input being planned (see [`Spec::base`]).
    base: PathBuf,
}

/// `message` with `base` (and the path separator after it) taken off the paths it names, so
/// that an error row of the report reads `sub/bcg.csv`, not `/home/me/project/sub/bcg.csv`.
fn relative_to(message: &str, base: &Path) -> String {
    if base.as_os_str().is_empty() {
        return message.to_string();
    }
    message.replace(
        &format!("{}{}", base.display(), std::path::MAIN_SEPARATOR),
        "",
    )
}

impl Planner {
    /// One CSV with its settings: skipped when excluded, one analysis per `analysis` value of a
    /// long CSV, else one analysis.
    fn add_file(&mut self, file: &Path, cfg: AnalysisConfig) {
        let given = cfg.name.clone();
        if let Some(reason) = &cfg.exclude {
            let name = given.unwrap_or_else(|| stem(file));
            self.plan
                .skipped
                .push((name, file.to_path_buf(), reason.clone()));
            return;
        }
        let long = if cfg.analysis.is_some() {
            Ok(None)
        } else {
            long_csv_names(file, &csv_of(&cfg))
        };
        match long {
            Err(e) => {
                let name = given.unwrap_or_else(|| stem(file));
                let error = relative_to(&e.to_string(), &self.base);
                self.plan.failed.push((name, error));
            }
            Ok(Some(values)) => {
                for v in values {
                    let name = match &given {
                        Some(g) => format!("{g} {v}"),
                        None => v.clone(),
                    };
                    self.push(name, file, Some(v), cfg.clone());
                }
            }
            Ok(None) => {
                let name = given
                    .or_else(|| cfg.analysis.clone())
                    .unwrap_or_else(|| stem(file));
                let rows = cfg.analysis.clone();
                self.push(name, file, rows, cfg);
            }
        }
    }

    /// A RevMan review: one analysis per outcome, pooled as the review says, titled
    /// "1.1 Comparison: Outcome"; the review's title is the report's unless one is set.
    fn add_review(&mut self, path: &Path) {
        let review = match crate::data::revman::read_review(path) {
            Ok(r) => r,
            Err(e) => {
                let name = path.display().to_string();
                return self.plan.failed.push((name, e.to_string()));
            }
        };
        if self.plan.title.is_none() {
            self.plan.title = review.title.clone();
        }
        for o in &review.outcomes {
            match super::review::report_config(o) {
                Ok(cfg) => {
                    let name = super::review::outcome_title(o);
                    self.push(name, path, Some(o.id.clone()), cfg);
                }
                Err(e) => self
                    .plan
                    .failed
                    .push((super::review::outcome_title(o), e.to_string())),
            }
        }
    }

    fn push(&mut self, name: String, file: &Path, rows: Option<String>, cfg: AnalysisConfig) {
        let dir = dedupe(&name, &mut self.used);
        self.plan.specs.push(Spec {
            name,
            dir,
            file: file.to_path_buf(),
            rows,
            cfg,
            base: self.base.clone(),
        });
    }

    /// The analyses a manifest lists (its files relative to it); the first title wins. Returns
    /// the manifest's defaults for the other files of its directory.
    fn add_manifest(&mut self, path: &Path) -> Manifest {
        self.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        match Manifest::read(path) {
            Err(e) => {
                let error = relative_to(&e.to_string(), &self.base);
                self.plan.invalid_manifests.push(e.to_string());
                self.plan.failed.push((path.display().to_string(), error));
                Manifest::default()
            }
            Ok(mut m) => {
                if self.plan.title.is_none() {
                    self.plan.title = m.title.clone();
                }
                let base = path.parent().unwrap_or(Path::new("."));
                for a in std::mem::take(&mut m.analysis) {
                    let file = base.join(a.file.as_deref().expect("checked by Manifest::parse"));
                    self.named.insert(file.clone());
                    self.add_file(&file, a);
                }
                m
            }
        }
    }

    /// A directory: its manifest, if any, then the CSVs (and RevMan reviews) it does not name, in
    /// name order.
    fn add_dir(&mut self, dir: &Path) {
        let mf = dir.join(MANIFEST_NAME);
        let mut defaults = Manifest::default();
        if mf.is_file() {
            let before = self.plan.invalid_manifests.len();
            defaults = self.add_manifest(&mf);
            if self.plan.invalid_manifests.len() > before {
                // Not the directory's CSVs with default settings instead of the manifest's.
                return;
            }
        }
        self.base = dir.to_path_buf();
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && (is_csv(p) || crate::data::revman::is_rm5(p)))
                .collect(),
            Err(e) => {
                self.plan.failed.push((
                    dir.display().to_string(),
                    format!("cannot read directory: {e}"),
                ));
                return;
            }
        };
        files.sort();
        for f in files {
            if self.named.contains(&f) || crate::data::revman::is_revman_settings(&f) {
                continue;
            }
            if crate::data::revman::is_review_file(&f) {
                self.add_review(&f);
            } else {
                let mut cfg = AnalysisConfig::default();
                defaults.apply_defaults(&mut cfg);
                self.add_file(&f, cfg);
            }
        }
    }
}

/// How an analysis's data file is read: its sheet, with the manifest's `delimiter` and
/// `decimal` (an invalid value stops the analysis before anything is read: see
/// [`PoolOptions::from_config`]).
fn csv_of(cfg: &AnalysisConfig) -> CsvOptions {
    match PoolOptions::from_config(cfg) {
        Ok(o) => o.csv_options(cfg.sheet.as_deref()),
        Err(_) => CsvOptions {
            sheet: cfg.sheet.clone(),
            ..CsvOptions::default()
        },
    }
}

/// Reads the studies of one analysis (the selected rows of a long CSV, or the whole file),
/// through the run's shared tables.
fn read(spec: &Spec, tables: &Tables) -> Result<Studies> {
    let measure = spec.cfg.measure.as_deref().and_then(|m| m.parse().ok());
    if crate::data::revman::is_rm5(&spec.file) {
        return read_outcome(spec);
    }
    let csv = csv_of(&spec.cfg);
    let table = tables.get(&spec.file, &csv)?;
    if crate::data::revman::is_revman_csv(&table.headers) {
        return read_outcome(spec);
    }
    match selected_rows(spec, tables, &table, &csv)? {
        None => Studies::from_table_for(&table, &spec.cfg.col, measure),
        Some(t) => Studies::from_table_for(&t, &spec.cfg.col, measure),
    }
}

/// The rows of a long CSV's analysis (its `analysis` value); `None` when the whole file is the
/// analysis's.
fn selected_rows(
    spec: &Spec,
    tables: &Tables,
    table: &Table,
    csv: &CsvOptions,
) -> Result<Option<Table>> {
    let Some(v) = &spec.rows else {
        return Ok(None);
    };
    let c = table.column(ANALYSIS_COLUMN).ok_or_else(|| {
        Error::invalid(format!(
            "{}: no '{ANALYSIS_COLUMN}' column to select '{v}'",
            spec.file.display()
        ))
    })?;
    let selected = tables.select(&spec.file, csv, c, v)?;
    if selected.rows.is_empty() {
        return Err(Error::invalid(format!(
            "{}: no rows with {ANALYSIS_COLUMN} = '{v}'",
            spec.file.display()
        )));
    }
    Ok(Some(selected))
}

/// A `reported` analysis: the rows converted and pooled as `pool --reported` does (the same
/// calls); the page's studies are the pooled rows' effects (yi, vi), and each row left out or
/// pooled at its SE bound is a caution.
fn reported_model(
    spec: &Spec,
    tables: &Tables,
    po: &PoolOptions,
) -> Result<(Studies, Model, Vec<String>)> {
    if !matches!(po.method, None | Some(PoolMethod::Rma(_))) {
        return Err(Error::invalid(
            "`reported` rows are pooled by an inverse-variance `method` (e.g. REML or DL), not \
             Mantel–Haenszel or Peto",
        ));
    }
    let csv = csv_of(&spec.cfg);
    let whole = tables.get(&spec.file, &csv)?;
    let mut table = match selected_rows(spec, tables, &whole, &csv)? {
        Some(t) => t,
        None => (*whole).clone(),
    };
    pool::map_reported_columns(&mut table, &spec.cfg.col)?;
    let (mut set, rows) = pool::reported_effects(&table, spec.cfg.measure.as_deref(), po)?;
    let given = |x: &[f64]| x.iter().map(|&v| Some(v)).collect();
    let studies = Studies {
        source: table.source.clone(),
        labels: set.labels.clone(),
        lines: set.rows.iter().map(|&r| table.lines[r]).collect(),
        data: Data::Precomputed {
            yi: given(&set.yi),
            vi: given(&set.vi),
        },
        moderators: Vec::new(),
        warnings: table.warnings.clone(),
    };
    // The effects now index the pooled rows' studies, not the file's rows.
    set.rows = (0..set.yi.len()).collect();
    set.moderators = Vec::new();
    // The rows left out are named, with their file lines, by `notes` below.
    set.omitted = Vec::new();
    let opts = po.rma_options()?;
    let run = pool::run_rma(&set, &opts, po)?;
    let notes = rows
        .iter()
        .filter_map(|r| {
            let bounded = matches!(r.se_bound, Some(crate::reported::FromP::SeAtMost { .. }));
            let used = match (r.effect.is_some(), po.include_p_bounds && bounded) {
                (_, true) => "pooled at the SE bound its p-value admits",
                (true, false) => return None,
                (false, false) => "left out (no SE)",
            };
            Some(format!(
                "Row '{}' (line {}), {}: {used}{}.",
                r.study,
                r.line,
                r.rule.name(),
                r.notes.iter().map(|n| format!("; {n}")).collect::<String>()
            ))
        })
        .collect();
    let model = Model {
        fit: run.fit,
        extras: run.extras,
        opts,
        tables: None,
        refit: None,
    };
    Ok((studies, model, notes))
}

/// The studies of one outcome of a RevMan review (`rows` is its id).
fn read_outcome(spec: &Spec) -> Result<Studies> {
    let review = crate::data::revman::read_review(&spec.file)?;
    let id = spec.rows.as_deref().unwrap_or_default();
    super::review::report_studies(review.outcome(id)?)
}

/// Whether a table holds p-values but no effect sizes (a page of its own is not a pooling).
fn pvalues_only(table: &Table) -> bool {
    ["pval", "p", "p_value", "pvalue"]
        .iter()
        .any(|n| table.column(n).is_some())
}

/// How an analysis pools its studies.
enum Pooling {
    /// An inverse-variance model.
    Rma(RmaOptions),
    /// Mantel–Haenszel or Peto pooling of the tables.
    Tables(TablePooling, MhOptions),
    /// RevMan 5's random-effects model for binary data.
    MhRandom(MhOptions, RmaOptions),
}

/// The pooling of an analysis: the method set, else the preset's for this data (RevMan 5:
/// Mantel–Haenszel for 2×2 and incidence data, and its random-effects model for `DL`).
fn pooling(
    cfg: &AnalysisConfig,
    po: &PoolOptions,
    studies: &Studies,
    measure: Measure,
) -> Result<Pooling> {
    let preset = preset(cfg)?;
    let method = cfg
        .method
        .as_deref()
        .map(str::parse::<PoolMethod>)
        .transpose()?;
    let binary = matches!(studies.data, Data::TwoByTwo { .. } | Data::Incidence { .. });
    let opts = options(cfg)?;
    let escalc = escalc_options(cfg)?;
    let drop00 = cfg.drop00.unwrap_or(true) || preset.drop00();
    let mh = MhOptions {
        level: opts.level,
        correct: !po.no_correct,
        ..MhOptions::for_study_effects(escalc.add, escalc.to, drop00)
    };
    let tables = |by| match cfg.test.as_deref().map(str::parse::<Test>).transpose()? {
        None | Some(Test::Z) => Ok(Pooling::Tables(by, mh)),
        Some(t) => Err(Error::invalid(format!(
            "test = \"{}\" applies to inverse-variance models; Mantel–Haenszel and Peto \
             pooling use the z test",
            t.name()
        ))),
    };
    let pooled = preset.pooling(method, binary, measure);
    po.check_no_correct(pooled)?;
    if !matches!(pooled, PoolMethod::Rma(_)) {
        pool::refuse_for_tables(po)?;
    }
    match pooled {
        PoolMethod::Rma(_) => Ok(Pooling::Rma(opts)),
        PoolMethod::MantelHaenszel => tables(TablePooling::MantelHaenszel(measure)),
        PoolMethod::Peto => tables(TablePooling::Peto),
        PoolMethod::MhRandom => Ok(Pooling::MhRandom(mh, opts)),
    }
}

/// The display name of the effect: the ratio's name from a `measure` column for reported ratios.
fn effect_name(studies: &Studies, set: &EffectSet) -> String {
    if let Data::ReportedRatio { .. } = studies.data {
        if let Some(m) = studies.moderator("measure") {
            let vals: HashSet<String> = m.values.iter().map(|v| v.as_text()).collect();
            if vals.len() == 1 {
                let v = vals.into_iter().next().unwrap_or_default();
                if !v.trim().is_empty() {
                    return v.trim().to_string();
                }
            }
        }
        return "Ratio".into();
    }
    match (set.measure, set.scale) {
        // Pre-computed effects on their own scale: the report's prose speaks of "the effect".
        (Measure::GEN, Scale::Identity) => "Effect".into(),
        (m, scale) => crate::render::plot::forest::effect_names_of(m, scale).0,
    }
}

fn not_enough(k: usize, what: &str) -> String {
    format!("not computed: k = {k} < {MIN_K} ({what} needs at least {MIN_K} studies)")
}

/// Runs one analysis: effects, model, subgroups, moderators, bias and sensitivity, plots.
pub fn analyse(spec: &Spec) -> Result<Analysis> {
    analyse_with(
        spec,
        &Tables::new([(spec.file.as_path(), csv_of(&spec.cfg))]),
    )
}

/// [`analyse`], reading the input through a run's shared tables.
fn analyse_with(spec: &Spec, tables: &Tables) -> Result<Analysis> {
    let cfg = &spec.cfg;
    let po = PoolOptions::from_config(cfg)?;
    if !po.multilevel.random.is_empty() {
        return analyse_multilevel(spec, tables, &po);
    }
    let (studies, m, row_notes) = match po.reported {
        true => reported_model(spec, tables, &po)?,
        false => {
            let studies = read(spec, tables)?;
            let measure = match &cfg.measure {
                Some(m) => m.parse::<Measure>()?,
                None => studies.data.default_measure(),
            };
            let m = fit_model(cfg, &po, &studies, measure)?;
            (studies, m, Vec::new())
        }
    };
    let (fit, opts) = (m.fit, m.opts);
    let mut warnings = warnings(
        cfg,
        &studies,
        &fit.effects,
        fit.effects.measure,
        &fit,
        &opts,
    );
    let not_iv = |what: &str| format!("not computed: {what} {NOT_IV}");
    let (sg, sg_perm) = match (&cfg.by, &m.tables) {
        (None, _) => (None, None),
        (Some(_), Some(_)) => (Some(Err(not_iv("subgroups of"))), None),
        (Some(by), None) => match pool::run_subgroup(&fit.effects, by, &opts, &po) {
            Ok(r) => (Some(Ok(r.fit)), r.permutation),
            Err(e) => (Some(Err(format!("not computed: {e}"))), None),
        },
    };
    let (mr, mr_extras) = match (cfg.mods.is_empty(), &m.tables) {
        (true, _) => (None, MetaregExtras::default()),
        (false, Some(_)) => (
            Some(Err(not_iv("meta-regression of"))),
            MetaregExtras::default(),
        ),
        (false, None) => match pool::run_metareg(&fit.effects, &cfg.mods.join(" + "), &opts, &po) {
            Ok(r) => (Some(Ok(r.fit)), r.extras),
            Err(e) => (
                Some(Err(format!("not computed: {e}"))),
                MetaregExtras::default(),
            ),
        },
    };
    let (reg, rank, mut tf, mut l1o) = small_study_steps(&fit, &opts);
    if m.tables.is_some() && fit.k >= MIN_K {
        tf = Err(not_iv("trim-and-fill of"));
        l1o = match m.refit {
            Some((by, o)) => {
                leave1out_tables(&studies, by, &o).map_err(|e| format!("not computed: {e}"))
            }
            None => Err(not_iv("leave-one-out of")),
        };
    }
    let (pp, psm) = if m.tables.is_some() && fit.k >= ADVISED_K {
        (
            Err(not_iv("PET-PEESE of")),
            Err(not_iv("the selection model of")),
        )
    } else {
        adjusted_steps(&fit, &opts)
    };
    let adjusted_agreement = agreement(&fit, &tf, &pp, &psm);
    let glmm = glmm_step(cfg, &studies, fit.effects.measure, opts.level)?;
    let glmm_row = glmm_forest_row(glmm.as_ref(), &fit);
    let forest_svg = forest_svg(&studies, &fit, cfg, &sg, None, glmm_row)?;
    let funnel_svg = funnel_svg(&fit, &tf);
    let bubbles = match &mr {
        Some(Ok(m)) => bubble_svgs(m, &cfg.xlab),
        _ => Vec::new(),
    };
    warnings.extend(xlab_warnings(cfg, &bubbles));
    let sof = sof_row(&studies, &fit, &po);
    if let Some(g @ GlmmStep { fit: Err(why), .. }) = &glmm {
        warnings.push(format!("The {} was {why}.", g.name()));
    }
    let rob_svgs = rob_svgs(&fit);
    warnings.extend(row_notes);
    // The R code reads the file's effect columns; reported rows have none to read.
    let r_code = (fit.k > 1 && !po.reported).then(|| {
        let model = rma_r_model(&opts, &m.tables, &m.refit);
        let robust = po.robust.zip(po.cluster.as_deref());
        r_code(spec, tables, &studies, &fit.effects, model, robust)
            .map_err(|e| format!("not available: {e}"))
    });
    Ok(Analysis {
        spec: spec.clone(),
        effect_name: effect_name(&studies, &fit.effects),
        studies,
        fit,
        tables: m.tables,
        extras: m.extras,
        subgroup: sg,
        subgroup_permutation: sg_perm,
        metareg: mr,
        metareg_extras: mr_extras,
        multilevel: None,
        bubbles,
        regtest: reg,
        ranktest: rank,
        trimfill: tf,
        pet_peese: pp,
        three_psm: psm,
        adjusted_agreement,
        leave1out: l1o,
        forest_svg,
        funnel_svg,
        warnings,
        sof,
        rob_svgs,
        r_code,
        glmm,
    })
}

/// A multilevel analysis (`random`; with `mods`, a multilevel meta-regression): the `rma.mv`
/// fit and robust inference of `pool --random`, drawn as `forest --random` draws it (a
/// meta-regression with each row's fitted value instead of a pooled diamond). The steps that
/// assume independent effects (funnel, Egger, Begg, trim-and-fill, leave-one-out) are not run
/// on dependent ones.
fn analyse_multilevel(spec: &Spec, tables: &Tables, po: &PoolOptions) -> Result<Analysis> {
    let cfg = &spec.cfg;
    let studies = read(spec, tables)?;
    let measure = match &cfg.measure {
        Some(m) => m.parse::<Measure>()?,
        None => studies.data.default_measure(),
    };
    // `pool --random` computes the effects with the escalc options as given.
    let mv = pool::run_mv(&studies, measure, po.escalc_options()?, po)?;
    let (view, layout) = multilevel_forest(
        &studies,
        &mv.fit,
        &mv.options,
        mv.robust.as_ref(),
        po.cluster.as_deref(),
    )?;
    let forest_svg = forest_svg(&studies, &view, cfg, &None, Some(layout), None)?;
    let model = RModel::Mv {
        options: &mv.options,
        confint: (po.tau2_ci == Tau2CiType::ProfileLikelihood).then(|| pool::mv_pl_tol(po)),
    };
    let robust = mv.robust.as_ref().map(|r| (r.method, r.cluster.as_str()));
    let r_code = Some(
        r_code(spec, tables, &studies, &view.effects, model, robust)
            .map_err(|e| format!("not available: {e}")),
    );
    let mut warnings: Vec<String> = cfg.note.iter().cloned().collect();
    warnings.extend(studies.warnings.iter().map(|w| format!("{w}.")));
    warnings.extend(mv.fit.warnings.iter().cloned());
    let skip = |what: &str| {
        format!(
            "not computed: {what} assumes independent effects, and these are modelled as dependent"
        )
    };
    Ok(Analysis {
        spec: spec.clone(),
        effect_name: effect_name(&studies, &view.effects),
        studies,
        fit: view,
        tables: None,
        extras: PooledExtras::default(),
        subgroup: None,
        subgroup_permutation: None,
        metareg: None,
        metareg_extras: MetaregExtras::default(),
        multilevel: Some(mv),
        bubbles: Vec::new(),
        regtest: Err(skip("Egger's test")),
        ranktest: Err(skip("Begg's test")),
        trimfill: Err(skip("trim-and-fill")),
        pet_peese: Err(skip("PET-PEESE")),
        three_psm: Err(skip("the selection model")),
        adjusted_agreement: None,
        leave1out: Err(skip("leave-one-out")),
        forest_svg,
        funnel_svg: Err(skip("a funnel plot")),
        warnings,
        sof: None,
        rob_svgs: None,
        r_code,
        glmm: None,
    })
}

/// The metafor code of an analysis's pooled model (`pool --show-r`'s), from what was read and
/// fitted: the file by its path relative to the input, the rows of a long CSV selected.
fn r_code(
    spec: &Spec,
    tables: &Tables,
    studies: &Studies,
    set: &EffectSet,
    model: RModel,
    robust: Option<(RobustType, &str)>,
) -> Result<String> {
    use crate::render::rcode::{metafor_code, robust_call, RSource, RSpec};
    let table = tables.get(&spec.file, &csv_of(&spec.cfg))?;
    if table.sheet.is_some() {
        return Err(crate::error::Error::invalid(
            "the R code reads a CSV file: save the sheet as CSV to re-run it in R",
        ));
    }
    let measure = spec.cfg.measure.as_deref().and_then(|m| m.parse().ok());
    let layout =
        crate::data::Layout::detect_for(&table.headers, &table.source, &spec.cfg.col, measure)?;
    let spec_r = RSpec {
        source: RSource {
            path: relative_to(&spec.file.display().to_string(), &spec.base),
            sep: table.delimiter,
            decimal_comma: table.decimal_comma,
            columns: layout.field_columns(&table.headers),
            subset: spec
                .rows
                .as_ref()
                .map(|v| (ANALYSIS_COLUMN.to_string(), v.clone())),
        },
        kind: studies.data.kind(),
        measure: set.measure,
        escalc: escalc_options(&spec.cfg)?,
        scale: set.scale,
        model,
    };
    let mut code = metafor_code(&spec_r);
    if let Some((method, cluster)) = robust {
        code.push_str(&robust_call(method, cluster));
    }
    Ok(code)
}

/// The metafor call of the pooled model of a univariate analysis.
fn rma_r_model<'a>(
    opts: &'a RmaOptions,
    mh: &Option<MhFit>,
    refit: &'a Option<(TablePooling, MhOptions)>,
) -> RModel<'a> {
    match (mh, refit) {
        (None, _) => RModel::Rma {
            options: opts,
            mods: None,
            references: &[],
            by: None,
            tau2_ci_pl: false,
            predict: &[],
            test_coefs: &[],
            permutations: None,
        },
        (Some(_), Some((TablePooling::MantelHaenszel(_), o))) => RModel::Mh(o),
        (Some(_), Some((TablePooling::Peto, o))) => RModel::Peto(o),
        (Some(_), None) => RModel::Unsupported(
            "RevMan 5's random-effects model (tau^2 from the Mantel-Haenszel Q) has no metafor call",
        ),
    }
}

/// Why an analysis that refits inverse-variance models is not run for a table pooling.
const NOT_IV: &str = "a Mantel–Haenszel or Peto pooling (this analysis refits inverse-variance \
    models; set method to an inverse-variance one, e.g. \"FE\" or \"DL\" under the metafor \
    preset, to run it)";

/// The fitted model of an analysis.
struct Model {
    /// The fit drawn and reported (a view for table poolings).
    fit: RmaFit,
    /// Its cluster-robust inference and permutation test (inverse-variance models only).
    extras: PooledExtras,
    /// The inverse-variance options of the analyses on the per-study effects.
    opts: RmaOptions,
    /// The Mantel–Haenszel or Peto fit, when the tables were pooled.
    tables: Option<MhFit>,
    /// How to refit the tables (leave-one-out); `None` for RevMan 5's random-effects model.
    refit: Option<(TablePooling, MhOptions)>,
}

/// Fits the analysis's pooling: the effect set and an `rma` model, or the tables.
fn fit_model(
    cfg: &AnalysisConfig,
    po: &PoolOptions,
    studies: &Studies,
    measure: Measure,
) -> Result<Model> {
    Ok(match pooling(cfg, po, studies, measure)? {
        Pooling::Rma(opts) => {
            let escalc = escalc_options(cfg)?;
            let mut set = EffectSet::from_studies(studies, measure, &escalc)?;
            // As `pool` sets it: a given `scale` (GEN) replaces escalc's, which otherwise
            // stands (it carries PFT's harmonic-mean n).
            if po.scale.is_some() {
                set.scale = studies.data.kind().scale(measure, po.scale);
            }
            set.study_ci = StudyIntervals::compute(studies, &set, po.study_ci, opts.level)?;
            let run = pool::run_rma(&set, &opts, po)?;
            Model {
                fit: run.fit,
                extras: run.extras,
                opts,
                tables: None,
                refit: None,
            }
        }
        Pooling::Tables(by, o) => {
            let (t, fit) = fit_with_view(studies, by, &o)?;
            Model {
                fit,
                extras: PooledExtras::default(),
                opts: RmaOptions {
                    method: Method::FE,
                    test: Test::Z,
                    ..options(cfg)?
                },
                tables: Some(t),
                refit: Some((by, o)),
            }
        }
        Pooling::MhRandom(o, opts) => {
            let (t, fit) = revman5_random(studies, measure, &o, &opts)?;
            Model {
                fit,
                extras: PooledExtras::default(),
                opts,
                tables: Some(t),
                refit: None,
            }
        }
    })
}

/// The GLMM current guidance asks for with these data ([`report_glmm`], the one policy), fitted
/// as `pool --glmm MODEL --method ML` fits it (z tests, no moderators) at the analysis's level;
/// a failure (k = 1, complete separation, ...) is kept as its reason, never stopping the page.
fn glmm_step(
    cfg: &AnalysisConfig,
    studies: &Studies,
    measure: Measure,
    level: crate::model::Level,
) -> Result<Option<GlmmStep>> {
    let choice = parse_key::<GlmmChoice>("glmm", cfg.glmm.as_deref())?.unwrap_or_default();
    let Some(spec) = report_glmm(choice, &studies.data, measure) else {
        return Ok(None);
    };
    let o = GlmmOptions {
        model: spec.model,
        test: Test::Z,
        mods: None,
        level: level.percent(),
    };
    let fit = rma_glmm(studies, spec.measure, &o).map_err(|e| format!("not fitted: {e}"));
    Ok(Some(GlmmStep { spec, fit }))
}

/// The leading GLMM's diamond on the forest plot (single proportions), on the plotted fit's
/// analysis scale (a proportion's GLMM is on the logit scale whatever the pooling scale); none
/// when it was not fitted. A sensitivity GLMM (sparse tables) is in the tables and text only,
/// so that the plot stays the one `evident forest` draws.
fn glmm_forest_row(g: Option<&GlmmStep>, fit: &RmaFit) -> Option<RobustRow> {
    let (g, f) = g.and_then(|g| g.fit.as_ref().ok().map(|f| (g, f)))?;
    if g.spec.role != GlmmRole::Primary {
        return None;
    }
    let (e, l, u) = crate::render::html::analysis::fit_display(f)?;
    let to = |x: f64| fit.effects.scale.forward(x);
    Some(RobustRow {
        label: "Binomial-normal GLMM (ML)".into(),
        estimate: to(e),
        ci_lb: to(l),
        ci_ub: to(u),
        test: String::new(),
    })
}

/// The summary-of-findings row of a binary outcome at the manifest's control risk (or the
/// median control-arm risk); `None` for other measures.
fn sof_row(studies: &Studies, fit: &RmaFit, po: &PoolOptions) -> Option<Step<Sof>> {
    match crate::pool::sof::for_rma(fit, studies, po.control_risk, po.events_desirable) {
        Ok(row) => row.map(Ok),
        Err(e) => Some(Err(format!("not computed: {e}"))),
    }
}

/// The traffic-light and weighted summary figures of the `rob_*` columns, if there are any.
fn rob_svgs(fit: &RmaFit) -> Option<Step<[String; 2]>> {
    let draw = || -> Result<Option<[String; 2]>> {
        let cols = rob_columns(fit)?;
        if cols.is_empty() {
            return Ok(None);
        }
        let model = if fit.options.method.is_fixed() {
            "fixed-effect".to_string()
        } else {
            format!("random-effects ({})", fit.options.method.name())
        };
        let weights = (
            fit.weights.clone(),
            format!("the {model} model's study weights"),
        );
        let t = RobTable::new(fit.effects.labels.clone(), cols, Some(weights), None)?;
        Ok(Some([
            traffic_light(&t, None)?.to_svg()?,
            summary_bars(&t, None)?.to_svg()?,
        ]))
    };
    draw().map_err(|e| format!("not drawn: {e}")).transpose()
}

/// The cautions of one analysis: the manifest's note, omitted rows, continuity corrections, few
/// studies, k = 2 with Knapp–Hartung, and the model's own notes.
fn warnings(
    cfg: &AnalysisConfig,
    studies: &Studies,
    set: &EffectSet,
    measure: Measure,
    fit: &RmaFit,
    opts: &RmaOptions,
) -> Vec<String> {
    let k = fit.k;
    let mut warnings = Vec::new();
    if let Some(n) = &cfg.note {
        warnings.push(n.clone());
    }
    warnings.extend(studies.warnings.iter().map(|w| format!("{w}.")));
    if let Some(n) = crate::render::text::mixed_ratios_note(&set.mixed_ratios) {
        warnings.push(format!("{}{}.", n[..1].to_uppercase(), &n[1..]));
    }
    for om in &set.omitted {
        warnings.push(format!(
            "Row '{}' (line {}) omitted: {}.",
            om.label,
            studies.lines.get(om.row).copied().unwrap_or(0),
            om.reason
        ));
    }
    if set.n_corrected > 0 {
        warnings.push(format!(
            "{} {} zero cells: {} was added to {} cells before computing the {} (continuity correction, metafor's to = \"{}\").",
            set.n_corrected,
            if set.n_corrected == 1 { "study has" } else { "studies have" },
            set.escalc.add,
            if set.escalc.to.name() == "all" { "all studies'" } else { "their" },
            crate::render::html::prose::measure_words(measure, set.scale),
            set.escalc.to.name()
        ));
    }
    warnings.extend(few_studies_warnings(fit, opts));
    // With one study nothing is pooled, so the note on the test the pooling fell back to is moot.
    warnings.extend(
        fit.notes
            .iter()
            .filter(|n| !(k == 1 && n.starts_with("k = 1:")))
            .cloned(),
    );
    warnings
}

/// The cautions of a single study, of fewer than [`ADVISED_K`] studies (imprecise heterogeneity,
/// no funnel-based methods) and of k = 2 with Knapp–Hartung.
fn few_studies_warnings(fit: &RmaFit, opts: &RmaOptions) -> Vec<String> {
    let k = fit.k;
    let mut w = Vec::new();
    if k == 1 {
        w.push(
            "Single study: nothing was pooled; the result is that study's own estimate, and heterogeneity and small-study effects cannot be assessed."
                .into(),
        );
        return w;
    }
    if FewStudies::check(k).is_some() {
        w.push(format!(
            "Few studies (k = {k}): heterogeneity estimates are imprecise, and Egger's test, Begg's test and trim-and-fill were not done (funnel-plot asymmetry methods need at least {ADVISED_K} studies; {ADVICE_SOURCE})."
        ));
    }
    if k == 2 && opts.test.uses_t() && !opts.method.is_fixed() {
        w.push(
            "With k = 2, the Knapp–Hartung CI uses t with 1 degree of freedom and is very wide."
                .into(),
        );
    }
    w
}

/// The bias panel from [`ADVISED_K`] studies on ([`BiasPanel::runs_for`]), leave-one-out from
/// [`MIN_K`] on.
fn small_study_steps(
    fit: &RmaFit,
    opts: &RmaOptions,
) -> (
    Step<Regtest>,
    Step<Ranktest>,
    Step<TrimFill>,
    Step<RefitSeries>,
) {
    let k = fit.k;
    let not_computed = |e: Error| format!("not computed: {e}");
    let l1o = if k < MIN_K {
        Err(not_enough(k, "leave-one-out"))
    } else {
        leave1out(&fit.effects, opts).map_err(not_computed)
    };
    if !BiasPanel::runs_for(k) {
        let few = FewStudies::check(k).expect("runs_for is false for few studies only");
        return (
            Err(few.not_done("Egger's test")),
            Err(few.not_done("Begg's test")),
            Err(few.not_done("trim-and-fill")),
            l1o,
        );
    }
    let panel = BiasPanel::run(&fit.effects, opts);
    (
        panel.regtest.map_err(not_computed),
        panel.ranktest.map_err(not_computed),
        panel.trimfill.map_err(not_computed),
        l1o,
    )
}

/// PET-PEESE and the three-parameter selection model from [`ADVISED_K`] studies on, as the
/// other funnel-based methods.
fn adjusted_steps(fit: &RmaFit, opts: &RmaOptions) -> (Step<PetPeese>, Step<SelModel>) {
    if let Some(few) = FewStudies::check(fit.k) {
        return (
            Err(few.not_done("PET-PEESE")),
            Err(few.not_done("the selection model")),
        );
    }
    let not_computed = |e: Error| format!("not computed: {e}");
    (
        crate::bias::pet_peese(&fit.effects, opts, 0.10).map_err(not_computed),
        crate::bias::three_psm(&fit.effects, opts).map_err(not_computed),
    )
}

/// The sentence on whether the adjusted estimates that could be computed agree with the pooled
/// one (none for measures without a value of no effect, such as proportions).
fn agreement(
    fit: &RmaFit,
    tf: &Step<TrimFill>,
    pp: &Step<PetPeese>,
    psm: &Step<SelModel>,
) -> Option<String> {
    use crate::bias::panel::{agreement_sentence, Interval};
    let null = crate::render::plot::axis::null_position(fit.effects.measure, fit.effects.scale)?;
    let iv = |method, ci_lb, ci_ub| Interval {
        method,
        ci_lb,
        ci_ub,
    };
    let mut adjusted = Vec::new();
    if let Ok(t) = tf {
        adjusted.push(iv("trim-and-fill", t.fit.ci_lb, t.fit.ci_ub));
    }
    if let Ok(p) = pp {
        adjusted.push(iv("PET-PEESE", p.ci_lb, p.ci_ub));
    }
    if let Ok(s) = psm {
        adjusted.push(iv("the 3PSM", s.ci_lb, s.ci_ub));
    }
    let pooled = iv("the pooled estimate", fit.ci_lb, fit.ci_ub);
    agreement_sentence(&pooled, &adjusted, null)
}

/// The forest plot in the analysis's layout (RevMan 5's under `preset = "revman5"` unless
/// `layout` says otherwise), drawn by the builder `evident forest` uses, with the subgroup
/// module's own fits and tests when there are subgroups (nothing is refitted for the plot).
fn forest_svg(
    studies: &Studies,
    fit: &RmaFit,
    cfg: &AnalysisConfig,
    sg: &Option<Step<SubgroupFit>>,
    multilevel: Option<MultilevelLayout>,
    glmm: Option<RobustRow>,
) -> Result<String> {
    let preset = preset(cfg)?;
    let choices = ForestChoices {
        layout: cfg.layout.unwrap_or(preset.forest_layout()),
        arms: cfg.arms.clone().unwrap_or_default(),
        both_models: cfg.both_models,
        preset,
        ..ForestChoices::default()
    };
    let base = ForestOptions {
        favours: cfg.labels.clone().map(|[a, b]| (a, b)),
        // One study is not pooled; a proportion's test of p = 0.5 only when asked for.
        overall_test: fit.k > 1
            && (!matches!(fit.effects.measure, Measure::PLO | Measure::PR) || cfg.null_test),
        size: PlotSize {
            width: cfg.width,
            height: cfg.height,
            font_pt: cfg.font_size,
        },
        ..ForestOptions::default()
    };
    let by = match (cfg.by.as_deref(), sg) {
        (Some(column), Some(Ok(s))) => Some((column, s)),
        _ => None,
    };
    let mut opts = forest_options(studies, fit, by, &choices, base)?;
    opts.multilevel = multilevel;
    // The leading GLMM (single proportions) is the first diamond.
    opts.lead_pooled = glmm;
    forest(fit, &opts)?.to_svg()
}

/// The funnel plot with the studies trim-and-fill imputed, from 2 studies on.
fn funnel_svg(fit: &RmaFit, tf: &Step<TrimFill>) -> Step<String> {
    if fit.k < 2 {
        return Err("not drawn: a funnel plot needs at least 2 studies".into());
    }
    let filled = match tf {
        Ok(t) => t
            .filled_yi
            .iter()
            .copied()
            .zip(t.filled_vi.iter().copied())
            .collect(),
        Err(_) => Vec::new(),
    };
    funnel(
        fit,
        &FunnelOptions {
            filled,
            ..FunnelOptions::default()
        },
    )
    .and_then(|f| f.to_svg())
    .map_err(|e| format!("not drawn: {e}"))
}

/// The meta-regression's bubble plots: one per numeric moderator, any others held at their means
/// (metafor's `regplot`), or the reason one is not drawn; none for factors (their coefficients
/// are contrasts, shown in the table).
fn bubble_svgs(m: &MetaregFit, xlab: &BTreeMap<String, String>) -> Vec<Bubble> {
    use crate::render::plot::bubble::{bubble, bubble_moderators, BubbleOptions};
    let mut used = HashSet::new();
    bubble_moderators(m)
        .into_iter()
        .map(|(moderator, ok)| {
            let file = format!("{}.svg", dedupe(&format!("bubble_{moderator}"), &mut used));
            let svg = ok
                .and_then(|()| {
                    let opts = BubbleOptions {
                        xlab: xlab.get(&moderator).cloned(),
                        ..BubbleOptions::default()
                    };
                    bubble(m, &moderator, &opts)
                        .and_then(|f| f.to_svg())
                        .map_err(|e| e.to_string())
                })
                .map_err(|e| format!("not drawn: {e}"));
            Bubble {
                moderator,
                file,
                svg,
            }
        })
        .collect()
}

/// A caution for each `xlab` of the manifest that labels no bubble plot of the analysis.
fn xlab_warnings(cfg: &AnalysisConfig, bubbles: &[Bubble]) -> Vec<String> {
    let drawn: Vec<&str> = bubbles.iter().map(|b| b.moderator.as_str()).collect();
    cfg.xlab
        .keys()
        .filter(|k| !drawn.contains(&k.as_str()))
        .map(|k| {
            format!(
                "The manifest's xlab names '{k}', which has no bubble plot here (numeric moderators of the meta-regression: {}).",
                if drawn.is_empty() { "none".to_string() } else { drawn.join(", ") }
            )
        })
        .collect()
}

/// The report's PNG forest plot: at [`PNG_DPI`], or, when a very long forest would exceed the
/// raster limit, at the lower resolution that fits it (the SVG beside it is exact at any size).
fn forest_png(svg: &str, dpi: f64) -> Result<Vec<u8>> {
    match svg_to_png(svg, dpi) {
        Err(Error::ImageTooLarge {
            width,
            height,
            limit,
        }) => {
            let shrink = (limit as f64 / (width as f64 * height as f64)).sqrt() * 0.99;
            svg_to_png(svg, (dpi * shrink).max(10.0))
        }
        other => other,
    }
}

/// Writes the files of one analysis into `dir`, inside the report directory being built.
fn write_analysis(a: &Analysis, dir: &Path, ro: &ReportOptions) -> Result<()> {
    create_dir_new(dir)?;
    write_new(&dir.join("forest.svg"), a.forest_svg.as_bytes())?;
    if ro.png {
        write_new(
            &dir.join("forest.png"),
            &forest_png(&a.forest_svg, PNG_DPI)?,
        )?;
    }
    if ro.docx {
        let png = forest_png(&a.forest_svg, DOCX_DPI)?;
        let docx = crate::render::docx::analysis_docx(a, &png)?;
        let parent = dir.parent().unwrap_or(Path::new("."));
        write_new(&parent.join(format!("{}.docx", a.spec.dir)), &docx)?;
    }
    if let Some(Ok([traffic, summary])) = &a.rob_svgs {
        write_new(&dir.join("rob_traffic.svg"), traffic.as_bytes())?;
        write_new(&dir.join("rob_summary.svg"), summary.as_bytes())?;
    }
    let mut results = match (&a.multilevel, &a.tables, a.fit.options.method.is_fixed()) {
        (Some(mv), _, _) => pool::mv_run_json(mv),
        (None, Some(t), true) => crate::render::json::mh_json(t),
        _ => crate::render::json::rma_json(&a.fit),
    };
    pool::add_pooled_json(&mut results, &a.extras);
    if let (Some(Ok(s)), Some(obj)) = (&a.sof, results.as_object_mut()) {
        obj.insert("sof".into(), crate::render::json::sof_json(s));
    }
    if let (Some(g), Some(obj)) = (&a.glmm, results.as_object_mut()) {
        // The `pool --glmm --json` object, with its role on the page, or why it is missing.
        let v = match &g.fit {
            Ok(f) => crate::render::json::glmm_json(f),
            Err(why) => serde_json::json!({ "error": why }),
        };
        obj.insert("glmm".into(), v);
        let role = match g.spec.role {
            GlmmRole::Primary => "primary",
            GlmmRole::Sensitivity => "sensitivity",
        };
        obj.insert("glmm_role".into(), role.into());
    }
    let json = serde_json::to_string_pretty(&results)
        .map_err(|e| Error::invalid(format!("cannot serialise results: {e}")))?;
    write_new(&dir.join("results.json"), format!("{json}\n").as_bytes())?;
    if let Some(Ok(sg)) = &a.subgroup {
        let v = pool::subgroup_run_json(sg, a.subgroup_permutation.as_ref());
        let json = serde_json::to_string_pretty(&v)
            .map_err(|e| Error::invalid(format!("cannot serialise results: {e}")))?;
        write_new(&dir.join("subgroup.json"), format!("{json}\n").as_bytes())?;
    }
    write_new(&dir.join("studies.csv"), &page::studies_csv(a)?)?;
    write_metareg(a, dir)?;
    write_new(&dir.join("summary.md"), page::summary_md(a).as_bytes())?;
    write_new(
        &dir.join("index.html"),
        page::analysis_html(a, ro).as_bytes(),
    )?;
    Ok(())
}

/// The meta-regression's files: `metareg.json` (the `pool --mods --json` keys) and the bubble
/// plots' SVGs.
fn write_metareg(a: &Analysis, dir: &Path) -> Result<()> {
    let Some(Ok(m)) = &a.metareg else {
        return Ok(());
    };
    let json = serde_json::to_string_pretty(&pool::metareg_run_json(m, &a.metareg_extras))
        .map_err(|e| Error::invalid(format!("cannot serialise results: {e}")))?;
    write_new(&dir.join("metareg.json"), format!("{json}\n").as_bytes())?;
    for b in &a.bubbles {
        if let Ok(svg) = &b.svg {
            write_new(&dir.join(&b.file), svg.as_bytes())?;
        }
    }
    Ok(())
}

fn run_one(spec: &Spec, out: &Path, ro: &ReportOptions, tables: &Tables) -> Entry {
    let failed = |error: String| Entry::Failed {
        name: spec.name.clone(),
        dir: Some(spec.dir.clone()),
        error: relative_to(&error, &spec.base),
    };
    let a = match analyse_with(spec, tables) {
        Ok(a) => a,
        Err(e) => {
            // A file of p-values is not a pooling: list it as skipped, not failed.
            if let Ok(t) = tables.get(&spec.file, &csv_of(&spec.cfg)) {
                if pvalues_only(&t) && Studies::from_table(&t, &ColumnMap::new()).is_err() {
                    return Entry::Skipped {
                        name: spec.name.clone(),
                        reason: "p-values only, no effect sizes to pool; see `evident combine` and `evident check` (combining them needs independent tests of one hypothesis)".into(),
                    };
                }
            }
            return failed(e.to_string());
        }
    };
    match write_analysis(&a, &out.join(&spec.dir), ro) {
        Ok(()) => Entry::Done(Box::new(a)),
        Err(e) => failed(format!("cannot write the report: {e}")),
    }
}

/// [`run_one`], with a panic turned into that analysis's error row, so that one analysis
/// hitting a bug cannot take the other analyses and the index down with it.
fn run_guarded(spec: &Spec, out: &Path, ro: &ReportOptions, tables: &Tables) -> Entry {
    // Nothing shared is left half-updated by a panic: each analysis writes only its own
    // directory, which the failed row then stands in for, and the shared tables are read-only
    // once parsed (a poisoned lock is taken over).
    let entry = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_one(spec, out, ro, tables)
    }));
    tables.done(&spec.file, &csv_of(&spec.cfg));
    entry.unwrap_or_else(|payload| Entry::Failed {
        name: spec.name.clone(),
        dir: Some(spec.dir.clone()),
        error: format!(
            "internal error (a bug in evident, please report it): {}",
            panic_message(payload.as_ref())
        ),
    })
}

/// The message a panic carried: `panic!` gives a `&str` or a `String`.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into())
}

/// Runs every analysis of `plan` in parallel and writes their directories and the index into a
/// fresh directory that then replaces `out` as a whole ([`ReportDir`]: locked against a second
/// run, never replacing a directory that is not a report), calling `tick` after each analysis
/// and `note` with what happened beside `out` (a stale lock taken over, leftovers of killed
/// runs removed). Returns the index entries in plan order.
pub fn run(
    plan: &Plan,
    out: &Path,
    ro: &ReportOptions,
    tick: &(dyn Fn() + Sync),
    note: &dyn Fn(&str),
) -> Result<Vec<Entry>> {
    let dir = ReportDir::begin(out)?;
    dir.notes().iter().for_each(|n| note(n));
    let entries = write_report(plan, dir.path(), ro, tick)?;
    dir.commit()?;
    Ok(entries)
}

/// [`run`]'s work inside the directory being built.
fn write_report(
    plan: &Plan,
    out: &Path,
    ro: &ReportOptions,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<Entry>> {
    let tables = Tables::new(
        plan.specs
            .iter()
            .map(|s| (s.file.as_path(), csv_of(&s.cfg))),
    );
    let mut entries: Vec<Entry> = plan
        .specs
        .par_iter()
        .map(|s| {
            let e = run_guarded(s, out, ro, &tables);
            tick();
            e
        })
        .collect();
    for (name, _, reason) in &plan.skipped {
        entries.push(Entry::Skipped {
            name: name.clone(),
            reason: reason.clone(),
        });
    }
    for (name, error) in &plan.failed {
        entries.push(Entry::Failed {
            name: name.clone(),
            dir: None,
            error: error.clone(),
        });
    }
    write_new(
        &out.join("index.html"),
        page::index_html(plan.title.as_deref(), &entries, ro).as_bytes(),
    )?;
    write_new(
        &out.join("index.md"),
        page::index_md(plan.title.as_deref(), &entries, ro).as_bytes(),
    )?;
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A forest too tall for a PNG at PNG_DPI is written at the resolution that fits the limit.
    #[test]
    fn an_oversized_forest_png_is_downscaled_to_the_limit() {
        use crate::render::plot::render::MAX_PIXELS;
        let svg = r#"<svg width="6000" height="6000" viewBox="0 0 6000 6000" xmlns="http://www.w3.org/2000/svg"><rect x="2" y="2" width="5" height="5"/></svg>"#;
        assert!(matches!(
            svg_to_png(svg, PNG_DPI),
            Err(Error::ImageTooLarge { .. })
        ));
        let png = forest_png(svg, PNG_DPI).unwrap();
        let be = |a: usize| u64::from(u32::from_be_bytes(png[a..a + 4].try_into().unwrap()));
        let (w, h) = (be(16), be(20));
        assert!(w * h <= MAX_PIXELS && w * h > MAX_PIXELS / 2, "{w}×{h}");
    }

    #[test]
    fn a_panic_gives_its_message() {
        let p = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "boom 1");
        let p = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "plain");
    }

    #[test]
    fn directory_names_are_deduplicated() {
        let mut used = HashSet::new();
        assert_eq!(dedupe("a b", &mut used), "a_b");
        assert_eq!(dedupe("a/b", &mut used), "a_b-2");
        assert_eq!(dedupe("A_B", &mut used), "A_B-3");
    }
}
