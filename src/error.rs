//! The library's error type.

use std::fmt;
use std::path::PathBuf;

/// Where in an input file a problem sits: file, 1-based line number, column name; in a workbook
/// the line is the sheet's row number and [`Location::sheet`] names the sheet and cell.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Location {
    /// The input file, when the data came from one.
    pub file: Option<PathBuf>,
    /// The 1-based line number in the file (the row number in a workbook's sheet).
    pub line: Option<usize>,
    /// The column (as named in the file) holding the bad value.
    pub column: Option<String>,
    /// The worksheet, when the file is a workbook.
    pub sheet: Option<SheetCell>,
}

/// A position in a workbook's sheet: the sheet's name and the cell's 0-based column, so that a
/// message says `Sheet1!C4` as a spreadsheet does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SheetCell {
    /// The sheet's name.
    pub sheet: String,
    /// The 0-based column in the sheet (A is 0), when the position is a cell.
    pub column: Option<u32>,
}

/// A 0-based sheet column as its letters: 0 is A, 25 is Z, 26 is AA.
pub fn column_letters(col: u32) -> String {
    let mut n = u64::from(col) + 1;
    let mut out = Vec::new();
    while n > 0 {
        let d = ((n - 1) % 26) as u8;
        out.push(b'A' + d);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A sheet's name as a cell reference writes it: quoted (`'My data'!B2`) unless it is letters,
/// digits and underscores.
fn sheet_name(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        name.to_owned()
    } else {
        format!("'{}'", name.replace('\'', "''"))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(file) = &self.file {
            parts.push(file.display().to_string());
        }
        match (&self.sheet, self.line) {
            (
                Some(SheetCell {
                    sheet,
                    column: Some(c),
                }),
                Some(row),
            ) => {
                parts.push(format!("{}!{}{row}", sheet_name(sheet), column_letters(*c)));
            }
            (Some(s), Some(row)) => {
                parts.push(format!("sheet {}, row {row}", sheet_name(&s.sheet)))
            }
            (Some(s), None) => parts.push(format!("sheet {}", sheet_name(&s.sheet))),
            (None, Some(line)) => parts.push(format!("line {line}")),
            (None, None) => {}
        }
        if let Some(col) = &self.column {
            parts.push(format!("column '{col}'"));
        }
        if parts.is_empty() {
            write!(f, "input")
        } else {
            write!(f, "{}", parts.join(", "))
        }
    }
}

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input data are malformed; the location says where.
    #[error("{location}: {message}")]
    Input {
        /// Where the bad value sits.
        location: Location,
        /// What is wrong with it.
        message: String,
    },

    /// Reading or writing a file failed.
    // The reason is part of the message (a report's error row shows only the message); chain
    // printers skip a cause the message already ends with.
    #[error("cannot read or write {}: {source}", path.display())]
    Io {
        /// The file that could not be read or written.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },

    /// An input file could not be read: missing, a directory, no permission, ...
    // Not a `source`: the message words the reason itself, and printers would repeat it.
    #[error("{}", read_message(path, *is_dir, reason))]
    ReadFile {
        /// The file asked for.
        path: PathBuf,
        /// The path names a directory.
        is_dir: bool,
        /// The operating system's reason.
        reason: std::io::Error,
    },

    /// The requested analysis does not fit the data (wrong measure for the columns, too few studies, ...).
    #[error("{0}")]
    Invalid(String),

    /// An iterative estimator failed to converge.
    #[error("{method} estimation did not converge: {detail}")]
    NotConverged {
        /// The τ² estimator (metafor's `method`, e.g. "PM", "REML").
        method: &'static str,
        /// Why it stopped.
        detail: String,
    },

    /// Fisher scoring ran out of iterations: the limit, the convergence threshold and the last
    /// change of τ² (callers that know how to set a step adjustment may say so).
    #[error(
        "{method} estimation did not converge: Fisher scoring did not converge in {iterations} \
         iterations (last change {last_change:.3e}); try a step adjustment (stepadj = 0.5), more \
         iterations, or another estimator"
    )]
    IterationLimit {
        /// The τ² estimator (metafor's `method`, e.g. "REML", "ML").
        method: &'static str,
        /// The iteration limit reached (metafor's `control = list(maxiter)`).
        iterations: usize,
        /// The convergence threshold on the change of τ² (metafor's `threshold`).
        threshold: f64,
        /// The change of τ² in the last iteration, still above `threshold`.
        last_change: f64,
    },

    /// A confidence level outside (0, 100), or one that looks like a proportion.
    #[error("{}", level_message(*percent))]
    InvalidLevel {
        /// The level as given, in percent.
        percent: f64,
    },

    /// Fewer studies than an analysis needs.
    #[error("{what} needs at least {needed} studies, got {k}")]
    TooFewStudies {
        /// The analysis refused (e.g. "the weighted regression test").
        what: &'static str,
        /// The number of studies available.
        k: usize,
        /// The minimum number of studies the analysis needs.
        needed: usize,
    },

    /// An inverse-variance weight is infinite: a zero sampling variance met τ² = 0. `study` names
    /// it (with its variance) when known; `tau2` is the final τ² when the weights of the fit
    /// failed, `None` when τ² reached 0 during estimation.
    #[error("division by zero when computing inverse-variance weights{}", zero_weight_detail(study, *tau2))]
    ZeroWeight {
        /// The study label and its sampling variance, when known.
        study: Option<(String, f64)>,
        /// The final τ² when the fit's weights failed; `None` when τ² reached 0 while iterating.
        tau2: Option<f64>,
    },

    /// A column asked for by name is not in the data; `available` lists the ones that are.
    #[error(
        "{what} '{column}' is not a column of the data (available: {})",
        or_none(available)
    )]
    UnknownColumn {
        /// The role the column was asked for in ("moderator", "grouping column").
        what: &'static str,
        /// The name asked for.
        column: String,
        /// The moderator columns the data do have.
        available: Vec<String>,
    },

    /// A column mapping names a field that is not a data column (`known` lists those there are).
    #[error("'{field}' is not a known data column (known: {})", known.join(", "))]
    UnknownField {
        /// The field named on the left of the mapping.
        field: String,
        /// The fields a mapping may name (ai, n1i, yi, vi, ...).
        known: Vec<&'static str>,
    },

    /// A column mapping names a column the file does not have.
    #[error("{}: column mapping {field}={column}: the file has no column '{column}'", file.display())]
    MappedColumnMissing {
        /// The input file.
        file: PathBuf,
        /// The data field being mapped (left of `=`).
        field: String,
        /// The file column it was mapped to (right of `=`), absent from the header.
        column: String,
    },

    /// A reported row needs a measure and neither its row nor a default gives one.
    #[error(
        "{location}: no measure: add a 'measure' column (OR, RR, HR, MD, ...) or give a default \
         measure"
    )]
    MissingMeasure {
        /// The reported row without a measure.
        location: Location,
    },

    /// No data type matches the header (the columns found are listed).
    #[error(
        "{}: cannot tell the data type from the columns [{}]: expected one of {} (or map \
         columns)",
        file.display(),
        headers.join(", "),
        LAYOUTS
    )]
    UnknownLayout {
        /// The input file.
        file: PathBuf,
        /// The column names found in its header.
        headers: Vec<String>,
    },

    /// Rows report different ratio measures (OR with HR, ...): different effects, refused unless
    /// the caller allows pooling them as one generic ratio.
    #[error(
        "{}: the rows report different ratio measures, which are different effects and are not \
         pooled as one generic ratio: {rows}",
        file.display()
    )]
    MixedRatios {
        /// The input file.
        file: PathBuf,
        /// Each measure with the lines and labels of its rows (`OR: line 2 'A', line 5 'D'; ...`).
        rows: String,
    },

    /// Another run is writing the same report directory (its lock file holds a live process id,
    /// or none at all).
    #[error(
        "{}: another evident run ({}) is writing this report; wait for it to end, or, if none is \
         running, remove the lock file {}",
        path.display(),
        pid.map_or_else(|| "process unknown".to_string(), |p| format!("process {p}")),
        lock.display()
    )]
    OutputLocked {
        /// The report directory.
        path: PathBuf,
        /// The lock file beside it.
        lock: PathBuf,
        /// The process the lock names, when it names one.
        pid: Option<u32>,
    },

    /// The output directory exists, is not empty and was not written by evident: it is never
    /// replaced.
    #[error(
        "{} exists and is not an evident report (no {} file in it), so it is not replaced; \
         choose a new or empty output directory (a report written by an evident older than this \
         check has no such file: remove it once)",
        path.display(),
        marker
    )]
    NotAReport {
        /// The directory.
        path: PathBuf,
        /// The marker file a report holds.
        marker: &'static str,
    },

    /// A raster image beyond the renderer's pixel limit (vector formats have none).
    #[error(
        "a {width}×{height} pixel image ({:.0} megapixels) exceeds the limit of {} megapixels \
         for raster output: write SVG or PDF instead (vector, any size), or render at a lower \
         resolution",
        (*width as f64) * (*height as f64) / 1e6,
        limit / 1_000_000
    )]
    ImageTooLarge {
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
        /// The largest number of pixels rendered.
        limit: u64,
    },

    /// A request for more work or retained output than a stated limit.
    #[error("{what}: {requested} exceeds the limit of {limit}; {hint}")]
    OverLimit {
        /// What was asked for (e.g. "permutations").
        what: &'static str,
        /// The amount asked for.
        requested: u64,
        /// The largest amount accepted.
        limit: u64,
        /// What to do instead.
        hint: &'static str,
    },

    /// A model feature the library does not implement (e.g. a selection model with a fixed
    /// tau2).
    #[error("{what} is not supported yet")]
    Unsupported {
        /// The feature, as the user wrote it.
        what: String,
    },
}

