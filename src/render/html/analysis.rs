//! What the report's pages show: one analysis with everything computed for it, and the rows of the
//! index. The workflow that fills these in is `app::report`; the pages are pure functions of them.

use crate::bias::{Ranktest, Regtest, TrimFill};
use crate::data::Studies;
use crate::model::RmaFit;
use crate::moderators::metareg::MetaregFit;
use crate::moderators::subgroup::SubgroupFit;
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
    pub name: Option<String>,
    pub file: Option<PathBuf>,
    /// For a long CSV: the value of its `analysis` column that selects this analysis's rows.
    pub analysis: Option<String>,
    pub measure: Option<String>,
    pub method: Option<String>,
    pub test: Option<String>,
    /// Confidence level in percent (default 95).
    pub level: Option<f64>,
    /// Subgroup column.
    pub by: Option<String>,
    /// Meta-regression moderators (column names, or a formula's terms).
    #[serde(default)]
    pub mods: Vec<String>,
    /// "Favours …" labels, left and right of no effect.
    pub labels: Option<[String; 2]>,
    pub title: Option<String>,
    pub direction: Option<Direction>,
    /// A caution printed on the page and in the index.
    pub note: Option<String>,
    /// When set, the analysis is not run and is listed as skipped with this reason.
    pub exclude: Option<String>,
}

/// A result that is either computed or, with the reason, not computed.
pub type Step<T> = std::result::Result<T, String>;

/// One analysis to run: its name, where its rows come from, and its settings.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The name as given (manifest name, file stem, or `analysis` value).
    pub name: String,
    /// Directory name: the slug of `name`, deduplicated.
    pub dir: String,
    pub file: PathBuf,
    /// For a long CSV: the `analysis` value selecting the rows.
    pub rows: Option<String>,
    pub cfg: AnalysisConfig,
}

/// Everything computed for one analysis.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub spec: Spec,
    pub studies: Studies,
    pub fit: RmaFit,
    /// Name of the effect on the display scale ("OR", "Proportion", ...).
    pub effect_name: String,
    pub subgroup: Option<Step<SubgroupFit>>,
    pub metareg: Option<Step<MetaregFit>>,
    pub regtest: Step<Regtest>,
    pub ranktest: Step<Ranktest>,
    pub trimfill: Step<TrimFill>,
    pub leave1out: Step<RefitSeries>,
    pub forest_svg: String,
    pub funnel_svg: Step<String>,
    pub warnings: Vec<String>,
}

/// One row of the index.
#[derive(Debug, Clone)]
pub enum Entry {
    Done(Box<Analysis>),
    Skipped {
        name: String,
        reason: String,
    },
    Failed {
        name: String,
        dir: Option<String>,
        error: String,
    },
}

impl Entry {
    pub fn is_failed(&self) -> bool {
        matches!(self, Entry::Failed { .. })
    }
}

/// Options of a report run.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// A generation time to print (none: the output is byte-for-byte reproducible).
    pub timestamp: Option<String>,
}
