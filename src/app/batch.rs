//! Many meta-analyses from one long CSV: one row per study, a column naming the analysis.
//!
//! The file is streamed through a pipeline: one thread reads and splits rows into chunks of at
//! most [`CHUNK`] analyses (or [`CHUNK_ROWS`] rows) while the previous chunk's analyses are fitted
//! in parallel, so memory stays bounded by a few chunks however many analyses the file holds. The
//! one thing kept per analysis is a 128-bit fingerprint of its name (about 20 bytes: 200 MB for
//! ten million analyses), to recognise a name that comes back. Cells of a chunk live in one text
//! buffer that is reused from chunk to chunk: reading allocates nothing per row.
//!
//! One analysis may have at most [`MAX_ANALYSIS_ROWS`] rows and one row at most
//! 64 MiB, so that an endless input streams in bounded memory rather than aborting.
//!
//! Rows of one analysis must be contiguous: a name that reappears after its block ended gives
//! that later block an error row (sort the file by the analysis column), never a silently merged
//! or split analysis.

use crate::data::records::{Record, Records};
use crate::data::table::{column_index, detect_delimiter, header_names};
use crate::data::{ColumnMap, Grid, Layout, Studies};
use crate::effect::{EffectSet, EscalcOptions};
use crate::error::{Error, Location, Result};
use crate::measure::{Measure, Scale};
use crate::model::rma_owned;
use crate::model::RmaFit;
use crate::model::RmaOptions;
use rayon::prelude::*;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

/// Analyses fitted per parallel chunk.
pub const CHUNK: usize = 256;
/// Rows per chunk, beyond which a chunk is handed on even with fewer analyses.
pub const CHUNK_ROWS: usize = 1 << 16;
/// The most rows (studies) one analysis may have: its rows are held until it ends, so an
/// endless analysis would otherwise grow without bound. Beyond it the analysis gets an error
/// row, its rows are dropped, and the batch goes on.
pub const MAX_ANALYSIS_ROWS: usize = 1_000_000;

/// What to run on every analysis.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// The column naming each row's analysis (default `analysis`).
    pub analysis_column: String,
    /// Effect measure; `None` takes the data type's default.
    pub measure: Option<Measure>,
    /// Zero-cell correction and variance options of `escalc`.
    pub escalc: EscalcOptions,
    /// The model fitted to every analysis.
    pub rma: RmaOptions,
    /// Explicit column mapping (`--col ai=events_treated`).
    pub columns: ColumnMap,
    /// Field delimiter; `None` detects `,`, `;` or tab from the header line.
    pub delimiter: Option<u8>,
    /// Decimal comma; `None` means yes exactly when the delimiter is `;`.
    pub decimal_comma: Option<bool>,
    /// Scale of pre-computed effects (measure GEN); `None` keeps the data type's.
    pub scale: Option<Scale>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            analysis_column: "analysis".into(),
            measure: None,
            escalc: EscalcOptions::default(),
            rma: RmaOptions::default(),
            columns: ColumnMap::new(),
            delimiter: None,
            decimal_comma: None,
            scale: None,
        }
    }
}

/// One analysis's outcome.
#[derive(Debug)]
pub struct BatchResult {
    /// The analysis's name: its value of the analysis column.
    pub analysis: String,
    /// The fitted model, or why the analysis could not be fitted.
    pub fit: Result<RmaFit>,
}

/// The rows of one analysis within a chunk.
struct Span {
    name: String,
    rows: Range<usize>,
    error: Option<String>,
}

/// Consecutive analyses as text cells: row `r`, column `c` is cell `r * width + c`, ending at
/// `ends[r * width + c]` in `text` and starting where the previous cell ended.
#[derive(Default)]
struct Chunk {
    text: String,
    ends: Vec<usize>,
    lines: Vec<usize>,
    spans: Vec<Span>,
}

