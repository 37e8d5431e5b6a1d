//! What the report's pages show: one analysis with everything computed for it, and the rows of the
//! index. The workflow that fills these in is `app::report`; the pages are pure functions of them.

use crate::bias::{PetPeese, Ranktest, Regtest, SelModel, TrimFill};
use crate::data::Studies;
use crate::model::RmaFit;
use crate::moderators::metareg::{MetaregFit, OmnibusTest, Predicted};
use crate::moderators::permutation::PermutationTest;
use crate::moderators::subgroup::SubgroupFit;
use crate::multilevel::{MvFit, MvOptions, MvProfile};
use crate::pool::sof::Sof;
use crate::pool::MhFit;
use crate::robust::RobustFit;
use crate::sensitivity::RefitSeries;
use serde::Deserialize;
use std::path::PathBuf;

/// Which side of no effect is the favourable one, for the Results sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Estimates above the null favour the experimental intervention (e.g. response rates).
    Higher,
    /// Estimates below the null favour the experimental intervention (e.g. event risks).
    Lower,
}

/// How one analysis is run; every field is optional except `file` in a manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisConfig {
    /// The analysis's name (default: the `analysis` value, else the file's stem).
    pub name: Option<String>,
    /// The CSV file (or workbook) of studies, relative to the manifest's directory.
    pub file: Option<PathBuf>,
    /// The sheet of a workbook file (default: the first).
    pub sheet: Option<String>,
    /// For a long CSV: the value of its `analysis` column that selects this analysis's rows.
    pub analysis: Option<String>,
    /// Effect measure as metafor names it (`OR`, `SMD`, ...); default: the data type's usual one.
    pub measure: Option<String>,
    /// Pooling method: a τ² estimator as metafor names it (default `REML`, `DL` under
    /// `revman5`), `FE`, or `MH` / `Peto` for 2×2 (and, for MH, incidence) data.
    pub method: Option<String>,
    /// Bundle of defaults: `cochrane` (default), `metafor` or `revman5` (Mantel–Haenszel for
    /// binary data; with `method = "DL"` RevMan 5's random-effects model).
    pub preset: Option<String>,
    /// Inference: `knha` (default), `z` or `adhoc`.
    pub test: Option<String>,
    /// Confidence level in percent, or a proportion below 1 (default 95).
    pub level: Option<crate::model::Level>,
    /// Subgroup column.
    pub by: Option<String>,
    /// Meta-regression moderators (column names, or a formula's terms).
    #[serde(default)]
    pub mods: Vec<String>,
    /// "Favours …" labels, left and right of no effect.
    pub labels: Option<[String; 2]>,
    /// Page title (default: the name).
    pub title: Option<String>,
    /// Which side of no effect is favourable, for the Results sentence.
    pub direction: Option<Direction>,
    /// A caution printed on the page and in the index.
    pub note: Option<String>,
    /// When set, the analysis is not run and is listed as skipped with this reason.
    pub exclude: Option<String>,
    /// Pool reported ratios of different measures (OR with HR, ...) as one generic ratio; refused
    /// unless true, and the page and index say so when it is.
    #[serde(default)]
    pub allow_mixed_ratios: bool,
    /// Show the test of the pooled proportion against 0.5 (PLO) or 0 (PR), which the page leaves
    /// out unless asked: it is rarely the question. Other measures always show their test.
    #[serde(default)]
    pub null_test: bool,
    /// x-axis labels of the bubble plots, by moderator: `xlab = { ablat = "Latitude (°)" }`.
    #[serde(default)]
    pub xlab: std::collections::BTreeMap<String, String>,
    /// The assumed control risk (0–1) of the summary-of-findings row of an OR, RR or RD
    /// (default: the median control-arm risk of the studies).
    pub control_risk: Option<f64>,
    /// The forest plot's layout: `standard`, or `revman` (RevMan 5's; the default under
    /// `preset = "revman5"`).
    pub layout: Option<crate::render::plot::forest::ForestLayout>,
    /// Names of the two arms over the data columns: `["Tacrolimus", "Control"]` or
    /// `"Tacrolimus,Control"` (default Experimental and Control).
    pub arms: Option<crate::render::plot::forest::Arms>,
    /// Draw the common-effect and the random-effects diamonds together, each with its weights.
    #[serde(default)]
    pub both_models: bool,
    /// Width of the forest plot with its unit (mm, cm, in, pt, px), e.g. `"170mm"`; in pixels.
    #[serde(
        default,
        deserialize_with = "crate::render::plot::size::manifest_width"
    )]
    pub width: Option<f64>,
    /// Height of the forest plot with its unit, e.g. `"120mm"`; in pixels.
    #[serde(
        default,
        deserialize_with = "crate::render::plot::size::manifest_height"
    )]
    pub height: Option<f64>,
    /// Body font size of the forest plot in points (9 by default).
    #[serde(
        default,
        deserialize_with = "crate::render::plot::size::manifest_font_size"
    )]
    pub font_size: Option<f64>,
    /// Column mappings, as `pool --col NAME=COLUMN`: `col = { yi = "logOR", vi = "var" }`.
    #[serde(default)]
    pub col: std::collections::BTreeMap<String, String>,
    /// Continuity correction added to zero cells (`pool --add`; default 0.5).
    pub add: Option<f64>,
    /// Which studies get the correction: `only0` (default), `all`, `if0all` or `none` (`--to`).
    pub to: Option<String>,
    /// Drop studies with no events (or only events) in both arms (`--drop00`).
    pub drop00: Option<bool>,
    /// Variance type for SMD, RD, PR: `LS` (default), `UB`, ... (`--vtype`).
    pub vtype: Option<String>,
    /// Prediction interval: `metafor` (default) or `riley` (`--pi`).
    pub pi: Option<String>,
    /// Fix τ² at this value instead of estimating it (`--tau2`).
    pub tau2: Option<f64>,
    /// Root-finding tolerance of Paule–Mandel and of the Q-profile CI (`--tol`).
    pub tol: Option<f64>,
    /// Fisher scoring step multiplier, in (0, 1] (`--stepadj`).
    pub stepadj: Option<f64>,
    /// Fisher scoring iteration limit (`--maxiter`).
    pub maxiter: Option<usize>,
    /// Fisher scoring convergence threshold (`--threshold`).
    pub threshold: Option<f64>,
    /// Unweighted estimate of the pooled effect (`--unweighted`).
    #[serde(default)]
    pub unweighted: bool,
    /// Mantel–Haenszel tests without continuity correction (`--no-correct`).
    #[serde(default)]
    pub no_correct: bool,
    /// ML/REML/EB algorithm: `fisher` (default) or `newton` (`--solver`).
    pub solver: Option<String>,
    /// Field delimiter of the CSV file, one character (`--delimiter`; default: detected).
    pub delimiter: Option<String>,
    /// Decimal separator, `.` or `,` (`--decimal`; default: detected).
    pub decimal: Option<String>,
    /// Scale of given effects (GEN): `identity`, `log`, `logit`, `fisherz` (`--scale`).
    pub scale: Option<String>,
    /// With `mods`: reference levels, `COLUMN=LEVEL` or `LEVEL` (`--reference`).
    #[serde(default)]
    pub reference: Vec<String>,
    /// With `mods`: Wald tests of the coefficients whose names contain each text
    /// (`--test-coefs`).
    #[serde(default)]
    pub test_coefs: Vec<String>,
    /// With `mods`: points to predict at, each a number, a list of numbers or `"30,1"`
    /// (`--predict`).
    #[serde(default)]
    pub predict: Vec<PredictPoint>,
    /// Permutation test with this many permutations (`--permutations`).
    pub permutations: Option<usize>,
    /// Seed of the permutations (`--seed`, default 1).
    pub seed: Option<u64>,
    /// With `by`: lead with the estimates of the model with one common τ² (`--common-tau2`).
    #[serde(default)]
    pub common_tau2: bool,
    /// CI for τ²: `qp` (Q-profile, default) or `pl` (profile likelihood) (`--tau2-ci`).
    pub tau2_ci: Option<String>,
    /// Each study's own interval for single proportions and rates: `cp` (Clopper–Pearson;
    /// Garwood's exact interval for rates; default), `wilson` or `wald` (`--study-ci`).
    pub study_ci: Option<String>,
    /// The report's GLMM: `auto` (default: the binomial-normal model pools single proportions,
    /// UM.FS beside 2×2 tables with a zero cell), `off`, or a model (`UM.FS`, `CM.EL`, ...).
    pub glmm: Option<String>,
    /// Cluster-robust inference: `CR1` or `CR2` (`--robust`), with `cluster`.
    pub robust: Option<String>,
    /// The column grouping the rows into clusters (`--cluster`).
    pub cluster: Option<String>,
    /// Rows carry what each paper reported (`--reported`).
    #[serde(default)]
    pub reported: bool,
    /// With `reported`: pool "p < b" rows at their SE bound (`--include-p-bounds`).
    #[serde(default)]
    pub include_p_bounds: bool,
    /// The event counted is a good one (`--events-desirable`; default: `direction = "higher"`).
    pub events_desirable: Option<bool>,
    /// Multilevel model: random-effects formulas, one text or a list (`--random`).
    #[serde(default)]
    pub random: TextList,
    /// Covariance structures of `~ inner | outer` terms (`--struct`).
    #[serde(default, rename = "struct")]
    pub structure: TextList,
    /// Sampling correlation between different `obs` of one `cluster` (`--rho`).
    pub rho: Option<f64>,
    /// The observation column of `rho` (`--obs`).
    pub obs: Option<String>,
    /// Known sampling covariance columns, a list or `"c1,c2"` (`--V-block`).
    #[serde(default, rename = "V_block")]
    pub v_block: TextList,
    /// Degrees of freedom of a multilevel model's t tests: `residual` or `contain` (`--dfs`).
    pub dfs: Option<String>,
}

