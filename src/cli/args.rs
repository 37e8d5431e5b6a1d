//! Arguments shared by the subcommands: reading input, escalc options, model options.

use super::choices::{
    AddToArg, MethodArg, PiArg, PresetArg, ScaleArg, SolverArg, TestArg, VTypeArg,
};
use anyhow::{bail, Context, Result};
use clap::Args;
use evident::app::options::{as_flags, PoolOptions};
use evident::app::presets::{PoolMethod, Preset};
use evident::data::{revman, ColumnMap, CsvOptions, Data, Studies, Table};
use evident::effect::{EffectSet, EscalcOptions};
use evident::model::{Level, RmaOptions};
use evident::pool::mh::MhOptions;
use evident::{Measure, Scale};
use std::path::PathBuf;

// `--sheet NAME` alone, for the commands that read a table without [`ReadArgs`].
#[derive(Args, Debug, Clone)]
pub struct SheetArg {
    /// Sheet of a workbook (.xlsx, .xls, .ods) to read (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
}

impl SheetArg {
    /// Default reading options with this sheet.
    pub fn csv_options(&self) -> CsvOptions {
        CsvOptions {
            sheet: self.sheet.clone(),
            ..CsvOptions::default()
        }
    }
}

// How text output prints numbers (`--digits`), for every command that prints a summary.
#[derive(Args, Debug, Clone, Copy)]
pub struct TextArgs {
    /// Decimals of the numbers in the text summary (metafor's digits), from 1 to 12; JSON
    /// output always carries every digit.
    #[arg(long, value_name = "N", default_value = "4")]
    pub digits: evident::render::text::Digits,
}

// Input file and how to read it.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// CSV file or workbook (.xlsx, .xls, .ods) of studies (columns as metafor's arguments:
    /// ai,bi,ci,di | m1i,... | yi,vi | ...); `-` reads standard input.
    pub file: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
}

// How to read study data and compute effect sizes (shared by every command that reads studies).
#[derive(Args, Debug, Clone)]
pub struct ReadArgs {
    /// Effect measure (OR, RR, RD, PETO, MD, SMD, IRR, IRD, PR, PLO, ZCOR, COR, GEN); default by
    /// data type. A free name because with `pool --reported` it is the default measure of the
    /// rows, which may be any reported one (HR, ...).
    #[arg(long)]
    pub measure: Option<String>,
    /// Map a data column: --col ai=events_treated (repeatable).
    #[arg(long = "col", value_name = "NAME=COLUMN")]
    pub cols: Vec<String>,
    /// Field delimiter (default: detected from the header).
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Decimal separator: '.' or ',' (default: detected for ';'-separated files).
    #[arg(long)]
    pub decimal: Option<char>,
    /// Sheet of a workbook (.xlsx, .xls, .ods) to read (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Continuity correction added to zero cells (default: metafor's, 0 for AS, PHI, PAS, PFT,
    /// IRS and IRFT, which are defined at zero counts, 0.5 otherwise).
    #[arg(long)]
    pub add: Option<f64>,
    /// Which studies get the correction.
    #[arg(long, value_enum, ignore_case = true, default_value = "only0")]
    pub to: AddToArg,
    /// Drop studies with no events (or only events) in both arms. `--drop00=false` keeps them
    /// in the per-study effects behind the Q, I² and H² of Mantel–Haenszel and Peto fits, which
    /// drop them by default (metafor's `rma.mh(drop00 = FALSE)`).
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub drop00: Option<bool>,
    /// Variance type for SMD, RD, PR.
    #[arg(long, value_enum, ignore_case = true, default_value = "LS")]
    pub vtype: VTypeArg,
    /// Scale of pre-computed effects (GEN).
    #[arg(long, value_enum)]
    pub scale: Option<ScaleArg>,
    /// Pool reported ratios of different measures (OR with HR, RR, IRR) as one generic ratio;
    /// refused without it, and every output says so with it.
    #[arg(long)]
    pub allow_mixed_ratios: bool,
}

/// Reads a data file's table (a CSV file or a workbook's sheet); the path `-` is standard input
/// (named `<stdin>` in errors; a workbook there is known by its first bytes).
pub fn read_data_file(path: &std::path::Path, csv: &CsvOptions) -> Result<Table> {
    let (source, bytes) = read_input_bytes(path)?;
    Ok(Table::from_bytes(source, &bytes, csv)?)
}

