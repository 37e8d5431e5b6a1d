//! Effect sizes from raw study data, as metafor's `escalc()`.
//!
//! [`escalc`] turns [`Studies`] into one optional `(yi, vi)` per input row (rows that give no value
//! are `None`, exactly where metafor gives `NA`); [`EffectSet`] keeps the rows that can be pooled,
//! with their labels and moderators.

mod binary;
mod change;
mod continuous;
mod correlation;
mod incidence;
mod mean;
mod proportion;
mod rate;
mod study_ci;

pub use continuous::smd_revman5;
pub use study_ci::{StudyCi, StudyIntervals};

use crate::data::{Data, Moderator, Studies};
use crate::error::{Error, Result};
use crate::measure::{Measure, Scale};

/// Which studies get the continuity correction (metafor's `to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AddTo {
    /// Only studies with a zero cell (metafor's default).
    Only0,
    /// Every study.
    All,
    /// Every study, if any study has a zero cell.
    If0all,
    /// No correction.
    None,
}

impl std::str::FromStr for AddTo {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "only0" => Ok(AddTo::Only0),
            "all" => Ok(AddTo::All),
            "if0all" => Ok(AddTo::If0all),
            "none" => Ok(AddTo::None),
            _ => Err(Error::invalid(format!(
                "unknown continuity-correction target (to) '{s}': expected only0, all, if0all or none"
            ))),
        }
    }
}

impl AddTo {
    /// The value as written for `--to` and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            AddTo::Only0 => "only0",
            AddTo::All => "all",
            AddTo::If0all => "if0all",
            AddTo::None => "none",
        }
    }
}

/// Variance type (metafor's `vtype`); which ones a measure defines is checked by [`escalc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum VType {
    /// Large-sample approximation (default).
    LS,
    /// Unbiased estimate (RD, PR, SMD, UCOR).
    UB,
    /// The second large-sample form (SMDH: without the J² factor).
    LS2,
    /// Homoscedastic: the pooled SD in both groups (ROM).
    HO,
    /// The n-weighted average over studies in place of each study's own value (ROM, PLN, UCOR).
    AV,
    /// Homoscedastic and averaged over studies (ROM).
    AVHO,
    /// Cross-sectional sampling (PHI; the same as LS).
    CS,
    /// Stratified sampling: fixed group sizes (PHI).
    ST,
}

impl VType {
    /// Every variance type, as metafor spells it.
    pub const ALL: [VType; 8] = [
        VType::LS,
        VType::UB,
        VType::LS2,
        VType::HO,
        VType::AV,
        VType::AVHO,
        VType::CS,
        VType::ST,
    ];

    /// metafor's name.
    pub fn name(self) -> &'static str {
        match self {
            VType::LS => "LS",
            VType::UB => "UB",
            VType::LS2 => "LS2",
            VType::HO => "HO",
            VType::AV => "AV",
            VType::AVHO => "AVHO",
            VType::CS => "CS",
            VType::ST => "ST",
        }
    }
}

impl std::str::FromStr for VType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let up = s.trim().to_ascii_uppercase();
        VType::ALL
            .into_iter()
            .find(|v| v.name() == up)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown variance type (vtype) '{s}': expected LS, UB, LS2, HO, AV, AVHO, CS or ST"
                ))
            })
    }
}

/// Options of `escalc`, with metafor's defaults.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EscalcOptions {
    /// metafor's `add`: the amount added to the cells of a corrected study (½ by default, 0 for
    /// the measures defined at zero counts: [`EscalcOptions::for_measure`]).
    pub add: f64,
    /// metafor's `to`: which studies get the correction.
    pub to: AddTo,
    /// metafor's `drop00`: studies with no events, or only events, in both groups give no effect.
    pub drop00: bool,
    /// metafor's `vtype`: which sampling variance SMD, RD and PR get.
    pub vtype: VType,
    /// Pool reported ratios of different measures (OR with HR, ...) as one generic ratio; refused
    /// by default ([`crate::Error::MixedRatios`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_mixed_ratios: bool,
}

impl EscalcOptions {
    /// metafor's defaults for `measure`: as [`EscalcOptions::default`], but `add` is 0 for the
    /// measures defined at zero counts (AS, PHI, PAS, PFT, IRS, IRFT; see
    /// [`Measure::default_add`]), as `escalc` chooses when no `add` is given.
    ///
    /// ```
    /// use evident::{EscalcOptions, Measure};
    /// assert_eq!(EscalcOptions::for_measure(Measure::IRFT).add, 0.0);
    /// assert_eq!(EscalcOptions::for_measure(Measure::PLO).add, 0.5);
    /// ```
    pub fn for_measure(measure: Measure) -> Self {
        EscalcOptions {
            add: measure.default_add(),
            ..EscalcOptions::default()
        }
    }
}