impl Chunk {
    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.lines.clear();
        self.spans.clear();
    }
    fn rows(&self) -> usize {
        self.lines.len()
    }
}

/// One analysis of a chunk seen as a [`Grid`], so that it is read exactly as a file of its own.
struct SpanGrid<'a> {
    chunk: &'a Chunk,
    rows: Range<usize>,
    headers: &'a [String],
    source: &'a Path,
    decimal_comma: bool,
}

impl Grid for SpanGrid<'_> {
    fn source(&self) -> &Path {
        self.source
    }
    fn headers(&self) -> &[String] {
        self.headers
    }
    fn n_rows(&self) -> usize {
        self.rows.len()
    }
    fn cell(&self, row: usize, col: usize) -> &str {
        let i = (self.rows.start + row) * self.headers.len() + col;
        let start = if i == 0 { 0 } else { self.chunk.ends[i - 1] };
        &self.chunk.text[start..self.chunk.ends[i]]
    }
    fn line(&self, row: usize) -> Option<usize> {
        self.chunk.lines.get(self.rows.start + row).copied()
    }
    fn decimal_comma(&self) -> bool {
        self.decimal_comma
    }
}

/// Fits every analysis in `reader`, calling `sink` with results in file order.
pub fn run<R, F>(source: &Path, reader: R, opts: &BatchOptions, sink: F) -> Result<()>
where
    R: Read + Send,
    F: FnMut(BatchResult) -> Result<()>,
{
    Batch::open(source, reader, opts)?.run_map(|r| r, sink)
}

/// A long CSV whose header has been read: the data type, measure and scale are known before
/// any analysis is fitted (to write an output header, say).
pub struct Batch<'a, R: Read> {
    source: &'a Path,
    opts: &'a BatchOptions,
    records: Records<R>,
    width: usize,
    acol: usize,
    data_headers: Vec<String>,
    layout: Layout,
    measure: Measure,
    scale: Scale,
    decimal_comma: bool,
}