/// The column sets that identify a data type, as listed in [`Error::UnknownLayout`].
pub const LAYOUTS: &str = "ai,bi,ci,di | ai,n1i,ci,n2i | m1i,sd1i,n1i,m2i,sd2i,n2i | \
                           x1i,t1i,x2i,t2i | xi,ni | ri,ni | yi,vi | yi,sei | estimate,ci_lb,ci_ub";

fn or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// One wording for every refused confidence level (CLI option, manifest, data cell).
fn level_message(percent: f64) -> String {
    if percent == 1.0 {
        "a confidence level of 1 is ambiguous (1 % or 100 %?): give it in percent (e.g. 95) or as a proportion below 1 (e.g. 0.95)".to_owned()
    } else {
        format!("a confidence level must be a percentage in (1, 100) or a proportion in (0, 1), found {percent}")
    }
}

fn zero_weight_detail(study: &Option<(String, f64)>, tau2: Option<f64>) -> String {
    match (study, tau2) {
        (None, _) => " (a zero sampling variance with tau2 = 0)".into(),
        (Some((s, vi)), None) => {
            format!(": study {s} has sampling variance {vi} and tau2 reached 0")
        }
        (Some((s, vi)), Some(t)) => {
            format!(": study {s} has sampling variance {vi} and tau2 = {t}")
        }
    }
}

impl Error {
    /// An input error at a location.
    pub fn input(location: Location, message: impl Into<String>) -> Self {
        Error::Input {
            location,
            message: message.into(),
        }
    }

    /// An analysis that cannot be run on these data.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }
}

/// The library's result type, failing with [`Error`] by default.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// "no such file: PATH", "PATH is a directory", "cannot read PATH: permission denied", else
/// the operating system's reason.
fn read_message(path: &std::path::Path, is_dir: bool, e: &std::io::Error) -> String {
    let p = path.display();
    match e.kind() {
        _ if is_dir => format!("{p} is a directory"),
        std::io::ErrorKind::NotFound => format!("no such file: {p}"),
        std::io::ErrorKind::PermissionDenied => format!("cannot read {p}: permission denied"),
        _ => format!("cannot read {p}: {e}"),
    }
}