/// `add` ½, `to` only0, no drop00, vtype LS: metafor's defaults for every measure but those
/// defined at zero counts, whose `add` is 0 ([`EscalcOptions::for_measure`]).
impl Default for EscalcOptions {
    fn default() -> Self {
        EscalcOptions {
            add: 0.5,
            to: AddTo::Only0,
            drop00: false,
            vtype: VType::LS,
            allow_mixed_ratios: false,
        }
    }
}

/// The per-row result of `escalc`: `None` where metafor gives `NA`.
#[derive(Debug, Clone, PartialEq)]
pub struct Escalc {
    /// The measure computed.
    pub measure: Measure,
    /// The scale `yi` is on (log for ratios, logit for PLO, ...).
    pub scale: Scale,
    /// Effect size of each input row, on `scale`.
    pub yi: Vec<Option<f64>>,
    /// Sampling variance of each input row.
    pub vi: Vec<Option<f64>>,
    /// Rows whose counts received the continuity correction.
    pub corrected: Vec<bool>,
}

/// Decides which rows get the continuity correction, given per-row "has a zero cell" flags.
pub fn correction_flags(has_zero: &[Option<bool>], to: AddTo) -> Vec<bool> {
    let any = has_zero.contains(&Some(true));
    has_zero
        .iter()
        .map(|z| match to {
            AddTo::All => z.is_some(),
            AddTo::Only0 => *z == Some(true),
            AddTo::If0all => any && z.is_some(),
            AddTo::None => false,
        })
        .collect()
}

/// Keeps a finite (yi, vi) pair; infinite or NaN values become missing, as in metafor.
pub(crate) fn finite_pair(yi: f64, vi: f64) -> (Option<f64>, Option<f64>) {
    if yi.is_finite() && vi.is_finite() {
        (Some(yi), Some(vi))
    } else {
        (None, None)
    }
}

