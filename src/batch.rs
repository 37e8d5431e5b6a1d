//! Many meta-analyses from one long CSV: one row per study, a column naming the analysis.
//!
//! The file is streamed: rows of one analysis are collected until the analysis name changes, and
//! analyses are fitted in parallel chunks of [`CHUNK`], so memory stays bounded by the chunk size
//! however many analyses the file holds. Rows of one analysis must be contiguous: a name that
//! reappears after its block ended gives that later block an error row (sort the file by the
//! analysis column), never a silently merged or split analysis.

use crate::effect::{EffectSet, EscalcOptions};
use crate::error::{Error, Location, Result};
use crate::io::{ColumnMap, Studies, Table};
use crate::measure::Measure;
use crate::pool::{rma_owned, RmaFit, RmaOptions};
use rayon::prelude::*;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Analyses fitted per parallel chunk.
pub const CHUNK: usize = 4096;

/// What to run on every analysis.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub analysis_column: String,
    pub measure: Option<Measure>,
    pub escalc: EscalcOptions,
    pub rma: RmaOptions,
    pub columns: ColumnMap,
    pub delimiter: u8,
}

/// One analysis's outcome.
#[derive(Debug)]
pub struct BatchResult {
    pub analysis: String,
    pub fit: Result<RmaFit>,
}

struct Block {
    name: String,
    rows: Vec<Vec<String>>,
    lines: Vec<usize>,
    error: Option<String>,
}

/// Fits every analysis in `reader`, calling `sink` with results in file order.
pub fn run<R: Read, F: FnMut(BatchResult) -> Result<()>>(
    source: &Path,
    reader: R,
    opts: &BatchOptions,
    mut sink: F,
) -> Result<()> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(opts.delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let loc = |line: Option<usize>, column: Option<String>| Location {
        file: Some(source.to_path_buf()),
        line,
        column,
    };
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::input(loc(None, None), format!("cannot read the header: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    let acol = headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case(&opts.analysis_column))
        .ok_or_else(|| {
            Error::input(
                loc(Some(1), None),
                format!(
                    "no analysis column '{}' in the header",
                    opts.analysis_column
                ),
            )
        })?;
    let data_headers: Vec<String> = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != acol)
        .map(|(_, h)| h.clone())
        .collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut pending: Vec<Block> = Vec::with_capacity(CHUNK);
    let mut current: Option<Block> = None;
    let flush = |pending: &mut Vec<Block>, sink: &mut F| -> Result<()> {
        let results: Vec<BatchResult> = pending
            .par_drain(..)
            .map(|b| fit_block(source, &data_headers, b, opts))
            .collect();
        for r in results {
            sink(r)?;
        }
        Ok(())
    };
    let mut rec = csv::StringRecord::new();
    let mut line = 1usize;
    loop {
        let more = rdr.read_record(&mut rec).map_err(|e| {
            Error::input(loc(Some(line + 1), None), format!("cannot read CSV: {e}"))
        })?;
        if !more {
            break;
        }
        line = rec.position().map_or(line + 1, |p| p.line() as usize);
        if rec.iter().all(|c| c.is_empty()) {
            continue;
        }
        if rec.len() != headers.len() {
            return Err(Error::input(
                loc(Some(line), None),
                format!(
                    "expected {} fields as in the header, found {}",
                    headers.len(),
                    rec.len()
                ),
            ));
        }
        let name = rec[acol].trim().to_owned();
        if current.as_ref().is_none_or(|b| b.name != name) {
            if let Some(b) = current.take() {
                pending.push(b);
                if pending.len() >= CHUNK {
                    flush(&mut pending, &mut sink)?;
                }
            }
            let error = (!seen.insert(name.clone())).then(|| {
                format!("rows of analysis '{name}' are not contiguous (it appears again at line {line}); sort the file by '{}'", opts.analysis_column)
            });
            current = Some(Block {
                name,
                rows: Vec::new(),
                lines: Vec::new(),
                error,
            });
        }
        let b = current.as_mut().expect("set above");
        b.rows.push(
            rec.iter()
                .enumerate()
                .filter(|(i, _)| *i != acol)
                .map(|(_, c)| c.to_owned())
                .collect(),
        );
        b.lines.push(line);
    }
    if let Some(b) = current.take() {
        pending.push(b);
    }
    flush(&mut pending, &mut sink)
}

fn fit_block(source: &Path, headers: &[String], b: Block, opts: &BatchOptions) -> BatchResult {
    let name = b.name;
    let fit = (|| {
        if let Some(e) = b.error {
            return Err(Error::invalid(e));
        }
        let table = Table {
            source: PathBuf::from(source),
            headers: headers.to_vec(),
            rows: b.rows,
            lines: b.lines,
            decimal_comma: false,
        };
        let studies = Studies::from_table(&table, &opts.columns)?;
        let measure = opts
            .measure
            .unwrap_or_else(|| studies.data.default_measure());
        let set = EffectSet::from_studies(&studies, measure, &opts.escalc)?;
        rma_owned(set, &opts.rma)
    })();
    BatchResult {
        analysis: name,
        fit,
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

/// One output row for a result (numbers with full precision; empty cells for undefined values).
pub fn row(r: &BatchResult, log_scale: bool) -> Vec<String> {
    let f = |x: f64| {
        if x.is_finite() {
            format!("{x}")
        } else {
            String::new()
        }
    };
    let o = |x: Option<f64>| x.map_or(String::new(), f);
    let name = crate::report::csv_safe(&r.analysis);
    match &r.fit {
        Ok(fit) => {
            let pi = fit.prediction();
            let mut v = vec![
                name,
                fit.k.to_string(),
                f(fit.estimate),
                f(fit.se),
                f(fit.stat),
                o(fit.df),
                f(fit.pval),
                f(fit.ci_lb),
                f(fit.ci_ub),
                o(pi.map(|p| p.lb)),
                o(pi.map(|p| p.ub)),
                f(fit.tau2),
                o(fit.tau2_ci.map(|c| c.tau2_lb)),
                o(fit.tau2_ci.map(|c| c.tau2_ub)),
                f(fit.het.i2),
                f(fit.het.h2),
                f(fit.het.q),
                f(fit.het.q_pval),
            ];
            if log_scale {
                let b = |x: f64| f(x.exp());
                v.extend([
                    b(fit.estimate),
                    b(fit.ci_lb),
                    b(fit.ci_ub),
                    o(pi.map(|p| p.lb.exp())),
                    o(pi.map(|p| p.ub.exp())),
                ]);
            }
            v.push(String::new());
            v
        }
        Err(e) => {
            let mut v = vec![name];
            v.extend(std::iter::repeat_n(
                String::new(),
                header(log_scale).len() - 2,
            ));
            v.push(e.to_string());
            v
        }
    }
}