/// The bytes of a data file, or of standard input for `-`, with the name errors give them.
fn read_input_bytes(path: &std::path::Path) -> Result<(&std::path::Path, Vec<u8>)> {
    if path.as_os_str() != "-" {
        return Ok((path, evident::data::source::read_bytes(path)?));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
        .context("cannot read standard input")?;
    Ok((std::path::Path::new("<stdin>"), bytes))
}

/// The input file read once: whether it is a RevMan review, and its table as the reading flags
/// say (an error kept until the table is needed, so flag errors come first as before).
pub struct ReadInput {
    pub review: bool,
    table: Result<Table>,
}

impl ReadInput {
    /// The table (or why it could not be read).
    pub fn table(self) -> Result<Table> {
        self.table
    }
}
/// What was read: the studies, the measure chosen and the escalc options.
pub struct Loaded {
    pub studies: Studies,
    pub measure: Measure,
    pub escalc: EscalcOptions,
    pub scale: Option<Scale>,
    /// `--drop00` as given (Mantel–Haenszel and Peto default to dropping).
    pub drop00: Option<bool>,
    /// How the file was read, for `--show-r`: its header, delimiter and decimal convention.
    pub format: FileFormat,
}

/// How a data file was read: what R needs to read it the same way.
pub struct FileFormat {
    pub headers: Vec<String>,
    pub delimiter: u8,
    pub decimal_comma: bool,
    /// The table came from a workbook sheet (R's `read.csv` cannot read it).
    pub workbook: bool,
}

impl ReadArgs {
    /// The `--col NAME=COLUMN` mappings.
    pub fn column_map(&self) -> Result<ColumnMap> {
        let mut map = ColumnMap::new();
        for c in &self.cols {
            let (k, v) = c
                .split_once('=')
                .with_context(|| format!("--col expects NAME=COLUMN, got '{c}'"))?;
            map.insert(k.trim().to_owned(), v.trim().to_owned());
        }
        Ok(map)
    }

    /// `--delimiter` and `--decimal`.
    pub fn csv_options(&self) -> Result<CsvOptions> {
        Ok(CsvOptions {
            delimiter: match self.delimiter {
                Some(c) if c.is_ascii() => Some(c as u8),
                Some(c) => bail!("--delimiter must be a single ASCII character, got '{c}'"),
                None => None,
            },
            decimal_comma: match self.decimal {
                None => None,
                Some('.') => Some(false),
                Some(',') => Some(true),
                Some(c) => bail!("--decimal must be '.' or ',', got '{c}'"),
            },
            sheet: self.sheet.clone(),
        })
    }

    /// `--scale`, if given.
    pub fn scale(&self) -> Option<Scale> {
        self.scale.map(Scale::from)
    }

    /// `--measure`, if given.
    pub fn measure(&self) -> Result<Option<Measure>> {
        Ok(self.measure.as_deref().map(str::parse).transpose()?)
    }

    /// `--add`, `--to`, `--drop00`, `--vtype`.
    pub fn escalc(&self) -> Result<EscalcOptions> {
        let measure = self.measure()?;
        let o = PoolOptions {
            escalc: EscalcOptions {
                add: self
                    .add
                    .unwrap_or_else(|| measure.map_or(0.5, Measure::default_add)),
                to: self.to.into(),
                drop00: false,
                vtype: self.vtype.into(),
                allow_mixed_ratios: self.allow_mixed_ratios,
            },
            drop00: self.drop00,
            ..PoolOptions::default()
        };
        o.escalc_options()
            .map_err(|e| anyhow::anyhow!(as_flags(&e.to_string())))
    }
}

impl InputArgs {
    pub fn load(&self) -> Result<Loaded> {
        let table = read_data_file(&self.file, &self.read.csv_options()?)?;
        self.load_table(table)
    }

    /// Reads the file once for both questions: is it a review (`.rm5`, or a CSV file whose
    /// header, read with the default options, is RevMan Web's), and its table. The table read
    /// with the flags serves the review check too when they do not change the header.
    pub fn read_input(&self) -> ReadInput {
        let path = &self.file;
        if revman::is_rm5(path) {
            return ReadInput {
                review: true,
                table: Err(anyhow::anyhow!("{} is a RevMan 5 review", path.display())),
            };
        }
        let (source, bytes) = match read_input_bytes(path) {
            Ok(b) => b,
            Err(e) => {
                return ReadInput {
                    review: false,
                    table: Err(e),
                }
            }
        };
        let (table, same_header) = match self.read.csv_options() {
            Ok(o) => (
                Table::from_bytes(source, &bytes, &o).map_err(Into::into),
                o.delimiter.is_none() && o.sheet.is_none(),
            ),
            Err(e) => (Err(e), false),
        };
        let review = match (&table, same_header) {
            (Ok(t), true) => revman::is_review_table(path, t),
            (Err(_), true) => false,
            // Another delimiter or sheet: the header as the default options read it.
            _ => {
                revman::is_csv_name(path)
                    && Table::from_bytes(source, &bytes, &CsvOptions::default())
                        .is_ok_and(|t| revman::is_review_table(path, &t))
            }
        };
        ReadInput { review, table }
    }

    /// The studies of a table read from the input, with the measure and escalc options.
    pub fn load_table(&self, table: Table) -> Result<Loaded> {
        let r = &self.read;
        let studies = Studies::from_table_for(&table, &r.column_map()?, r.measure()?)?;
        for w in &studies.warnings {
            eprintln!("warning: {w}");
        }
        let measure = r
            .measure()?
            .unwrap_or_else(|| studies.data.default_measure());
        let escalc = r.escalc()?;
        Ok(Loaded {
            studies,
            measure,
            escalc,
            scale: r.scale(),
            drop00: r.drop00,
            format: FileFormat {
                headers: table.headers,
                delimiter: table.delimiter,
                decimal_comma: table.decimal_comma,
                workbook: table.sheet.is_some(),
            },
        })
    }
}

impl Loaded {
    /// The effect set for model fitting.
    pub fn effects(&self) -> Result<EffectSet> {
        let mut set = EffectSet::from_studies(&self.studies, self.measure, &self.escalc)?;
        // A given scale (GEN) replaces escalc's; otherwise escalc's stands (it carries PFT's
        // harmonic-mean n, which the measure's default scale does not).
        if self.scale.is_some() {
            set.scale = self.studies.data.kind().scale(self.measure, self.scale);
        }
        warn_mixed_ratios(&set);
        Ok(set)
    }
}

/// On stderr, the studies a model left out: one line per reason (see
/// [`evident::render::text::omitted_warnings`]); `lines` are the input rows' file lines.
pub fn warn_omitted(omitted: &[evident::effect::Omitted], lines: &[usize]) {
    for w in evident::render::text::omitted_warnings(omitted, lines) {
        eprintln!("warning: {w}");
    }
}

/// On stderr, for every command (plots included), when different ratio measures are pooled.
pub fn warn_mixed_ratios(set: &EffectSet) {
    if let Some(note) = evident::render::text::mixed_ratios_note(&set.mixed_ratios) {
        eprintln!("warning: {note}");
    }
}

// Model options.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// τ² estimator or pooling method.
    #[arg(long, value_enum, ignore_case = true)]
    pub method: Option<MethodArg>,
    /// Inference on the pooled estimate.
    #[arg(long, value_enum, ignore_case = true)]
    pub test: Option<TestArg>,
    /// Confidence level in percent, or as a proportion below 1 (0.95 is 95 %, as in metafor).
    #[arg(long, default_value = "95", allow_hyphen_values = true)]
    pub level: Level,
    /// Prediction interval.
    #[arg(long, value_enum, ignore_case = true, default_value = "metafor")]
    pub pi: PiArg,
    /// Bundle of defaults.
    #[arg(long, value_enum, default_value = "cochrane")]
    pub preset: PresetArg,
    /// Mantel–Haenszel: no continuity correction in the Cochran–Mantel–Haenszel (OR) and
    /// Mantel–Haenszel (IRR) tests (metafor's `correct = FALSE`).
    #[arg(long)]
    pub no_correct: bool,
    /// Fisher scoring step multiplier (metafor's stepadj), for REML that does not converge.
    #[arg(long)]
    pub stepadj: Option<f64>,
    /// How ML, REML and EB find τ²: metafor's Fisher scoring (default) or a safeguarded Newton
    /// solver that reaches the optimum where Fisher scoring does not converge.
    #[arg(long, value_enum, ignore_case = true)]
    pub solver: Option<SolverArg>,
    /// Fisher scoring iteration limit.
    #[arg(long)]
    pub maxiter: Option<usize>,
    /// Fisher scoring convergence threshold.
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Root-finding tolerance of Paule–Mandel and of the Q-profile CI for τ² (metafor's
    /// control = list(tol = …); default eps^0.25 ≈ 1.2e-4, e.g. 1e-12 for the precise answers).
    #[arg(long)]
    pub tol: Option<f64>,
    /// Fix τ² at this value instead of estimating it (metafor's rma(tau2 = …)); --method then
    /// only chooses the formula of SE(τ²).
    #[arg(long, value_name = "VALUE")]
    pub tau2: Option<f64>,
    /// Unweighted estimate of the pooled effect: the plain mean with variance Σ(vi + τ²)/k²
    /// (metafor's weighted = FALSE; intercept-only models).
    #[arg(long)]
    pub unweighted: bool,
}

/// The pooling method chosen: an `rma` estimator, Mantel–Haenszel, or Peto.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pooling {
    Rma(RmaOptions),
    Mh(MhOptions),
    Peto(MhOptions),
    /// RevMan 5's random effects for binary data: the tables' options and the `rma` options
    /// (level, test, prediction interval) of the DerSimonian–Laird model.
    MhRandom(MhOptions, RmaOptions),
}