/// Computes effect sizes and sampling variances for every row.
///
/// # Examples
///
/// ```
/// use evident::{escalc, read_studies, ColumnMap, CsvOptions, EffectSet, EscalcOptions, Measure};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/bcg.csv");
/// let studies = read_studies(path.as_ref(), &CsvOptions::default(), &ColumnMap::new())?;
/// let es = escalc(&studies, Measure::OR, &EscalcOptions::default())?;
/// assert_eq!(es.yi.len(), studies.labels.len()); // one per row, None where metafor has NA
/// assert!(es.vi.iter().flatten().all(|&v| v > 0.0));
/// // EffectSet::from_studies runs escalc and keeps the usable rows, as the analyses want.
/// let set = EffectSet::from_studies(&studies, Measure::OR, &EscalcOptions::default())?;
/// assert_eq!(set.yi, es.yi.iter().flatten().copied().collect::<Vec<_>>());
/// # Ok::<(), evident::Error>(())
/// ```
pub fn escalc(studies: &Studies, measure: Measure, opts: &EscalcOptions) -> Result<Escalc> {
    let mismatch = || {
        Error::invalid(format!(
            "{}: measure {measure} does not fit {} (columns for {})",
            studies.source.display(),
            studies.data.kind_name(),
            studies.data.kind().fitting_measures()
        ))
    };
    refuse_vtype(measure, opts.vtype)?;
    let (yi, vi, corrected) = match (&studies.data, measure) {
        (
            Data::TwoByTwo { ai, bi, ci, di },
            Measure::OR
            | Measure::RR
            | Measure::RD
            | Measure::PETO
            | Measure::AS
            | Measure::PHI
            | Measure::YUQ
            | Measure::YUY
            | Measure::OR2DN
            | Measure::OR2DL,
        ) => binary::escalc(measure, ai, bi, ci, di, opts),
        (
            Data::Means {
                m1i,
                sd1i,
                n1i,
                m2i,
                sd2i,
                n2i,
            },
            Measure::MD | Measure::SMD | Measure::SMDH | Measure::ROM | Measure::VR | Measure::CVR,
        ) => continuous::escalc(measure, m1i, sd1i, n1i, m2i, sd2i, n2i, opts),
        (Data::Incidence { x1i, t1i, x2i, t2i }, Measure::IRR | Measure::IRD) => {
            incidence::escalc(measure, x1i, t1i, x2i, t2i, opts)
        }
        (
            Data::Proportion { xi, ni },
            Measure::PR | Measure::PLO | Measure::PAS | Measure::PFT | Measure::PLN,
        ) => proportion::escalc(measure, xi, ni, opts),
        (Data::Correlation { ri, ni }, Measure::ZCOR | Measure::COR | Measure::UCOR) => {
            correlation::escalc(measure, ri, ni, opts.vtype)
        }
        (Data::Regression { ti, ni, mi }, Measure::PCOR | Measure::ZPCOR) => {
            correlation::partial(measure, ti, ni, mi, opts.vtype)
        }
        (Data::Rate { xi, ti }, Measure::IR | Measure::IRLN | Measure::IRS | Measure::IRFT) => {
            rate::escalc(measure, xi, ti, opts)
        }
        (
            Data::Mean { mi, sdi, ni },
            Measure::MN | Measure::MNLN | Measure::CVLN | Measure::SDLN,
        ) => {
            if matches!(measure, Measure::MNLN | Measure::CVLN) {
                refuse_negative_means(studies, mi, measure)?;
            }
            mean::escalc(measure, mi, sdi, ni)
        }
        (
            d @ Data::PrePost { .. },
            Measure::MC | Measure::SMCC | Measure::SMCR | Measure::SMCRH | Measure::ROMC,
        ) => change::from_data(measure, d, opts),
        (Data::Precomputed { yi, vi }, Measure::GEN) => precomputed(yi, vi),
        (
            Data::ReportedRatio {
                estimate,
                ci_lb,
                ci_ub,
                level,
            },
            Measure::GEN,
        ) => {
            if !opts.allow_mixed_ratios {
                refuse_mixed_ratios(&studies.source, &mixed_ratios(studies))?;
            }
            let n = estimate.len();
            let mut y = Vec::with_capacity(n);
            let mut v = Vec::with_capacity(n);
            for i in 0..n {
                match (estimate[i], ci_lb[i], ci_ub[i]) {
                    (Some(e), Some(l), Some(u)) => {
                        let lev = level[i].unwrap_or(95.0);
                        // Validated when read; a proportion below 1 is its percent, as in metafor.
                        let crit = crate::stats::level::Level::new(lev)?.z();
                        let se = (u.ln() - l.ln()) / (2.0 * crit);
                        y.push(Some(e.ln()));
                        v.push(Some(se * se));
                    }
                    _ => {
                        y.push(None);
                        v.push(None);
                    }
                }
            }
            (y, v, vec![false; n])
        }
        _ => return Err(mismatch()),
    };
    let scale = match (&studies.data, measure) {
        (Data::Proportion { ni, .. }, Measure::PFT) => Scale::freeman_tukey(harmonic_mean(ni)),
        (Data::Rate { ti, .. }, Measure::IRFT) => Scale::freeman_tukey_rate(harmonic_mean(ti)),
        _ => studies.data.kind().scale(measure, None),
    };
    Ok(Escalc {
        measure,
        scale,
        yi,
        vi,
        corrected,
    })
}

/// The variance types `measure` defines besides LS (metafor 3.8-1). OR, RR, PETO, MD, IRR, IRD
/// and GEN ignore `vtype` in metafor and keep accepting UB, as they always did here.
fn vtypes_of(measure: Measure) -> &'static [VType] {
    use VType::*;
    match measure {
        Measure::RD | Measure::PR | Measure::SMD => &[UB],
        Measure::OR | Measure::RR | Measure::PETO | Measure::MD | Measure::IRR | Measure::IRD => {
            &[UB]
        }
        Measure::GEN => &[UB],
        Measure::SMDH | Measure::SMCC | Measure::SMCR => &[LS2],
        Measure::PCOR => &[AV],
        Measure::ROM => &[HO, AV, AVHO],
        Measure::PHI => &[CS, ST],
        Measure::PLN => &[AV],
        Measure::UCOR => &[UB, AV],
        _ => &[],
    }
}

/// Given yi and vi, kept where both are present.
#[allow(clippy::type_complexity)]
fn precomputed(
    yi: &[Option<f64>],
    vi: &[Option<f64>],
) -> (Vec<Option<f64>>, Vec<Option<f64>>, Vec<bool>) {
    let n = yi.len();
    let mut y = Vec::with_capacity(n);
    let mut v = Vec::with_capacity(n);
    for (a, b) in yi.iter().zip(vi) {
        match (a, b) {
            (Some(a), Some(b)) => {
                y.push(Some(*a));
                v.push(Some(*b));
            }
            _ => {
                y.push(None);
                v.push(None);
            }
        }
    }
    (y, v, vec![false; n])
}