impl<'a, R: Read + Send> Batch<'a, R> {
    /// Reads the header: finds the analysis column and recognises the data type.
    pub fn open(source: &'a Path, reader: R, opts: &'a BatchOptions) -> Result<Self> {
        let loc = |line: Option<usize>| Location {
            file: Some(source.to_path_buf()),
            line,
            column: None,
            sheet: None,
        };
        let io = |e| crate::data::source::read_error(source, e);
        let mut reader = BufReader::with_capacity(1 << 16, reader);
        let head = reader.fill_buf().map_err(io)?;
        if let Some(format) = crate::data::table::workbook::detect(source, head)? {
            return Err(Error::input(
                loc(None),
                format!(
                    "the file is a workbook ({}): a batch streams CSV text only; save the \
                     sheet as CSV",
                    format.name()
                ),
            ));
        }
        if head.starts_with(b"\xEF\xBB\xBF") {
            reader.consume(3);
        }
        let delimiter = match opts.delimiter {
            Some(d) => d,
            None => detect_delimiter(&String::from_utf8_lossy(reader.fill_buf().map_err(io)?)),
        };
        let mut records = Records::new(reader, delimiter);
        let mut rec = Record::default();
        let mut found = false;
        while records.next(&mut rec).map_err(io)? {
            if !rec.is_blank() {
                found = true;
                break;
            }
        }
        if !found {
            return Err(Error::input(
                loc(None),
                "the file is empty: expected a header row and study rows",
            ));
        }
        let headers = header_names(
            (0..rec.len)
                .map(|i| rec.text(i).trim().to_owned())
                .collect(),
            loc(Some(rec.line)),
        )?;
        let acol = column_index(&headers, &opts.analysis_column).ok_or_else(|| {
            Error::input(
                loc(Some(rec.line)),
                format!(
                    "no analysis column '{}' in the header [{}]",
                    opts.analysis_column,
                    headers.join(", ")
                ),
            )
        })?;
        let data_headers: Vec<String> = headers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != acol)
            .map(|(_, h)| h.clone())
            .collect();
        // The data type is a property of the header, the same for every analysis.
        let layout = Layout::detect_for(&data_headers, source, &opts.columns, opts.measure)?;
        let kind = layout.kind();
        let measure = opts.measure.unwrap_or_else(|| kind.default_measure());
        Ok(Batch {
            source,
            opts,
            records,
            width: headers.len(),
            acol,
            data_headers,
            layout,
            measure,
            scale: kind.scale(measure, opts.scale),
            decimal_comma: opts.decimal_comma.unwrap_or(delimiter == b';'),
        })
    }

    /// The effect measure of every analysis.
    pub fn measure(&self) -> Measure {
        self.measure
    }

    /// The scale the estimates are on (log for ratio measures and reported ratios).
    pub fn scale(&self) -> Scale {
        self.scale
    }

    /// Fits every analysis, with `map` applied to each result on the worker threads (to format
    /// output rows in parallel, say) before `sink` receives it in file order.
    pub fn run_map<T, M, F>(self, map: M, mut sink: F) -> Result<()>
    where
        T: Send,
        M: Fn(BatchResult) -> T + Sync,
        F: FnMut(T) -> Result<()>,
    {
        let Batch {
            source,
            opts,
            records,
            width,
            acol,
            data_headers,
            layout,
            measure,
            scale,
            decimal_comma,
        } = self;
        let reading = Reading {
            source,
            width,
            acol,
            column_name: &opts.analysis_column,
        };
        let fit = Fit {
            headers: &data_headers,
            source,
            layout: &layout,
            measure,
            scale,
            decimal_comma,
            opts,
        };
        std::thread::scope(|s| {
            let (full_tx, full_rx) = sync_channel::<Result<Chunk>>(4);
            let (empty_tx, empty_rx) = channel::<Chunk>();
            let reader = s.spawn(move || reading.read(records, full_tx, empty_rx));
            let fitted = fit_chunks(full_rx, empty_tx, |chunk| {
                let results: Vec<T> = chunk
                    .spans
                    .par_iter()
                    .map(|span| {
                        map(BatchResult {
                            analysis: span.name.clone(),
                            fit: fit.span(chunk, span),
                        })
                    })
                    .collect();
                results.into_iter().try_for_each(&mut sink)
            });
            // The receivers are gone by now, so a reader blocked on a full channel has returned.
            let read = reader
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            fitted.and(read)
        })
    }
}

/// Receives chunks until the reader is done, hands each to `fit`, and returns it for reuse.
fn fit_chunks(
    full: Receiver<Result<Chunk>>,
    empty: Sender<Chunk>,
    mut fit: impl FnMut(&Chunk) -> Result<()>,
) -> Result<()> {
    for chunk in full {
        let chunk = chunk?;
        fit(&chunk)?;
        let _ = empty.send(chunk);
    }
    Ok(())
}

/// The reading side of the pipeline.
struct Reading<'a> {
    source: &'a Path,
    width: usize,
    acol: usize,
    column_name: &'a str,
}

