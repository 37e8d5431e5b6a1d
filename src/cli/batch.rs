//! `evident batch`: one pooled row per analysis of a long CSV, fitted in parallel.

use super::args::{ModelArgs, Pooling, ReadArgs};
use anyhow::{bail, Result};
use clap::Args;
use evident::app::atomic::AtomicFile;
use evident::app::batch::{header, write_row, Batch, BatchOptions, BatchResult};
use evident::Scale;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct BatchArgs {
    /// Long CSV: one row per study, a column naming the analysis; rows of one analysis
    /// contiguous. `-` reads standard input.
    pub file: PathBuf,
    /// The column naming the analysis.
    #[arg(long, default_value = "analysis")]
    pub analysis: String,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output CSV (default: standard output). Written atomically.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

pub fn run_batch(args: &BatchArgs) -> Result<bool> {
    if args.read.sheet.is_some() {
        bail!("--sheet does not apply to batch: it streams CSV text only (save the sheet as CSV)");
    }
    // Resolve the model options through the same preset logic as `pool`.
    let rma = match args.model.pooling_for_batch()? {
        Pooling::Rma(o) => o,
        _ => bail!("evident batch fits rma models; Mantel–Haenszel and Peto are available in `evident pool`"),
    };
    let csv = args.read.csv_options()?;
    // The preset's rules apply as in `pool`: RevMan 5 drops double-zero studies.
    let escalc = args.model.preset().escalc(args.read.escalc()?);
    let opts = BatchOptions {
        analysis_column: args.analysis.clone(),
        measure: args.read.measure()?,
        escalc,
        rma,
        columns: args.read.column_map()?,
        delimiter: csv.delimiter,
        decimal_comma: csv.decimal_comma,
        scale: args.read.scale(),
    };
    // `-` reads standard input, so a batch can sit at the end of a pipe.
    let (source, input): (PathBuf, Box<dyn std::io::Read + Send>) = if args.file.as_os_str() == "-"
    {
        ("<stdin>".into(), Box::new(std::io::stdin()))
    } else {
        if let Some(out) = &args.output {
            evident::app::atomic::refuse_same_file(&args.file, out)?;
        }
        let file = evident::data::source::open(&args.file)?;
        (args.file.clone(), Box::new(file))
    };
    let batch = Batch::open(&source, input, &opts)?;
    let log_scale = batch.scale() == Scale::Log;
    // Written to a registered temporary file: an error, a panic or Ctrl-C deletes it.
    let mut tmp = args.output.as_deref().map(AtomicFile::create).transpose()?;
    let mut failed = false;
    {
        let mut out: Box<dyn Write> = match tmp.as_mut() {
            Some(t) => Box::new(std::io::BufWriter::with_capacity(1 << 16, t.file_mut())),
            None => Box::new(std::io::BufWriter::with_capacity(
                1 << 16,
                std::io::stdout().lock(),
            )),
        };
        writeln!(out, "{}", header(log_scale).join(","))?;
        // Rows are formatted on the worker threads; this thread only writes them in order.
        let format = |r: BatchResult| {
            let mut line = String::with_capacity(400);
            write_row(&r, log_scale, &mut line);
            (r.fit.is_err(), line)
        };
        batch.run_map(format, |(err, line)| {
            failed |= err;
            out.write_all(line.as_bytes())
                .map_err(|e| evident::Error::invalid(format!("cannot write the output: {e}")))
        })?;
        out.flush()?;
    }
    if let Some(t) = tmp {
        t.commit()?;
    }
    Ok(!failed)
}