/// metafor stops on a negative mean for the log mean and log coefficient of variation (their
/// logarithm is undefined); the error names the first such row.
fn refuse_negative_means(studies: &Studies, mi: &[Option<f64>], measure: Measure) -> Result<()> {
    match mi.iter().position(|m| m.is_some_and(|m| m < 0.0)) {
        Some(r) => Err(Error::input(
            studies.location(r, Some("mi")),
            format!(
                "{measure} takes the log of the mean, found a negative mean {}",
                mi[r].unwrap_or(f64::NAN)
            ),
        )),
        None => Ok(()),
    }
}

/// The harmonic mean of the sample sizes (person-times) given (missing ones left out), at which
/// metafor's `transf.ipft.hm` inverts the Freeman–Tukey transform (and `transf.iirft` is taken
/// for rates).
pub fn harmonic_mean(ni: &[Option<f64>]) -> f64 {
    let n: Vec<f64> = ni.iter().flatten().copied().collect();
    1.0 / (n.iter().map(|n| 1.0 / n).sum::<f64>() / n.len() as f64)
}

/// metafor refuses a variance type a measure does not define (SMDH with UB fails there with
/// 'argument "vi" is missing'); accepting and ignoring it would report a variance type that
/// was not used.
fn refuse_vtype(measure: Measure, vtype: VType) -> Result<()> {
    if vtype == VType::LS || vtypes_of(measure).contains(&vtype) {
        return Ok(());
    }
    let why = match (measure, vtype) {
        (Measure::COR | Measure::ZCOR, VType::UB) => {
            ": the unbiased variance type applies to the bias-corrected correlation (metafor's UCOR) only".to_string()
        }
        (Measure::PLO, VType::UB) => ": the logit's large-sample variance is the only one defined".into(),
        _ => {
            let others: Vec<&str> = vtypes_of(measure).iter().map(|v| v.name()).collect();
            format!(" (it defines LS{}{})", if others.is_empty() { "" } else { ", " }, others.join(", "))
        }
    };
    Err(Error::invalid(format!(
        "variance type (vtype) {} does not apply to {measure}{why}; use LS",
        vtype.name()
    )))
}

/// The rows of one measure: 1-based line and label of each.
pub type MeasureRows = Vec<(usize, String)>;

/// The ratio measures a `measure` column of reported ratios names, with their rows, when it names
/// more than one (rows without all of estimate and CI, and the generic `RATIO`, are not counted);
/// empty when the rows agree.
pub fn mixed_ratios(studies: &Studies) -> Vec<(String, MeasureRows)> {
    let (
        Data::ReportedRatio {
            estimate,
            ci_lb,
            ci_ub,
            ..
        },
        Some(col),
    ) = (&studies.data, studies.moderator("measure"))
    else {
        return Vec::new();
    };
    let rows = (0..estimate.len())
        .filter(|&i| estimate[i].is_some() && ci_lb[i].is_some() && ci_ub[i].is_some())
        .map(|i| {
            (
                col.values[i].as_text().trim().to_ascii_uppercase(),
                studies.lines.get(i).copied().unwrap_or(0),
                studies.labels[i].clone(),
            )
        });
    group_measures(rows)
}

/// Groups (measure, line, label) rows by measure, first-seen order; empty unless at least two
/// named measures (other than the generic `RATIO`) occur.
pub fn group_measures(
    rows: impl IntoIterator<Item = (String, usize, String)>,
) -> Vec<(String, MeasureRows)> {
    let mut groups: Vec<(String, MeasureRows)> = Vec::new();
    for (m, line, label) in rows {
        if m.is_empty() || m == "RATIO" {
            continue;
        }
        match groups.iter_mut().find(|(g, _)| *g == m) {
            Some((_, r)) => r.push((line, label)),
            None => groups.push((m, vec![(line, label)])),
        }
    }
    if groups.len() < 2 {
        groups.clear();
    }
    groups
}

