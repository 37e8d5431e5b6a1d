//! `evident forest`: a forest plot as SVG, PNG or PDF.

use super::args::{InputArgs, Loaded, ModelArgs, Pooling};
use super::choices::{ForestLayoutArg, RobustArg};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use evident::app::forest::{forest_options, multilevel_forest, ForestChoices};
use evident::effect::{EffectSet, StudyCi, StudyIntervals};
use evident::model::rma;
use evident::model::RmaFit;
use evident::model::Weighting;
use evident::moderators::subgroup;
use evident::pool::mh::MhFit;
use evident::pool::view::{fit_with_view, revman5_random};
use evident::pool::TablePooling;
use evident::render::plot::forest::{
    forest, rob_columns, Arms, ForestOptions, PlotSize, SortOrder,
};
use evident::render::plot::Figure;
use std::path::PathBuf;

// Output options shared by the plot subcommands.
#[derive(Args, Debug, Clone)]
pub struct PlotOutput {
    /// Output file: .svg, .png or .pdf.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Resolution of PNG output in dots per inch.
    #[arg(long, default_value_t = 300.0)]
    pub dpi: f64,
    /// Title above the plot.
    #[arg(long)]
    pub title: Option<String>,
    /// Axis limits on the display scale, e.g. --xlim 0.1,10.
    #[arg(long, value_name = "LO,HI", allow_hyphen_values = true)]
    pub xlim: Option<String>,
    /// Width of the figure with its unit (mm, cm, in, pt, px), e.g. --width 170mm. Forest
    /// plots stretch or shrink their panel to it; other plots scale as a whole.
    #[arg(long, value_name = "LENGTH", value_parser = length)]
    pub width: Option<f64>,
    /// Height of the figure with its unit, e.g. --height 120mm.
    #[arg(long, value_name = "LENGTH", value_parser = length)]
    pub height: Option<f64>,
    /// Body font size in points (9 by default; tick labels and notes are 11/12 of it).
    #[arg(long, value_name = "PT", value_parser = font_size)]
    pub font_size: Option<f64>,
    /// Also print the fitted model as one JSON object (the keys of `pool --json`).
    #[arg(long)]
    pub json: bool,
}

fn length(s: &str) -> std::result::Result<f64, String> {
    evident::render::plot::size::parse_length(s).map_err(|e| e.to_string())
}

fn font_size(s: &str) -> std::result::Result<f64, String> {
    evident::render::plot::size::parse_font_pt(s).map_err(|e| e.to_string())
}

impl PlotOutput {
    /// The size asked.
    pub fn size(&self) -> PlotSize {
        PlotSize {
            width: self.width,
            height: self.height,
            font_pt: self.font_size,
        }
    }

    /// Scales a figure that does not stretch (`what`, e.g. "funnel plot") to the size asked
    /// and writes it.
    pub fn save_scaled(&self, fig: Figure, what: &str) -> Result<()> {
        let fig = evident::render::plot::size::fit(fig, &self.size(), what)?;
        evident::app::save_figure(&fig, &self.output, self.dpi)?;
        Ok(())
    }
}

#[derive(Args, Debug)]
pub struct ForestArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub out: PlotOutput,
    /// Column of the CSV that splits the studies into subgroups.
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    /// Study order: as-given, estimate, weight, or the name of a column (e.g. year).
    #[arg(long, default_value = "as-given")]
    pub sort: String,
    /// Labels under the axis, left and right of no effect: --labels "Favours vaccine,Favours control".
    #[arg(long, value_name = "LEFT,RIGHT")]
    pub labels: Option<String>,
    /// Extra CSV columns to show beside the study labels: --cols dose,year.
    #[arg(
        long = "cols",
        id = "show_cols",
        value_name = "COLUMNS",
        value_delimiter = ','
    )]
    pub show_cols: Vec<String>,
    /// Leave out the raw-data columns (events/total, mean (SD), n).
    #[arg(long)]
    pub no_data: bool,
    /// Leave out the prediction interval.
    #[arg(long)]
    pub no_prediction: bool,
    /// Decimals of the estimates and intervals.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=6))]
    pub digits: u8,
    /// Names of the two arms over the data columns: --arms "Tacrolimus,Control".
    #[arg(long, value_name = "FIRST,SECOND")]
    pub arms: Option<String>,
    /// Layout: standard, or revman (RevMan 5's; the default under --preset revman5).
    #[arg(long, value_enum, ignore_case = true)]
    pub layout: Option<ForestLayoutArg>,
    /// Draw the common-effect and the random-effects diamonds together, each with its weights.
    #[arg(long)]
    pub both_models: bool,
    /// Each study's own interval for single proportions (PR, PLO, PAS, PFT, PLN) and rates
    /// (IR, IRLN): cp (Clopper–Pearson; Garwood's exact interval for rates), wilson, or wald
    /// (yi ± z·√vi back-transformed). Unless wald, the plot is drawn on the proportion (rate)
    /// axis with each study at x/n.
    #[arg(long, value_enum, ignore_case = true, default_value = "cp")]
    pub study_ci: super::choices::StudyCiArg,
    /// With --random: the column whose clusters group the rows (default: the outermost factor
    /// of the first --random formula); also the clusters of --robust, --rho and --V-block.
    #[arg(long, value_name = "COLUMN", requires = "random")]
    pub cluster: Option<String>,
    /// With --random: draw the cluster-robust CI of the pooled estimate (CR1 or CR2) under the
    /// model's diamond, clustered by --cluster.
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        value_name = "CR1|CR2",
        requires_all = ["cluster", "random"]
    )]
    pub robust: Option<RobustArg>,
    #[command(flatten)]
    pub multilevel: super::multilevel::MultilevelArgs,
}