impl Reading<'_> {
    /// Splits the records into chunks and sends them on; an error ends the run.
    fn read<R: Read>(
        &self,
        mut records: Records<R>,
        full: SyncSender<Result<Chunk>>,
        empty: Receiver<Chunk>,
    ) -> Result<()> {
        let mut seen: HashSet<u128> = HashSet::new();
        let mut chunk = Chunk::default();
        let mut rec = Record::default();
        // The current analysis's name as its first row wrote it, and that row's line.
        let mut first: (String, usize) = (String::new(), 0);
        loop {
            match records.next(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let e = Error::input(
                        self.loc(Some(records.line)),
                        format!("cannot read the file: {e}"),
                    );
                    let _ = full.send(Err(e));
                    return Ok(());
                }
            }
            if rec.is_blank() {
                continue;
            }
            let line = rec.line;
            if let Err(e) = rec.check_width(self.width, || self.loc(Some(line))) {
                let _ = full.send(Err(e));
                return Ok(());
            }
            let raw = rec.text(self.acol);
            let name = raw.trim();
            if chunk.spans.last().is_some_and(|s| s.name == name) && *raw != *first.0 {
                if let Some(s) = chunk.spans.last_mut().filter(|s| s.error.is_none()) {
                    s.error = Some(format!(
                        "analysis names differ only in surrounding white space: '{}' at line {} \
                         and '{}' at line {line}; write one name for all rows of an analysis",
                        first.0, first.1, &*raw
                    ));
                }
            }
            if chunk.spans.last().is_none_or(|s| s.name != name) {
                first = (raw.to_string(), line);
                if chunk.spans.len() >= CHUNK || chunk.rows() >= CHUNK_ROWS {
                    let mut next = empty.try_recv().unwrap_or_default();
                    next.clear();
                    if full.send(Ok(std::mem::replace(&mut chunk, next))).is_err() {
                        return Ok(()); // the fitting side stopped (its error is the run's)
                    }
                }
                let error = (!seen.insert(fingerprint(name))).then(|| {
                    format!(
                        "rows of analysis '{name}' are not contiguous (it appears again at line \
                         {line}); sort the file by '{}'",
                        self.column_name
                    )
                });
                let start = chunk.rows();
                chunk.spans.push(Span {
                    name: name.to_owned(),
                    rows: start..start,
                    error,
                });
            }
            if !self.keep_row(&mut chunk) {
                continue;
            }
            for i in (0..self.width).filter(|&i| i != self.acol) {
                chunk.text.push_str(&rec.text(i));
                chunk.ends.push(chunk.text.len());
            }
            chunk.lines.push(line);
            let rows = chunk.rows();
            if let Some(s) = chunk.spans.last_mut() {
                s.rows.end = rows;
            }
        }
        if !chunk.spans.is_empty() {
            let _ = full.send(Ok(chunk));
        } else if seen.is_empty() {
            let e = Error::input(self.loc(None), "the file has a header but no study rows");
            let _ = full.send(Err(e));
        }
        Ok(())
    }

    /// Whether the row just read is stored in the last span: not when the span already has an
    /// error (its rows are never read), nor beyond [`MAX_ANALYSIS_ROWS`], where the span's rows
    /// are dropped and it gets an error row, so that an endless analysis cannot exhaust memory.
    fn keep_row(&self, chunk: &mut Chunk) -> bool {
        let Some(s) = chunk.spans.last_mut() else {
            return false;
        };
        if s.error.is_some() {
            return false;
        }
        if s.rows.len() < MAX_ANALYSIS_ROWS {
            return true;
        }
        s.error = Some(format!(
            "analysis '{}' has more than {MAX_ANALYSIS_ROWS} rows, the most one analysis of a \
             batch may have (an endless input, or an analysis column that never changes?)",
            s.name
        ));
        let start = s.rows.start;
        s.rows.end = start;
        let cells = start * (self.width - 1);
        let text_end = if cells == 0 { 0 } else { chunk.ends[cells - 1] };
        chunk.text.truncate(text_end);
        chunk.ends.truncate(cells);
        chunk.lines.truncate(start);
        false
    }

    fn loc(&self, line: Option<usize>) -> Location {
        Location {
            file: Some(self.source.to_path_buf()),
            line,
            column: None,
            sheet: None,
        }
    }
}

/// A 128-bit digest of an analysis name (SipHash-1-3, two outputs): two different names share one
/// with probability below 10⁻²⁰ even among a billion analyses.
fn fingerprint(name: &str) -> u128 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    let lo = h.finish();
    0xa5u8.hash(&mut h);
    (u128::from(h.finish()) << 64) | u128::from(lo)
}