/// One text or a list of texts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextList(pub Vec<String>);

impl<'de> Deserialize<'de> for TextList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        match Raw::deserialize(d) {
            Ok(Raw::One(s)) => Ok(TextList(vec![s])),
            Ok(Raw::Many(v)) => Ok(TextList(v)),
            Err(_) => Err(serde::de::Error::custom(
                "expected a text or a list of texts",
            )),
        }
    }
}

/// A point to predict at: the values of the coefficients after the intercept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PredictPoint(pub Vec<f64>);

impl<'de> Deserialize<'de> for PredictPoint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(f64),
            Many(Vec<f64>),
            Text(String),
        }
        let bad = || {
            serde::de::Error::custom("expected a number, a list of numbers or a text of numbers")
        };
        match Raw::deserialize(d).map_err(|_| bad())? {
            Raw::One(x) => Ok(PredictPoint(vec![x])),
            Raw::Many(v) => Ok(PredictPoint(v)),
            Raw::Text(s) => s
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|t| !t.is_empty())
                .map(|t| {
                    t.parse::<f64>()
                        .map_err(|_| serde::de::Error::custom(format!("'{t}' is not a number")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(PredictPoint),
        }
    }
}

/// A result that is either computed or, with the reason, not computed.
pub type Step<T> = std::result::Result<T, String>;

/// What a report's GLMM is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlmmRole {
    /// The pooled result (single proportions): the inverse-variance model is a sensitivity line.
    Primary,
    /// A sensitivity analysis beside the pooling (sparse 2×2 tables).
    Sensitivity,
}