impl ModelArgs {
    /// The preset chosen (cochrane by default).
    pub fn preset(&self) -> Preset {
        self.preset.into()
    }

    fn method(&self) -> Option<PoolMethod> {
        self.method.map(PoolMethod::from)
    }

    /// Resolves the options for a batch of rma fits (no data to inspect: binary-data presets do
    /// not switch to Mantel–Haenszel here, nor drop double-zero studies).
    pub fn pooling_for_batch(&self) -> Result<Pooling> {
        let mh = self.mh_options(&EscalcOptions::default(), None);
        self.resolve(
            self.preset().pooling(self.method(), false, Measure::GEN),
            mh,
        )
    }

    /// Resolves the preset and explicit options for this data (RevMan 5 also drops double-zero
    /// studies from what was read).
    pub fn pooling(&self, loaded: &mut Loaded) -> Result<Pooling> {
        let binary = matches!(
            loaded.studies.data,
            Data::TwoByTwo { .. } | Data::Incidence { .. }
        );
        let preset = self.preset();
        let mh = self.mh_options(&loaded.escalc, loaded.drop00);
        loaded.escalc = preset.escalc(loaded.escalc);
        self.resolve(preset.pooling(self.method(), binary, loaded.measure), mh)
    }

    /// Mantel–Haenszel / Peto options: `--add`, `--to` and `--drop00` (dropping unless
    /// `--drop00=false`; always under RevMan 5) for the per-study effects behind Q, as metafor's
    /// scalar arguments; `--no-correct`; `--level`.
    fn mh_options(&self, escalc: &EscalcOptions, drop00: Option<bool>) -> MhOptions {
        let drop00 = drop00.unwrap_or(true) || self.preset().drop00();
        MhOptions {
            correct: !self.no_correct,
            level: self.level,
            ..MhOptions::for_study_effects(escalc.add, escalc.to, drop00)
        }
    }