/// Parses "A,B" into two numbers.
pub fn parse_xlim(s: &str) -> Result<(f64, f64)> {
    let (a, b) = s
        .split_once(',')
        .with_context(|| format!("--xlim expects LO,HI, got '{s}'"))?;
    let p = |t: &str| {
        t.trim()
            .parse::<f64>()
            .with_context(|| format!("--xlim: '{t}' is not a number"))
    };
    Ok((p(a)?, p(b)?))
}

/// Loads and fits the model the plot is drawn from: an `rma` model, or the view of a
/// Mantel–Haenszel or Peto pooling (MH or Peto weights and estimate, studies' own intervals), or
/// RevMan 5's random-effects model for binary data; with the Mantel–Haenszel or Peto fit behind
/// the view, when the tables were pooled.
///
/// With `study_ci`, single proportions and rates carry their own study intervals (drawn on the
/// natural axis); `None` for plots that do not show them.
pub fn fit_for_plot(
    input: &InputArgs,
    model: &ModelArgs,
    study_ci: Option<StudyCi>,
) -> Result<(Loaded, RmaFit, Option<MhFit>)> {
    let mut loaded = input.load()?;
    let (fit, tables) = match model.pooling(&mut loaded)? {
        Pooling::Rma(o) => {
            let mut set = loaded.effects()?;
            if let Some(m) = study_ci {
                set.study_ci = StudyIntervals::compute(&loaded.studies, &set, m, o.level)?;
            }
            warn_omitted(&loaded, &set);
            (rma(&set, &o)?, None)
        }
        Pooling::Mh(o) => {
            let by = TablePooling::MantelHaenszel(loaded.measure);
            let (t, v) = fit_with_view(&loaded.studies, by, &o)?;
            (v, Some(t))
        }
        Pooling::Peto(o) => {
            let (t, v) = fit_with_view(&loaded.studies, TablePooling::Peto, &o)?;
            (v, Some(t))
        }
        Pooling::MhRandom(o, r) => (
            revman5_random(&loaded.studies, loaded.measure, &o, &r)?.1,
            None,
        ),
    };
    if fit.weighting != Weighting::InverseVariance {
        warn_omitted(&loaded, &fit.effects);
    }
    Ok((loaded, fit, tables))
}

/// `--json` of a plot: the fitted model as `pool --json` prints it (the Mantel–Haenszel or Peto
/// fit when the tables were pooled).
pub fn print_model_json(fit: &RmaFit, tables: Option<&MhFit>) {
    let v = match tables {
        Some(t) => evident::render::json::mh_json(t),
        None => evident::render::json::rma_json(fit),
    };
    println!("{v}");
}

fn warn_omitted(loaded: &Loaded, set: &EffectSet) {
    super::args::warn_omitted(&set.omitted, &loaded.studies.lines);
}

/// Refuses what the plots of a Mantel–Haenszel or Peto pooling cannot draw yet: subgroups and
/// trim-and-fill refit inverse-variance models.
pub fn refuse_for_tables(fit: &RmaFit, what: &str) -> Result<()> {
    if fit.weighting != Weighting::InverseVariance {
        bail!(
            "{what} refits inverse-variance models and is not drawn with {} pooling; choose an \
             inverse-variance method (e.g. --method FE or DL with --preset metafor)",
            weighting_name(fit.weighting)
        );
    }
    Ok(())
}