/// The GLMM a report fits: measure, model and role (from `app::presets::report_glmm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportGlmm {
    /// The measure it is fitted on (PLO for single proportions, OR for 2×2 tables).
    pub measure: crate::measure::Measure,
    /// metafor's model (ignored for PLO).
    pub model: crate::glmm::GlmmModel,
    /// Its role on the page.
    pub role: GlmmRole,
}

/// The report's GLMM and its fit, or why it was not fitted.
#[derive(Debug, Clone)]
pub struct GlmmStep {
    /// What was fitted.
    pub spec: ReportGlmm,
    /// The fit, or why there is none.
    pub fit: Step<crate::glmm::GlmmFit>,
}

impl GlmmStep {
    /// The GLMM as the page names it.
    pub fn name(&self) -> String {
        match self.spec.measure {
            crate::measure::Measure::PLO => "binomial-normal GLMM".into(),
            _ => format!("GLMM ({})", self.spec.model.name()),
        }
    }
}

/// A GLMM's pooled estimate and its CI on the display scale (proportion, OR).
pub fn fit_display(fit: &crate::glmm::GlmmFit) -> Option<(f64, f64, f64)> {
    let c = fit.coefs.first()?;
    let scale = match fit.measure {
        crate::measure::Measure::PLO => crate::measure::Scale::Logit,
        _ => crate::measure::Scale::Log,
    };
    let b = |x: f64| scale.back(x);
    Some((b(c.estimate), b(c.ci_lb), b(c.ci_ub)))
}