    fn resolve(&self, method: PoolMethod, mh: MhOptions) -> Result<Pooling> {
        self.options()
            .check_no_correct(method)
            .map_err(|e| anyhow::anyhow!(as_flags(&e.to_string())))?;
        Ok(match method {
            PoolMethod::MantelHaenszel => Pooling::Mh(mh),
            PoolMethod::Peto => Pooling::Peto(mh),
            PoolMethod::MhRandom => {
                Pooling::MhRandom(mh, self.rma(Some(evident::model::Method::DL))?)
            }
            PoolMethod::Rma(m) => Pooling::Rma(self.rma(Some(m))?),
        })
    }

    /// Inverse-variance options for effects that carry only yi and vi (no Mantel–Haenszel or Peto).
    pub fn rma_options(&self) -> Result<RmaOptions> {
        match self.method() {
            Some(PoolMethod::MantelHaenszel | PoolMethod::Peto | PoolMethod::MhRandom) => bail!("Mantel–Haenszel and Peto pooling need 2×2 counts in every row; use an inverse-variance method (FE, DL, REML, ...)"),
            m => self.rma(m.and_then(PoolMethod::rma)),
        }
    }

    fn rma(&self, method: Option<evident::model::Method>) -> Result<RmaOptions> {
        self.options()
            .rma_options_for(method)
            .map_err(|e| anyhow::anyhow!(as_flags(&e.to_string())))
    }

    /// The library's pooling options of these flags (the checks are the library's).
    pub fn options(&self) -> PoolOptions {
        PoolOptions {
            preset: self.preset(),
            method: self.method(),
            test: self.test.map(Into::into),
            level: self.level,
            pi: self.pi.into(),
            no_correct: self.no_correct,
            solver: self.solver.map(Into::into),
            stepadj: self.stepadj,
            maxiter: self.maxiter,
            threshold: self.threshold,
            tol: self.tol,
            tau2: self.tau2,
            unweighted: self.unweighted,
            ..PoolOptions::default()
        }
    }
}
