//! `evident forest`: a forest plot as SVG, PNG or PDF.

use super::args::{InputArgs, Loaded, ModelArgs, Pooling};
use super::choices::ForestLayoutArg;
use anyhow::{bail, Context, Result};
use clap::Args;
use evident::app::presets::Preset;
use evident::app::revman::arm_totals;
use evident::data::Value;
use evident::effect::EffectSet;
use evident::model::rma;
use evident::model::Method;
use evident::model::RmaFit;
use evident::model::RmaOptions;
use evident::model::Weighting;
use evident::moderators::subgroup;
use evident::moderators::subgroup::subgroups_from;
use evident::moderators::SubgroupFit;
use evident::pool::mh::MhFit;
use evident::pool::view::{fit_with_view, revman5_random};
use evident::pool::TablePooling;
use evident::render::plot::forest::{
    column_totals, data_columns_for, is_rob_column, revman_columns, subgroup_differences_line,
    NotEstimable, OtherModel, PlotSize, RevmanLayout,
};
use evident::render::plot::forest::{
    forest, rob_columns, subgroup_test_text, ForestOptions, SortOrder, TextColumn,
};
use evident::render::plot::Figure;
use std::path::PathBuf;

/// Output options shared by the plot subcommands.
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
    let pt: f64 = s
        .trim()
        .trim_end_matches("pt")
        .parse()
        .map_err(|_| format!("'{s}' is not a font size in points, e.g. 8"))?;
    evident::render::plot::size::check_font_pt(pt).map_err(|e| e.to_string())
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
pub fn fit_for_plot(
    input: &InputArgs,
    model: &ModelArgs,
) -> Result<(Loaded, RmaFit, Option<MhFit>)> {
    let mut loaded = input.load()?;
    let (fit, tables) = match model.pooling(&mut loaded)? {
        Pooling::Rma(o) => {
            let set = loaded.effects()?;
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

/// The --cols columns drawn as text: `rob_*` columns are drawn as traffic lights already.
fn shown_cols(args: &ForestArgs) -> Vec<String> {
    args.show_cols
        .iter()
        .filter(|n| !is_rob_column(n.trim()))
        .cloned()
        .collect()
}

/// Study-level columns named with --cols.
pub fn extra_columns(set: &EffectSet, names: &[String]) -> Result<Vec<TextColumn>> {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            let n = n.trim();
            let m = set
                .moderators
                .iter()
                .find(|m| m.name == n)
                .with_context(|| {
                    let have: Vec<&str> = set.moderators.iter().map(|m| m.name.as_str()).collect();
                    format!(
                        "--cols: no column '{n}' in the data (extra columns: {})",
                        if have.is_empty() {
                            "none".to_string()
                        } else {
                            have.join(", ")
                        }
                    )
                })?;
            Ok(TextColumn {
                header: vec![n.to_string()],
                values: m.values.iter().map(|v| v.as_text()).collect(),
            })
        })
        .collect()
}

/// Drops a leading empty header line so single-line columns sit on the header's last line.
fn tidy(mut cols: Vec<TextColumn>) -> Vec<TextColumn> {
    for c in &mut cols {
        c.header.retain(|h| !h.is_empty());
    }
    cols
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

pub fn run(args: &ForestArgs) -> Result<()> {
    let (loaded, fit, tables) = fit_for_plot(&args.input, &args.model)?;
    let revman = match args.layout {
        Some(l) => l == ForestLayoutArg::Revman,
        None => args.model.preset() == Preset::Revman5,
    };
    let arms = match &args.arms {
        Some(s) => pair(s, "--arms", "FIRST,SECOND")?,
        None => ("Experimental".into(), "Control".into()),
    };
    let arms = (arms.0.as_str(), arms.1.as_str());
    let data = &loaded.studies.data;
    let rv_cols = revman
        .then(|| revman_columns(data, &fit.effects.rows, arms))
        .flatten();
    let data_cols = |rows: &[usize]| match &rv_cols {
        Some(_) => revman_columns(data, rows, arms).map_or_else(Vec::new, |c| c.0),
        None => data_columns_for(data, rows, arms),
    };
    let mut columns = if args.no_data {
        Vec::new()
    } else {
        data_cols(&fit.effects.rows)
    };
    let n_data = columns.len();
    columns.extend(extra_columns(&fit.effects, &shown_cols(args))?);
    let favours = match &args.labels {
        None => None,
        Some(s) => Some(pair(s, "--labels", "LEFT,RIGHT")?),
    };
    // The diamonds and the test come from one subgroup analysis, as `evident pool --by` reports it.
    if args.by.is_some() {
        refuse_for_tables(&fit, "--by")?;
    }
    let sg = args
        .by
        .as_deref()
        .map(|c| subgroup(&fit.effects, c, &fit.options))
        .transpose()?;
    let subgroups = match &sg {
        Some(sg) => subgroups_from(&fit, sg)?,
        None => Vec::new(),
    };
    let not_estimable = not_estimable_rows(&loaded, &fit.effects, args, n_data, &data_cols);
    let other_model = if args.both_models {
        Some(OtherModel::from_fit(&other_fit(&fit, args)?, revman))
    } else {
        None
    };
    let rv = revman.then(|| {
        let omitted: Vec<(usize, Option<&str>)> = fit
            .effects
            .omitted
            .iter()
            .zip(&not_estimable)
            .map(|(o, n)| (o.row, n.group.as_deref()))
            .collect();
        revman_layout(
            &loaded,
            &fit,
            &subgroups,
            sg.as_ref(),
            &omitted,
            rv_cols.is_some() && !args.no_data,
        )
    });
    let rv = match rv {
        Some(mut r) => {
            r.spans = match (&rv_cols, args.no_data) {
                (Some((_, spans)), false) => spans.clone(),
                _ => Vec::new(),
            };
            Some(r)
        }
        None => None,
    };
    let opts = ForestOptions {
        title: args.out.title.clone(),
        sort: match args.sort.trim() {
            "as-given" => SortOrder::AsGiven,
            "estimate" => SortOrder::Estimate,
            "weight" => SortOrder::Weight,
            col => SortOrder::Column(col.to_string()),
        },
        rob: rob_columns(&fit)?,
        xlim: args.out.xlim.as_deref().map(parse_xlim).transpose()?,
        favours,
        columns: tidy(columns),
        subgroups,
        show_prediction: !args.no_prediction,
        decimals: args.digits as usize,
        subgroup_test: if revman {
            None
        } else {
            sg.as_ref().map(subgroup_test_text)
        },
        overall_test: true,
        revman: rv,
        not_estimable,
        other_model,
        size: args.out.size(),
    };
    let fig = forest(&fit, &opts)?;
    evident::app::save_figure(&fig, &args.out.output, args.out.dpi)?;
    if args.out.json {
        print_model_json(&fit, tables.as_ref());
    }
    Ok(())
}

/// The other model of --both-models: the common-effect model beside a random-effects fit, or
/// the preset's τ² estimator beside a common-effect fit.
fn other_fit(fit: &RmaFit, args: &ForestArgs) -> Result<RmaFit> {
    let method = if fit.options.method.is_fixed() {
        args.model.preset().method()
    } else {
        Method::FE
    };
    let o = RmaOptions {
        method,
        ..fit.options
    };
    Ok(rma(&fit.effects, &o)?)
}

/// The studies the effect layer left out, as "Not estimable" rows: their data cells, their
/// --cols cells and their subgroup.
fn not_estimable_rows(
    loaded: &Loaded,
    set: &EffectSet,
    args: &ForestArgs,
    n_data: usize,
    data_cols: &dyn Fn(&[usize]) -> Vec<TextColumn>,
) -> Vec<NotEstimable> {
    let st = &loaded.studies;
    let column = |name: &str| st.moderators.iter().find(|m| m.name == name.trim());
    let by = args.by.as_deref().and_then(column);
    set.omitted
        .iter()
        .map(|o| {
            let mut values: Vec<String> = if args.no_data || n_data == 0 {
                Vec::new()
            } else {
                data_cols(&[o.row])
                    .into_iter()
                    .map(|c| c.values.into_iter().next().unwrap_or_default())
                    .collect()
            };
            for name in shown_cols(args).iter().filter(|n| !n.trim().is_empty()) {
                values.push(column(name).map_or_else(String::new, |m| m.values[o.row].as_text()));
            }
            NotEstimable {
                label: o.label.clone(),
                row: o.row,
                values,
                group: by.map(|m| match &m.values[o.row] {
                    Value::Missing => "(missing)".to_string(),
                    v => v.as_text(),
                }),
                reason: o.reason.clone(),
            }
        })
        .collect()
}

/// RevMan's totals per arm (fitted and not-estimable studies alike), per subgroup and overall,
/// and its test for subgroup differences.
fn revman_layout(
    loaded: &Loaded,
    fit: &RmaFit,
    subgroups: &[evident::moderators::subgroup::Subgroup],
    sg: Option<&SubgroupFit>,
    omitted: &[(usize, Option<&str>)],
    with_totals: bool,
) -> RevmanLayout {
    let data = &loaded.studies.data;
    let totals = |mut rows: Vec<usize>| {
        rows.sort_unstable();
        arm_totals(data, &rows).map(|t| column_totals(data, &t))
    };
    let mut all = fit.effects.rows.clone();
    all.extend(omitted.iter().map(|o| o.0));
    let subtotals = if with_totals {
        subgroups
            .iter()
            .filter_map(|g| {
                let mut rows: Vec<usize> = g.members.iter().map(|&i| fit.effects.rows[i]).collect();
                rows.extend(
                    omitted
                        .iter()
                        .filter(|o| o.1 == Some(g.name.as_str()))
                        .map(|o| o.0),
                );
                totals(rows)
            })
            .collect()
    } else {
        Vec::new()
    };
    RevmanLayout {
        method: None,
        spans: Vec::new(),
        total: if with_totals { totals(all) } else { None },
        subtotals,
        subgroup_differences: sg.map(subgroup_differences_line),
    }
}