impl Analysis {
    /// The page's GLMM with its fit, when it was fitted.
    pub fn glmm_fit(&self) -> Option<(&GlmmStep, &crate::glmm::GlmmFit)> {
        let g = self.glmm.as_ref()?;
        g.fit.as_ref().ok().map(|f| (g, f))
    }

    /// Whether the page leads with the GLMM (single proportions, fitted).
    pub fn glmm_leads(&self) -> bool {
        self.glmm_fit()
            .is_some_and(|(g, _)| g.spec.role == GlmmRole::Primary)
    }
}

/// One analysis to run: its name, where its rows come from, and its settings.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The name as given (manifest name, file stem, or `analysis` value).
    pub name: String,
    /// Directory name: the slug of `name`, deduplicated.
    pub dir: String,
    /// The CSV file the rows are read from.
    pub file: PathBuf,
    /// For a long CSV: the `analysis` value selecting the rows.
    pub rows: Option<String>,
    /// The settings from the manifest (or the defaults).
    pub cfg: AnalysisConfig,
    /// The directory of the input (manifest or directory) that listed the file: error rows show
    /// paths relative to it, not where the inputs sit on this machine.
    pub base: PathBuf,
}

/// Everything computed for one analysis.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// What was run.
    pub spec: Spec,
    /// The studies as read from the file.
    pub studies: Studies,
    /// The model of all the studies (REML with Knapp–Hartung unless the settings say otherwise);
    /// for Mantel–Haenszel and Peto pooling the view of `tables` (its `weighting` says which).
    pub fit: RmaFit,
    /// The Mantel–Haenszel or Peto fit of the tables, when the studies were pooled so (RevMan
    /// 5's random-effects model included: its Q is this fit's).
    pub tables: Option<MhFit>,
    /// Name of the effect on the display scale ("OR", "Proportion", ...).
    pub effect_name: String,
    /// Cluster-robust inference and permutation test of the pooled model, when asked for.
    pub extras: PooledExtras,
    /// Subgroup analysis, when `by` is set.
    pub subgroup: Option<Step<SubgroupFit>>,
    /// The permutation test of the subgroups' mixed model `~ factor(by)`, when asked for.
    pub subgroup_permutation: Option<PermutationTest>,
    /// Meta-regression, when `mods` is set.
    pub metareg: Option<Step<MetaregFit>>,
    /// The meta-regression's predictions, Wald tests, permutation test and robust inference.
    pub metareg_extras: MetaregExtras,
    /// The multilevel model, when `random` is set: `fit` is then its forest plot's view.
    pub multilevel: Option<MvRun>,
    /// The meta-regression's bubble plots, one per numeric moderator.
    pub bubbles: Vec<Bubble>,
    /// Egger's regression test (predictor sei, `rma` model).
    pub regtest: Step<Regtest>,
    /// Begg and Mazumdar's rank correlation test.
    pub ranktest: Step<Ranktest>,
    /// Trim-and-fill (estimator L0).
    pub trimfill: Step<TrimFill>,
    /// PET-PEESE at α = 0.10, as `evident bias`.
    pub pet_peese: Step<PetPeese>,
    /// The three-parameter selection model (one step at one-sided p = 0.025).
    pub three_psm: Step<SelModel>,
    /// Whether the adjusted estimates agree with the pooled one (the policy of
    /// `bias::panel::agreement_sentence`); `None` when none was computed.
    pub adjusted_agreement: Option<String>,
    /// Leave-one-out refits.
    pub leave1out: Step<RefitSeries>,
    /// The forest plot, as SVG.
    pub forest_svg: String,
    /// The funnel plot (with trim-and-fill's filled studies) as SVG; not drawn for k < 2.
    pub funnel_svg: Step<String>,
    /// Cautions shown with the results.
    pub warnings: Vec<String>,
    /// The summary-of-findings row of a binary outcome; `None` for other measures.
    pub sof: Option<Step<Sof>>,
    /// The risk-of-bias figures (traffic lights, then the weighted summary) as SVG, when the
    /// data have `rob_*` columns.
    pub rob_svgs: Option<Step<[String; 2]>>,
    /// The metafor code that reproduces the pooled model (as `pool --show-r`), reading the file
    /// by its path relative to the report's input; `None` for a single study (nothing pooled).
    pub r_code: Option<Step<String>>,
    /// The GLMM of current guidance for these data, when there is one.
    pub glmm: Option<GlmmStep>,
}