/// What fitting one analysis needs, shared by the workers.
struct Fit<'a> {
    headers: &'a [String],
    source: &'a Path,
    layout: &'a Layout,
    measure: Measure,
    scale: Scale,
    decimal_comma: bool,
    opts: &'a BatchOptions,
}

impl Fit<'_> {
    fn span(&self, chunk: &Chunk, span: &Span) -> Result<RmaFit> {
        if let Some(e) = &span.error {
            return Err(Error::invalid(e.clone()));
        }
        let grid = SpanGrid {
            chunk,
            rows: span.rows.clone(),
            headers: self.headers,
            source: self.source,
            decimal_comma: self.decimal_comma,
        };
        let studies = Studies::read(&grid, self.layout, false)?;
        let mut set = EffectSet::from_studies_owned(studies, self.measure, &self.opts.escalc)?;
        set.scale = self.scale; // escalc's, or the --scale given for GEN
        rma_owned(set, &self.opts.rma)
    }
}

/// The output columns of a batch row.
pub fn header(log_scale: bool) -> Vec<&'static str> {
    let mut h = vec![
        "analysis",
        "k",
        "estimate",
        "se",
        "stat",
        "df",
        "pval",
        "ci_lb",
        "ci_ub",
        "pi_lb",
        "pi_ub",
        "tau2",
        "tau2_ci_lb",
        "tau2_ci_ub",
        "I2",
        "H2",
        "Q",
        "Q_pval",
    ];
    if log_scale {
        h.extend([
            "estimate_exp",
            "ci_lb_exp",
            "ci_ub_exp",
            "pi_lb_exp",
            "pi_ub_exp",
        ]);
    }
    h.push("error");
    h
}

/// The numbers of a batch row after `analysis` and `k`, in [`header`]'s order (NaN where a
/// value is undefined): the one list the CSV row and the Python binding's DataFrame share.
pub fn row_values(fit: &RmaFit, log_scale: bool) -> Vec<f64> {
    let pi = fit.prediction();
    let opt = |x: Option<f64>| x.unwrap_or(f64::NAN);
    let mut v = vec![
        fit.estimate,
        fit.se,
        fit.stat,
        opt(fit.df),
        fit.pval,
        fit.ci_lb,
        fit.ci_ub,
        opt(pi.map(|p| p.lb)),
        opt(pi.map(|p| p.ub)),
        fit.tau2,
        opt(fit.tau2_ci.map(|c| c.tau2_lb)),
        opt(fit.tau2_ci.map(|c| c.tau2_ub)),
        fit.het.i2,
        fit.het.h2,
        fit.het.q,
        fit.het.q_pval,
    ];
    if log_scale {
        v.extend([fit.estimate, fit.ci_lb, fit.ci_ub].map(f64::exp));
        v.push(opt(pi.map(|p| p.lb.exp())));
        v.push(opt(pi.map(|p| p.ub.exp())));
    }
    v
}

/// Appends one output CSV line for a result to `out`: numbers with full precision (shortest
/// round-trip text), empty cells for undefined values, text cells quoted where CSV needs it.
pub fn write_row(r: &BatchResult, log_scale: bool, out: &mut String) {
    write_text(out, &crate::render::csv_safe(&r.analysis));
    match &r.fit {
        Ok(fit) => {
            out.push(',');
            out.push_str(itoa::Buffer::new().format(fit.k));
            for x in row_values(fit, log_scale) {
                out.push(',');
                if x.is_finite() {
                    crate::render::decimal::push_f64(out, x);
                }
            }
            out.push(',');
        }
        Err(e) => {
            for _ in 0..header(log_scale).len() - 1 {
                out.push(',');
            }
            write_text(out, &e.to_string());
        }
    }
    out.push('\n');
}

/// Writes a text cell, quoted (with inner quotes doubled) when it holds a delimiter, a quote or a
/// line break (also how the Python binding hands a DataFrame to [`run`]).
pub fn write_text(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}