/// [`crate::Error::MixedRatios`] naming every measure and (up to five of) its rows, when `groups`
/// (from [`mixed_ratios`] or [`group_measures`]) is not empty.
pub fn refuse_mixed_ratios(file: &std::path::Path, groups: &[(String, MeasureRows)]) -> Result<()> {
    if groups.is_empty() {
        return Ok(());
    }
    let rows = groups
        .iter()
        .map(|(m, r)| {
            let mut named: Vec<String> = r
                .iter()
                .take(5)
                .map(|(line, label)| format!("line {line} '{label}'"))
                .collect();
            if r.len() > 5 {
                named.push(format!("and {} more", r.len() - 5));
            }
            format!("{m} ({})", named.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    Err(Error::MixedRatios {
        file: file.to_path_buf(),
        rows,
    })
}

/// A row left out of the analysis, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Omitted {
    /// 0-based index of the row among the input rows.
    pub row: usize,
    /// The study's label.
    pub label: String,
    /// Why it was left out.
    pub reason: String,
}

/// The studies that enter a model: effect sizes, sampling variances, labels and moderators.
#[derive(Debug, Clone)]
pub struct EffectSet {
    /// The measure the effects are in.
    pub measure: Measure,
    /// The scale the effects are on (log for ratios, logit for PLO, ...).
    pub scale: Scale,
    /// `yi`: effect sizes, on `scale`.
    pub yi: Vec<f64>,
    /// `vi`: sampling variances.
    pub vi: Vec<f64>,
    /// Study labels (metafor's `slab`).
    pub labels: Vec<String>,
    /// Index of each study in the input rows.
    pub rows: Vec<usize>,
    /// Moderator columns, restricted to the rows used.
    pub moderators: Vec<Moderator>,
    /// Input rows that were dropped.
    pub omitted: Vec<Omitted>,
    /// Number of studies that received a continuity correction.
    pub n_corrected: usize,
    /// The escalc settings used.
    pub escalc: EscalcOptions,
    /// The file the studies were read from, when they were (named in errors).
    pub source: Option<std::path::PathBuf>,
    /// 1-based line in `source` of each study (empty when not read from a file).
    pub lines: Vec<usize>,
    /// The different ratio measures pooled as one generic ratio because the caller allowed it
    /// (`OR`, `HR`, ...); empty otherwise. Every output says so when it is not empty.
    pub mixed_ratios: Vec<String>,
    /// Single proportions and rates: each study's x/n (x/t) with the interval chosen to show it
    /// ([`StudyIntervals::compute`]); `None` until a caller attaches them, and for other data.
    pub study_ci: Option<StudyIntervals>,
}

impl EffectSet {
    /// A study-level column by name, or an error listing the columns there are; `what` says what
    /// the column was wanted for ("group by", ...).
    pub fn moderator(&self, column: &str, what: &str) -> Result<&Moderator> {
        self.find_moderator(column).ok_or_else(|| {
            Error::invalid(format!(
                "no column '{column}' to {what}; the data have: {}",
                self.moderator_names("no extra columns")
            ))
        })
    }

    /// A study-level column by its exact name.
    pub fn find_moderator(&self, column: &str) -> Option<&Moderator> {
        self.moderators.iter().find(|m| m.name == column)
    }

    /// The study-level columns' names, comma-separated, or `none` without any: for messages.
    pub fn moderator_names(&self, none: &str) -> String {
        if self.moderators.is_empty() {
            return none.to_string();
        }
        let names: Vec<&str> = self.moderators.iter().map(|m| m.name.as_str()).collect();
        names.join(", ")
    }

    /// Builds the set from escalc results, dropping rows with no value (metafor's
    /// "Studies with NAs omitted from model fitting").
    pub fn new(studies: &Studies, es: &Escalc, opts: &EscalcOptions) -> EffectSet {
        EffectSet::assemble(studies, studies.labels.iter().cloned(), es, opts)
    }

    /// [`EffectSet::new`] with the labels taken from `labels`, one per input row.
    fn assemble(
        studies: &Studies,
        labels: impl IntoIterator<Item = String>,
        es: &Escalc,
        opts: &EscalcOptions,
    ) -> EffectSet {
        let n = es.yi.len();
        let mut set = EffectSet {
            measure: es.measure,
            scale: es.scale,
            yi: Vec::with_capacity(n),
            vi: Vec::with_capacity(n),
            labels: Vec::with_capacity(n),
            rows: Vec::with_capacity(n),
            moderators: studies
                .moderators
                .iter()
                .map(|m| Moderator {
                    name: m.name.clone(),
                    values: Vec::new(),
                    numeric: m.numeric,
                })
                .collect(),
            omitted: Vec::new(),
            n_corrected: 0,
            escalc: *opts,
            source: Some(studies.source.clone()),
            lines: Vec::with_capacity(n),
            mixed_ratios: if opts.allow_mixed_ratios {
                mixed_ratios(studies).into_iter().map(|(m, _)| m).collect()
            } else {
                Vec::new()
            },
            study_ci: None,
        };
        for (i, label) in labels.into_iter().enumerate().take(n) {
            match (es.yi[i], es.vi[i]) {
                (Some(y), Some(v)) => {
                    set.yi.push(y);
                    set.vi.push(v);
                    set.labels.push(label);
                    set.rows.push(i);
                    set.lines.push(studies.lines.get(i).copied().unwrap_or(0));
                    for (dst, src) in set.moderators.iter_mut().zip(&studies.moderators) {
                        dst.values.push(src.values[i].clone());
                    }
                    if es.corrected[i] {
                        set.n_corrected += 1;
                    }
                }
                _ => set.omitted.push(Omitted {
                    row: i,
                    label,
                    reason:
                        "missing data or no computable effect (e.g. double-zero study, NA cells)"
                            .into(),
                }),
            }
        }
        set
    }

    /// Computes effects with `escalc` and keeps the usable rows.
    pub fn from_studies(
        studies: &Studies,
        measure: Measure,
        opts: &EscalcOptions,
    ) -> Result<EffectSet> {
        let es = escalc(studies, measure, opts)?;
        Ok(EffectSet::new(studies, &es, opts))
    }

    /// [`EffectSet::from_studies`] taking the studies by value, so labels move rather than copy.
    pub fn from_studies_owned(
        mut studies: Studies,
        measure: Measure,
        opts: &EscalcOptions,
    ) -> Result<EffectSet> {
        let es = escalc(&studies, measure, opts)?;
        let labels = std::mem::take(&mut studies.labels);
        Ok(EffectSet::assemble(&studies, labels, &es, opts))
    }

    /// Builds a set directly from effect sizes and variances.
    pub fn from_yi_vi(yi: Vec<f64>, vi: Vec<f64>, measure: Measure, scale: Scale) -> EffectSet {
        let k = yi.len();
        EffectSet {
            measure,
            scale,
            labels: (1..=k).map(|i| format!("Study {i}")).collect(),
            rows: (0..k).collect(),
            yi,
            vi,
            moderators: Vec::new(),
            omitted: Vec::new(),
            n_corrected: 0,
            escalc: EscalcOptions::default(),
            source: None,
            lines: Vec::new(),
            mixed_ratios: Vec::new(),
            study_ci: None,
        }
    }

    /// Study `i` for messages: `'label' (file, line n)`, or `'label'` when it was not read from a
    /// file.
    pub fn study_ref(&self, i: usize) -> String {
        let label = self.labels.get(i).map_or("?", String::as_str);
        match (&self.source, self.lines.get(i)) {
            (Some(f), Some(&line)) if line > 0 => {
                format!("'{label}' ({}, line {line})", f.display())
            }
            (Some(f), _) => format!("'{label}' ({})", f.display()),
            _ => format!("'{label}'"),
        }
    }

    /// Number of studies.
    pub fn k(&self) -> usize {
        self.yi.len()
    }

    /// A subset of the studies by position.
    pub fn subset(&self, idx: &[usize]) -> EffectSet {
        EffectSet {
            measure: self.measure,
            scale: self.scale,
            yi: idx.iter().map(|&i| self.yi[i]).collect(),
            vi: idx.iter().map(|&i| self.vi[i]).collect(),
            labels: idx.iter().map(|&i| self.labels[i].clone()).collect(),
            rows: idx.iter().map(|&i| self.rows[i]).collect(),
            moderators: self.moderators.iter().map(|m| m.subset(idx)).collect(),
            omitted: Vec::new(),
            n_corrected: 0,
            escalc: self.escalc,
            source: self.source.clone(),
            lines: idx
                .iter()
                .filter_map(|&i| self.lines.get(i).copied())
                .collect(),
            mixed_ratios: self.mixed_ratios.clone(),
            study_ci: self.study_ci.as_ref().map(|s| s.subset(idx)),
        }
    }
}

/// The BCG vaccine trials (Colditz et al. 1994, metafor's `dat.bcg`) as log risk ratios, read from
/// the conformance corpus: the fixture the moderator and bias unit tests share.
#[cfg(test)]
pub(crate) fn bcg_rr() -> EffectSet {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/cases/bcg_rr/input.csv");
    let s = crate::data::read_studies(&path, &Default::default(), &Default::default()).unwrap();
    EffectSet::from_studies(&s, Measure::RR, &Default::default()).unwrap()
}