/// What the pooling options add to the pooled model (no moderators): cluster-robust inference
/// and the sign-flip permutation test (computed by `app::pool`, as `evident pool` does).
#[derive(Debug, Clone, Default)]
pub struct PooledExtras {
    /// Cluster-robust inference (`robust` with `cluster`).
    pub robust: Option<RobustFit>,
    /// The intercept-only model and its permutation test (`permutations`).
    pub permutation: Option<(MetaregFit, PermutationTest)>,
}

/// What the pooling options add to a meta-regression (computed by `app::pool`, as
/// `evident pool --mods` does).
#[derive(Debug, Clone, Default)]
pub struct MetaregExtras {
    /// Predicted effects at the `predict` points (values of the coefficients after the
    /// intercept).
    pub predictions: Vec<(Vec<f64>, Predicted)>,
    /// The Wald tests of `test_coefs`: the coefficients each names, and the test.
    pub wald: Vec<(Vec<String>, OmnibusTest)>,
    /// The permutation test of the coefficients and QM.
    pub permutation: Option<PermutationTest>,
    /// Cluster-robust inference.
    pub robust: Option<RobustFit>,
}

impl Analysis {
    /// The multilevel meta-regression (`random` with `mods`), which has no pooled estimate:
    /// renderers show its coefficients and QM where they would show the pooled row.
    pub fn mv_metareg(&self) -> Option<&MvRun> {
        self.multilevel.as_ref().filter(|m| m.fit.has_moderators())
    }
}

/// A multilevel model (metafor's `rma.mv`) with its options and, under `robust`, its
/// cluster-robust inference (fitted by `app::pool`, as `evident pool --random` does).
#[derive(Debug, Clone)]
pub struct MvRun {
    /// The options it was fitted with.
    pub options: MvOptions,
    /// The fit.
    pub fit: MvFit,
    /// Cluster-robust inference on the `cluster` column.
    pub robust: Option<RobustFit>,
    /// Profile-likelihood CIs of the variance components (under `tau2_ci = pl`; empty
    /// otherwise).
    pub cis: MvProfile,
}

/// A bubble plot of the meta-regression along one numeric moderator.
#[derive(Debug, Clone)]
pub struct Bubble {
    /// The moderator (the coefficient's name).
    pub moderator: String,
    /// The file it is written to in the analysis's directory.
    pub file: String,
    /// The plot as SVG, or why it is not drawn.
    pub svg: Step<String>,
}

/// One row of the index.
#[derive(Debug, Clone)]
pub enum Entry {
    /// An analysis that ran, with its results.
    Done(Box<Analysis>),
    /// An analysis not run: excluded by its settings, or p-values with no effects to pool.
    Skipped {
        /// Its name.
        name: String,
        /// Why it was skipped.
        reason: String,
    },
    /// An analysis that failed.
    Failed {
        /// Its name.
        name: String,
        /// Its output directory, if it got that far.
        dir: Option<String>,
        /// The error message.
        error: String,
    },
}

impl Entry {
    /// The analysis failed.
    pub fn is_failed(&self) -> bool {
        matches!(self, Entry::Failed { .. })
    }
}

/// Options of a report run.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// A generation time to print (none: the output is byte-for-byte reproducible).
    pub timestamp: Option<String>,
    /// Also write each forest plot as a PNG (rasterising is most of a report's time, so it is
    /// asked for; the pages inline SVG and link `forest.svg`).
    pub png: bool,
    /// Also write each analysis as a Word document, `<dir>.docx` beside its directory.
    pub docx: bool,
}