fn weighting_name(w: Weighting) -> &'static str {
    match w {
        Weighting::MantelHaenszel => "Mantel–Haenszel",
        Weighting::Peto => "Peto",
        Weighting::InverseVariance => "inverse-variance",
    }
}

/// Parses "A,B" into two trimmed names (`flag` names the option in the message).
fn pair(s: &str, flag: &str, what: &str) -> Result<(String, String)> {
    let (a, b) = s
        .split_once(',')
        .with_context(|| format!("{flag} expects \"{what}\", got '{s}'"))?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() || b.is_empty() {
        bail!("{flag} expects two names, \"{what}\", got '{s}'");
    }
    Ok((a.to_string(), b.to_string()))
}

/// The choices of the figure's columns and layout from the flags.
fn choices(args: &ForestArgs) -> Result<ForestChoices> {
    let preset = args.model.preset();
    Ok(ForestChoices {
        layout: args.layout.map_or(preset.forest_layout(), Into::into),
        arms: match &args.arms {
            Some(s) => s.parse::<Arms>().map_err(|e| anyhow!("--arms: {e}"))?,
            None => Arms::default(),
        },
        show_cols: args.show_cols.clone(),
        no_data: args.no_data,
        both_models: args.both_models,
        preset,
    })
}

/// The plain settings of the figure (title, order, axis, labels, size) for `fit`.
fn base_options(args: &ForestArgs, fit: &RmaFit) -> Result<ForestOptions> {
    let favours = match &args.labels {
        None => None,
        Some(s) => Some(pair(s, "--labels", "LEFT,RIGHT")?),
    };
    Ok(ForestOptions {
        title: args.out.title.clone(),
        sort: match args.sort.trim() {
            "as-given" => SortOrder::AsGiven,
            "estimate" => SortOrder::Estimate,
            "weight" => SortOrder::Weight,
            col => SortOrder::Column(col.to_string()),
        },
        rob: rob_columns(fit)?,
        xlim: args.out.xlim.as_deref().map(parse_xlim).transpose()?,
        favours,
        show_prediction: !args.no_prediction,
        decimals: args.digits as usize,
        overall_test: true,
        size: args.out.size(),
        ..ForestOptions::default()
    })
}

pub fn run(args: &ForestArgs) -> Result<()> {
    if !args.multilevel.random.is_empty() {
        return run_multilevel(args);
    }
    let (loaded, fit, tables) = fit_for_plot(&args.input, &args.model, Some(args.study_ci.into()))?;
    let choices = choices(args)?;
    // The diamonds and the test come from one subgroup analysis, as `evident pool --by` reports it.
    if args.by.is_some() {
        refuse_for_tables(&fit, "--by")?;
    }
    let sg = args
        .by
        .as_deref()
        .map(|c| subgroup(&fit.effects, c, &fit.options))
        .transpose()?;
    let base = base_options(args, &fit)?;
    let by = args.by.as_deref().zip(sg.as_ref());
    let opts = forest_options(&loaded.studies, &fit, by, &choices, base)?;
    let fig = forest(&fit, &opts)?;
    evident::app::save_figure(&fig, &args.out.output, args.out.dpi)?;
    if args.out.json {
        print_model_json(&fit, tables.as_ref());
    }
    Ok(())
}

/// `--random`: the multilevel model's plot, its rows grouped by cluster.
fn run_multilevel(args: &ForestArgs) -> Result<()> {
    if args.by.is_some() || args.both_models || args.layout == Some(ForestLayoutArg::Revman) {
        bail!("--random: a multilevel model's forest plot groups its rows by cluster; --by, --both-models and --layout revman are not drawn with it");
    }
    let loaded = args.input.load()?;
    let cluster = args.cluster.as_deref();
    let ml = &args.multilevel;
    let run = super::multilevel::fit(&args.model, None, cluster, args.robust, ml, &loaded)?;
    let (view, layout) = multilevel_forest(
        &loaded.studies,
        &run.fit,
        &run.options,
        run.robust.as_ref(),
        cluster,
    )?;
    let base = base_options(args, &view)?;
    let mut opts = forest_options(&loaded.studies, &view, None, &choices(args)?, base)?;
    opts.multilevel = Some(layout);
    let fig = forest(&view, &opts)?;
    evident::app::save_figure(&fig, &args.out.output, args.out.dpi)?;
    if args.out.json {
        println!("{}", super::multilevel::mv_json(&run));
    }
    Ok(())
}
